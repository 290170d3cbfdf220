/*
 * jobstore — durable jobs, results and idempotency keys (see jobstore.h).
 * Runs in sluice-broker, the only writer.  Values read back are decoded with
 * the same strict codec as network input: a corrupt record is reported and
 * skipped, never trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/jobstore.h"
#include "common/log.h"
#include "common/rdb.h"
#include "common/util.h"

#define JOBSTORE_BATCH_MAX 200000	/* staged operations before commit is forced */
/* Expiry stops here: the round keeps room for the jobs' own records (a
 * result that cannot be staged fails its round). */
#define JOBSTORE_EXPIRE_MAX (JOBSTORE_BATCH_MAX / 2)

struct jobstore {
	rocksdb_t *db;
	rocksdb_column_family_handle_t *cf;	/* where every record is */
	struct audit_store *audit;	/* the DB's owner when attached, else NULL */
	rocksdb_options_t *opts;	/* standalone only */
	rocksdb_writeoptions_t *wsync;
	rocksdb_readoptions_t *ropts;
	rocksdb_writebatch_t *batch;	/* staging: the loop's thread only */
	rocksdb_writebatch_t *sealed;	/* handed to jobstore_write_sealed */
	bool write_failed;		/* standalone: RocksDB refused a write (rdb_write) */
	bool *failed;			/* &write_failed, or the audit store's flag */
	size_t staged;
	size_t nsealed;			/* operations in `sealed`, 0: none */
};

/*
 * Memtable: a hash of small skip lists keyed by the first JOBSTORE_PREFIX
 * bytes ("j/" + 32-hex id: one bucket per record).  Jobs are written once,
 * updated once and deleted within seconds, at random ids: in one big skip
 * list every insert is a ~20-level search of a 64 MB memtable, the job
 * store's main cost under load (docs/BENCHMARKS.md, broker capacity).  Point
 * reads stay cheap; the rare full scans (recovery, expiry) read in total
 * order (`total_order_seek`).
 */
#define JOBSTORE_PREFIX 34
#define JOBSTORE_BUCKETS 262144

static char *
prefix_of(void *arg, const char *key, size_t len, size_t *plen)
{
	(void)arg;
	*plen = len < JOBSTORE_PREFIX ? len : JOBSTORE_PREFIX;
	return (char *)key;
}

static unsigned char
prefix_any(void *arg, const char *key, size_t len)
{
	(void)arg; (void)key; (void)len;
	return 1;
}

static unsigned char
prefix_none(void *arg, const char *key, size_t len)
{
	(void)arg; (void)key; (void)len;
	return 0;
}

static const char *
prefix_name(void *arg)
{
	(void)arg;
	return "sluice.jobstore.capped34";
}

static void
prefix_free(void *arg)
{
	(void)arg;
}

/* See jobstore.h. */
rocksdb_options_t *
jobstore_cf_options(void)
{
	rocksdb_options_t *o = rdb_options();

	rocksdb_options_set_create_if_missing(o, 1);
	rocksdb_options_set_max_open_files(o, 256);
	rocksdb_options_set_prefix_extractor(o, rocksdb_slicetransform_create(NULL,
	    prefix_free, prefix_of, prefix_any, prefix_none, prefix_name));
	rocksdb_options_set_hash_skip_list_rep(o, JOBSTORE_BUCKETS, 4, 4);
	rocksdb_options_set_allow_concurrent_memtable_write(o, 0);
	return o;
}

static struct jobstore *
jobstore_alloc(enum err *err, char *why, size_t whysz)
{
	struct jobstore *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		*err = ERR_NOMEM;
		snprintf(why, whysz, "out of memory");
		return NULL;
	}
	s->wsync = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(s->wsync, 1);
	s->ropts = rocksdb_readoptions_create();
	rocksdb_readoptions_set_total_order_seek(s->ropts, 1);
	s->batch = rocksdb_writebatch_create();
	s->sealed = rocksdb_writebatch_create();
	s->failed = &s->write_failed;
	return s;
}

