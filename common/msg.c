/*
 * msg — table-driven codec for sluice wire messages (layout in msg.h).
 * Used by every process.  The tables come from schemas/fields.def and
 * schemas/messages.def; input from sockets is untrusted and fully checked.
 */
#include <msgpack.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mpread.h"
#include "common/msg.h"

#define RAW_MAX_DEPTH 8

struct field_def {
	const char *key;
	size_t klen;		/* strlen(key), for the codec's hot paths */
	enum msg_type type;
	uint64_t max;
};

static const struct field_def fields[MSG_F__COUNT] = {
#define FIELD(name, k, t, m, doc) [MSG_F_##name] = { .key = k, .klen = sizeof(k) - 1, \
	.type = MSG_T_##t, .max = m },
#include "schemas/fields.def"
#undef FIELD
};

struct cmd_def {
	enum msg_cmd cmd;
	const char *name;
	uint64_t required;
	uint64_t optional;
};

#define F(x) (UINT64_C(1) << MSG_F_##x)
static const struct cmd_def cmds[] = {
#define MSG(nm, code, dir, req, opt) { MSG_##nm, #nm, (req), (opt) },
#include "schemas/messages.def"
#undef MSG
};
#undef F

_Static_assert(MSG_F__COUNT <= 64, "fields are named by a 64-bit mask");

/*
 * A message in memory: one allocation holding the field table and an arena
 * for the bytes of short STR/BIN/RAW fields; a field that does not fit in
 * what is left of the arena gets its own allocation (bit set in `heap`).
 * Only the header is zeroed at creation: v[f] means something only while
 * bit f of `present` is set.
 *
 *   +-----+---------+------+------+-------------------+--------------------+
 *   | def | present | heap | used | v[0] .. v[N-1]    | arena (MSG_ARENA)  |
 *   +-----+---------+------+------+-------------------+--------------------+
 *                                    bytes -> arena + k, or malloc'd
 */
#define MSG_ARENA 768

struct msg_value {
	union {
		uint64_t u;	/* U64, BOOL */
		int64_t i;	/* I64 */
	};
	unsigned char *bytes;	/* STR, BIN, RAW: NUL-terminated, in the arena or heap */
	size_t len;
};

struct msg {
	const struct cmd_def *def;
	uint64_t present;	/* bit f: field f is set */
	uint64_t heap;		/* bit f: v[f].bytes is its own allocation */
	size_t used;		/* arena bytes taken */
	struct msg_value v[MSG_F__COUNT];
	unsigned char arena[MSG_ARENA];
};

static bool
is_set(const struct msg *m, int f)
{
	return (m->present >> f & 1) != 0;
}

static void
mark_set(struct msg *m, int f)
{
	m->present |= UINT64_C(1) << f;
}

/* A field of another type reads as 0 (as when every slot started zeroed). */
static bool
holds_u(int f)
{
	return fields[f].type == MSG_T_U64 || fields[f].type == MSG_T_BOOL;
}

static bool
has_bytes(int f)
{
	return fields[f].type == MSG_T_STR || fields[f].type == MSG_T_BIN ||
	    fields[f].type == MSG_T_RAW;
}

static const struct cmd_def *
cmd_lookup(unsigned code)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if ((unsigned)cmds[i].cmd == code)
			return &cmds[i];
	return NULL;
}

/*
 * Destroyed messages are kept for reuse: each thread holds up to
 * MSG_SPARE_MAX of them.  A struct msg (~2 KiB) is past malloc's per-thread
 * cache, so each new/destroy pair went through the general allocator; a
 * process handling a message stream reuses a few.  The spares of a thread go
 * when it exits (a pthread key's destructor).
 */
#if defined(__SANITIZE_ADDRESS__)
#define MSG_NO_SPARES		/* ASan builds: every destroy frees (use-after-free stays visible) */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MSG_NO_SPARES
#endif
#endif
#define MSG_SPARE_MAX 8

#ifndef MSG_NO_SPARES
struct msg_spares {
	size_t n;
	struct msg *m[MSG_SPARE_MAX];
};

static pthread_key_t spares_key;
static pthread_once_t spares_once = PTHREAD_ONCE_INIT;
static bool spares_ok;
static __thread struct msg_spares *spares;
static __thread bool spares_gone;	/* this thread is exiting */

/* At thread exit, on the exiting thread: later destroys just free. */
static void
spares_free(void *p)
{
	struct msg_spares *sp = p;

	spares = NULL;
	spares_gone = true;
	for (size_t i = 0; sp != NULL && i < sp->n; i++)
		free(sp->m[i]);
	free(sp);
}

