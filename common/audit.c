/*
 * audit — audit event fields, canonical encoding, chain hashing and the JSON
 * line form.  Linked into every process (libsluice.a); the broker's audit
 * store is the only writer, the CLI reads and verifies.
 *
 * Trusts nothing it decodes: audit_decode (stored bytes) and
 * audit_event_from_json (evidence packs) check every type and bound.
 *
 * Canonical encoding — a msgpack array in a fixed order.  Integers use
 * msgpack's shortest form, strings are str8/16 (fixstr when short), hashes
 * bin8 (c4 20 + 32 bytes).  Body (hashed) = elements 0..15; stored form = all 18:
 *
 *   idx  field         msgpack type      bound
 *   ---  ------------  ----------------  ---------------------------------
 *    0   version       uint              == AUDIT_CANON_VERSION (1)
 *    1   seq           uint              1 .. 2^53-1
 *    2   id            str               32 lowercase hex
 *    3   time          str               30 chars, YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ
 *    4   type          uint              1 .. 10 (enum audit_type)
 *    5   job           str               0 .. 64 printable ASCII
 *    6   session       str               0 .. 64
 *    7   tenant        str               0 .. 64
 *    8   actor         str               1 .. 128
 *    9   code_sha256   str               "" or 64 lowercase hex
 *   10   in_bytes      uint              0 .. 2^53-1
 *   11   out_bytes     uint              0 .. 2^53-1
 *   12   duration_ms   uint              0 .. 2^53-1
 *   13   cpu_ms        uint              0 .. 2^53-1
 *   14   max_rss_kb    uint              0 .. 2^53-1
 *   15   details       str               canonical JSON object, <= 16 KiB
 *   16   prev_hash     bin               32 bytes       (stored form only)
 *   17   hash          bin               32 bytes       (stored form only)
 *
 *   byte 0..2          3 ..
 * Body:   dc 00 10 | e0 | e1 | ... | e15                    (array16 of 16)
 * Stored: dc 00 12 | e0 | ... | e15 | c4 20 prev_hash | c4 20 hash  (array16 of 18)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <msgpack.h>
#include <sodium.h>
/* SHA-256 of events through OpenSSL's SHA256_* (deprecated in 3.0, still
 * supported): it uses the CPU's SHA extensions where present, libsodium's
 * portable code does not.  The digests are the same; 8 % of the broker's
 * CPU went to hashing events before. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "common/audit.h"
#include "common/err.h"
#include "common/mpread.h"
#include "common/msg.h"
#include "common/util.h"

#define AUDIT_UINT_MAX 9007199254740991ULL	/* 2^53-1: exact in JSON doubles */
#define AUDIT_BODY_FIELDS 16
#define AUDIT_STORED_FIELDS 18

static const char *const audit_type_names[] = {
	[AUDIT_EXECUTION_START] = "execution_start",
	[AUDIT_EXECUTION_END] = "execution_end",
	[AUDIT_FILE_ACCESS] = "file_access",
	[AUDIT_NETWORK_ACCESS] = "network_access",
	[AUDIT_PRIVACY_DETECTION] = "privacy_detection",
	[AUDIT_RISK_ASSESSMENT] = "risk_assessment",
	[AUDIT_APPROVAL_REQUEST] = "approval_request",
	[AUDIT_APPROVAL_RESPONSE] = "approval_response",
	[AUDIT_SANDBOX_VIOLATION] = "sandbox_violation",
	[AUDIT_ERROR] = "error",
};

const char *
audit_type_name(enum audit_type t)
{
	if ((int)t < AUDIT_TYPE_MIN || (int)t > AUDIT_TYPE_MAX)
		return "unknown";
	return audit_type_names[t];
}

int
audit_type_parse(const char *name, enum audit_type *out)
{
	if (name == NULL)
		return ERR_INVAL;
	for (int t = AUDIT_TYPE_MIN; t <= AUDIT_TYPE_MAX; t++) {
		if (strcmp(name, audit_type_names[t]) == 0) {
			*out = (enum audit_type)t;
			return ERR_OK;
		}
	}
	return ERR_INVAL;
}

void
audit_hex(const uint8_t *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * len] = '\0';
}

void
audit_sha256_hex(const void *p, size_t len, char *out)
{
	uint8_t digest[AUDIT_HASH_LEN];
	SHA256_CTX st;

	/* The low-level calls, as for events: OpenSSL 3's one-shot SHA256()
	 * fetches the algorithm on every call. */
	SHA256_Init(&st);
	SHA256_Update(&st, p, len);
	SHA256_Final(digest, &st);
	audit_hex(digest, sizeof(digest), out);
}

