/*
 * sessions — session workspaces in the broker's RocksDB (see sessions.h).
 *
 * Runs in sluice-broker, on its one thread.  Trusts its own directory; the
 * snapshots come from workers and are checked like input files
 * (common/wspath.c) before anything is written.
 */
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "broker/sessions.h"
#include "common/log.h"
#include "common/rdb.h"
#include "common/wspath.h"

#define SESSIONS_KEY_MAX	(1 + 64 + 1 + 128 + 1 + WSPATH_MAX + 1)

struct sessions {
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_writeoptions_t *wsync;
	rocksdb_readoptions_t *ropts;
	uint64_t quota;
	uint64_t ttl_ms;
	bool write_failed;		/* RocksDB refused a write: see rdb_write */
	struct log_limit fail_log;
};

/* The key prefix of a session's files ("f" tenant \0 session \0) or of its
 * meta record ("m" tenant \0 session); returns its length. */
static size_t
sessions_prefix(char *k, char kind, const char *tenant, const char *session)
{
	size_t tl = strnlen(tenant, 64), sl = strnlen(session, 128), n = 0;

	k[n++] = kind;
	memcpy(k + n, tenant, tl);
	n += tl;
	k[n++] = '\0';
	memcpy(k + n, session, sl);
	n += sl;
	if (kind == 'f')
		k[n++] = '\0';
	return n;
}

struct sessions *
sessions_open(const char *datadir, uint64_t quota_bytes, uint64_t ttl_ms, enum err *err, char *why,
    size_t whysz)
{
	struct sessions *s;
	char path[4096], *dberr = NULL;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		*err = ERR_NOMEM;
		snprintf(why, whysz, "out of memory");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/sessions", datadir);
	s->opts = rdb_options();
	rocksdb_options_set_create_if_missing(s->opts, 1);
	rocksdb_options_set_max_open_files(s->opts, 64);
	if ((s->db = rocksdb_open(s->opts, path, &dberr)) == NULL) {
		*err = ERR_DB;
		snprintf(why, whysz, "open %.200s: %.200s", path, dberr ? dberr : "?");
		rocksdb_free(dberr);
		rocksdb_options_destroy(s->opts);
		free(s);
		return NULL;
	}
	s->wsync = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(s->wsync, 1);
	s->ropts = rocksdb_readoptions_create();
	s->quota = quota_bytes;
	s->ttl_ms = ttl_ms;
	*err = ERR_OK;
	return s;
}

void
sessions_close(struct sessions **sp)
{
	struct sessions *s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	rocksdb_readoptions_destroy(s->ropts);
	rocksdb_writeoptions_destroy(s->wsync);
	rdb_close(s->db, s->write_failed, "session store");
	rocksdb_options_destroy(s->opts);
	free(s);
	*sp = NULL;
}

static enum err
sessions_write(struct sessions *s, rocksdb_writebatch_t *wb)
{
	char why[512];
	enum err e = rdb_write(s->db, s->wsync, wb, &s->write_failed, why, sizeof(why));

	if (e != ERR_OK)
		log_limited(&s->fail_log, 10, "sessions: write: %s", why);
	return e;
}

/* Deletes every file of the session into wb, except paths listed in keep. */
static void
sessions_delete_into(struct sessions *s, rocksdb_writebatch_t *wb, const char *tenant,
    const char *session, const struct wspath_input *keep, size_t nkeep, sessions_fn *fn, void *arg)
{
	char k[SESSIONS_KEY_MAX];
	size_t kl = sessions_prefix(k, 'f', tenant, session);
	rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, s->ropts);

	for (rocksdb_iter_seek(it, k, kl); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t len, vlen;
		const char *key = rocksdb_iter_key(it, &len);
		char path[WSPATH_MAX + 1];
		bool kept = false;

		if (len < kl || memcmp(key, k, kl) != 0)
			break;
		snprintf(path, sizeof(path), "%.*s", (int)(len - kl), key + kl);
		for (size_t i = 0; i < nkeep && !kept; i++)
			kept = strcmp(keep[i].path, path) == 0;
		if (kept)
			continue;
		rocksdb_iter_value(it, &vlen);
		rocksdb_writebatch_delete(wb, key, len);
		if (fn != NULL)
			fn(arg, path, "delete", vlen ? vlen - 1 : 0, "-");
	}
	rocksdb_iter_destroy(it);
}