static void
spares_key_init(void)
{
	spares_ok = pthread_key_create(&spares_key, spares_free) == 0;
}
#endif

/* Keeps `m` (its separate values already freed) as a spare, or frees it. */
static void
spare_put(struct msg *m)
{
#ifndef MSG_NO_SPARES
	if (spares == NULL && !spares_gone) {
		pthread_once(&spares_once, spares_key_init);
		if (spares_ok && (spares = calloc(1, sizeof(*spares))) != NULL &&
		    pthread_setspecific(spares_key, spares) != 0) {
			free(spares);
			spares = NULL;
		}
	}
	if (spares != NULL && spares->n < MSG_SPARE_MAX) {
		spares->m[spares->n++] = m;
		return;
	}
#endif
	free(m);
}

/* A spare message, or a fresh allocation; NULL when out of memory. */
static struct msg *
spare_take(void)
{
#ifndef MSG_NO_SPARES
	if (spares != NULL && spares->n > 0)
		return spares->m[--spares->n];
#endif
	return malloc(sizeof(struct msg));
}

struct msg *
msg_new(enum msg_cmd cmd)
{
	const struct cmd_def *def = cmd_lookup(cmd);
	struct msg *m;

	if (def == NULL || (m = spare_take()) == NULL)
		return NULL;
	m->def = def;
	m->present = 0;
	m->heap = 0;
	m->used = 0;
	return m;
}

void
msg_destroy(struct msg **mp)
{
	struct msg *m;

	if (mp == NULL || (m = *mp) == NULL)
		return;
	for (uint64_t h = m->heap; h != 0; h &= h - 1)
		free(m->v[__builtin_ctzll(h)].bytes);
	spare_put(m);
	*mp = NULL;
}

enum msg_cmd
msg_cmd(const struct msg *m)
{
	return m->def->cmd;
}

const char *
msg_cmd_name(enum msg_cmd cmd)
{
	const struct cmd_def *def = cmd_lookup(cmd);
	return def ? def->name : "?";
}

const char *
msg_field_key(enum msg_field f)
{
	return (unsigned)f < MSG_F__COUNT ? fields[f].key : "?";
}

enum msg_type
msg_field_type(enum msg_field f)
{
	return fields[f].type;
}

uint64_t
msg_field_max(enum msg_field f)
{
	return fields[f].max;
}

static bool
allowed(const struct msg *m, enum msg_field f)
{
	return (unsigned)f < MSG_F__COUNT &&
	    ((m->def->required | m->def->optional) >> f & 1);
}

static enum err
check_slot(struct msg *m, enum msg_field f, enum msg_type t)
{
	if (!allowed(m, f))
		return ERR_INVAL;
	if (fields[f].type != t && !(t == MSG_T_BIN && fields[f].type == MSG_T_STR))
		return ERR_INVAL;
	return ERR_OK;
}

enum err
msg_set_u64(struct msg *m, enum msg_field f, uint64_t v)
{
	enum err e = check_slot(m, f, MSG_T_U64);
	if (e != ERR_OK)
		return e;
	if (v > fields[f].max)
		return ERR_TOOBIG;
	mark_set(m, f);
	m->v[f].u = v;
	return ERR_OK;
}

enum err
msg_set_i64(struct msg *m, enum msg_field f, int64_t v)
{
	enum err e = check_slot(m, f, MSG_T_I64);
	if (e != ERR_OK)
		return e;
	if (v > (int64_t)fields[f].max || v < -(int64_t)fields[f].max)
		return ERR_TOOBIG;
	mark_set(m, f);
	m->v[f].i = v;
	return ERR_OK;
}

enum err
msg_set_bool(struct msg *m, enum msg_field f, bool v)
{
	enum err e = check_slot(m, f, MSG_T_BOOL);
	if (e != ERR_OK)
		return e;
	mark_set(m, f);
	m->v[f].u = v;
	return ERR_OK;
}

/* Stores a copy of `len` bytes plus a NUL: over the old value when it fits
 * (p may point into it), else in the arena, else in an allocation of its own. */