/* See jobstore.h: the legacy layout, DIR/jobs with the default family. */
struct jobstore *
jobstore_open(const char *dir, enum err *err, char *why, size_t whysz)
{
	struct jobstore *s = jobstore_alloc(err, why, whysz);
	char path[4096], *dberr = NULL;
	const char *names[1] = { "default" };
	const rocksdb_options_t *cfo[1];

	if (s == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%s/jobs", dir);
	s->opts = jobstore_cf_options();
	cfo[0] = s->opts;
	s->db = rocksdb_open_column_families(s->opts, path, 1, names, cfo, &s->cf, &dberr);
	if (s->db == NULL) {
		*err = ERR_DB;
		snprintf(why, whysz, "cannot open %s: %s", path, dberr ? dberr : "?");
		free(dberr);
		s->cf = NULL;
		jobstore_close(&s);
		return NULL;
	}
	return s;
}

/* Copies every record of the legacy DIR/jobs into the shared family (one
 * synced batch per JOBSTORE_MIGRATE_BATCH records or JOBSTORE_MIGRATE_BYTES),
 * then renames DIR/jobs to DIR/jobs.migrated-<unix time> and syncs DIR.
 * Re-running after a crash copies again (same keys, same values) from the
 * untouched old DB: nothing else has written the new family by then. */
#define JOBSTORE_MIGRATE_BATCH 10000
#define JOBSTORE_MIGRATE_BYTES (64u << 20)	/* records carry code and outputs */
static enum err
jobstore_migrate(struct jobstore *s, const char *dir, char *why, size_t whysz)
{
	struct jobstore *old;
	rocksdb_iterator_t *it;
	rocksdb_writebatch_t *wb;
	char from[4096], to[4096], *dberr = NULL, werr[512];
	size_t n = 0, inbatch = 0, bytes = 0;
	enum err e = ERR_OK;

	snprintf(from, sizeof(from), "%s/jobs", dir);
	if (access(from, F_OK) != 0)
		return ERR_OK;
	if ((old = jobstore_open(dir, &e, why, whysz)) == NULL)
		return e;
	wb = rocksdb_writebatch_create();
	it = rocksdb_create_iterator_cf(old->db, old->ropts, old->cf);
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen), *v = rocksdb_iter_value(it, &vlen);
		rocksdb_writebatch_put_cf(wb, s->cf, k, klen, v, vlen);
		n++;
		bytes += klen + vlen;
		if (++inbatch == JOBSTORE_MIGRATE_BATCH || bytes >= JOBSTORE_MIGRATE_BYTES) {
			e = rdb_write(s->db, s->wsync, wb, s->failed, werr, sizeof(werr));
			rocksdb_writebatch_clear(wb);
			inbatch = bytes = 0;
			if (e != ERR_OK)
				break;
		}
	}
	if (e == ERR_OK) {
		rocksdb_iter_get_error(it, &dberr);
		if (dberr != NULL) {
			snprintf(werr, sizeof(werr), "reading it: %s", dberr);
			free(dberr);
			e = ERR_DB;
		}
	}
	if (e == ERR_OK && inbatch > 0)
		e = rdb_write(s->db, s->wsync, wb, s->failed, werr, sizeof(werr));
	rocksdb_iter_destroy(it);
	rocksdb_writebatch_destroy(wb);
	jobstore_close(&old);
	if (e != ERR_OK) {
		snprintf(why, whysz, "moving %s into the audit DB failed: %s", from, werr);
		return ERR_DB;
	}
	snprintf(to, sizeof(to), "%s/jobs.migrated-%lld", dir, (long long)time(NULL));
	if (rename(from, to) != 0) {
		snprintf(why, whysz, "moved the job store into the audit DB, but cannot rename "
		    "%s to %s: %s", from, to, strerror(errno));
		return ERR_IO;
	}
	/* The rename must be durable before the broker changes anything: a
	 * lost rename would copy the old records over newer state at the next
	 * start. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1 || fsync(dfd) != 0) {
		snprintf(why, whysz, "moved the job store into the audit DB, but cannot sync %s: %s",
		    dir, strerror(errno));
		if (dfd != -1)
			close(dfd);
		return ERR_IO;
	}
	close(dfd);
	log_info("job store: moved %zu records from %s into the audit DB (one log, one sync "
	    "per round); the old copy is %s", n, from, to);
	return ERR_OK;
}

/* See jobstore.h. */
struct jobstore *
jobstore_attach(struct audit_store *audit, const char *dir, enum err *err, char *why,
    size_t whysz)
{
	struct jobstore *s;

	if (audit_store_extra_cf(audit) == NULL) {
		*err = ERR_INVAL;
		snprintf(why, whysz, "the audit store was opened without the job store's family");
		return NULL;
	}
	if ((s = jobstore_alloc(err, why, whysz)) == NULL)
		return NULL;
	s->db = audit_store_rocksdb(audit);
	s->cf = audit_store_extra_cf(audit);
	s->audit = audit;
	s->failed = audit_store_failed_flag(audit);
	if ((*err = jobstore_migrate(s, dir, why, whysz)) != ERR_OK) {
		jobstore_close(&s);
		return NULL;
	}
	return s;
}