static void
sessions_touch(rocksdb_writebatch_t *wb, const char *tenant, const char *session, int64_t now_ms)
{
	char k[SESSIONS_KEY_MAX];
	size_t kl = sessions_prefix(k, 'm', tenant, session);
	unsigned char v[8];

	for (int i = 0; i < 8; i++)
		v[i] = (unsigned char)((uint64_t)now_ms >> (8 * i));
	rocksdb_writebatch_put(wb, k, kl, (const char *)v, sizeof(v));
}

/* Removes the session when it has not been used for ttl_ms. */
static void
sessions_expire(struct sessions *s, const char *tenant, const char *session, int64_t now_ms,
    sessions_fn *fn, void *arg)
{
	char k[SESSIONS_KEY_MAX], *dberr = NULL;
	size_t kl = sessions_prefix(k, 'm', tenant, session), vlen = 0;
	char *v = rocksdb_get(s->db, s->ropts, k, kl, &vlen, &dberr);
	uint64_t last = 0;

	rocksdb_free(dberr);
	if (v == NULL)
		return;
	for (int i = 0; i < 8 && vlen == 8; i++)
		last |= (uint64_t)(unsigned char)v[i] << (8 * i);
	rocksdb_free(v);
	if (s->ttl_ms > 0 && (uint64_t)now_ms > last + s->ttl_ms)
		sessions_remove(s, tenant, session, fn, arg);
}

static void
pack_str(msgpack_packer *pk, const char *str, size_t n)
{
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, str, n);
}

enum err
sessions_pack(struct sessions *s, const char *tenant, const char *session, int64_t now_ms,
    int data_below, char **buf, size_t *len, sessions_fn *fn, void *arg)
{
	char k[SESSIONS_KEY_MAX];
	size_t kl, n = 0;
	rocksdb_iterator_t *it;
	msgpack_sbuffer items;
	msgpack_packer pk;

	*buf = NULL;
	*len = 0;
	sessions_expire(s, tenant, session, now_ms, fn, arg);
	kl = sessions_prefix(k, 'f', tenant, session);
	msgpack_sbuffer_init(&items);
	msgpack_packer_init(&pk, &items, msgpack_sbuffer_write);
	it = rocksdb_create_iterator(s->db, s->ropts);
	for (rocksdb_iter_seek(it, k, kl); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *key = rocksdb_iter_key(it, &klen), *val = rocksdb_iter_value(it, &vlen);
		const char *cls;
		bool listed_only = data_below == 0, with_data;

		if (klen < kl || memcmp(key, k, kl) != 0)
			break;
		if (vlen < 1)
			continue;
		cls = wspath_class_name((enum wspath_class)(unsigned char)val[0]);
		with_data = !listed_only && (int)(unsigned char)val[0] < data_below;
		msgpack_pack_map(&pk, listed_only ? 3 : 4);
		pack_str(&pk, "path", 4);
		pack_str(&pk, key + kl, klen - kl);
		pack_str(&pk, "class", 5);
		pack_str(&pk, cls, strlen(cls));
		pack_str(&pk, "size", 4);
		msgpack_pack_uint64(&pk, vlen - 1);
		if (with_data) {
			pack_str(&pk, "data", 4);
			msgpack_pack_bin(&pk, vlen - 1);
			msgpack_pack_bin_body(&pk, val + 1, vlen - 1);
		} else if (!listed_only) {
			pack_str(&pk, "withheld", 8);
			msgpack_pack_true(&pk);
		}
		n++;
	}
	rocksdb_iter_destroy(it);
	if (n > 0) {
		msgpack_sbuffer out;
		msgpack_packer opk;
		msgpack_sbuffer_init(&out);
		msgpack_packer_init(&opk, &out, msgpack_sbuffer_write);
		msgpack_pack_array(&opk, n);
		msgpack_sbuffer_write(&out, items.data, items.size);
		*buf = out.data;	/* ownership moves to the caller */
		*len = out.size;
	}
	msgpack_sbuffer_destroy(&items);
	return n > 0 && *buf == NULL ? ERR_NOMEM : ERR_OK;
}

