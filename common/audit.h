/*
 * audit — one audit event: its fields and bounds, its canonical encoding (the
 * bytes that are hashed and stored), the hash-chain rule, and its exported
 * JSON line form.  schemas/audit_events.md is the definition; this module is
 * its one implementation.  docs/AUDIT.md explains the chain and packs.
 *
 * PRIVACY: this module stores whatever the caller puts in an event.  Callers
 * must run the privacy filter over every string (above all `details`) before
 * an event is built: an event never carries raw PII or secrets.
 *
 * Chain rule (two-level so that a pack can prove events it does not carry):
 *     body = SHA-256(canonical(event without prev_hash and hash))
 *     hash = SHA-256(prev_hash || body)        prev_hash of seq 1 = 32 zero bytes
 */
#ifndef SLUICE_AUDIT_H
#define SLUICE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define AUDIT_HASH_LEN		32	/* SHA-256 */
#define AUDIT_ID_HEX		32	/* 128-bit id as lowercase hex */
#define AUDIT_TIME_LEN		30	/* "2026-11-26T05:40:01.123456789Z" */
#define AUDIT_NAME_MAX		64	/* job, session, tenant: max bytes */
#define AUDIT_ACTOR_MAX		128	/* "component@host": max bytes */
#define AUDIT_SHA_HEX		64	/* code_sha256: 64 hex chars or empty */
#define AUDIT_DETAILS_MAX	16384	/* compact JSON object text, bytes */
#define AUDIT_CANON_MAX		(AUDIT_DETAILS_MAX + 1024) /* canonical bytes */
#define AUDIT_JSON_MAX		(AUDIT_DETAILS_MAX * 2 + 2048) /* one JSON line */
#define AUDIT_CANON_VERSION	1

enum audit_type {
	AUDIT_EXECUTION_START = 1,
	AUDIT_EXECUTION_END = 2,
	AUDIT_FILE_ACCESS = 3,
	AUDIT_NETWORK_ACCESS = 4,
	AUDIT_PRIVACY_DETECTION = 5,
	AUDIT_RISK_ASSESSMENT = 6,
	AUDIT_APPROVAL_REQUEST = 7,
	AUDIT_APPROVAL_RESPONSE = 8,
	AUDIT_SANDBOX_VIOLATION = 9,
	AUDIT_ERROR = 10,
};
#define AUDIT_TYPE_MIN AUDIT_EXECUTION_START
#define AUDIT_TYPE_MAX AUDIT_ERROR

/*
 * One event.  Strings are NUL-terminated printable ASCII (0x20..0x7e) within
 * the bounds above.  `details` is owned by the event (free with
 * audit_event_clear) and is always a canonical compact JSON object (sorted
 * keys, no spaces) or NULL, which means "{}".
 */
struct audit_event {
	char id[AUDIT_ID_HEX + 1];
	uint64_t seq;			/* assigned by the store, from 1 */
	char time[AUDIT_TIME_LEN + 1];
	enum audit_type type;
	char job[AUDIT_NAME_MAX + 1];	/* may be empty */
	char session[AUDIT_NAME_MAX + 1];
	char tenant[AUDIT_NAME_MAX + 1];
	char actor[AUDIT_ACTOR_MAX + 1];
	char code_sha256[AUDIT_SHA_HEX + 1]; /* may be empty */
	uint64_t in_bytes;
	uint64_t out_bytes;
	uint64_t duration_ms;
	uint64_t cpu_ms;
	uint64_t max_rss_kb;
	char *details;
	uint8_t prev_hash[AUDIT_HASH_LEN];
	uint8_t hash[AUDIT_HASH_LEN];
};

/* Returns the schema name ("file_access"), or "unknown" for a bad value. */
const char *audit_type_name(enum audit_type t);

/* Parses a schema name; returns ERR_OK or ERR_INVAL. */
int audit_type_parse(const char *name, enum audit_type *out);

/*
 * Initialises `ev` for `type`: fresh random id, time now (UTC, ns), every
 * other field zero/empty, details NULL.  Returns ERR_OK, ERR_INVAL for a bad
 * type, ERR_IO if the clock fails.
 */
int audit_event_init(struct audit_event *ev, enum audit_type type);

/* Frees `details` and zeroes the whole event.  Accepts a zeroed event. */
void audit_event_clear(struct audit_event *ev);