static enum err
store_bytes(struct msg *m, enum msg_field f, const void *p, size_t len)
{
	struct msg_value *v = &m->v[f];
	uint64_t bit = UINT64_C(1) << f;
	unsigned char *dst;
	bool own = false;

	if (len > fields[f].max)
		return ERR_TOOBIG;
	if (is_set(m, f) && len <= v->len) {
		dst = v->bytes;
		if (len > 0)
			memmove(dst, p, len);
		dst[len] = '\0';
		v->len = len;
		return ERR_OK;
	}
	if (len < MSG_ARENA - m->used) {
		dst = m->arena + m->used;
		m->used += len + 1;
	} else if ((dst = malloc(len + 1)) != NULL) {
		own = true;
	} else {
		return ERR_NOMEM;
	}
	if (len > 0)
		memcpy(dst, p, len);
	dst[len] = '\0';
	if (m->heap & bit)
		free(v->bytes);
	m->heap = own ? m->heap | bit : m->heap & ~bit;
	v->bytes = dst;
	v->len = len;
	mark_set(m, f);
	return ERR_OK;
}

enum err
msg_set_str(struct msg *m, enum msg_field f, const char *s)
{
	enum err e = check_slot(m, f, MSG_T_BIN);
	if (e != ERR_OK)
		return e;
	return store_bytes(m, f, s, strlen(s));
}

enum err
msg_set_bin(struct msg *m, enum msg_field f, const void *p, size_t len)
{
	enum err e = check_slot(m, f, MSG_T_BIN);
	if (e != ERR_OK)
		return e;
	if (fields[f].type == MSG_T_STR && memchr(p, '\0', len) != NULL)
		return ERR_INVAL;
	return store_bytes(m, f, p, len);
}

enum err
msg_set_raw(struct msg *m, enum msg_field f, const void *p, size_t len)
{
	struct mpread r;
	enum err e = check_slot(m, f, MSG_T_RAW);

	if (e != ERR_OK)
		return e;
	mpread_init(&r, p, len);
	if ((e = mpread_skip(&r, RAW_MAX_DEPTH)) != ERR_OK)
		return e;
	if (r.left != 0)
		return ERR_TRAILING;
	return store_bytes(m, f, p, len);
}

bool
msg_has(const struct msg *m, enum msg_field f)
{
	return (unsigned)f < MSG_F__COUNT && is_set(m, f);
}

uint64_t
msg_u64(const struct msg *m, enum msg_field f, uint64_t dflt)
{
	return msg_has(m, f) ? (holds_u(f) ? m->v[f].u : 0) : dflt;
}

int64_t
msg_i64(const struct msg *m, enum msg_field f, int64_t dflt)
{
	return msg_has(m, f) ? (fields[f].type == MSG_T_I64 ? m->v[f].i : 0) : dflt;
}

bool
msg_bool(const struct msg *m, enum msg_field f, bool dflt)
{
	return msg_has(m, f) ? holds_u(f) && m->v[f].u != 0 : dflt;
}

const char *
msg_str(const struct msg *m, enum msg_field f, const char *dflt)
{
	return msg_has(m, f) && has_bytes(f) ? (const char *)m->v[f].bytes : dflt;
}

const void *
msg_bin(const struct msg *m, enum msg_field f, size_t *len)
{
	if (!msg_has(m, f) || !has_bytes(f)) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = m->v[f].len;
	return m->v[f].bytes;
}

enum err
msg_copy_fields(struct msg *dst, const struct msg *src)
{
	enum err e = ERR_OK;

	uint64_t want = src->present & (dst->def->required | dst->def->optional);

	for (uint64_t set = want; set != 0 && e == ERR_OK; set &= set - 1) {
		int f = __builtin_ctzll(set);
		const struct msg_value *v = &src->v[f];
		if (has_bytes(f)) {
			e = store_bytes(dst, (enum msg_field)f, v->bytes, v->len);
		} else {
			dst->v[f].u = v->u;
			mark_set(dst, f);
		}
	}
	return e;
}

int
msg_sink_write(void *data, const char *bytes, size_t len)
{
	struct msg_sink *s = data;

	if (len > s->cap - s->len)
		return -1;
	memcpy(s->buf + s->len, bytes, len);
	s->len += len;
	return 0;
}

void
msg_unset(struct msg *m, enum msg_field f)
{
	uint64_t bit = UINT64_C(1) << f;

	if ((unsigned)f >= MSG_F__COUNT || !is_set(m, f))
		return;
	if (m->heap & bit)
		free(m->v[f].bytes);
	m->heap &= ~bit;
	m->present &= ~bit;
}

size_t
msg_body_bound(const struct msg *m)
{
	size_t cap = 5;		/* map header at most 5 bytes */

	/* each header at most 5 bytes, each number at most 9 */
	for (uint64_t set = m->present; set != 0; set &= set - 1) {
		int f = __builtin_ctzll(set);
		cap += 5 + fields[f].klen + 9 + (has_bytes(f) ? m->v[f].len : 0);
	}
	return cap;
}