/* True when key already holds exactly val. */
static bool
sessions_same(struct sessions *s, const char *k, size_t kl, const char *val, size_t vlen)
{
	char *dberr = NULL, *old;
	size_t olen = 0;
	bool same;

	old = rocksdb_get(s->db, s->ropts, k, kl, &olen, &dberr);
	rocksdb_free(dberr);
	same = old != NULL && olen == vlen && memcmp(old, val, vlen) == 0;
	rocksdb_free(old);
	return same;
}

enum err
sessions_replace(struct sessions *s, const char *tenant, const char *session, const void *raw,
    size_t len, int64_t now_ms, sessions_fn *fn, void *arg, char *why, size_t whysz)
{
	static const struct wspath_limits lim = { 1024, UINT64_MAX, true };
	struct wspath_input *v;
	size_t n;
	uint64_t total = 0;
	rocksdb_writebatch_t *wb;
	enum err e;
	char reason[256];

	if ((e = wspath_inputs_parse(raw, len, &lim, WSPATH_INTERNAL, &v, &n, reason,
	    sizeof(reason))) != ERR_OK) {
		snprintf(why, whysz, "bad session snapshot: %.200s", reason);
		return ERR_INVAL;
	}
	for (size_t i = 0; i < n; i++)
		total += v[i].len;
	if (total > s->quota) {
		snprintf(why, whysz, "session %.64s is over its quota: %llu bytes in /work/session, "
		    "at most %llu; nothing was kept", session, (unsigned long long)total,
		    (unsigned long long)s->quota);
		free(v);
		return ERR_TOOBIG;
	}
	wb = rocksdb_writebatch_create();
	sessions_delete_into(s, wb, tenant, session, v, n, fn, arg);
	for (size_t i = 0; i < n; i++) {
		char k[SESSIONS_KEY_MAX], *val = malloc(v[i].len + 1);
		size_t kl = sessions_prefix(k, 'f', tenant, session), pl = strlen(v[i].path);
		if (val == NULL) {
			e = ERR_NOMEM;
			break;
		}
		memcpy(k + kl, v[i].path, pl);
		val[0] = (char)v[i].cls;
		memcpy(val + 1, v[i].data, v[i].len);
		if (!sessions_same(s, k, kl + pl, val, v[i].len + 1)) {	/* only changes */
			rocksdb_writebatch_put(wb, k, kl + pl, val, v[i].len + 1);
			if (fn != NULL)
				fn(arg, v[i].path, "write", v[i].len, wspath_class_name(v[i].cls));
		}
		free(val);
	}
	sessions_touch(wb, tenant, session, now_ms);
	if (e == ERR_OK)
		e = sessions_write(s, wb);
	rocksdb_writebatch_destroy(wb);
	free(v);
	if (e != ERR_OK)
		snprintf(why, whysz, "session store: %s", err_str(e));
	return e;
}

enum err
sessions_remove(struct sessions *s, const char *tenant, const char *session, sessions_fn *fn,
    void *arg)
{
	char k[SESSIONS_KEY_MAX];
	size_t kl = sessions_prefix(k, 'm', tenant, session);
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	enum err e;

	sessions_delete_into(s, wb, tenant, session, NULL, 0, fn, arg);
	rocksdb_writebatch_delete(wb, k, kl);
	e = sessions_write(s, wb);
	rocksdb_writebatch_destroy(wb);
	return e;
}
