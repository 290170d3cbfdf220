/*
 * audit_store — the broker's hash-chained audit trail in RocksDB.
 *
 * One writer (the broker's single-threaded loop) appends events into a pending
 * batch and commits the batch with one synced write per loop iteration (group
 * commit); acknowledgements that depend on those events are sent only after
 * audit_store_commit returned ERR_OK.  Readers (the CLI: tail, export) open the
 * same directory as a RocksDB secondary instance while the broker runs.
 * Not thread-safe: one store per thread.  It lives in common/ because two
 * processes use it (broker: writer; CLI: reader/export).  Disk layout in audit_store.c and
 * docs/AUDIT.md.
 */
#ifndef SLUICE_AUDIT_STORE_H
#define SLUICE_AUDIT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rocksdb/c.h>

#include "common/audit.h"

struct audit_store;

struct audit_store_options {
	uint64_t checkpoint_every;	/* sign a checkpoint every N events (0 = 1024) */
	unsigned checkpoint_secs;	/* ... or at a commit T s after the last (0 = 60) */
	size_t max_pending;		/* bound of staged events per batch (0 = 4096) */
	/* One more column family in the same DB, for a store whose writes
	 * must share the trail's log (the broker's job store: one WAL, one
	 * fdatasync per round).  Created if missing; its options are taken
	 * over by audit_store_open (destroyed by it, also on failure).  NULL:
	 * none.  Any other family found on disk is opened too and left alone. */
	const char *extra_cf;
	rocksdb_options_t *extra_cf_opts;
};

/* Scan callbacks `fn(ev, arg)`: return 0 to go on, anything else stops the
 * scan and is returned by it.  `ev` is borrowed for the call only. */

/*
 * Opens (creating if needed) the store in `dir` for writing.  Recovers the
 * chain head from the last event, checks it, and creates the ed25519 key pair
 * `dir`/audit.key (mode 0600) on first open.  `opt` may be NULL (defaults).
 * Returns a fresh store (audit_store_destroy) or NULL with *err set (ERR_DB,
 * ERR_IO, ERR_CRYPTO, ERR_NOMEM) and a reason in `why`.
 */
struct audit_store *audit_store_open(const char *dir,
    const struct audit_store_options *opt, int *err, char *why, size_t whysz);

/*
 * Opens `dir` read-only as a RocksDB secondary (works while the broker holds
 * the DB; a private secondary directory under /tmp is removed on destroy).
 * Loads the signing key too when `dir`/audit.key is readable (for export).
 * Returns a fresh store or NULL with *err and `why` set.
 */
struct audit_store *audit_store_open_reader(const char *dir, int *err, char *why,
    size_t whysz);

/* Reader only: catches up with the primary's newest writes.  ERR_OK/ERR_DB. */
int audit_store_catch_up(struct audit_store *s);

/* Closes the store; staged, uncommitted events are dropped.  NULL-safe; clears *sp;
 * wipes the secret key. */
void audit_store_destroy(struct audit_store **sp);

/*
 * Writer: assigns ev->seq, ev->prev_hash and ev->hash and stages the event and
 * its index entries in the pending batch.  The event is not durable until
 * audit_store_commit.  Returns ERR_OK, ERR_BUSY (batch full: commit first),
 * ERR_INVAL/ERR_TOOBIG (event invalid; nothing staged), ERR_DENIED (reader).
 */
int audit_store_append(struct audit_store *s, struct audit_event *ev);

/*
 * Writer: makes every staged event durable with one synced write (plus the
 * chain head and any due signed checkpoint).  On failure nothing is written,
 * the in-memory head goes back to the last committed event, every staged
 * event is dropped (its seq/hash are void; re-append), and ERR_DB is returned.
 * ERR_OK with nothing staged is a no-op.
 */
int audit_store_commit(struct audit_store *s);

/*
 * The same commit in three steps, so that the synced write can run on another
 * thread while the writer goes on appending (pipelined group commit):
 *   audit_store_seal          (writer's thread) adds the head record and any
 *                             due checkpoint and moves the staged events
 *                             aside; appending goes on, chained to them.
 *                             ERR_BUSY if a sealed batch is still pending,
 *                             ERR_OK (nothing sealed) if nothing is staged.
 *   audit_store_write_sealed  (any one thread) one synced write of the
 *                             sealed batch, with `extra` (may be NULL: a
 *                             batch for the extra family, sealed by the
 *                             store that shares the DB) joined to it, so
 *                             both land atomically or neither; ERR_OK or
 *                             ERR_DB.  Touches nothing the writer's
 *                             thread uses meanwhile.
 *   audit_store_sealed_done   (writer's thread) with write_sealed's result:
 *                             ERR_OK moves the committed head forward; a
 *                             failure drops the sealed batch *and* every event
 *                             appended since (they chain from the lost ones),
 *                             as audit_store_commit's failure does.
 */