static int
audit_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
audit_unhex(const char *hex, uint8_t *bytes, size_t len)
{
	if (hex == NULL || strlen(hex) != 2 * len)
		return ERR_INVAL;
	for (size_t i = 0; i < len; i++) {
		int hi = audit_hexval(hex[2 * i]), lo = audit_hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return ERR_INVAL;
		bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	return ERR_OK;
}

/* Writes `v` as exactly `n` decimal digits at `p`. */
static void
audit_put_digits(char *p, unsigned long v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void
audit_time_format(const struct timespec *ts, char *out)
{
	/* The date and time of day change once a second: cached per thread
	 * ("YYYY-MM-DDTHH:MM:SS", 19 bytes), only the nanoseconds are new. */
	static __thread time_t cached_sec = -1;
	static __thread char cached[20];
	struct tm tm;
	time_t sec = ts->tv_sec;

	if (sec != cached_sec) {
		gmtime_r(&sec, &tm);
		audit_put_digits(cached, (unsigned long)(tm.tm_year + 1900) % 10000, 4);
		cached[4] = '-';
		audit_put_digits(cached + 5, (unsigned long)tm.tm_mon + 1, 2);
		cached[7] = '-';
		audit_put_digits(cached + 8, (unsigned long)tm.tm_mday, 2);
		cached[10] = 'T';
		audit_put_digits(cached + 11, (unsigned long)tm.tm_hour, 2);
		cached[13] = ':';
		audit_put_digits(cached + 14, (unsigned long)tm.tm_min, 2);
		cached[16] = ':';
		audit_put_digits(cached + 17, (unsigned long)tm.tm_sec, 2);
		cached_sec = sec;
	}
	memcpy(out, cached, 19);
	out[19] = '.';
	audit_put_digits(out + 20, (unsigned long)ts->tv_nsec % 1000000000ul, 9);
	out[29] = 'Z';
	out[AUDIT_TIME_LEN] = '\0';
}

static bool
audit_digits(const char *s, size_t n, int lo, int hi)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	return v >= lo && v <= hi;
}

bool
audit_time_is_valid(const char *s)
{
	if (s == NULL || strlen(s) != AUDIT_TIME_LEN)
		return false;
	return audit_digits(s, 4, 1970, 9999) && s[4] == '-' &&
	    audit_digits(s + 5, 2, 1, 12) && s[7] == '-' &&
	    audit_digits(s + 8, 2, 1, 31) && s[10] == 'T' &&
	    audit_digits(s + 11, 2, 0, 23) && s[13] == ':' &&
	    audit_digits(s + 14, 2, 0, 59) && s[16] == ':' &&
	    audit_digits(s + 17, 2, 0, 60) && s[19] == '.' &&
	    audit_digits(s + 20, 9, 0, 999999999) && s[29] == 'Z';
}

bool
audit_time_prefix_is_valid(const char *s)
{
	static const char fill[] = "1970-01-01T00:00:00.000000000Z";
	char t[AUDIT_TIME_LEN + 1];
	size_t n = s != NULL ? strlen(s) : 0;

	if (n < 4 || n > AUDIT_TIME_LEN)
		return false;
	memcpy(t, s, n);
	memcpy(t + n, fill + n, AUDIT_TIME_LEN + 1 - n);
	return audit_time_is_valid(t);
}

/* Byte classes of the string checks: one table load per byte. */
#define AUDIT_C_PRINT 1		/* 0x20..0x7e */
#define AUDIT_C_LOWHEX 2	/* 0-9 a-f */
static const uint8_t audit_cclass[256] = {
	[0x20 ... 0x2f] = AUDIT_C_PRINT,
	['0' ... '9'] = AUDIT_C_PRINT | AUDIT_C_LOWHEX,
	[0x3a ... 0x60] = AUDIT_C_PRINT,
	['a' ... 'f'] = AUDIT_C_PRINT | AUDIT_C_LOWHEX,
	[0x67 ... 0x7e] = AUDIT_C_PRINT,
};

/* True when every byte of s[0..len-1] is in all of `classes`. */
static bool
audit_is_class(const char *s, size_t len, uint8_t classes)
{
	uint8_t all = classes;

	for (size_t i = 0; i < len; i++)
		all &= audit_cclass[(unsigned char)s[i]];
	return all == classes;
}

static bool
audit_is_printable(const char *s, size_t len)
{
	return audit_is_class(s, len, AUDIT_C_PRINT);
}

static bool
audit_is_lowhex(const char *s, size_t len)
{
	return audit_is_class(s, len, AUDIT_C_LOWHEX);
}

/* Field table for the bounded string fields. */
/* What a string field must look like beyond printable ASCII in bounds. */
enum audit_form { AUDIT_FORM_TEXT, AUDIT_FORM_HEX, AUDIT_FORM_SHA, AUDIT_FORM_TIME };

struct audit_strfield {
	const char *name;
	size_t off;
	size_t max;
	size_t min;
	enum audit_form form;
};

static const struct audit_strfield audit_strfields[] = {
	{ "id", offsetof(struct audit_event, id), AUDIT_ID_HEX, AUDIT_ID_HEX, AUDIT_FORM_HEX },
	{ "time", offsetof(struct audit_event, time), AUDIT_TIME_LEN, AUDIT_TIME_LEN, AUDIT_FORM_TIME },
	{ "job", offsetof(struct audit_event, job), AUDIT_NAME_MAX, 0, AUDIT_FORM_TEXT },
	{ "session", offsetof(struct audit_event, session), AUDIT_NAME_MAX, 0, AUDIT_FORM_TEXT },
	{ "tenant", offsetof(struct audit_event, tenant), AUDIT_NAME_MAX, 0, AUDIT_FORM_TEXT },
	{ "actor", offsetof(struct audit_event, actor), AUDIT_ACTOR_MAX, 1, AUDIT_FORM_TEXT },
	{ "code_sha256", offsetof(struct audit_event, code_sha256), AUDIT_SHA_HEX, 0, AUDIT_FORM_SHA },
};
#define AUDIT_NSTRFIELDS (sizeof(audit_strfields) / sizeof(audit_strfields[0]))

/* A strcmp only where the first letter matches. */
static const struct audit_strfield *
audit_strfield_find(const char *name)
{
	for (size_t i = 0; i < AUDIT_NSTRFIELDS; i++)
		if (audit_strfields[i].name[0] == name[0] && strcmp(audit_strfields[i].name, name) == 0)
			return &audit_strfields[i];
	return NULL;
}

/* Checks one string value for field `f`; returns ERR_OK, ERR_TOOBIG, ERR_INVAL. */
static int
audit_check_str(const struct audit_strfield *f, const char *v, size_t len)
{
	if (len > f->max)
		return ERR_TOOBIG;
	if (len < f->min)
		return ERR_INVAL;
	if (f->form == AUDIT_FORM_HEX || (f->form == AUDIT_FORM_SHA && len != 0)) {
		/* lowercase hex is printable: one pass */
		if ((f->form == AUDIT_FORM_SHA && len != AUDIT_SHA_HEX) ||
		    !audit_is_class(v, len, AUDIT_C_PRINT | AUDIT_C_LOWHEX))
			return ERR_INVAL;
	} else if (!audit_is_printable(v, len)) {
		return ERR_INVAL;
	}
	if (f->form == AUDIT_FORM_TIME) {
		char t[AUDIT_TIME_LEN + 1];
		memcpy(t, v, len);
		t[len] = '\0';
		if (!audit_time_is_valid(t))
			return ERR_INVAL;
	}
	return ERR_OK;
}

static int
audit_store_str(struct audit_event *ev, const struct audit_strfield *f,
    const char *v, size_t len)
{
	int rc = audit_check_str(f, v, len);

	if (rc != ERR_OK)
		return rc;
	memcpy((char *)ev + f->off, v, len);
	((char *)ev + f->off)[len] = '\0';
	return ERR_OK;
}

int
audit_event_set(struct audit_event *ev, const char *field, const char *value)
{
	const struct audit_strfield *f = audit_strfield_find(field);

	if (f == NULL || value == NULL)
		return ERR_INVAL;
	return audit_store_str(ev, f, value, strlen(value));
}

/* An outside byte as audit text: itself, or \xNN (4 bytes). */
static bool
audit_byte_plain(unsigned char c)
{
	return (audit_cclass[c] & AUDIT_C_PRINT) && c != '\\';
}

bool
audit_text_fits(const char *field, const char *value)
{
	const struct audit_strfield *f = audit_strfield_find(field);

	return f != NULL && f->form == AUDIT_FORM_TEXT && value != NULL &&
	    audit_check_str(f, value, strlen(value)) == ERR_OK;
}

int
audit_event_set_escaped(struct audit_event *ev, const char *field, const char *value)
{
	static const char hex[] = "0123456789abcdef";
	const struct audit_strfield *f = audit_strfield_find(field);
	const unsigned char *v = (const unsigned char *)(value ? value : "");
	char buf[AUDIT_ACTOR_MAX + 1];
	size_t n = 0, need = 0, room;

	if (f == NULL || f->form != AUDIT_FORM_TEXT || f->max > AUDIT_ACTOR_MAX)
		return ERR_INVAL;
	for (const unsigned char *p = v; *p; p++)
		need += audit_byte_plain(*p) ? 1 : 4;
	room = need <= f->max ? f->max : f->max - 3;	/* else "..." ends it */
	for (const unsigned char *p = v; *p; p++) {
		if (n + (audit_byte_plain(*p) ? 1 : 4) > room)
			break;
		if (audit_byte_plain(*p)) {
			buf[n++] = (char)*p;
		} else {
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = hex[*p >> 4];
			buf[n++] = hex[*p & 15];
		}
	}
	if (need > f->max) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	if (n < f->min)
		buf[n++] = '?';
	return audit_store_str(ev, f, buf, n);
}

/*
 * Event ids: 16 bytes from the system CSPRNG through util_random_bytes (a
 * per-thread pool refilled 4 KiB at a time; a forked child refills before its
 * first id, so it never repeats its parent's).  libsodium's generator (one
 * getrandom per call) only if the pool cannot be filled.
 */
static void
audit_random_id(uint8_t *id, size_t len)
{
	if (util_random_bytes(id, len) != ERR_OK)
		randombytes_buf(id, len);
}

int
audit_event_init(struct audit_event *ev, enum audit_type type)
{
	struct timespec ts;
	uint8_t id[AUDIT_ID_HEX / 2];

	if ((int)type < AUDIT_TYPE_MIN || (int)type > AUDIT_TYPE_MAX)
		return ERR_INVAL;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return ERR_IO;
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	audit_random_id(id, sizeof(id));
	audit_hex(id, sizeof(id), ev->id);
	audit_time_format(&ts, ev->time);
	return ERR_OK;
}

void
audit_event_clear(struct audit_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->details);
	memset(ev, 0, sizeof(*ev));
}