void
jobstore_close(struct jobstore **sp)
{
	struct jobstore *s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	rocksdb_writebatch_destroy(s->batch);
	rocksdb_writebatch_destroy(s->sealed);
	rocksdb_readoptions_destroy(s->ropts);
	rocksdb_writeoptions_destroy(s->wsync);
	if (s->audit == NULL) {		/* standalone: the DB is ours */
		if (s->cf != NULL)
			rocksdb_column_family_handle_destroy(s->cf);
		rdb_close(s->db, s->write_failed, "job store");
		rocksdb_options_destroy(s->opts);
	}
	free(s);
	*sp = NULL;
}

bool
jobstore_shares_log(const struct jobstore *s)
{
	return s->audit != NULL;
}

size_t
jobstore_sealed_count(const struct jobstore *s)
{
	return s->nsealed;
}

rocksdb_writebatch_t *
jobstore_sealed_batch(struct jobstore *s)
{
	return s->sealed;
}

/* Builds "p/" + id into buf; returns its length. */
static size_t
key_of(char *buf, size_t bufsz, char prefix, const char *id)
{
	size_t n = strlen(id);		/* bufsz >= 3: our own buffers */

	if (2 + n > bufsz - 1)
		n = bufsz - 3;		/* truncated, as snprintf would */
	buf[0] = prefix;
	buf[1] = '/';
	memcpy(buf + 2, id, n);
	buf[2 + n] = '\0';
	return 2 + n;
}

static enum err
stage_msg(struct jobstore *s, const char *key, size_t klen, const unsigned char *prefix,
    size_t plen, const struct msg *m)
{
	unsigned char hdr[MSG_HEADER_LEN], *body, *val;
	size_t blen;
	enum err e;

	if (s->staged >= JOBSTORE_BATCH_MAX)
		return ERR_BUSY;
	if ((e = msg_encode(m, hdr, &body, &blen)) != ERR_OK)
		return e;
	if ((val = malloc(plen + sizeof(hdr) + blen)) == NULL) {
		free(body);
		return ERR_NOMEM;
	}
	memcpy(val, prefix, plen);
	memcpy(val + plen, hdr, sizeof(hdr));
	memcpy(val + plen + sizeof(hdr), body, blen);
	rocksdb_writebatch_put_cf(s->batch, s->cf, key, klen, (const char *)val, plen + sizeof(hdr) + blen);
	s->staged++;
	free(val);
	free(body);
	return ERR_OK;
}

static void
put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t
get_be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

enum err
jobstore_put_job(struct jobstore *s, const char *id, enum jobstore_state st, int64_t accepted_ms,
    const struct msg *job)
{
	unsigned char prefix[9];
	char key[80];
	size_t klen = key_of(key, sizeof(key), 'j', id);

	prefix[0] = (unsigned char)st;
	put_be64(prefix + 1, (uint64_t)accepted_ms);
	return stage_msg(s, key, klen, prefix, sizeof(prefix), job);
}

enum err
jobstore_put_state(struct jobstore *s, const char *id, enum jobstore_state st)
{
	char key[80], v = (char)st;
	size_t klen = key_of(key, sizeof(key), 's', id);

	if (s->staged >= JOBSTORE_BATCH_MAX)
		return ERR_BUSY;
	rocksdb_writebatch_put_cf(s->batch, s->cf, key, klen, &v, 1);
	s->staged++;
	return ERR_OK;
}

enum err
jobstore_put_key(struct jobstore *s, const char *tenant, const char *key, const char *id)
{
	char k[256];
	int n = snprintf(k, sizeof(k), "k/%s%c%s", tenant, '\0', key);

	if (n < 0 || (size_t)n >= sizeof(k))
		return ERR_TOOBIG;
	rocksdb_writebatch_put_cf(s->batch, s->cf, k, (size_t)n, id, strlen(id));
	s->staged++;
	return ERR_OK;
}