int audit_store_seal(struct audit_store *s);
int audit_store_write_sealed(struct audit_store *s, rocksdb_writebatch_t *extra);
/* Events in the sealed batch (0: nothing to write). */
size_t audit_store_sealed_count(const struct audit_store *s);

/* The DB and the extra column family (NULL if none was asked for), for the
 * store that shares them; both stay the audit store's. */
rocksdb_t *audit_store_rocksdb(const struct audit_store *s);
rocksdb_column_family_handle_t *audit_store_extra_cf(const struct audit_store *s);
/* The DB's "a write was refused" flag (rdb_write, rdb_close), for the
 * store that shares the DB: set by either store's refused write, it stops
 * both. */
bool *audit_store_failed_flag(struct audit_store *s);
void audit_store_sealed_done(struct audit_store *s, int rc);

/* Writer: drops the staged events that are not sealed yet (their seq/hash
 * are void); the chain goes on from the sealed batch if one is pending,
 * else from the committed head.  For a round that must not become durable. */
void audit_store_discard(struct audit_store *s);

/* Number of staged (uncommitted) events. */
size_t audit_store_pending(const struct audit_store *s);

/* The last committed (writer) or last seen (reader) seq and hash; seq 0 and
 * zero hash for an empty store. */
void audit_store_head(const struct audit_store *s, uint64_t *seq,
    uint8_t hash[AUDIT_HASH_LEN]);

/* The store's ed25519 public key (copied into `pk`). */
void audit_store_public_key(const struct audit_store *s, uint8_t pk[AUDIT_PK_LEN]);

/* Signs `len` bytes of `msg` with the store's key.  ERR_OK, or ERR_DENIED
 * when the key file could not be read (reader without permission). */
int audit_store_sign(const struct audit_store *s, const uint8_t *msg, size_t len,
    uint8_t sig[AUDIT_SIG_LEN]);

/* Reads the event `seq` into `ev` (fresh details: audit_event_clear).
 * ERR_OK, ERR_NOTFOUND, ERR_DB, or a decode error. */
int audit_store_get(struct audit_store *s, uint64_t seq, struct audit_event *ev);

/* Finds the first signed checkpoint with seq >= min_seq.  ERR_OK,
 * ERR_NOTFOUND, ERR_DB, ERR_INVAL (malformed record). */
int audit_store_checkpoint_find(struct audit_store *s, uint64_t min_seq,
    struct audit_checkpoint *cp);

/*
 * Scans, in seq order, calling `fn` for each event.  Each returns ERR_OK at
 * the end, the callback's non-zero value if it stopped, ERR_DB, ERR_TOOBIG
 * (time scans collect at most 16M seqs), or a decode error.
 *   _seq:     from..to inclusive (to == 0: to the end)
 *   _job:     events of one job (non-empty)
 *   _session: events of one session (non-empty)
 *   _type:    one type, time in [since, until) (either may be NULL)
 *   _time:    every type, time in [since, until); bounds compare as strings,
 *             so a prefix such as "2026-11-26" works
 */
int audit_store_scan_seq(struct audit_store *s, uint64_t from, uint64_t to,
    int (*fn)(const struct audit_event *, void *), void *arg);
int audit_store_scan_job(struct audit_store *s, const char *job,
    int (*fn)(const struct audit_event *, void *), void *arg);
int audit_store_scan_session(struct audit_store *s, const char *session,
    int (*fn)(const struct audit_event *, void *), void *arg);
int audit_store_scan_type(struct audit_store *s, enum audit_type type,
    const char *since, const char *until,
    int (*fn)(const struct audit_event *, void *), void *arg);
int audit_store_scan_time(struct audit_store *s, const char *since,
    const char *until, int (*fn)(const struct audit_event *, void *),
    void *arg);

/* A growing list of seqs, bounded at 16M entries.  Zero-initialise; free(v). */
struct audit_store_seqs {
	uint64_t *v;
	size_t n, cap;
};

/* Appends `seq`.  ERR_OK, ERR_TOOBIG (bound reached), ERR_NOMEM. */
int audit_store_seqs_add(struct audit_store_seqs *l, uint64_t seq);

/* Test hook (fault injection): the next commit fails with ERR_DB before
 * writing anything. */
void audit_store_fail_next_commit(struct audit_store *s);

#endif