int
audit_event_copy(struct audit_event *dst, const struct audit_event *src)
{
	char *d = NULL;

	if (src->details != NULL && (d = strdup(src->details)) == NULL)
		return ERR_NOMEM;
	memcpy(dst, src, sizeof(*dst));
	dst->details = d;
	return ERR_OK;
}

/*
 * Canonical JSON text of object `obj` into a fresh string; NULL on error.
 * Sorted keys, no whitespace, non-ASCII escaped: the same object always gives
 * the same bytes, and dump(load(dump(x))) == dump(x).
 */
static char *
audit_canon_json(const json_t *obj)
{
	const size_t flags = JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII;
	char buf[1024], *text;
	size_t n;

	/* Most details are short: dump into the stack and copy once, instead of
	 * json_dumps' buffer growing from 16 bytes (same bytes either way). */
	if ((n = json_dumpb(obj, buf, sizeof(buf), flags)) == 0)
		return NULL;
	if (n > sizeof(buf) - 1)
		return json_dumps(obj, flags);
	if ((text = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(text, buf, n);
	text[n] = '\0';
	return text;
}

/* Stores the canonical form of object `obj` as the details of `ev`. */
static int
audit_set_details_obj(struct audit_event *ev, const json_t *obj)
{
	char *text;

	if (!json_is_object(obj))
		return ERR_TYPE;
	if ((text = audit_canon_json(obj)) == NULL)
		return ERR_NOMEM;
	if (strlen(text) > AUDIT_DETAILS_MAX) {
		free(text);
		return ERR_TOOBIG;
	}
	free(ev->details);
	ev->details = text;
	return ERR_OK;
}

int
audit_event_set_details(struct audit_event *ev, const char *json, size_t len)
{
	json_t *obj;
	json_error_t jerr;
	int rc;

	if (json == NULL)
		return ERR_INVAL;
	if (len > AUDIT_DETAILS_MAX * 2)
		return ERR_TOOBIG;
	if ((obj = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return ERR_INVAL;
	rc = audit_set_details_obj(ev, obj);
	json_decref(obj);
	return rc;
}

char *
audit_details_canonical(const json_t *obj)
{
	return json_is_object(obj) ? audit_canon_json(obj) : NULL;
}

/* Appends len bytes at *o if they fit before end. */
static bool
audit_put(char **o, const char *end, const char *p, size_t len)
{
	if (len > (size_t)(end - *o))
		return false;
	memcpy(*o, p, len);
	*o += len;
	return true;
}

/* Appends "s" when s needs no escaping in jansson's ENSURE_ASCII form. */
static bool
audit_put_plain(char **o, const char *end, const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e || s[i] == '"' ||
		    s[i] == '\\')
			return false;
	return audit_put(o, end, "\"", 1) && audit_put(o, end, s, len) &&
	    audit_put(o, end, "\"", 1);
}

char *
audit_details_flat(const struct audit_kv *kv, size_t n)
{
	char buf[1024], num[UTIL_I64_CHARS], *o = buf;
	const char *end = buf + sizeof(buf);

	if (!audit_put(&o, end, "{", 1))
		return NULL;
	for (size_t k = 0; k < n; k++) {
		if (k > 0 && (strcmp(kv[k - 1].key, kv[k].key) >= 0 || !audit_put(&o, end, ",", 1)))
			return NULL;
		if (!audit_put_plain(&o, end, kv[k].key) || !audit_put(&o, end, ":", 1))
			return NULL;
		switch (kv[k].kind) {
		case AUDIT_KV_STR:
			if (kv[k].s == NULL || !audit_put_plain(&o, end, kv[k].s))
				return NULL;
			break;
		case AUDIT_KV_INT:
			if (!audit_put(&o, end, num, util_fmt_i64(num, kv[k].i)))
				return NULL;
			break;
		case AUDIT_KV_JSON:
			if (kv[k].s == NULL || !audit_put(&o, end, kv[k].s, strlen(kv[k].s)))
				return NULL;
			break;
		case AUDIT_KV_BOOL:
			if (!(kv[k].i ? audit_put(&o, end, "true", 4) : audit_put(&o, end, "false", 5)))
				return NULL;
			break;
		default:
			return NULL;
		}
	}
	if (!audit_put(&o, end, "}", 1))
		return NULL;
	return strndup(buf, (size_t)(o - buf));
}

int
audit_event_take_details(struct audit_event *ev, char **text)
{
	if (text == NULL || *text == NULL || **text != '{')
		return ERR_INVAL;
	if (strlen(*text) > AUDIT_DETAILS_MAX)
		return ERR_TOOBIG;
	free(ev->details);
	ev->details = *text;
	*text = NULL;
	return ERR_OK;
}

static const char *
audit_details_text(const struct audit_event *ev)
{
	return ev->details != NULL ? ev->details : "{}";
}

/* True if `text` (len bytes) is exactly the canonical form of an object. */
static bool
audit_details_is_canonical(const char *text, size_t len)
{
	json_t *obj;
	json_error_t jerr;
	char *again;
	bool same;

	if (len > AUDIT_DETAILS_MAX)
		return false;
	if ((obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return false;
	if (!json_is_object(obj)) {
		json_decref(obj);
		return false;
	}
	again = audit_canon_json(obj);
	json_decref(obj);
	same = again != NULL && strlen(again) == len && memcmp(again, text, len) == 0;
	free(again);
	return same;
}

static int
audit_fail(char *why, size_t whysz, int rc, const char *msg, const char *field)
{
	if (why != NULL && whysz > 0)
		snprintf(why, whysz, "%s%s%s", field ? field : "", field ? ": " : "", msg);
	return rc;
}

int
audit_event_validate(const struct audit_event *ev, char *why, size_t whysz)
{
	const uint64_t nums[] = { ev->in_bytes, ev->out_bytes, ev->duration_ms,
	    ev->cpu_ms, ev->max_rss_kb };
	const char *d = audit_details_text(ev);

	if ((int)ev->type < AUDIT_TYPE_MIN || (int)ev->type > AUDIT_TYPE_MAX)
		return audit_fail(why, whysz, ERR_INVAL, "unknown event type", "type");
	if (ev->seq > AUDIT_UINT_MAX)
		return audit_fail(why, whysz, ERR_TOOBIG, "out of range", "seq");
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (nums[i] > AUDIT_UINT_MAX)
			return audit_fail(why, whysz, ERR_TOOBIG, "counter out of range", NULL);
	for (size_t i = 0; i < AUDIT_NSTRFIELDS; i++) {
		const struct audit_strfield *f = &audit_strfields[i];
		const char *v = (const char *)ev + f->off;
		size_t len = strnlen(v, f->max + 1);
		int rc = audit_check_str(f, v, len);
		if (rc != ERR_OK)
			return audit_fail(why, whysz, rc, "bad value", f->name);
	}
	if (strlen(d) > AUDIT_DETAILS_MAX)
		return audit_fail(why, whysz, ERR_TOOBIG, "too long", "details");
	return ERR_OK;
}

static int
audit_pack_str(msgpack_packer *pk, const char *s)
{
	size_t len = strlen(s);

	if (msgpack_pack_str(pk, len) != 0)
		return -1;
	return msgpack_pack_str_body(pk, s, len);
}

/* Packs `ev` through `pk`; returns non-zero if a write failed. */
static int
audit_pack(msgpack_packer *pk, const struct audit_event *ev, bool with_chain)
{
	int bad = 0;

	bad |= msgpack_pack_array(pk, with_chain ? AUDIT_STORED_FIELDS : AUDIT_BODY_FIELDS);
	bad |= msgpack_pack_uint64(pk, AUDIT_CANON_VERSION);
	bad |= msgpack_pack_uint64(pk, ev->seq);
	bad |= audit_pack_str(pk, ev->id);
	bad |= audit_pack_str(pk, ev->time);
	bad |= msgpack_pack_uint64(pk, (uint64_t)ev->type);
	bad |= audit_pack_str(pk, ev->job);
	bad |= audit_pack_str(pk, ev->session);
	bad |= audit_pack_str(pk, ev->tenant);
	bad |= audit_pack_str(pk, ev->actor);
	bad |= audit_pack_str(pk, ev->code_sha256);
	bad |= msgpack_pack_uint64(pk, ev->in_bytes);
	bad |= msgpack_pack_uint64(pk, ev->out_bytes);
	bad |= msgpack_pack_uint64(pk, ev->duration_ms);
	bad |= msgpack_pack_uint64(pk, ev->cpu_ms);
	bad |= msgpack_pack_uint64(pk, ev->max_rss_kb);
	bad |= audit_pack_str(pk, audit_details_text(ev));
	if (with_chain) {
		bad |= msgpack_pack_bin(pk, AUDIT_HASH_LEN);
		bad |= msgpack_pack_bin_body(pk, ev->prev_hash, AUDIT_HASH_LEN);
		bad |= msgpack_pack_bin(pk, AUDIT_HASH_LEN);
		bad |= msgpack_pack_bin_body(pk, ev->hash, AUDIT_HASH_LEN);
	}
	return bad;
}

int
audit_encode(const struct audit_event *ev, bool with_chain, uint8_t *out,
    size_t outsz, size_t *outlen)
{
	struct msg_sink sink = { out, outsz, 0 };
	msgpack_packer pk;

	if (audit_event_validate(ev, NULL, 0) != ERR_OK)
		return ERR_INVAL;
	msgpack_packer_init(&pk, &sink, msg_sink_write);
	if (audit_pack(&pk, ev, with_chain) != 0)
		return ERR_TOOBIG;
	*outlen = sink.len;
	return ERR_OK;
}

int
audit_encode_chained(struct audit_event *ev, const uint8_t prev[AUDIT_HASH_LEN],
    uint8_t *out, size_t outsz, size_t *outlen)
{
	static const uint8_t body_head[3] = { 0xdc, 0x00, AUDIT_BODY_FIELDS };
	SHA256_CTX st;
	uint8_t body[AUDIT_HASH_LEN];
	size_t len;
	int rc;

	memcpy(ev->prev_hash, prev, AUDIT_HASH_LEN);
	memset(ev->hash, 0, AUDIT_HASH_LEN);
	if ((rc = audit_encode(ev, true, out, outsz, &len)) != ERR_OK)
		return rc;
	/* stored = dc 00 12 | elements 0..15 | c4 20 prev | c4 20 hash;
	 * body   = dc 00 10 | elements 0..15 */
	if (len < 3 + 2 * (2 + AUDIT_HASH_LEN) || out[0] != 0xdc || out[1] != 0 ||
	    out[2] != AUDIT_STORED_FIELDS)
		return ERR_INTERNAL;
	SHA256_Init(&st);
	SHA256_Update(&st, body_head, sizeof(body_head));
	SHA256_Update(&st, out + 3, len - 3 - 2 * (2 + AUDIT_HASH_LEN));
	SHA256_Final(body, &st);
	audit_chain_step(prev, body, ev->hash);
	memcpy(out + len - AUDIT_HASH_LEN, ev->hash, AUDIT_HASH_LEN);
	*outlen = len;
	return ERR_OK;
}

/* Reads one uint (a non-negative int counts) within AUDIT_UINT_MAX. */
static int
audit_read_uint(struct mpread *r, uint64_t *out)
{
	struct mpread_item it;
	int rc;

	if ((rc = mpread_next(r, &it)) != ERR_OK)
		return rc;
	if (it.kind != MPREAD_UINT)
		return ERR_TYPE;
	if (it.u > AUDIT_UINT_MAX)
		return ERR_TOOBIG;
	*out = it.u;
	return ERR_OK;
}

/* Reads a str (want_bin false) or bin (true); bytes are borrowed. */
static int
audit_read_bytes(struct mpread *r, bool want_bin, const char **ptr, size_t *len)
{
	struct mpread_item it;
	int rc;

	if ((rc = mpread_next(r, &it)) != ERR_OK)
		return rc;
	if (it.kind != (want_bin ? MPREAD_BIN : MPREAD_STR))
		return ERR_TYPE;
	*ptr = (const char *)it.ptr;
	*len = it.len;
	return ERR_OK;
}

static int
audit_read_str(struct mpread *r, struct audit_event *ev, const char *field)
{
	const char *ptr;
	size_t len;
	int rc;

	if ((rc = audit_read_bytes(r, false, &ptr, &len)) != ERR_OK)
		return rc;
	return audit_store_str(ev, audit_strfield_find(field), ptr, len);
}

static int
audit_read_hash(struct mpread *r, uint8_t *out)
{
	const char *ptr;
	size_t len;
	int rc;

	if ((rc = audit_read_bytes(r, true, &ptr, &len)) != ERR_OK)
		return rc;
	if (len != AUDIT_HASH_LEN)
		return ERR_INVAL;
	memcpy(out, ptr, AUDIT_HASH_LEN);
	return ERR_OK;
}

/* Reads the 18 elements after the array header into `ev`. */
static int
audit_decode_fields(struct mpread *r, struct audit_event *ev)
{
	static const char *const strs[] = { "job", "session", "tenant", "actor",
	    "code_sha256" };
	uint64_t *nums[] = { &ev->in_bytes, &ev->out_bytes, &ev->duration_ms,
	    &ev->cpu_ms, &ev->max_rss_kb };
	const char *details;
	size_t dlen;
	uint64_t v;
	int rc;

	if ((rc = audit_read_uint(r, &v)) != ERR_OK)
		return rc;
	if (v != AUDIT_CANON_VERSION)
		return ERR_VERSION;
	if ((rc = audit_read_uint(r, &ev->seq)) != ERR_OK ||
	    (rc = audit_read_str(r, ev, "id")) != ERR_OK ||
	    (rc = audit_read_str(r, ev, "time")) != ERR_OK ||
	    (rc = audit_read_uint(r, &v)) != ERR_OK)
		return rc;
	if (v < AUDIT_TYPE_MIN || v > AUDIT_TYPE_MAX)
		return ERR_INVAL;
	ev->type = (enum audit_type)v;
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if ((rc = audit_read_str(r, ev, strs[i])) != ERR_OK)
			return rc;
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if ((rc = audit_read_uint(r, nums[i])) != ERR_OK)
			return rc;
	if ((rc = audit_read_bytes(r, false, &details, &dlen)) != ERR_OK)
		return rc;
	if (dlen > AUDIT_DETAILS_MAX)
		return ERR_TOOBIG;
	if (!audit_details_is_canonical(details, dlen))
		return ERR_INVAL;
	if ((rc = audit_read_hash(r, ev->prev_hash)) != ERR_OK ||
	    (rc = audit_read_hash(r, ev->hash)) != ERR_OK)
		return rc;
	if ((ev->details = strndup(details, dlen)) == NULL)
		return ERR_NOMEM;
	return ERR_OK;
}

int
audit_decode(const uint8_t *buf, size_t len, struct audit_event *ev)
{
	struct mpread r;
	struct mpread_item it;
	int rc;

	memset(ev, 0, sizeof(*ev));
	if (len > AUDIT_CANON_MAX)
		return ERR_TOOBIG;
	mpread_init(&r, buf, len);
	if ((rc = mpread_next(&r, &it)) != ERR_OK)
		return rc;
	if (it.kind != MPREAD_ARRAY)
		return ERR_TYPE;
	if (it.len != AUDIT_STORED_FIELDS)
		return ERR_INVAL;
	rc = audit_decode_fields(&r, ev);
	if (rc == ERR_OK && r.left != 0)
		rc = ERR_TRAILING;
	if (rc != ERR_OK)
		audit_event_clear(ev);
	return rc;
}

static int
audit_sha_write(void *data, const char *bytes, size_t len)
{
	SHA256_Update(data, (const uint8_t *)bytes, len);
	return 0;
}

int
audit_body_digest(const struct audit_event *ev, uint8_t body[AUDIT_HASH_LEN])
{
	SHA256_CTX st;
	msgpack_packer pk;

	if (audit_event_validate(ev, NULL, 0) != ERR_OK)
		return ERR_INVAL;
	SHA256_Init(&st);
	msgpack_packer_init(&pk, &st, audit_sha_write);
	if (audit_pack(&pk, ev, false) != 0)
		return ERR_INTERNAL;
	SHA256_Final(body, &st);
	return ERR_OK;
}

void
audit_chain_step(const uint8_t prev[AUDIT_HASH_LEN],
    const uint8_t body[AUDIT_HASH_LEN], uint8_t out[AUDIT_HASH_LEN])
{
	SHA256_CTX st;

	SHA256_Init(&st);
	SHA256_Update(&st, prev, AUDIT_HASH_LEN);
	SHA256_Update(&st, body, AUDIT_HASH_LEN);
	SHA256_Final(out, &st);
}

int
audit_event_compute_hash(const struct audit_event *ev, uint8_t out[AUDIT_HASH_LEN])
{
	uint8_t body[AUDIT_HASH_LEN];
	int rc;

	if ((rc = audit_body_digest(ev, body)) != ERR_OK)
		return rc;
	audit_chain_step(ev->prev_hash, body, out);
	return ERR_OK;
}

char *
audit_event_to_json(const struct audit_event *ev)
{
	char prev[2 * AUDIT_HASH_LEN + 1], hash[2 * AUDIT_HASH_LEN + 1];
	json_t *o, *details;
	json_error_t jerr;
	char *line = NULL;
	const char *d = audit_details_text(ev);

	if (audit_event_validate(ev, NULL, 0) != ERR_OK)
		return NULL;
	if ((details = json_loads(d, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return NULL;
	audit_hex(ev->prev_hash, AUDIT_HASH_LEN, prev);
	audit_hex(ev->hash, AUDIT_HASH_LEN, hash);
	o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I,"
	    " s:I, s:I, s:o, s:s, s:s}",
	    "id", ev->id, "seq", (json_int_t)ev->seq, "time", ev->time,
	    "type", audit_type_name(ev->type), "job", ev->job,
	    "session", ev->session, "tenant", ev->tenant, "actor", ev->actor,
	    "code_sha256", ev->code_sha256,
	    "in_bytes", (json_int_t)ev->in_bytes,
	    "out_bytes", (json_int_t)ev->out_bytes,
	    "duration_ms", (json_int_t)ev->duration_ms,
	    "cpu_ms", (json_int_t)ev->cpu_ms,
	    "max_rss_kb", (json_int_t)ev->max_rss_kb,
	    "details", details, "prev_hash", prev, "hash", hash);
	if (o == NULL)
		return NULL;
	line = audit_canon_json(o);
	json_decref(o);
	return line;
}

/* JSON field kinds of the exported line, in one table. */
enum audit_jkind { AUDIT_J_STR, AUDIT_J_UINT, AUDIT_J_TYPE, AUDIT_J_DETAILS, AUDIT_J_HASH };

struct audit_jfield {
	const char *name;
	enum audit_jkind kind;
	size_t off;	/* uint64_t or hash offset; strings use the str table */
};

static const struct audit_jfield audit_jfields[] = {
	{ "id", AUDIT_J_STR, 0 },
	{ "seq", AUDIT_J_UINT, offsetof(struct audit_event, seq) },
	{ "time", AUDIT_J_STR, 0 },
	{ "type", AUDIT_J_TYPE, 0 },
	{ "job", AUDIT_J_STR, 0 },
	{ "session", AUDIT_J_STR, 0 },
	{ "tenant", AUDIT_J_STR, 0 },
	{ "actor", AUDIT_J_STR, 0 },
	{ "code_sha256", AUDIT_J_STR, 0 },
	{ "in_bytes", AUDIT_J_UINT, offsetof(struct audit_event, in_bytes) },
	{ "out_bytes", AUDIT_J_UINT, offsetof(struct audit_event, out_bytes) },
	{ "duration_ms", AUDIT_J_UINT, offsetof(struct audit_event, duration_ms) },
	{ "cpu_ms", AUDIT_J_UINT, offsetof(struct audit_event, cpu_ms) },
	{ "max_rss_kb", AUDIT_J_UINT, offsetof(struct audit_event, max_rss_kb) },
	{ "details", AUDIT_J_DETAILS, 0 },
	{ "prev_hash", AUDIT_J_HASH, offsetof(struct audit_event, prev_hash) },
	{ "hash", AUDIT_J_HASH, offsetof(struct audit_event, hash) },
};
#define AUDIT_NJFIELDS (sizeof(audit_jfields) / sizeof(audit_jfields[0]))

static int
audit_json_field(const struct audit_jfield *f, json_t *v, struct audit_event *ev)
{
	json_int_t n;
	int rc;

	switch (f->kind) {
	case AUDIT_J_STR:
		if (!json_is_string(v))
			return ERR_TYPE;
		return audit_store_str(ev, audit_strfield_find(f->name),
		    json_string_value(v), json_string_length(v));
	case AUDIT_J_UINT:
		if (!json_is_integer(v))
			return ERR_TYPE;
		n = json_integer_value(v);
		if (n < 0 || (uint64_t)n > AUDIT_UINT_MAX)
			return ERR_TOOBIG;
		*(uint64_t *)((char *)ev + f->off) = (uint64_t)n;
		return ERR_OK;
	case AUDIT_J_TYPE:
		if (!json_is_string(v))
			return ERR_TYPE;
		return audit_type_parse(json_string_value(v), &ev->type);
	case AUDIT_J_DETAILS:
		if (!json_is_object(v))
			return ERR_TYPE;
		return audit_set_details_obj(ev, v);
	case AUDIT_J_HASH:
		if (!json_is_string(v))
			return ERR_TYPE;
		if (json_string_length(v) != 2 * AUDIT_HASH_LEN ||
		    !audit_is_lowhex(json_string_value(v), 2 * AUDIT_HASH_LEN))
			return ERR_INVAL;
		rc = audit_unhex(json_string_value(v), (uint8_t *)ev + f->off,
		    AUDIT_HASH_LEN);
		return rc;
	}
	return ERR_INTERNAL;
}

int
audit_event_from_json(const char *line, size_t len, struct audit_event *ev,
    char *why, size_t whysz)
{
	json_t *o, *v;
	json_error_t jerr;
	const char *key;
	int rc = ERR_OK;

	memset(ev, 0, sizeof(*ev));
	if (len > AUDIT_JSON_MAX)
		return audit_fail(why, whysz, ERR_TOOBIG, "line too long", NULL);
	if ((o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		if (why != NULL && whysz > 0)
			snprintf(why, whysz, "not JSON: %s (column %d)", jerr.text,
			    jerr.column);
		return ERR_INVAL;
	}
	if (!json_is_object(o)) {
		rc = audit_fail(why, whysz, ERR_TYPE, "line is not an object", NULL);
		goto out_json;
	}
	json_object_foreach(o, key, v) {
		size_t i;
		for (i = 0; i < AUDIT_NJFIELDS; i++)
			if (strcmp(audit_jfields[i].name, key) == 0)
				break;
		if (i == AUDIT_NJFIELDS) {
			rc = audit_fail(why, whysz, ERR_INVAL, "unknown field", key);
			goto out_json;
		}
	}
	for (size_t i = 0; i < AUDIT_NJFIELDS; i++) {
		const struct audit_jfield *f = &audit_jfields[i];
		if ((v = json_object_get(o, f->name)) == NULL) {
			rc = audit_fail(why, whysz, ERR_MISSING, "missing", f->name);
			goto out_json;
		}
		if ((rc = audit_json_field(f, v, ev)) != ERR_OK) {
			audit_fail(why, whysz, rc, rc == ERR_TYPE ? "wrong type" :
			    rc == ERR_TOOBIG ? "too big" : "bad value", f->name);
			goto out_json;
		}
	}
out_json:
	json_decref(o);
	if (rc != ERR_OK)
		audit_event_clear(ev);
	return rc;
}

/* Builds the signed message of a checkpoint into `msg`; returns its length. */
static size_t
audit_checkpoint_message(const struct audit_checkpoint *cp, uint8_t *msg)
{
	static const char tag[] = "sluice-audit-checkpoint-v1";
	size_t n = sizeof(tag);	/* includes the NUL */

	memcpy(msg, tag, n);
	for (int i = 0; i < 8; i++)
		msg[n++] = (uint8_t)(cp->seq >> (56 - 8 * i));
	memcpy(msg + n, cp->hash, AUDIT_HASH_LEN);
	n += AUDIT_HASH_LEN;
	memcpy(msg + n, cp->time, AUDIT_TIME_LEN);
	return n + AUDIT_TIME_LEN;
}

void
audit_checkpoint_sign(struct audit_checkpoint *cp, const uint8_t sk[AUDIT_SK_LEN])
{
	uint8_t msg[128];
	size_t n = audit_checkpoint_message(cp, msg);

	crypto_sign_detached(cp->sig, NULL, msg, n, sk);
}

bool
audit_checkpoint_verify(const struct audit_checkpoint *cp, const uint8_t pk[AUDIT_PK_LEN])
{
	uint8_t msg[128];
	size_t n;

	if (!audit_time_is_valid(cp->time))
		return false;
	n = audit_checkpoint_message(cp, msg);
	return crypto_sign_verify_detached(cp->sig, msg, n, pk) == 0;
}