/* Deep copy of `src` into `dst` (dst must not own details).  ERR_NOMEM. */
int audit_event_copy(struct audit_event *dst, const struct audit_event *src);

/*
 * Sets `details` from JSON text `json` (`len` bytes): it must be an object of
 * at most AUDIT_DETAILS_MAX bytes once compacted; it is stored in canonical
 * form.  Returns ERR_OK, ERR_TYPE (not an object), ERR_INVAL (not JSON),
 * ERR_TOOBIG, ERR_NOMEM.  On error the old details stay.
 */
int audit_event_set_details(struct audit_event *ev, const char *json, size_t len);

/*
 * The canonical details text of object `obj` (what audit_event_set_details
 * would store for its JSON), fresh (free() it); NULL if `obj` is not an
 * object or out of memory.  With audit_event_take_details it saves the
 * parse and second dump of audit_event_set_details when the caller has the
 * object and needs its text anyway (e.g. for the privacy filter).
 */
struct json_t;
char *audit_details_canonical(const struct json_t *obj);

/*
 * One member of a flat details object for audit_details_flat: a string, an
 * integer or a boolean under `key`.
 */
enum audit_kv_kind { AUDIT_KV_STR, AUDIT_KV_INT, AUDIT_KV_BOOL, AUDIT_KV_JSON };
struct audit_kv {
	const char *key;
	enum audit_kv_kind kind;
	const char *s;		/* AUDIT_KV_STR; AUDIT_KV_JSON: canonical JSON text, as is */
	long long i;		/* AUDIT_KV_INT; AUDIT_KV_BOOL: 0 or not */
};

/*
 * The canonical details text of the flat object kv[0..n-1] (keys in strcmp
 * order), byte for byte what audit_details_canonical gives for the same
 * object, built without jansson; fresh (free() it).  NULL when keys are out
 * of order or any key or string needs escaping (not printable ASCII, or '"'
 * or '\\'), or when it would be over 1 KiB: the caller then builds a json_t
 * and uses audit_details_canonical.  The fast path for the broker's
 * per-job events.
 */
char *audit_details_flat(const struct audit_kv *kv, size_t n);

/*
 * Sets `details` to *text, which must come from audit_details_canonical
 * (it is not parsed again), and takes it (*text becomes NULL).  Returns
 * ERR_OK, ERR_INVAL (NULL or not an object's text), ERR_TOOBIG (then *text
 * stays the caller's).
 */
int audit_event_take_details(struct audit_event *ev, char **text);

/* Sets a string field with bounds/charset checks.  `field` is one of "id",
 * "time", "job", "session", "tenant", "actor", "code_sha256".  Returns ERR_OK,
 * ERR_TOOBIG, ERR_INVAL (bad chars or format, unknown field). */
int audit_event_set(struct audit_event *ev, const char *field, const char *value);

/* Sets a text field ("job", "session", "tenant", "actor") from any bytes
 * that came from outside (a worker's host name, an approver's user name):
 * bytes outside printable ASCII, and the backslash, become \xNN; a value
 * longer than the field's bound is cut at a whole byte and ends in "...";
 * an empty actor becomes "?".  So an event never fails for such a name.
 * ERR_INVAL only for a field that is not a text field. */
int audit_event_set_escaped(struct audit_event *ev, const char *field, const char *value);

/* True when `value` fits text field `field` whole, as audit_event_set would
 * take it (printable ASCII within the field's bound). */
bool audit_text_fits(const char *field, const char *value);

/* Checks every field of `ev` against its bounds.  ERR_OK or ERR_INVAL/
 * ERR_TOOBIG; a short reason goes to `why` (may be NULL). */
int audit_event_validate(const struct audit_event *ev, char *why, size_t whysz);

/*
 * Canonical encoding (msgpack, fixed order; layout in audit.c and AUDIT.md).
 * with_chain=false encodes the body (no prev_hash, no hash) that is hashed;
 * with_chain=true encodes the stored form.  Writes into `out` (capacity
 * `outsz`, AUDIT_CANON_MAX is always enough) and sets *outlen.  Returns
 * ERR_OK, ERR_INVAL (event invalid), ERR_TOOBIG, ERR_NOMEM.
 */
int audit_encode(const struct audit_event *ev, bool with_chain,
    uint8_t *out, size_t outsz, size_t *outlen);

