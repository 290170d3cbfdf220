/*
 * pending — the approver's RocksDB store of approval items (see pending.h).
 * Runs in sluice-approver.  It trusts its callers (the approver loop has
 * validated every field) but not the disk: a value that does not decode is
 * reported as corrupt, never trusted.
 *
 * Keys (one RocksDB database in DATA/db, default column family):
 *
 *   "p/" <id>   an item waiting for a decision, or decided and not yet
 *               acknowledged by the broker
 *   "h/" <id>   history: decided and acknowledged, or expired undecided
 *
 * Value (both prefixes):
 *
 *   +------+----------------------------------------------------------+
 *   | 0x01 | msgpack map, string keys:                                |
 *   |      |   id str, code bin, session str, tenant str, level str,  |
 *   |      |   lang str, tool str (tool calls only),                  |
 *   |      |   risk bin (nested msgpack), deadline_ms uint,           |
 *   |      |   time_ms uint, state uint (enum pending_state),         |
 *   |      |   verdict str, actor str, reason str, decided_ms uint,   |
 *   |      |   ack_ms uint, ack_status str, ack_message str           |
 *   +------+----------------------------------------------------------+
 *   version  absent optional fields are omitted; unknown keys are refused
 *
 * Every write is one synced write (or one synced batch for a move from "p/"
 * to "h/"), so a crash leaves each item in exactly one place.
 */
#include <msgpack.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approver/pending.h"
#include "common/rdb.h"
#include "common/mpread.h"

#define PENDING_VALUE_VERSION 1
#define PENDING_CODE_MAX (1024u * 1024)
#define PENDING_RISK_MAX (64u * 1024)
#define PENDING_KEY_MAX 80

struct pending {
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_writeoptions_t *wsync;
	rocksdb_readoptions_t *ro;
};

const char *
pending_state_name(enum pending_state s)
{
	switch (s) {
	case PENDING_WAITING: return "waiting";
	case PENDING_DECIDED: return "decided";
	case PENDING_DONE: return "done";
	case PENDING_EXPIRED: return "expired";
	}
	return "?";
}