enum err
msg_encode(const struct msg *m, unsigned char hdr[MSG_HEADER_LEN], unsigned char **body,
    size_t *bodylen)
{
	struct msg_sink sink = { NULL, msg_body_bound(m), 0 };
	msgpack_packer pk;
	unsigned n = (unsigned)__builtin_popcountll(m->present);
	int rc = 0;

	if ((m->def->required & ~m->present) != 0)
		return ERR_MISSING;
	/* One allocation of an upper bound instead of a growing buffer.  Fields
	 * in table order, visiting only the ones set. */
	if ((sink.buf = malloc(sink.cap)) == NULL)
		return ERR_NOMEM;
	msgpack_packer_init(&pk, &sink, msg_sink_write);
	rc |= msgpack_pack_map(&pk, n);
	for (uint64_t set = m->present; set != 0; set &= set - 1) {
		int f = __builtin_ctzll(set);
		const struct msg_value *v = &m->v[f];

		rc |= msgpack_pack_str(&pk, fields[f].klen);
		rc |= msgpack_pack_str_body(&pk, fields[f].key, fields[f].klen);
		switch (fields[f].type) {
		case MSG_T_U64:
			rc |= msgpack_pack_uint64(&pk, v->u);
			break;
		case MSG_T_I64:
			rc |= msgpack_pack_int64(&pk, v->i);
			break;
		case MSG_T_BOOL:
			rc |= v->u ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
			break;
		case MSG_T_STR:
			rc |= msgpack_pack_str(&pk, v->len);
			rc |= msgpack_pack_str_body(&pk, v->bytes, v->len);
			break;
		case MSG_T_BIN:
			rc |= msgpack_pack_bin(&pk, v->len);
			rc |= msgpack_pack_bin_body(&pk, v->bytes, v->len);
			break;
		case MSG_T_RAW:
			rc |= msg_sink_write(&sink, (const char *)v->bytes, v->len);
			break;
		}
	}
	if (rc != 0) {	/* cannot happen with the bound above: an invariant */
		free(sink.buf);
		return ERR_INTERNAL;
	}
	hdr[0] = 'S';
	hdr[1] = 'L';
	hdr[2] = MSG_VERSION;
	hdr[3] = (unsigned char)m->def->cmd;
	if (sink.len > MSG_BODY_MAX) {	/* no peer would take it (ZMQ_MAXMSGSIZE) */
		free(sink.buf);
		return ERR_TOOBIG;
	}
	*body = sink.buf;
	*bodylen = sink.len;
	return ERR_OK;
}

/* The field named k[0..len-1], or -1.  msg_encode writes fields in table
 * order, so the search starts after the previous key's field (`from`) and
 * wraps: a message of ours costs a few comparisons per key, any other order
 * still finds every field. */
static int
field_by_key(const unsigned char *k, uint32_t len, int from)
{
	for (int i = 0; i < MSG_F__COUNT; i++) {
		int f = from + i < MSG_F__COUNT ? from + i : from + i - MSG_F__COUNT;
		if (fields[f].klen == len && memcmp(fields[f].key, k, len) == 0)
			return f;
	}
	return -1;
}

#define FAIL(code, ...) do { snprintf(why, whysz, __VA_ARGS__); e = (code); goto fail; } while (0)