/*
 * Decodes the stored form (with_chain=true encoding) into `ev` (which must
 * not own details; on success it does).  Strict: exact array length, types,
 * bounds, no trailing bytes.  Returns ERR_OK, ERR_TRUNCATED, ERR_TRAILING,
 * ERR_TYPE, ERR_TOOBIG, ERR_INVAL, ERR_VERSION, ERR_NOMEM.
 */
int audit_decode(const uint8_t *buf, size_t len, struct audit_event *ev);

/*
 * The store's one-pass append: sets ev->prev_hash = prev, encodes the stored
 * form once, derives the body digest from those bytes, and sets ev->hash
 * (also in `out`).  Same results as audit_encode + audit_event_compute_hash.
 * Returns ERR_OK or an audit_encode error.
 */
int audit_encode_chained(struct audit_event *ev, const uint8_t prev[AUDIT_HASH_LEN],
    uint8_t *out, size_t outsz, size_t *outlen);

/* body = SHA-256(canonical body).  ERR_OK or an audit_encode error. */
int audit_body_digest(const struct audit_event *ev, uint8_t body[AUDIT_HASH_LEN]);

/* out = SHA-256(prev || body): one chain step. */
void audit_chain_step(const uint8_t prev[AUDIT_HASH_LEN],
    const uint8_t body[AUDIT_HASH_LEN], uint8_t out[AUDIT_HASH_LEN]);

/* Computes the hash of `ev` from its fields and prev_hash into `out`. */
int audit_event_compute_hash(const struct audit_event *ev, uint8_t out[AUDIT_HASH_LEN]);

/*
 * Exported form: one JSON object on one line, no newline, keys sorted.  Returns
 * a fresh NUL-terminated string the caller frees with free(), or NULL
 * (invalid event or out of memory).
 */
char *audit_event_to_json(const struct audit_event *ev);

/*
 * Parses one exported line (`len` bytes, no newline needed) into `ev` (which
 * must not own details).  Strict: every field present, no unknown field, right
 * JSON types, bounds, no trailing bytes, hashes as 64 lowercase hex chars.
 * Returns ERR_OK or ERR_INVAL/ERR_TYPE/ERR_MISSING/ERR_TOOBIG/ERR_NOMEM with
 * a reason (naming the field) in `why`.
 */
int audit_event_from_json(const char *line, size_t len, struct audit_event *ev,
    char *why, size_t whysz);

/* Lowercase hex of `len` bytes into `out` (2*len+1 bytes). */
void audit_hex(const uint8_t *bytes, size_t len, char *out);

/* The SHA-256 of p[0..len-1] as lowercase hex into `out` (AUDIT_SHA_HEX+1
 * bytes), for events' code_sha256: the same digest as any SHA-256, through
 * the library that uses the CPU's SHA extensions (see audit.c). */
void audit_sha256_hex(const void *p, size_t len, char *out);

/* Parses exactly 2*len lowercase/uppercase hex chars.  ERR_OK or ERR_INVAL. */
int audit_unhex(const char *hex, uint8_t *bytes, size_t len);

/* Formats `ts` as the event time form.  `out` holds AUDIT_TIME_LEN+1. */
void audit_time_format(const struct timespec *ts, char *out);

/* True if `s` has exactly the event time form. */
bool audit_time_is_valid(const char *s);

/* True if `s` is a prefix of at least the year of some valid event time
 * ("2026", "2026-11-26T05", a whole time): the bounds of a time selection. */
bool audit_time_prefix_is_valid(const char *s);

/*
 * A signed checkpoint of the chain head.  The signed message is
 *   "sluice-audit-checkpoint-v1\0" | seq (u64 big-endian) | hash (32) | time (30)
 * with ed25519 (libsodium crypto_sign_detached).
 */
#define AUDIT_SIG_LEN 64
#define AUDIT_PK_LEN 32
#define AUDIT_SK_LEN 64
struct audit_checkpoint {
	uint64_t seq;
	uint8_t hash[AUDIT_HASH_LEN];
	char time[AUDIT_TIME_LEN + 1];
	uint8_t sig[AUDIT_SIG_LEN];
};

/* Signs `cp` (seq, hash, time set) with secret key `sk`, filling cp->sig. */
void audit_checkpoint_sign(struct audit_checkpoint *cp, const uint8_t sk[AUDIT_SK_LEN]);

/* True if cp->sig is a valid signature of `cp` under public key `pk`. */
bool audit_checkpoint_verify(const struct audit_checkpoint *cp,
    const uint8_t pk[AUDIT_PK_LEN]);

#endif