bool
pending_is_valid_id(const char *id)
{
	size_t n = 0;

	if (id == NULL)
		return false;
	for (; id[n] != '\0'; n++) {
		char c = id[n];
		if (n >= 64 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return n > 0;
}

bool
pending_is_expired(const struct pending_item *it, uint64_t now_ms)
{
	return (it->state == PENDING_WAITING || it->state == PENDING_EXPIRED) &&
	    now_ms >= it->deadline_ms;
}

void
pending_item_free(struct pending_item **itp)
{
	struct pending_item *it;

	if (itp == NULL || (it = *itp) == NULL)
		return;
	free(it->code);
	free(it->risk);
	free(it);
	*itp = NULL;
}

/* --- value codec ---------------------------------------------------------- */

static int
pack_key(msgpack_packer *pk, const char *key)
{
	return msgpack_pack_str_with_body(pk, key, strlen(key));
}

static int
pack_str(msgpack_packer *pk, const char *key, const char *val)
{
	return pack_key(pk, key) | msgpack_pack_str_with_body(pk, val, strlen(val));
}

static int
pack_bin(msgpack_packer *pk, const char *key, const void *val, size_t n)
{
	return pack_key(pk, key) | msgpack_pack_bin_with_body(pk, val, n);
}

static int
pack_u64(msgpack_packer *pk, const char *key, uint64_t v)
{
	return pack_key(pk, key) | msgpack_pack_uint64(pk, v);
}

enum err
pending_item_encode(const struct pending_item *it, unsigned char **out, size_t *len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	bool decided = it->state == PENDING_DECIDED || it->state == PENDING_DONE;
	bool acked = it->state == PENDING_DONE || it->state == PENDING_EXPIRED;
	size_t n = 9 + (it->risk != NULL) + (it->tool[0] != '\0') + (decided ? 4 : 0) + (acked ? 3 : 0);
	char version = PENDING_VALUE_VERSION;
	int rc = 0;

	*out = NULL;
	*len = 0;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	rc |= msgpack_sbuffer_write(&sb, &version, 1);
	rc |= msgpack_pack_map(&pk, n);
	rc |= pack_str(&pk, "id", it->id);
	rc |= pack_bin(&pk, "code", it->code != NULL ? (const void *)it->code : "", it->code_len);
	rc |= pack_str(&pk, "session", it->session);
	rc |= pack_str(&pk, "tenant", it->tenant);
	rc |= pack_str(&pk, "level", it->level);
	rc |= pack_str(&pk, "lang", it->lang);
	rc |= pack_u64(&pk, "deadline_ms", it->deadline_ms);
	rc |= pack_u64(&pk, "time_ms", it->time_ms);
	rc |= pack_u64(&pk, "state", (uint64_t)it->state);
	if (it->risk != NULL)
		rc |= pack_bin(&pk, "risk", it->risk, it->risk_len);
	if (it->tool[0] != '\0')
		rc |= pack_str(&pk, "tool", it->tool);
	if (decided) {
		rc |= pack_str(&pk, "verdict", it->verdict);
		rc |= pack_str(&pk, "actor", it->actor);
		rc |= pack_str(&pk, "reason", it->reason);
		rc |= pack_u64(&pk, "decided_ms", it->decided_ms);
	}
	if (acked) {
		rc |= pack_u64(&pk, "ack_ms", it->ack_ms);
		rc |= pack_str(&pk, "ack_status", it->ack_status);
		rc |= pack_str(&pk, "ack_message", it->ack_message);
	}
	if (rc != 0 || sb.data == NULL) {
		msgpack_sbuffer_destroy(&sb);
		return ERR_NOMEM;
	}
	*len = sb.size;
	*out = (unsigned char *)msgpack_sbuffer_release(&sb);	/* plain malloc'd memory */
	return ERR_OK;
}

enum value_kind { VALUE_STR, VALUE_BIN, VALUE_U64 };

/* One key of the stored map: where its value goes in struct pending_item. */
struct value_field {
	const char *key;
	enum value_kind kind;
	size_t off;		/* char[] (STR), unsigned char * (BIN), uint64_t (U64) */
	size_t size;		/* STR: buffer size; BIN: max length */
	size_t lenoff;		/* BIN: its size_t length */
	bool required;
};

#define STRF(name, req) { #name, VALUE_STR, offsetof(struct pending_item, name), \
	sizeof(((struct pending_item *)0)->name), 0, req }
#define U64F(name, req) { #name, VALUE_U64, offsetof(struct pending_item, name), 0, 0, req }
static const struct value_field value_fields[] = {
	STRF(id, true),
	{ "code", VALUE_BIN, offsetof(struct pending_item, code), PENDING_CODE_MAX,
	    offsetof(struct pending_item, code_len), true },
	STRF(session, false),
	STRF(tenant, false),
	STRF(level, false),
	STRF(lang, false),
	STRF(tool, false),
	U64F(deadline_ms, true),
	U64F(time_ms, true),
	{ "state", VALUE_U64, 0, 0, 0, true },	/* an enum: handled apart */
	{ "risk", VALUE_BIN, offsetof(struct pending_item, risk), PENDING_RISK_MAX,
	    offsetof(struct pending_item, risk_len), false },
	STRF(verdict, false),
	STRF(actor, false),
	STRF(reason, false),
	U64F(decided_ms, false),
	U64F(ack_ms, false),
	STRF(ack_status, false),
	STRF(ack_message, false),
};
#undef STRF
#undef U64F
#define VALUE_FIELDS (sizeof(value_fields) / sizeof(value_fields[0]))

/* Stores one value read from `r` into `it` per `vf`. */
static enum err
decode_value(struct mpread *r, const struct value_field *vf, struct pending_item *it, char *why,
    size_t whysz)
{
	struct mpread_item v;
	unsigned char *base = (unsigned char *)it;
	enum err e;

	if ((e = mpread_next(r, &v)) != ERR_OK) {
		snprintf(why, whysz, "value of \"%s\" is truncated or malformed", vf->key);
		return e;
	}
	switch (vf->kind) {
	case VALUE_U64:
		if (v.kind != MPREAD_UINT) {
			snprintf(why, whysz, "\"%s\" is not an unsigned integer", vf->key);
			return ERR_TYPE;
		}
		if (strcmp(vf->key, "state") == 0) {
			if (v.u > PENDING_EXPIRED) {
				snprintf(why, whysz, "unknown state %llu", (unsigned long long)v.u);
				return ERR_INVAL;
			}
			it->state = (enum pending_state)v.u;
		} else {
			memcpy(base + vf->off, &v.u, sizeof(uint64_t));
		}
		return ERR_OK;
	case VALUE_STR:
		if (v.kind != MPREAD_STR || v.len >= vf->size || memchr(v.ptr, '\0', v.len) != NULL) {
			snprintf(why, whysz, "\"%s\" is not a string of at most %zu bytes", vf->key,
			    vf->size - 1);
			return ERR_TYPE;
		}
		memcpy(base + vf->off, v.ptr, v.len);
		base[vf->off + v.len] = '\0';
		return ERR_OK;
	case VALUE_BIN: {
		unsigned char *copy;
		if (v.kind != MPREAD_BIN || v.len > vf->size) {
			snprintf(why, whysz, "\"%s\" is not bytes of at most %zu", vf->key, vf->size);
			return ERR_TYPE;
		}
		if ((copy = malloc(v.len + 1)) == NULL) {
			snprintf(why, whysz, "out of memory");
			return ERR_NOMEM;
		}
		memcpy(copy, v.ptr, v.len);
		copy[v.len] = '\0';
		memcpy(base + vf->off, &copy, sizeof(copy));
		memcpy(base + vf->lenoff, &(size_t){ v.len }, sizeof(size_t));
		return ERR_OK;
	}
	}
	return ERR_INTERNAL;
}

enum err
pending_item_decode(const void *buf, size_t len, struct pending_item **out, char *why,
    size_t whysz)
{
	const unsigned char *p = buf;
	struct pending_item *it;
	struct mpread r;
	struct mpread_item head, key;
	uint32_t seen = 0;
	enum err e = ERR_OK;

	*out = NULL;
	if (len < 1 || p[0] != PENDING_VALUE_VERSION) {
		snprintf(why, whysz, "unknown value version %d", len < 1 ? -1 : p[0]);
		return ERR_DB;
	}
	if ((it = calloc(1, sizeof(*it))) == NULL) {
		snprintf(why, whysz, "out of memory");
		return ERR_NOMEM;
	}
	mpread_init(&r, p + 1, len - 1);
	if (mpread_next(&r, &head) != ERR_OK || head.kind != MPREAD_MAP) {
		snprintf(why, whysz, "value is not a msgpack map");
		goto corrupt;
	}
	for (uint32_t i = 0; i < head.len; i++) {
		size_t k;
		if (mpread_next(&r, &key) != ERR_OK || key.kind != MPREAD_STR) {
			snprintf(why, whysz, "map key %u is not a string", i);
			goto corrupt;
		}
		for (k = 0; k < VALUE_FIELDS; k++)
			if (strlen(value_fields[k].key) == key.len &&
			    memcmp(value_fields[k].key, key.ptr, key.len) == 0)
				break;
		if (k == VALUE_FIELDS || (seen & (1u << k))) {
			snprintf(why, whysz, "%s key in value", k == VALUE_FIELDS ? "unknown" : "repeated");
			goto corrupt;
		}
		seen |= 1u << k;
		if ((e = decode_value(&r, &value_fields[k], it, why, whysz)) != ERR_OK)
			goto corrupt;
	}
	if (r.left != 0) {
		snprintf(why, whysz, "%zu bytes after the value", r.left);
		goto corrupt;
	}
	for (size_t k = 0; k < VALUE_FIELDS; k++) {
		if (value_fields[k].required && !(seen & (1u << k))) {
			snprintf(why, whysz, "required \"%s\" missing", value_fields[k].key);
			goto corrupt;
		}
	}
	if (!pending_is_valid_id(it->id)) {
		snprintf(why, whysz, "stored id is not a valid id");
		goto corrupt;
	}
	*out = it;
	return ERR_OK;
corrupt:
	pending_item_free(&it);
	return e == ERR_NOMEM ? ERR_NOMEM : ERR_DB;
}

/* --- the database --------------------------------------------------------- */

static size_t
make_key(char *out, size_t outsz, bool history, const char *id)
{
	int n = snprintf(out, outsz, "%s%s", history ? "h/" : "p/", id);
	return n < 0 || (size_t)n >= outsz ? 0 : (size_t)n;
}

struct pending *
pending_open(const char *path, char *why, size_t whysz)
{
	struct pending *p = calloc(1, sizeof(*p));
	char *err = NULL;

	if (p == NULL) {
		snprintf(why, whysz, "out of memory");
		return NULL;
	}
	p->opts = rdb_options();
	p->wsync = rocksdb_writeoptions_create();
	p->ro = rocksdb_readoptions_create();
	if (p->opts == NULL || p->wsync == NULL || p->ro == NULL) {
		snprintf(why, whysz, "out of memory");
		goto fail;
	}
	rocksdb_options_set_create_if_missing(p->opts, 1);
	rocksdb_options_set_paranoid_checks(p->opts, 1);
	rocksdb_options_set_keep_log_file_num(p->opts, 3);
	rocksdb_writeoptions_set_sync(p->wsync, 1);
	rocksdb_readoptions_set_verify_checksums(p->ro, 1);
	p->db = rocksdb_open(p->opts, path, &err);
	if (p->db == NULL) {
		snprintf(why, whysz, "cannot open %s: %s", path, err != NULL ? err : "unknown error");
		rocksdb_free(err);
		goto fail;
	}
	return p;
fail:
	pending_close(&p);
	return NULL;
}

void
pending_close(struct pending **pp)
{
	struct pending *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	if (p->db != NULL)
		rocksdb_close(p->db);
	if (p->ro != NULL)
		rocksdb_readoptions_destroy(p->ro);
	if (p->wsync != NULL)
		rocksdb_writeoptions_destroy(p->wsync);
	if (p->opts != NULL)
		rocksdb_options_destroy(p->opts);
	free(p);
	*pp = NULL;
}

/* Reads one key: ERR_OK with a fresh item, ERR_NOTFOUND, ERR_DB. */
static enum err
load(struct pending *p, bool history, const char *id, struct pending_item **out, char *why,
    size_t whysz)
{
	char key[PENDING_KEY_MAX], *err = NULL, *val;
	size_t klen = make_key(key, sizeof(key), history, id), vlen = 0;
	enum err e;

	*out = NULL;
	if (klen == 0) {
		snprintf(why, whysz, "id too long");
		return ERR_INVAL;
	}
	val = rocksdb_get(p->db, p->ro, key, klen, &vlen, &err);
	if (err != NULL) {
		snprintf(why, whysz, "read failed: %s", err);
		rocksdb_free(err);
		return ERR_DB;
	}
	if (val == NULL) {
		snprintf(why, whysz, "no item %s", id);
		return ERR_NOTFOUND;
	}
	e = pending_item_decode(val, vlen, out, why, whysz);
	rocksdb_free(val);
	if (e == ERR_OK && strcmp((*out)->id, id) != 0) {
		snprintf(why, whysz, "stored item under %s carries another id", id);
		pending_item_free(out);
		e = ERR_DB;
	}
	return e;
}

/* Writes `it` under its id (history or pending), deleting the pending key in
 * the same synced batch when it moves to the history. */
static enum err
store(struct pending *p, const struct pending_item *it, bool history, char *why, size_t whysz)
{
	char key[PENDING_KEY_MAX], pkey[PENDING_KEY_MAX], *err = NULL;
	size_t klen = make_key(key, sizeof(key), history, it->id), vlen;
	size_t plen = make_key(pkey, sizeof(pkey), false, it->id);
	rocksdb_writebatch_t *wb;
	unsigned char *val;
	enum err e;

	if (klen == 0 || plen == 0) {
		snprintf(why, whysz, "id too long");
		return ERR_INVAL;
	}
	if ((e = pending_item_encode(it, &val, &vlen)) != ERR_OK) {
		snprintf(why, whysz, "cannot encode: %s", err_str(e));
		return e;
	}
	if ((wb = rocksdb_writebatch_create()) == NULL) {
		free(val);
		snprintf(why, whysz, "out of memory");
		return ERR_NOMEM;
	}
	rocksdb_writebatch_put(wb, key, klen, (const char *)val, vlen);
	if (history)
		rocksdb_writebatch_delete(wb, pkey, plen);
	rocksdb_write(p->db, p->wsync, wb, &err);
	rocksdb_writebatch_destroy(wb);
	free(val);
	if (err != NULL) {
		snprintf(why, whysz, "write failed: %s", err);
		rocksdb_free(err);
		return ERR_DB;
	}
	return ERR_OK;
}

enum err
pending_put(struct pending *p, const struct pending_item *it, bool *duplicate, char *why,
    size_t whysz)
{
	struct pending_item *old = NULL;
	struct pending_item copy;
	enum err e;

	*duplicate = false;
	if (!pending_is_valid_id(it->id)) {
		snprintf(why, whysz, "invalid id");
		return ERR_INVAL;
	}
	e = pending_get(p, it->id, &old, why, whysz);
	if (e == ERR_OK) {
		pending_item_free(&old);
		*duplicate = true;
		return ERR_OK;
	}
	if (e != ERR_NOTFOUND)
		return e;
	copy = *it;
	copy.state = PENDING_WAITING;
	return store(p, &copy, false, why, whysz);
}

enum err
pending_get(struct pending *p, const char *id, struct pending_item **out, char *why,
    size_t whysz)
{
	enum err e;

	*out = NULL;
	if (!pending_is_valid_id(id)) {
		snprintf(why, whysz, "invalid id");
		return ERR_NOTFOUND;
	}
	if ((e = load(p, false, id, out, why, whysz)) != ERR_NOTFOUND)
		return e;
	return load(p, true, id, out, why, whysz);
}

enum err
pending_decide(struct pending *p, const char *id, const char *verdict, const char *actor,
    const char *reason, uint64_t now_ms, char *why, size_t whysz)
{
	struct pending_item *it = NULL;
	enum err e;

	if (strcmp(verdict, "approve") != 0 && strcmp(verdict, "deny") != 0) {
		snprintf(why, whysz, "verdict must be \"approve\" or \"deny\"");
		return ERR_INVAL;
	}
	if (actor == NULL || actor[0] == '\0' || strlen(actor) >= sizeof(it->actor)) {
		snprintf(why, whysz, "actor must be 1..%zu bytes", sizeof(it->actor) - 1);
		return ERR_INVAL;
	}
	if (reason == NULL || reason[strspn(reason, " \t\r\n")] == '\0' ||
	    strlen(reason) >= sizeof(it->reason)) {
		snprintf(why, whysz, "a reason is required (1..%zu bytes)", sizeof(it->reason) - 1);
		return ERR_INVAL;
	}
	if ((e = pending_get(p, id, &it, why, whysz)) != ERR_OK)
		return e;
	if (it->state != PENDING_WAITING) {
		if (it->state == PENDING_EXPIRED)
			snprintf(why, whysz, "%s expired undecided: the broker has denied it (fail closed)", id);
		else
			snprintf(why, whysz, "%s was already decided: %s by %s", id, it->verdict, it->actor);
		e = it->state == PENDING_EXPIRED ? ERR_TIMEOUT : ERR_DUPLICATE;
		goto out;
	}
	if (pending_is_expired(it, now_ms)) {
		snprintf(why, whysz, "%s expired %llu s ago: the broker has denied it (fail closed)", id,
		    (unsigned long long)((now_ms - it->deadline_ms) / 1000));
		e = ERR_TIMEOUT;
		goto out;
	}
	it->state = PENDING_DECIDED;
	snprintf(it->verdict, sizeof(it->verdict), "%s", verdict);
	snprintf(it->actor, sizeof(it->actor), "%s", actor);
	snprintf(it->reason, sizeof(it->reason), "%s", reason);
	it->decided_ms = now_ms;
	e = store(p, it, false, why, whysz);
out:
	pending_item_free(&it);
	return e;
}

enum err
pending_acked(struct pending *p, const char *id, const char *status, const char *message,
    uint64_t now_ms, char *why, size_t whysz)
{
	struct pending_item *it = NULL;
	enum err e;

	if (!pending_is_valid_id(id)) {
		snprintf(why, whysz, "invalid id");
		return ERR_NOTFOUND;
	}
	if ((e = load(p, false, id, &it, why, whysz)) != ERR_OK)
		return e;
	if (it->state != PENDING_DECIDED) {
		snprintf(why, whysz, "%s has no decision to acknowledge", id);
		pending_item_free(&it);
		return ERR_NOTFOUND;
	}
	it->state = PENDING_DONE;
	it->ack_ms = now_ms;
	snprintf(it->ack_status, sizeof(it->ack_status), "%s", status != NULL ? status : "");
	snprintf(it->ack_message, sizeof(it->ack_message), "%s", message != NULL ? message : "");
	e = store(p, it, true, why, whysz);
	pending_item_free(&it);
	return e;
}

/* pending_foreach callback state for pending_expire. */
struct expire_walk {
	uint64_t now_ms, keep_ms;
	char ids[256][65];
	size_t n;
};

static bool
collect_expired(const struct pending_item *it, void *arg)
{
	struct expire_walk *w = arg;

	if (it->state == PENDING_WAITING && w->now_ms >= it->deadline_ms &&
	    w->now_ms - it->deadline_ms > w->keep_ms)
		snprintf(w->ids[w->n++], sizeof(w->ids[0]), "%s", it->id);
	return w->n < sizeof(w->ids) / sizeof(w->ids[0]);
}

enum err
pending_expire(struct pending *p, uint64_t now_ms, uint64_t keep_ms, size_t *moved, char *why,
    size_t whysz)
{
	struct expire_walk *w = calloc(1, sizeof(*w));
	enum err e;

	*moved = 0;
	if (whysz > 0)
		why[0] = '\0';
	if (w == NULL) {
		snprintf(why, whysz, "out of memory");
		return ERR_NOMEM;
	}
	w->now_ms = now_ms;
	w->keep_ms = keep_ms;
	e = pending_foreach(p, false, collect_expired, w, NULL);
	for (size_t i = 0; e == ERR_OK && i < w->n; i++) {
		struct pending_item *it = NULL;
		if ((e = load(p, false, w->ids[i], &it, why, whysz)) != ERR_OK)
			break;
		it->state = PENDING_EXPIRED;
		it->ack_ms = now_ms;
		snprintf(it->ack_status, sizeof(it->ack_status), "denied");
		snprintf(it->ack_message, sizeof(it->ack_message),
		    "expired undecided (the broker fails closed at the deadline)");
		e = store(p, it, true, why, whysz);
		pending_item_free(&it);
		if (e == ERR_OK)
			(*moved)++;
	}
	if (e == ERR_DB && why[0] == '\0')
		snprintf(why, whysz, "iteration failed");
	free(w);
	return e;
}

enum err
pending_foreach(struct pending *p, bool history, pending_each_fn fn, void *arg, size_t *corrupt)
{
	const char *prefix = history ? "h/" : "p/";
	rocksdb_iterator_t *iter = rocksdb_create_iterator(p->db, p->ro);
	char *err = NULL;
	char why[256];
	enum err e = ERR_OK;

	if (corrupt != NULL)
		*corrupt = 0;
	if (iter == NULL)
		return ERR_NOMEM;
	for (rocksdb_iter_seek(iter, prefix, 2); rocksdb_iter_valid(iter); rocksdb_iter_next(iter)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(iter, &klen);
		const char *v = rocksdb_iter_value(iter, &vlen);
		struct pending_item *it = NULL;
		bool more;

		if (klen < 2 || memcmp(k, prefix, 2) != 0)
			break;
		if (pending_item_decode(v, vlen, &it, why, sizeof(why)) != ERR_OK ||
		    strlen(it->id) != klen - 2 || memcmp(it->id, k + 2, klen - 2) != 0) {
			pending_item_free(&it);
			if (corrupt != NULL)
				(*corrupt)++;
			continue;
		}
		more = fn(it, arg);
		pending_item_free(&it);
		if (!more)
			break;
	}
	rocksdb_iter_get_error(iter, &err);
	if (err != NULL) {
		rocksdb_free(err);
		e = ERR_DB;
	}
	rocksdb_iter_destroy(iter);
	return e;
}