enum err
jobstore_put_result(struct jobstore *s, const char *id, const struct msg *result, bool drop_state)
{
	unsigned char prefix[8];
	char key[80];
	size_t klen;
	enum err e;

	put_be64(prefix, (uint64_t)(util_wall_ns() / 1000000));
	klen = key_of(key, sizeof(key), 'r', id);
	if ((e = stage_msg(s, key, klen, prefix, sizeof(prefix), result)) != ERR_OK)
		return e;
	klen = key_of(key, sizeof(key), 'j', id);
	rocksdb_writebatch_delete_cf(s->batch, s->cf, key, klen);
	s->staged++;
	if (drop_state) {
		klen = key_of(key, sizeof(key), 's', id);
		rocksdb_writebatch_delete_cf(s->batch, s->cf, key, klen);
		s->staged++;
	}
	return ERR_OK;
}

enum err
jobstore_delete_result(struct jobstore *s, const char *id)
{
	char key[80];
	size_t klen = key_of(key, sizeof(key), 'r', id);

	rocksdb_writebatch_delete_cf(s->batch, s->cf, key, klen);
	s->staged++;
	return ERR_OK;
}

size_t
jobstore_pending(const struct jobstore *s)
{
	return s->staged;
}

enum err
jobstore_seal(struct jobstore *s)
{
	rocksdb_writebatch_t *t;

	if (s->nsealed > 0)
		return ERR_BUSY;
	t = s->sealed;
	s->sealed = s->batch;
	s->batch = t;
	s->nsealed = s->staged;
	s->staged = 0;
	return ERR_OK;
}

enum err
jobstore_write_sealed(struct jobstore *s, char *why, size_t whysz)
{
	char werr[512];
	enum err e;

	if (s->nsealed == 0)
		return ERR_OK;
	e = rdb_write(s->db, s->wsync, s->sealed, s->failed, werr, sizeof(werr));
	jobstore_drop_sealed(s);
	if (e != ERR_OK)
		snprintf(why, whysz, "job store write failed: %s", werr);
	return e;
}

void
jobstore_drop_sealed(struct jobstore *s)
{
	rocksdb_writebatch_clear(s->sealed);
	s->nsealed = 0;
}

enum err
jobstore_commit(struct jobstore *s, char *why, size_t whysz)
{
	enum err e;

	if (s->staged == 0)
		return ERR_OK;
	if ((e = jobstore_seal(s)) != ERR_OK) {
		snprintf(why, whysz, "job store: a sealed batch is still being written");
		return e;
	}
	return jobstore_write_sealed(s, why, whysz);
}

void
jobstore_discard(struct jobstore *s)
{
	rocksdb_writebatch_clear(s->batch);
	s->staged = 0;
}

enum err
jobstore_get_key(struct jobstore *s, const char *tenant, const char *key, char *id, size_t idsz)
{
	char k[256], *val, *dberr = NULL;
	size_t vlen;
	int n = snprintf(k, sizeof(k), "k/%s%c%s", tenant, '\0', key);

	if (n < 0 || (size_t)n >= sizeof(k))
		return ERR_TOOBIG;
	val = rocksdb_get_cf(s->db, s->ropts, s->cf, k, (size_t)n, &vlen, &dberr);
	if (dberr != NULL) {
		free(dberr);
		return ERR_DB;
	}
	if (val == NULL)
		return ERR_NOTFOUND;
	snprintf(id, idsz, "%.*s", (int)vlen, val);
	rocksdb_free(val);
	return ERR_OK;
}

/* Decodes a stored message after `skip` prefix bytes. */
static enum err
decode_stored(const char *val, size_t vlen, size_t skip, struct msg **out)
{
	char why[128];

	if (vlen < skip + MSG_HEADER_LEN)
		return ERR_TRUNCATED;
	return msg_decode(val + skip, MSG_HEADER_LEN, val + skip + MSG_HEADER_LEN,
	    vlen - skip - MSG_HEADER_LEN, out, why, sizeof(why));
}

