/*
 * evidence — evidence packs: a self-contained, signed export of selected audit
 * events that anyone can verify offline with the broker's public key.
 *
 * A pack is a directory of four files (layout in evidence.c and AUDIT.md):
 *   events.jsonl   the selected events, one JSON line each, in seq order
 *   chain.json     the chain proof: the prev_hash of the first event, the body
 *                  digest of every unselected event between the first selected
 *                  event and the anchor, and the anchor (a signed checkpoint,
 *                  or the unsigned chain head when no checkpoint covers yet)
 *   manifest.json  selection, counts per type, first/last seq and hash,
 *                  schema version, public key, created time
 *   signature      hex ed25519 signature over the pack digest
 *
 * The writer knows nothing about storage: the exporter (common/audit_export)
 * feeds it events and gaps in seq order.  The verifier trusts nothing in the
 * directory; only a public key pinned out of band defeats a thief of the
 * signing key (who can re-sign anything).
 */
#ifndef SLUICE_EVIDENCE_H
#define SLUICE_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/audit.h"

#define EVIDENCE_VERSION 1

enum evidence_kind {
	EVIDENCE_ALL = 0,	/* the whole chain */
	EVIDENCE_SESSION = 1,
	EVIDENCE_JOB = 2,
	EVIDENCE_TIME = 3,	/* time in [since, until) compared as strings */
};

struct evidence_selection {
	enum evidence_kind kind;
	char value[AUDIT_NAME_MAX + 1];		/* session or job */
	char since[AUDIT_TIME_LEN + 1];		/* EVIDENCE_TIME: may be a prefix */
	char until[AUDIT_TIME_LEN + 1];
};

struct evidence_writer;

/*
 * Starts a pack in `outdir` (created 0700 if missing; must not hold a pack
 * already).  Returns a fresh writer (evidence_writer_destroy) or NULL with
 * *err (ERR_IO, ERR_DUPLICATE, ERR_NOMEM, ERR_INVAL) and `why` set.
 */
struct evidence_writer *evidence_writer_new(const char *outdir,
    const struct evidence_selection *sel, int *err, char *why, size_t whysz);

/* Adds the next selected event; seqs must be consecutive with the gaps.
 * The first call on a writer must be this one.  ERR_OK, ERR_INVAL (order or
 * link broken), ERR_IO, ERR_NOMEM. */
int evidence_writer_add_event(struct evidence_writer *w, const struct audit_event *ev);

/* Adds the body digest of the next unselected event (seq).  ERR_OK,
 * ERR_INVAL (order), ERR_IO. */
int evidence_writer_add_gap(struct evidence_writer *w, uint64_t seq,
    const uint8_t body[AUDIT_HASH_LEN]);

/*
 * Finishes the pack: checks that `anchor` (seq, hash) is where the added
 * events and gaps lead, writes chain.json and manifest.json, and signs with
 * `sign(ctx, msg, len, sig)`.  `anchor_signed` says whether anchor->sig is a
 * checkpoint signature.  Returns ERR_OK, ERR_INVAL (anchor mismatch, nothing
 * added), ERR_IO, ERR_CRYPTO/the signer's error.
 */
int evidence_writer_finish(struct evidence_writer *w,
    const struct audit_checkpoint *anchor, bool anchor_signed,
    const uint8_t pk[AUDIT_PK_LEN],
    int (*sign)(void *ctx, const uint8_t *msg, size_t len, uint8_t sig[AUDIT_SIG_LEN]),
    void *ctx);

/* Frees the writer (an unfinished pack stays on disk, incomplete and
 * unsigned).  NULL-safe; clears *wp. */
void evidence_writer_destroy(struct evidence_writer **wp);

/* What verification found. */
struct evidence_report {
	uint64_t events;	/* events checked */
	uint64_t first_seq, last_seq;
	uint64_t anchor_seq;
	bool anchored;		/* the chain ends in a signed checkpoint */
	uint64_t bad_seq;	/* first bad event, 0 if none or unknown */
	size_t bad_line;	/* its line in events.jsonl (1-based), 0 if n/a */
	char reason[256];	/* first problem, "" when the pack verifies */
};

/*
 * Verifies the pack in `dir` offline: every event hash, every chain link
 * through the gaps to the anchor, the checkpoint signature, the manifest
 * against the events, and the pack signature, with the public key in the
 * manifest — or `pinned_pk` (may be NULL), which the manifest must match.
 * Returns ERR_OK if all holds; otherwise ERR_CRYPTO (tampered/bad signature),
 * ERR_INVAL (malformed), ERR_IO (missing/unreadable file), ERR_TOOBIG, with
 * the first problem in rep.
 */
int evidence_verify(const char *dir, const uint8_t *pinned_pk,
    struct evidence_report *rep);

#endif
