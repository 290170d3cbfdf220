/*
 * pending — sluice-approver's durable store of approval items (RocksDB).
 *
 * An item is one L3 job the broker holds until a human decides.  It lives
 * under "p/<id>" from the moment it is received until the broker acknowledges
 * the decision, then moves (one atomic, synced batch) to "h/<id>", the
 * history.  Every write is synced: an item is on disk before the broker is
 * told APPROVAL_HELD, and a decision is on disk before it is sent.
 * The byte layout is drawn in pending.c and docs/APPROVALS.md.
 */
#ifndef SLUICE_APPROVER_PENDING_H
#define SLUICE_APPROVER_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Where an item is in its life.  Stored on disk: never renumber. */
enum pending_state {
	PENDING_WAITING = 0,	/* waiting for a human */
	PENDING_DECIDED = 1,	/* decision recorded, not yet acknowledged by the broker */
	PENDING_DONE = 2,	/* acknowledged: in the history */
	PENDING_EXPIRED = 3,	/* never decided; moved to the history after its deadline */
};

/* Bounds follow schemas/fields.def (id 64, session 128, ...), plus the NUL. */
struct pending_item {
	char id[65];
	char session[129];
	char tenant[65];
	char level[5];
	char lang[9];
	char tool[201];			/* a held MCP tool call: "server.tool"; "" for a job */
	unsigned char *code;		/* (for a tool call: its argument summary) */		/* owned, code_len bytes */
	size_t code_len;
	unsigned char *risk;		/* owned msgpack map, or NULL */
	size_t risk_len;
	uint64_t deadline_ms;		/* wall clock, ms since the epoch */
	uint64_t time_ms;		/* when the approver received it */
	enum pending_state state;
	/* The decision (state DECIDED, DONE). */
	char verdict[9];		/* "approve" | "deny" */
	char actor[129];
	char reason[1025];
	uint64_t decided_ms;
	/* The broker's acknowledgement (state DONE). */
	uint64_t ack_ms;
	char ack_status[17];
	char ack_message[1025];
};

struct pending;

/* Callback for pending_foreach: the item is borrowed for the call.  Return
 * false to stop. */
typedef bool (*pending_each_fn)(const struct pending_item *it, void *arg);

/* Opens (creating) the store in directory `path`.  Fresh handle, or NULL with
 * a reason in `why` (e.g. another approver holds the lock). */
struct pending *pending_open(const char *path, char *why, size_t whysz);
void pending_close(struct pending **pp);

/* Stores a new WAITING item (copied).  When an item with this id exists,
 * pending or in the history, nothing is written and *duplicate is set.
 * ERR_INVAL for a bad id, ERR_DB on a failed write (reason in `why`). */
enum err pending_put(struct pending *p, const struct pending_item *it, bool *duplicate,
    char *why, size_t whysz);

/* Loads an item, pending first, then history.  Fresh item in *out (free with
 * pending_item_free).  ERR_NOTFOUND; ERR_DB with a reason when the stored
 * value is corrupt or unreadable. */
enum err pending_get(struct pending *p, const char *id, struct pending_item **out, char *why,
    size_t whysz);

/* Records a human's decision on a WAITING item, durably.  ERR_NOTFOUND;
 * ERR_INVAL (bad verdict, empty actor or reason); ERR_TIMEOUT when the
 * deadline has passed at `now_ms`; ERR_DUPLICATE when already decided.
 * `why` always says which. */
enum err pending_decide(struct pending *p, const char *id, const char *verdict,
    const char *actor, const char *reason, uint64_t now_ms, char *why, size_t whysz);

/* The broker acknowledged the decision on `id`: moves the item to the
 * history with the ack's status and message.  ERR_NOTFOUND when no decided
 * item has this id (a stale or duplicate ack). */
enum err pending_acked(struct pending *p, const char *id, const char *status, const char *message,
    uint64_t now_ms, char *why, size_t whysz);

/* Moves WAITING items whose deadline passed more than `keep_ms` before
 * `now_ms` to the history as EXPIRED.  Returns how many moved (*moved). */
enum err pending_expire(struct pending *p, uint64_t now_ms, uint64_t keep_ms, size_t *moved,
    char *why, size_t whysz);

/* Calls `fn` for each pending item (history false) or history item (true) in
 * id order.  Corrupt values are skipped and counted in *corrupt (may be NULL).
 * ERR_DB when the iteration itself fails. */
enum err pending_foreach(struct pending *p, bool history, pending_each_fn fn, void *arg,
    size_t *corrupt);

/* True when the item waits for a human and its deadline has passed. */
bool pending_is_expired(const struct pending_item *it, uint64_t now_ms);
/* True for ids of 1..64 chars of [A-Za-z0-9._-]: safe as keys and in logs. */
bool pending_is_valid_id(const char *id);

/* "waiting", "decided", "done", "expired". */
const char *pending_state_name(enum pending_state s);

/* Encodes / decodes the stored value (exposed for the tests).  Encode
 * returns a fresh buffer; decode fills a fresh *out or fails with ERR_DB and
 * a reason. */
enum err pending_item_encode(const struct pending_item *it, unsigned char **out, size_t *len);
enum err pending_item_decode(const void *buf, size_t len, struct pending_item **out, char *why,
    size_t whysz);
void pending_item_free(struct pending_item **itp);

#endif