enum err
jobstore_get_result(struct jobstore *s, const char *id, struct msg **out, int64_t *finished_ms)
{
	char key[80], *val, *dberr = NULL;
	size_t vlen, klen = key_of(key, sizeof(key), 'r', id);
	enum err e;

	*out = NULL;
	val = rocksdb_get_cf(s->db, s->ropts, s->cf, key, klen, &vlen, &dberr);
	if (dberr != NULL) {
		free(dberr);
		return ERR_DB;
	}
	if (val == NULL)
		return ERR_NOTFOUND;
	e = decode_stored(val, vlen, 8, out);
	if (e == ERR_OK && finished_ms != NULL)
		*finished_ms = (int64_t)get_be64((const unsigned char *)val);
	rocksdb_free(val);
	return e;
}

enum err
jobstore_each_job(struct jobstore *s,
    enum err (*fn)(void *, const char *, enum jobstore_state, int64_t, const struct msg *),
    void *arg)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropts, s->cf);
	enum err e = ERR_OK;
	struct log_limit lim = { 0 };

	for (rocksdb_iter_seek(it, "j/", 2); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *v = rocksdb_iter_value(it, &vlen);
		struct msg *m = NULL;
		char id[80];

		if (klen < 2 || memcmp(k, "j/", 2) != 0)
			break;
		snprintf(id, sizeof(id), "%.*s", (int)(klen - 2), k + 2);
		if (vlen < 9 || (v[0] < JOBSTORE_QUEUED || v[0] > JOBSTORE_HELD) ||
		    decode_stored(v, vlen, 9, &m) != ERR_OK || msg_cmd(m) != MSG_JOB) {
			log_limited(&lim, 10, "job store: corrupt record for job %s skipped", id);
			msg_destroy(&m);
			continue;
		}
		/* A later state, when one was recorded, wins over the record's. */
		enum jobstore_state st = (enum jobstore_state)v[0];
		char skey[80], *sv, *dberr = NULL;
		size_t sklen = key_of(skey, sizeof(skey), 's', id), svlen;
		if ((sv = rocksdb_get_cf(s->db, s->ropts, s->cf, skey, sklen, &svlen, &dberr)) != NULL) {
			if (svlen == 1 && sv[0] >= JOBSTORE_QUEUED && sv[0] <= JOBSTORE_HELD)
				st = (enum jobstore_state)sv[0];
			rocksdb_free(sv);
		}
		free(dberr);
		e = fn(arg, id, st, (int64_t)get_be64((const unsigned char *)v + 1), m);
		msg_destroy(&m);
		if (e != ERR_OK)
			break;
	}
	rocksdb_iter_destroy(it);
	return e;
}

size_t
jobstore_expire(struct jobstore *s, int64_t before_ms)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropts, s->cf);
	size_t dropped = 0;

	for (rocksdb_iter_seek(it, "r/", 2); rocksdb_iter_valid(it) && s->staged < JOBSTORE_EXPIRE_MAX;
	    rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *v = rocksdb_iter_value(it, &vlen);

		if (klen < 2 || memcmp(k, "r/", 2) != 0)
			break;
		if (vlen >= 8 && (int64_t)get_be64((const unsigned char *)v) < before_ms) {
			rocksdb_writebatch_delete_cf(s->batch, s->cf, k, klen);
			s->staged++;
			dropped++;
		}
	}
	/* Keys whose job and result are both gone. */
	for (rocksdb_iter_seek(it, "k/", 2); rocksdb_iter_valid(it) && s->staged < JOBSTORE_EXPIRE_MAX;
	    rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		const char *v = rocksdb_iter_value(it, &vlen);
		char jk[80], rk[80], *val, *dberr = NULL, id[65];
		size_t n;

		if (klen < 2 || memcmp(k, "k/", 2) != 0)
			break;
		snprintf(id, sizeof(id), "%.*s", (int)vlen, v);
		n = key_of(rk, sizeof(rk), 'r', id);
		val = rocksdb_get_cf(s->db, s->ropts, s->cf, rk, n, &n, &dberr);
		free(dberr);
		dberr = NULL;
		if (val != NULL) {
			rocksdb_free(val);
			continue;
		}
		n = key_of(jk, sizeof(jk), 'j', id);
		val = rocksdb_get_cf(s->db, s->ropts, s->cf, jk, n, &n, &dberr);
		free(dberr);
		if (val != NULL) {
			rocksdb_free(val);
			continue;
		}
		rocksdb_writebatch_delete_cf(s->batch, s->cf, k, klen);
		s->staged++;
	}
	rocksdb_iter_destroy(it);
	return dropped;
}