/* Decodes one value of field f from r into m. */
static enum err
decode_value(struct msg *m, enum msg_field f, struct mpread *r, char *why, size_t whysz)
{
	const struct field_def *fd = &fields[f];
	struct mpread_item it;
	const unsigned char *start = r->p;
	enum err e;

	if (fd->type == MSG_T_RAW) {
		if ((e = mpread_skip(r, RAW_MAX_DEPTH)) != ERR_OK) {
			snprintf(why, whysz, "field %s: %s", fd->key, err_str(e));
			return e;
		}
		if ((size_t)(r->p - start) > fd->max) {
			snprintf(why, whysz, "field %s: over %llu bytes", fd->key,
			    (unsigned long long)fd->max);
			return ERR_TOOBIG;
		}
		return store_bytes(m, f, start, (size_t)(r->p - start));
	}
	if ((e = mpread_next(r, &it)) != ERR_OK) {
		snprintf(why, whysz, "field %s: %s", fd->key, err_str(e));
		return e;
	}
	switch (fd->type) {
	case MSG_T_U64:
		if (it.kind != MPREAD_UINT)
			break;
		if (it.u > fd->max) {
			snprintf(why, whysz, "field %s: %llu over %llu", fd->key,
			    (unsigned long long)it.u, (unsigned long long)fd->max);
			return ERR_TOOBIG;
		}
		m->v[f].u = it.u;
		mark_set(m, f);
		return ERR_OK;
	case MSG_T_I64:
		if (it.kind != MPREAD_UINT && it.kind != MPREAD_INT)
			break;
		if (it.kind == MPREAD_UINT ? it.u > fd->max : it.i < -(int64_t)fd->max) {
			snprintf(why, whysz, "field %s: out of range", fd->key);
			return ERR_TOOBIG;
		}
		m->v[f].i = it.i;
		mark_set(m, f);
		return ERR_OK;
	case MSG_T_BOOL:
		if (it.kind != MPREAD_BOOL)
			break;
		m->v[f].u = it.b;
		mark_set(m, f);
		return ERR_OK;
	case MSG_T_STR:
	case MSG_T_BIN:
		if (it.kind != MPREAD_STR && it.kind != MPREAD_BIN)
			break;
		if (it.len > fd->max) {
			snprintf(why, whysz, "field %s: %u bytes over %llu", fd->key, it.len,
			    (unsigned long long)fd->max);
			return ERR_TOOBIG;
		}
		if (fd->type == MSG_T_STR && memchr(it.ptr, '\0', it.len) != NULL) {
			snprintf(why, whysz, "field %s: NUL byte in text", fd->key);
			return ERR_INVAL;
		}
		return store_bytes(m, f, it.ptr, it.len);
	case MSG_T_RAW:
		break;
	}
	snprintf(why, whysz, "field %s: wrong type", fd->key);
	return ERR_TYPE;
}

enum err
msg_decode(const void *hdr, size_t hdrlen, const void *body, size_t bodylen, struct msg **out,
    char *why, size_t whysz)
{
	const unsigned char *h = hdr;
	const struct cmd_def *def;
	struct mpread r;
	struct mpread_item it;
	struct msg *m = NULL;
	uint32_t nkeys;
	enum err e;

	*out = NULL;
	if (hdrlen != MSG_HEADER_LEN || h[0] != 'S' || h[1] != 'L')
		FAIL(ERR_PROTO, "bad header frame");
	if (h[2] != MSG_VERSION)
		FAIL(ERR_VERSION, "protocol version %u, expected %u", h[2], MSG_VERSION);
	if ((def = cmd_lookup(h[3])) == NULL)
		FAIL(ERR_PROTO, "unknown command 0x%02x", h[3]);
	if (bodylen > MSG_BODY_MAX)
		FAIL(ERR_TOOBIG, "body of %zu bytes", bodylen);
	if ((m = msg_new(def->cmd)) == NULL)
		FAIL(ERR_NOMEM, "out of memory");

	mpread_init(&r, body, bodylen);
	if ((e = mpread_next(&r, &it)) != ERR_OK)
		FAIL(e, "body: %s", err_str(e));
	if (it.kind != MPREAD_MAP)
		FAIL(ERR_TYPE, "body is not a map");
	if (it.len > MSG_F__COUNT)
		FAIL(ERR_TOOBIG, "%u keys", it.len);
	nkeys = it.len;
	for (uint32_t k = 0, next = 0; k < nkeys; k++) {
		int f;

		if ((e = mpread_next(&r, &it)) != ERR_OK)
			FAIL(e, "key: %s", err_str(e));
		if (it.kind != MPREAD_STR)
			FAIL(ERR_TYPE, "key is not a string");
		f = field_by_key(it.ptr, it.len, (int)next);
		next = f >= 0 && f + 1 < MSG_F__COUNT ? (uint32_t)f + 1 : 0;
		if (f < 0 || !allowed(m, (enum msg_field)f))
			FAIL(ERR_PROTO, "unexpected field in %s", def->name);
		if (is_set(m, f))
			FAIL(ERR_PROTO, "duplicate field %s", fields[f].key);
		if ((e = decode_value(m, (enum msg_field)f, &r, why, whysz)) != ERR_OK)
			goto fail;
	}
	if (r.left != 0)
		FAIL(ERR_TRAILING, "%zu trailing bytes", r.left);
	if ((def->required & ~m->present) != 0)
		FAIL(ERR_MISSING, "%s lacks field %s", def->name,
		    fields[__builtin_ctzll(def->required & ~m->present)].key);
	*out = m;
	return ERR_OK;
fail:
	msg_destroy(&m);
	return e;
}
