/*
 * privacy — the PII and secret filter (one Hyperscan database, a validator
 * per type).  Used on code before execution, on every output after it and on
 * every audit payload before it is stored.  See docs/PRIVACY.md.
 *
 * Two entry points over the same engine:
 *   privacy_scan()           one buffer in, a fresh filtered buffer + findings out;
 *   privacy_stream_*()       feed chunks, filtered bytes come out through a
 *                            callback; a match up to PRIVACY_MAX_MATCH bytes
 *                            long is found even when it spans chunk boundaries.
 *
 * Thread safety: the database is compiled once per process (privacy_init, or
 * lazily by the first filter); every filter and stream owns its own Hyperscan
 * scratch, so any number of threads may filter at once.  A privacy_tokens map
 * is not locked: one map belongs to one thread (or one job) at a time.
 */
#ifndef SLUICE_PRIVACY_H
#define SLUICE_PRIVACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/privacy_mode.h"

/* A match longer than this may be missed when it spans a chunk boundary of
 * the streaming API (and is cut at this length by the one-shot API). */
#define PRIVACY_MAX_MATCH	8192
/* Findings kept per scan or stream; more are still filtered, not listed. */
#define PRIVACY_MAX_FINDINGS	(1u << 20)
/* Largest filtered output privacy_scan or a stream will produce. */
#define PRIVACY_MAX_OUTPUT	((size_t)1 << 30)
/* Largest token map privacy_tokens_new accepts. */
#define PRIVACY_TOKENS_MAX	(1u << 20)
/* Hash mode keys: crypto_generichash key sizes (16..64 bytes). */
#define PRIVACY_HASH_KEY_MIN	16
#define PRIVACY_HASH_KEY_MAX	64

enum privacy_kind {
	PRIVACY_KIND_PII = 0,
	PRIVACY_KIND_SECRET = 1,
};


/* One finding: byte offsets [start, end) into the input (for a stream: into
 * everything fed so far).  `type` is a static string ("email",
 * "aws_access_key_id"); the span is the minimal part that must be hidden. */
struct privacy_finding {
	const char *type;
	enum privacy_kind kind;
	uint64_t start;
	uint64_t end;
};

/* Per-type count for a result's privacy{mode, findings:[{type,count}]}. */
struct privacy_count {
	const char *type;
	size_t count;
};

struct privacy_tokens;

/* How to filter.  `tokens` (tokenize mode) is borrowed and must outlive every
 * filter using it; `hash_key` (hash mode) is copied. */
struct privacy_config {
	enum privacy_mode mode;
	struct privacy_tokens *tokens;
	const uint8_t *hash_key;
	size_t hash_key_len;
};

/* The result of privacy_scan.  `text` is fresh, NUL-terminated (the NUL is
 * not counted in `len`) and owned by the caller, as is `findings`; release
 * both with privacy_result_clear. */
struct privacy_result {
	char *text;
	size_t len;
	struct privacy_finding *findings;
	size_t nfindings;
	bool findings_truncated;	/* more than PRIVACY_MAX_FINDINGS */
	size_t token_fallbacks;		/* tokenize: map full, redacted instead */
};

struct privacy_stream;

/* Compiles the database once per process.  Returns ERR_OK, or ERR_INTERNAL
 * when Hyperscan rejects the rule set (logged once) or ERR_NOMEM.  Safe to
 * call from many threads; later calls return the first result. */
int privacy_init(void);

/* Returns the static name of a kind ("pii", "secret"). */
const char *privacy_kind_name(enum privacy_kind kind);

/* Filters `len` bytes (may contain NULs, need not be UTF-8; NULL with len 0
 * is fine) into `out` (overwritten; zero it first or clear it).  Returns
 * ERR_OK; ERR_INVAL for a bad config (hash mode without a 16..64 byte key,
 * tokenize without a map); ERR_TOOBIG when the output would pass
 * PRIVACY_MAX_OUTPUT; ERR_NOMEM.  On error `out` holds nothing to free. */
int privacy_scan(const struct privacy_config *cfg, const void *in, size_t len,
    struct privacy_result *out);

/* Frees what a privacy_result holds and zeroes it; NULL is fine. */
void privacy_result_clear(struct privacy_result *r);

/* Creates a stream filter.  Returns NULL on failure with the enum err in
 * *err (same config rules as privacy_scan).  Destroy with
 * privacy_stream_destroy. */
struct privacy_stream *privacy_stream_new(const struct privacy_config *cfg, int *err);
/* Destroys a stream (its buffers are wiped) and clears the pointer. */
void privacy_stream_destroy(struct privacy_stream **sp);
/* Feeds `len` bytes; filtered bytes that can no longer change are passed to
 * `emit` (possibly none yet: input is filtered in rounds of 256 KiB and the
 * last PRIVACY_MAX_MATCH bytes wait for more, so up to ~268 KiB is held until
 * the next round or finish).  `emit` returns 0 to go on or an enum err to
 * stop.  Returns ERR_OK, the first non-zero value `emit` returned,
 * ERR_TOOBIG or ERR_NOMEM; after an error every call returns that error. */
int privacy_stream_feed(struct privacy_stream *s, const void *bytes, size_t len,
    int (*emit)(void *arg, const void *bytes, size_t len), void *arg);
/* Flushes everything held back.  Same returns as privacy_stream_feed. */
int privacy_stream_finish(struct privacy_stream *s,
    int (*emit)(void *arg, const void *bytes, size_t len), void *arg);
/* Returns the findings so far (borrowed, valid until the next feed/finish or
 * destroy) and their number in *n; *truncated tells whether some were
 * dropped from the list (they were still filtered). */
const struct privacy_finding *privacy_stream_findings(const struct privacy_stream *s,
    size_t *n, bool *truncated);
/* Number of tokenize findings redacted because the token map was full. */
size_t privacy_stream_token_fallbacks(const struct privacy_stream *s);

/* Counts findings per type into `out` (at most `outcap` entries, in order of
 * first appearance).  Returns the number of distinct types written; types
 * past `outcap` are dropped. */
size_t privacy_summary(const struct privacy_finding *f, size_t n,
    struct privacy_count *out, size_t outcap);

/* Creates a token map holding at most `max_entries` (1..PRIVACY_TOKENS_MAX)
 * distinct values.  Returns NULL with ERR_INVAL or ERR_NOMEM in *err. */
struct privacy_tokens *privacy_tokens_new(size_t max_entries, int *err);
/* Destroys a map (values are wiped) and clears the pointer; NULL is fine. */
void privacy_tokens_destroy(struct privacy_tokens **tp);
/* Returns the token for (type, value), adding it when new: the same value
 * always gets the same token ("[EMAIL_1]").  *token points into the map
 * (valid until destroy).  Returns ERR_OK, ERR_TOOBIG when the map is full,
 * ERR_INVAL for an empty or over-long (> PRIVACY_MAX_MATCH) value, ERR_NOMEM. */
int privacy_tokens_get(struct privacy_tokens *t, const char *type, const void *value,
    size_t vlen, const char **token, size_t *toklen);
/* Looks a token ("[EMAIL_1]") up: *value and *vlen point into the map (borrowed).
 * Returns ERR_OK or ERR_NOTFOUND. */
int privacy_tokens_restore(const struct privacy_tokens *t, const char *token, size_t toklen,
    const void **value, size_t *vlen);
/* Number of values in the map. */
size_t privacy_tokens_count(const struct privacy_tokens *t);

#endif
