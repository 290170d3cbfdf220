/*
 * audit_store — the hash-chained audit trail of the broker, in RocksDB.
 *
 * Runs in sluice-broker (the only writer) and, read-only as a RocksDB
 * secondary, in the CLI.  Trusts its own directory only as far as decoding
 * goes: every stored event is decoded strictly (audit_decode) and the head is
 * re-hashed on open.
 *
 * Disk layout (one RocksDB, WAL on, every commit synced):
 *
 *   column family  key                                        value
 *   -------------  -----------------------------------------  --------------------------
 *   events         seq (u64 BE, 8)                            stored canonical event
 *                                                             (audit.c: 18-element msgpack)
 *   by_job         job bytes | 0x00 | seq (u64 BE)             empty
 *   by_session     session bytes | 0x00 | seq (u64 BE)         empty
 *   by_type_time   type (u8) | time (30 ASCII) | seq (u64 BE)  empty
 *   meta           "head"                                     seq (u64 BE) | hash (32)
 *   meta           "pubkey"                                   ed25519 public key (32)
 *   meta           "checkpoint/" | seq (u64 BE)               seq (8) | hash (32) |
 *                                                             time (30) | signature (64)
 *
 *   dir/audit.key  (file, mode 0600)  ed25519 secret key, 64 raw bytes
 *                                     (libsodium layout: seed | public key)
 *
 * Empty job/session values are not indexed.  Big-endian seqs keep RocksDB's
 * bytewise order equal to seq order.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rocksdb/c.h>
#include <sodium.h>

#include "common/audit_store.h"
#include "common/err.h"
#include "common/log.h"
#include "common/rdb.h"
#include "common/util.h"

enum audit_store_cf {
	AUDIT_CF_DEFAULT, AUDIT_CF_EVENTS, AUDIT_CF_BY_JOB, AUDIT_CF_BY_SESSION,
	AUDIT_CF_BY_TYPE_TIME, AUDIT_CF_META, AUDIT_CF__COUNT
};

static const char *const audit_store_cf_names[AUDIT_CF__COUNT] = {
	"default", "events", "by_job", "by_session", "by_type_time", "meta"
};

#define AUDIT_STORE_KEYFILE "audit.key"
#define AUDIT_STORE_CP_PREFIX "checkpoint/"
#define AUDIT_STORE_CP_KEYLEN (sizeof(AUDIT_STORE_CP_PREFIX) - 1 + 8)
#define AUDIT_STORE_CP_VALLEN (8 + AUDIT_HASH_LEN + AUDIT_TIME_LEN + AUDIT_SIG_LEN)
#define AUDIT_STORE_SCAN_MAX (16u * 1024 * 1024)
#define AUDIT_STORE_PATH_MAX 4096

struct audit_store {
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_column_family_handle_t *cf[AUDIT_CF__COUNT];
	/* Column families of the DB that are not the trail's: the one the
	 * opener asked for (conf.extra_cf, the broker's job store) first, then
	 * any other found on disk (a writer must open them all). */
	rocksdb_column_family_handle_t **other_cf;
	rocksdb_options_t *extra_opts;		/* conf.extra_cf's, owned */
	int n_other;
	rocksdb_writeoptions_t *wopts;
	rocksdb_readoptions_t *ropts;
	rocksdb_writebatch_t *batch;
	bool reader;
	char secondary[AUDIT_STORE_PATH_MAX];	/* reader's private dir, or "" */

	struct audit_store_options conf;
	uint8_t pk[AUDIT_PK_LEN];
	uint8_t *sk;				/* sodium_malloc'd, or NULL */

	uint64_t head_seq;			/* committed (or seen) head */
	uint8_t head_hash[AUDIT_HASH_LEN];
	uint64_t staged_seq;			/* head including staged events */
	uint8_t staged_hash[AUDIT_HASH_LEN];
	size_t staged;

	uint64_t cp_seq;			/* last checkpoint (committed) */
	time_t cp_time;
	uint64_t staged_cp_seq;
	bool fail_next;
	bool write_failed;		/* RocksDB refused a write (e.g. disk full) */
	struct log_limit refused_log;	/* failed commits said at most every 10 s */
	uint8_t *encbuf;			/* AUDIT_CANON_MAX scratch */

	/* sealed batch (audit_store_seal), written by audit_store_write_sealed */
	rocksdb_writebatch_t *sealed;
	size_t nsealed;				/* events in it, 0: none */
	uint64_t sealed_seq, sealed_cp_seq;
	uint8_t sealed_hash[AUDIT_HASH_LEN];
	bool sealed_fail;			/* injected fault for this batch */			/* AUDIT_CANON_MAX scratch */
};

static void
audit_store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t
audit_store_get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int
audit_store_fail(char *why, size_t whysz, int rc, const char *what, const char *detail)
{
	if (why != NULL && whysz > 0)
		snprintf(why, whysz, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
	return rc;
}

/* Loads or (writer, first open) creates the key pair in dir/audit.key. */
static int
audit_store_load_key(struct audit_store *s, const char *dir, bool create,
    char *why, size_t whysz)
{
	char path[AUDIT_STORE_PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd, rc = ERR_OK;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, AUDIT_STORE_KEYFILE) >= sizeof(path))
		return audit_store_fail(why, whysz, ERR_TOOBIG, "path too long", NULL);
	if ((s->sk = sodium_malloc(AUDIT_SK_LEN)) == NULL)
		return ERR_NOMEM;
	fd = util_open_regular(path);
	if (fd < 0 && errno == ENOENT && create) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			goto fail_io;
		crypto_sign_keypair(s->pk, s->sk);
		n = write(fd, s->sk, AUDIT_SK_LEN);
		if (n != AUDIT_SK_LEN || fsync(fd) != 0) {
			close(fd);
			unlink(path);
			goto fail_io;
		}
		close(fd);
		log_info("audit: created signing key %s", path);
		return ERR_OK;
	}
	if (fd < 0)
		goto fail_io;
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
		log_warnx("audit: %s is readable by group/others", path);
	n = read(fd, s->sk, AUDIT_SK_LEN);
	close(fd);
	if (n != AUDIT_SK_LEN) {
		rc = audit_store_fail(why, whysz, ERR_CRYPTO, "key file is not 64 bytes", path);
		goto fail_key;
	}
	crypto_sign_ed25519_sk_to_pk(s->pk, s->sk);
	return ERR_OK;
fail_io:
	rc = audit_store_fail(why, whysz, ERR_IO, "cannot use key file",
	    errno == EINVAL || errno == EISDIR ? "not a regular file" : strerror(errno));
fail_key:
	sodium_free(s->sk);
	s->sk = NULL;
	return rc;
}

static char *
audit_store_db_get(struct audit_store *s, enum audit_store_cf cf, const void *key,
    size_t klen, size_t *vlen, int *rc)
{
	char *errstr = NULL;
	char *v = rocksdb_get_cf(s->db, s->ropts, s->cf[cf], key, klen, vlen, &errstr);

	*rc = ERR_OK;
	if (errstr != NULL) {
		log_warnx("audit: rocksdb get: %s", errstr);
		rocksdb_free(errstr);
		*rc = ERR_DB;
		return NULL;
	}
	if (v == NULL)
		*rc = ERR_NOTFOUND;
	return v;
}

/* Sets the head from the last stored event, re-hashing it. */
static int
audit_store_load_head(struct audit_store *s, char *why, size_t whysz)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropts, s->cf[AUDIT_CF_EVENTS]);
	struct audit_event ev;
	uint8_t h[AUDIT_HASH_LEN];
	size_t klen, vlen;
	const char *k, *v;
	int rc = ERR_OK;

	s->head_seq = 0;
	memset(s->head_hash, 0, AUDIT_HASH_LEN);
	rocksdb_iter_seek_to_last(it);
	if (!rocksdb_iter_valid(it))
		goto out_iter;
	k = rocksdb_iter_key(it, &klen);
	v = rocksdb_iter_value(it, &vlen);
	if (klen != 8) {
		rc = audit_store_fail(why, whysz, ERR_DB, "bad event key", NULL);
		goto out_iter;
	}
	if ((rc = audit_decode((const uint8_t *)v, vlen, &ev)) != ERR_OK) {
		audit_store_fail(why, whysz, rc, "last event does not decode", err_str(rc));
		goto out_iter;
	}
	if (ev.seq != audit_store_get_be64((const uint8_t *)k) ||
	    audit_event_compute_hash(&ev, h) != ERR_OK ||
	    sodium_memcmp(h, ev.hash, AUDIT_HASH_LEN) != 0) {
		rc = audit_store_fail(why, whysz, ERR_CRYPTO, "last event fails its hash", NULL);
	} else {
		s->head_seq = ev.seq;
		memcpy(s->head_hash, ev.hash, AUDIT_HASH_LEN);
	}
	audit_event_clear(&ev);
out_iter:
	rocksdb_iter_destroy(it);
	return rc;
}

/* Decodes a checkpoint record. */
static int
audit_store_cp_decode(const char *v, size_t vlen, struct audit_checkpoint *cp)
{
	const uint8_t *p = (const uint8_t *)v;

	if (vlen != AUDIT_STORE_CP_VALLEN)
		return ERR_INVAL;
	cp->seq = audit_store_get_be64(p);
	memcpy(cp->hash, p + 8, AUDIT_HASH_LEN);
	memcpy(cp->time, p + 8 + AUDIT_HASH_LEN, AUDIT_TIME_LEN);
	cp->time[AUDIT_TIME_LEN] = '\0';
	memcpy(cp->sig, p + 8 + AUDIT_HASH_LEN + AUDIT_TIME_LEN, AUDIT_SIG_LEN);
	return audit_time_is_valid(cp->time) ? ERR_OK : ERR_INVAL;
}

/* Loads the last checkpoint's seq (writer: decides when the next is due). */
static void
audit_store_load_last_cp(struct audit_store *s)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropts, s->cf[AUDIT_CF_META]);
	uint8_t key[AUDIT_STORE_CP_KEYLEN];
	struct audit_checkpoint cp;
	const char *k, *v;
	size_t klen, vlen;

	memcpy(key, AUDIT_STORE_CP_PREFIX, sizeof(AUDIT_STORE_CP_PREFIX) - 1);
	memset(key + sizeof(AUDIT_STORE_CP_PREFIX) - 1, 0xff, 8);
	s->cp_seq = 0;
	rocksdb_iter_seek_for_prev(it, (const char *)key, sizeof(key));
	if (rocksdb_iter_valid(it)) {
		k = rocksdb_iter_key(it, &klen);
		v = rocksdb_iter_value(it, &vlen);
		if (klen == sizeof(key) && memcmp(k, AUDIT_STORE_CP_PREFIX,
		    sizeof(AUDIT_STORE_CP_PREFIX) - 1) == 0 &&
		    audit_store_cp_decode(v, vlen, &cp) == ERR_OK)
			s->cp_seq = cp.seq;
	}
	rocksdb_iter_destroy(it);
	s->staged_cp_seq = s->cp_seq;
	s->cp_time = time(NULL);
}

static int
audit_store_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static void
audit_store_free(struct audit_store *s)
{
	if (s->db != NULL) {
		for (int i = 0; i < AUDIT_CF__COUNT; i++)
			if (s->cf[i] != NULL)
				rocksdb_column_family_handle_destroy(s->cf[i]);
		for (int i = 0; i < s->n_other; i++)
			if (s->other_cf[i] != NULL)
				rocksdb_column_family_handle_destroy(s->other_cf[i]);
		rdb_close(s->db, s->write_failed, "audit store");
	}
	free(s->other_cf);
	if (s->extra_opts != NULL)
		rocksdb_options_destroy(s->extra_opts);
	if (s->batch != NULL)
		rocksdb_writebatch_destroy(s->batch);
	if (s->sealed != NULL)
		rocksdb_writebatch_destroy(s->sealed);
	if (s->wopts != NULL)
		rocksdb_writeoptions_destroy(s->wopts);
	if (s->ropts != NULL)
		rocksdb_readoptions_destroy(s->ropts);
	if (s->opts != NULL)
		rocksdb_options_destroy(s->opts);
	if (s->secondary[0] != '\0')
		nftw(s->secondary, audit_store_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (s->sk != NULL)
		sodium_free(s->sk);	/* wipes */
	free(s->encbuf);
	free(s);
}

void
audit_store_destroy(struct audit_store **sp)
{
	if (sp == NULL || *sp == NULL)
		return;
	if (!(*sp)->reader && (*sp)->staged > 0)
		log_warnx("audit: closing with %zu uncommitted events (dropped)", (*sp)->staged);
	audit_store_free(*sp);
	*sp = NULL;
}

/* Allocates the store and the RocksDB option objects shared by both opens. */
static struct audit_store *
audit_store_alloc(int *err)
{
	struct audit_store *s;

	if (sodium_init() < 0) {
		*err = ERR_CRYPTO;
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->encbuf = malloc(AUDIT_CANON_MAX)) == NULL) {
		free(s);
		*err = ERR_NOMEM;
		return NULL;
	}
	s->opts = rdb_options();
	s->wopts = rocksdb_writeoptions_create();
	s->ropts = rocksdb_readoptions_create();
	s->batch = rocksdb_writebatch_create();
	s->sealed = rocksdb_writebatch_create();
	rocksdb_writeoptions_set_sync(s->wopts, 1);
	/* the durable rate is bounded by synced WAL bytes; compressed SSTs
	 * leave more of the disk to the WAL when memtables flush */
	rocksdb_options_set_compression(s->opts, rocksdb_lz4_compression);
	return s;
}

static bool
audit_store_is_trail_cf(const char *name)
{
	for (int i = 0; i < AUDIT_CF__COUNT; i++)
		if (strcmp(name, audit_store_cf_names[i]) == 0)
			return true;
	return false;
}

/*
 * Opens the trail's column families and, for a writer, every other one: the
 * opener's extra family (created if missing) and whatever else the DB holds
 * (RocksDB refuses a writer that leaves one out).  A reader (secondary)
 * opens the trail's only.
 */
static int
audit_store_open_db(struct audit_store *s, const char *dir, char *why, size_t whysz)
{
	char **disk = NULL, *errstr = NULL;
	size_t ndisk = 0;
	int n = AUDIT_CF__COUNT, rc = ERR_OK;

	if (!s->reader) {
		disk = rocksdb_list_column_families(s->opts, dir, &ndisk, &errstr);
		rocksdb_free(errstr);	/* no DB yet: only the trail's and the extra */
		errstr = NULL;
	}
	const char *names[AUDIT_CF__COUNT + 1 + ndisk];
	const rocksdb_options_t *cfopts[AUDIT_CF__COUNT + 1 + ndisk];
	rocksdb_column_family_handle_t *handles[AUDIT_CF__COUNT + 1 + ndisk];
	for (int i = 0; i < AUDIT_CF__COUNT; i++) {
		names[i] = audit_store_cf_names[i];
		cfopts[i] = s->opts;
	}
	if (s->conf.extra_cf != NULL) {
		names[n] = s->conf.extra_cf;
		cfopts[n++] = s->extra_opts;
	}
	for (size_t i = 0; i < ndisk; i++) {
		if (audit_store_is_trail_cf(disk[i]) ||
		    (s->conf.extra_cf != NULL && strcmp(disk[i], s->conf.extra_cf) == 0))
			continue;
		names[n] = disk[i];
		cfopts[n++] = s->opts;
	}
	if (s->reader)
		s->db = rocksdb_open_as_secondary_column_families(s->opts, dir,
		    s->secondary, n, names, cfopts, handles, &errstr);
	else
		s->db = rocksdb_open_column_families(s->opts, dir, n, names, cfopts,
		    handles, &errstr);
	if (errstr != NULL) {
		audit_store_fail(why, whysz, ERR_DB, "cannot open audit store", errstr);
		rocksdb_free(errstr);
		s->db = NULL;
		rc = ERR_DB;
		goto out;
	}
	memcpy(s->cf, handles, sizeof(s->cf));
	if (n > AUDIT_CF__COUNT &&
	    (s->other_cf = calloc((size_t)(n - AUDIT_CF__COUNT), sizeof(*s->other_cf))) == NULL) {
		for (int i = AUDIT_CF__COUNT; i < n; i++)
			rocksdb_column_family_handle_destroy(handles[i]);
		rc = audit_store_fail(why, whysz, ERR_NOMEM, "cannot open audit store",
		    "out of memory");
		goto out;
	}
	for (int i = AUDIT_CF__COUNT; i < n; i++)
		s->other_cf[s->n_other++] = handles[i];
out:
	if (disk != NULL)
		rocksdb_list_column_families_destroy(disk, ndisk);
	return rc;
}

/* Checks the key file against the public key in meta, storing it if new. */
static int
audit_store_check_pubkey(struct audit_store *s, char *why, size_t whysz)
{
	char *errstr = NULL, *v;
	size_t vlen;
	int rc;

	v = audit_store_db_get(s, AUDIT_CF_META, "pubkey", 6, &vlen, &rc);
	if (rc == ERR_DB)
		return audit_store_fail(why, whysz, rc, "cannot read public key", NULL);
	if (v != NULL) {
		bool same = vlen == AUDIT_PK_LEN && memcmp(v, s->pk, AUDIT_PK_LEN) == 0;
		rocksdb_free(v);
		if (!same)
			return audit_store_fail(why, whysz, ERR_CRYPTO,
			    "audit.key does not match the store's public key", NULL);
		return ERR_OK;
	}
	rocksdb_put_cf(s->db, s->wopts, s->cf[AUDIT_CF_META], "pubkey", 6,
	    (const char *)s->pk, AUDIT_PK_LEN, &errstr);
	if (errstr != NULL) {
		audit_store_fail(why, whysz, ERR_DB, "cannot store public key", errstr);
		rocksdb_free(errstr);
		return ERR_DB;
	}
	return ERR_OK;
}

struct audit_store *
audit_store_open(const char *dir, const struct audit_store_options *opt, int *err,
    char *why, size_t whysz)
{
	struct audit_store *s;
	int rc;

	if ((s = audit_store_alloc(err)) == NULL) {
		if (opt != NULL && opt->extra_cf_opts != NULL)
			rocksdb_options_destroy(opt->extra_cf_opts);
		return NULL;
	}
	if (opt != NULL)
		s->conf = *opt;
	s->extra_opts = s->conf.extra_cf_opts;	/* ours now, even on failure */
	s->conf.extra_cf_opts = NULL;
	if (s->conf.extra_cf != NULL && s->extra_opts == NULL) {
		*err = ERR_INVAL;
		snprintf(why, whysz, "audit store: extra column family without options");
		audit_store_free(s);
		return NULL;
	}
	if (s->conf.checkpoint_every == 0)
		s->conf.checkpoint_every = 1024;
	if (s->conf.checkpoint_secs == 0)
		s->conf.checkpoint_secs = 60;
	if (s->conf.max_pending == 0)
		s->conf.max_pending = 4096;
	rocksdb_options_set_create_if_missing(s->opts, 1);
	rocksdb_options_set_create_missing_column_families(s->opts, 1);
	/* The writer never reads its own recent events back (readers are
	 * secondaries with their own memtables): an append-only vector memtable
	 * makes each insert a push instead of a skip-list search, and sorts once
	 * at flush, off the broker's thread. */
	rocksdb_options_set_allow_concurrent_memtable_write(s->opts, 0);
	rocksdb_options_set_memtable_vector_rep(s->opts);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = audit_store_fail(why, whysz, ERR_IO, "cannot create data dir", strerror(errno));
		goto fail_store;
	}
	if ((rc = audit_store_open_db(s, dir, why, whysz)) != ERR_OK ||
	    (rc = audit_store_load_key(s, dir, true, why, whysz)) != ERR_OK ||
	    (rc = audit_store_check_pubkey(s, why, whysz)) != ERR_OK ||
	    (rc = audit_store_load_head(s, why, whysz)) != ERR_OK)
		goto fail_store;
	s->staged_seq = s->head_seq;
	memcpy(s->staged_hash, s->head_hash, AUDIT_HASH_LEN);
	audit_store_load_last_cp(s);
	*err = ERR_OK;
	return s;
fail_store:
	audit_store_free(s);
	*err = rc;
	return NULL;
}

struct audit_store *
audit_store_open_reader(const char *dir, int *err, char *why, size_t whysz)
{
	struct audit_store *s;
	char *v;
	size_t vlen;
	int rc;

	if ((s = audit_store_alloc(err)) == NULL)
		return NULL;
	s->reader = true;
	rocksdb_options_set_max_open_files(s->opts, -1);
	snprintf(s->secondary, sizeof(s->secondary), "/tmp/sluice-audit-reader-XXXXXX");
	if (mkdtemp(s->secondary) == NULL) {
		s->secondary[0] = '\0';
		rc = audit_store_fail(why, whysz, ERR_IO, "mkdtemp", strerror(errno));
		goto fail_store;
	}
	if ((rc = audit_store_open_db(s, dir, why, whysz)) != ERR_OK)
		goto fail_store;
	v = audit_store_db_get(s, AUDIT_CF_META, "pubkey", 6, &vlen, &rc);
	if (v == NULL || vlen != AUDIT_PK_LEN) {
		rocksdb_free(v);
		rc = audit_store_fail(why, whysz, rc == ERR_OK ? ERR_DB : rc,
		    "store has no public key", NULL);
		goto fail_store;
	}
	memcpy(s->pk, v, AUDIT_PK_LEN);
	rocksdb_free(v);
	if (audit_store_load_key(s, dir, false, NULL, 0) == ERR_OK &&
	    memcmp(s->pk, s->sk + AUDIT_SK_LEN - AUDIT_PK_LEN, AUDIT_PK_LEN) != 0) {
		sodium_free(s->sk);
		s->sk = NULL;
		log_warnx("audit: %s/audit.key does not match the store; not signing", dir);
	}
	if ((rc = audit_store_load_head(s, why, whysz)) != ERR_OK)
		goto fail_store;
	*err = ERR_OK;
	return s;
fail_store:
	audit_store_free(s);
	*err = rc;
	return NULL;
}

int
audit_store_catch_up(struct audit_store *s)
{
	char *errstr = NULL;

	if (!s->reader)
		return ERR_OK;
	rocksdb_try_catch_up_with_primary(s->db, &errstr);
	if (errstr != NULL) {
		log_warnx("audit: catch up: %s", errstr);
		rocksdb_free(errstr);
		return ERR_DB;
	}
	return audit_store_load_head(s, NULL, 0);
}

/* Stages index entries for `ev` into the batch. */
static void
audit_store_stage_indexes(struct audit_store *s, const struct audit_event *ev)
{
	uint8_t key[1 + AUDIT_ACTOR_MAX + AUDIT_TIME_LEN + 8];
	size_t n;
	const char *names[2] = { ev->job, ev->session };
	enum audit_store_cf cfs[2] = { AUDIT_CF_BY_JOB, AUDIT_CF_BY_SESSION };

	for (int i = 0; i < 2; i++) {
		n = strlen(names[i]);
		if (n == 0)
			continue;
		memcpy(key, names[i], n);
		key[n] = 0;
		audit_store_be64(key + n + 1, ev->seq);
		rocksdb_writebatch_put_cf(s->batch, s->cf[cfs[i]], (const char *)key,
		    n + 9, "", 0);
	}
	key[0] = (uint8_t)ev->type;
	memcpy(key + 1, ev->time, AUDIT_TIME_LEN);
	audit_store_be64(key + 1 + AUDIT_TIME_LEN, ev->seq);
	rocksdb_writebatch_put_cf(s->batch, s->cf[AUDIT_CF_BY_TYPE_TIME],
	    (const char *)key, 1 + AUDIT_TIME_LEN + 8, "", 0);
}

/* Stages a signed checkpoint of the staged head. */
static void
audit_store_stage_checkpoint(struct audit_store *s)
{
	struct audit_checkpoint cp;
	struct timespec ts;
	uint8_t key[AUDIT_STORE_CP_KEYLEN], val[AUDIT_STORE_CP_VALLEN];
	size_t plen = sizeof(AUDIT_STORE_CP_PREFIX) - 1;

	clock_gettime(CLOCK_REALTIME, &ts);
	cp.seq = s->staged_seq;
	memcpy(cp.hash, s->staged_hash, AUDIT_HASH_LEN);
	audit_time_format(&ts, cp.time);
	audit_checkpoint_sign(&cp, s->sk);
	memcpy(key, AUDIT_STORE_CP_PREFIX, plen);
	audit_store_be64(key + plen, cp.seq);
	audit_store_be64(val, cp.seq);
	memcpy(val + 8, cp.hash, AUDIT_HASH_LEN);
	memcpy(val + 8 + AUDIT_HASH_LEN, cp.time, AUDIT_TIME_LEN);
	memcpy(val + 8 + AUDIT_HASH_LEN + AUDIT_TIME_LEN, cp.sig, AUDIT_SIG_LEN);
	rocksdb_writebatch_put_cf(s->batch, s->cf[AUDIT_CF_META], (const char *)key,
	    sizeof(key), (const char *)val, sizeof(val));
	s->staged_cp_seq = cp.seq;
}

int
audit_store_append(struct audit_store *s, struct audit_event *ev)
{
	uint8_t key[8];
	size_t len;
	int rc;

	if (s->reader)
		return ERR_DENIED;
	if (s->staged >= s->conf.max_pending)
		return ERR_BUSY;
	ev->seq = s->staged_seq + 1;
	if ((rc = audit_encode_chained(ev, s->staged_hash, s->encbuf, AUDIT_CANON_MAX,
	    &len)) != ERR_OK)
		return rc;
	audit_store_be64(key, ev->seq);
	rocksdb_writebatch_put_cf(s->batch, s->cf[AUDIT_CF_EVENTS], (const char *)key,
	    sizeof(key), (const char *)s->encbuf, len);
	audit_store_stage_indexes(s, ev);
	s->staged_seq = ev->seq;
	memcpy(s->staged_hash, ev->hash, AUDIT_HASH_LEN);
	s->staged++;
	if (s->staged_seq % s->conf.checkpoint_every == 0)
		audit_store_stage_checkpoint(s);
	return ERR_OK;
}

static void
audit_store_rollback(struct audit_store *s)
{
	rocksdb_writebatch_clear(s->batch);
	s->staged = 0;
	s->staged_seq = s->head_seq;
	memcpy(s->staged_hash, s->head_hash, AUDIT_HASH_LEN);
	s->staged_cp_seq = s->cp_seq;
}

void
audit_store_discard(struct audit_store *s)
{
	if (s->reader || s->staged == 0)
		return;
	rocksdb_writebatch_clear(s->batch);
	s->staged = 0;
	if (s->nsealed > 0) {	/* staged events chained from the sealed ones */
		s->staged_seq = s->sealed_seq;
		memcpy(s->staged_hash, s->sealed_hash, AUDIT_HASH_LEN);
		s->staged_cp_seq = s->sealed_cp_seq;
	} else {
		s->staged_seq = s->head_seq;
		memcpy(s->staged_hash, s->head_hash, AUDIT_HASH_LEN);
		s->staged_cp_seq = s->cp_seq;
	}
}

int
audit_store_seal(struct audit_store *s)
{
	uint8_t head[8 + AUDIT_HASH_LEN];
	rocksdb_writebatch_t *t;

	if (s->reader)
		return ERR_DENIED;
	if (s->nsealed > 0)
		return ERR_BUSY;
	if (s->staged == 0)
		return ERR_OK;
	if (s->staged_cp_seq != s->staged_seq &&
	    time(NULL) - s->cp_time >= (time_t)s->conf.checkpoint_secs)
		audit_store_stage_checkpoint(s);
	audit_store_be64(head, s->staged_seq);
	memcpy(head + 8, s->staged_hash, AUDIT_HASH_LEN);
	rocksdb_writebatch_put_cf(s->batch, s->cf[AUDIT_CF_META], "head", 4,
	    (const char *)head, sizeof(head));
	t = s->sealed;
	s->sealed = s->batch;
	s->batch = t;
	s->nsealed = s->staged;
	s->sealed_seq = s->staged_seq;
	memcpy(s->sealed_hash, s->staged_hash, AUDIT_HASH_LEN);
	s->sealed_cp_seq = s->staged_cp_seq;
	s->sealed_fail = s->fail_next;
	s->fail_next = false;
	s->staged = 0;
	return ERR_OK;
}

int
audit_store_write_sealed(struct audit_store *s, rocksdb_writebatch_t *extra)
{
	rocksdb_writebatch_t *both = NULL;
	char why[512];
	enum err e;

	if (s->nsealed == 0)
		return ERR_OK;
	if (s->sealed_fail) {
		log_warnx("audit: commit failed (injected fault)");
		return ERR_DB;
	}
	if (extra != NULL && rocksdb_writebatch_count(extra) > 0 &&
	    (both = rdb_batch_concat(s->sealed, extra)) == NULL) {
		log_warnx("audit: cannot join the round's batches (out of memory?)");
		return ERR_DB;
	}
	e = rdb_write(s->db, s->wopts, both != NULL ? both : s->sealed, &s->write_failed, why,
	    sizeof(why));
	if (both != NULL)
		rocksdb_writebatch_destroy(both);
	if (e != ERR_OK)
		log_limited(&s->refused_log, 10, "audit: commit of %zu events failed: %s",
		    s->nsealed, why);
	return e;
}

void
audit_store_sealed_done(struct audit_store *s, int rc)
{
	if (s->nsealed == 0)
		return;
	rocksdb_writebatch_clear(s->sealed);
	s->nsealed = 0;
	if (rc != ERR_OK) {
		audit_store_rollback(s);
		return;
	}
	if (s->sealed_cp_seq != s->cp_seq) {
		s->cp_seq = s->sealed_cp_seq;
		s->cp_time = time(NULL);
	}
	s->head_seq = s->sealed_seq;
	memcpy(s->head_hash, s->sealed_hash, AUDIT_HASH_LEN);
}

int
audit_store_commit(struct audit_store *s)
{
	int rc;

	if ((rc = audit_store_seal(s)) != ERR_OK)
		return rc;
	rc = audit_store_write_sealed(s, NULL);
	audit_store_sealed_done(s, rc);
	return rc;
}

size_t
audit_store_pending(const struct audit_store *s)
{
	return s->staged;
}

void
audit_store_head(const struct audit_store *s, uint64_t *seq, uint8_t hash[AUDIT_HASH_LEN])
{
	*seq = s->head_seq;
	memcpy(hash, s->head_hash, AUDIT_HASH_LEN);
}

void
audit_store_public_key(const struct audit_store *s, uint8_t pk[AUDIT_PK_LEN])
{
	memcpy(pk, s->pk, AUDIT_PK_LEN);
}

int
audit_store_sign(const struct audit_store *s, const uint8_t *msg, size_t len,
    uint8_t sig[AUDIT_SIG_LEN])
{
	if (s->sk == NULL)
		return ERR_DENIED;
	crypto_sign_detached(sig, NULL, msg, len, s->sk);
	return ERR_OK;
}

void
audit_store_fail_next_commit(struct audit_store *s)
{
	s->fail_next = true;
}

int
audit_store_get(struct audit_store *s, uint64_t seq, struct audit_event *ev)
{
	uint8_t key[8];
	size_t vlen;
	char *v;
	int rc;

	audit_store_be64(key, seq);
	if ((v = audit_store_db_get(s, AUDIT_CF_EVENTS, key, 8, &vlen, &rc)) == NULL)
		return rc;
	rc = audit_decode((const uint8_t *)v, vlen, ev);
	rocksdb_free(v);
	if (rc == ERR_OK && ev->seq != seq) {
		audit_event_clear(ev);
		rc = ERR_INVAL;
	}
	return rc;
}

int
audit_store_checkpoint_find(struct audit_store *s, uint64_t min_seq,
    struct audit_checkpoint *cp)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropts, s->cf[AUDIT_CF_META]);
	uint8_t key[AUDIT_STORE_CP_KEYLEN];
	size_t plen = sizeof(AUDIT_STORE_CP_PREFIX) - 1, klen, vlen;
	const char *k, *v;
	int rc = ERR_NOTFOUND;

	memcpy(key, AUDIT_STORE_CP_PREFIX, plen);
	audit_store_be64(key + plen, min_seq);
	rocksdb_iter_seek(it, (const char *)key, sizeof(key));
	if (rocksdb_iter_valid(it)) {
		k = rocksdb_iter_key(it, &klen);
		v = rocksdb_iter_value(it, &vlen);
		if (klen == sizeof(key) && memcmp(k, AUDIT_STORE_CP_PREFIX, plen) == 0)
			rc = audit_store_cp_decode(v, vlen, cp);
	}
	rocksdb_iter_destroy(it);
	return rc;
}

/* Decodes the current iterator value as an event and visits it. */
static int
audit_store_visit_value(const char *v, size_t vlen,
    int (*fn)(const struct audit_event *, void *), void *arg)
{
	struct audit_event ev;
	int rc;

	if ((rc = audit_decode((const uint8_t *)v, vlen, &ev)) != ERR_OK)
		return rc;
	rc = fn(&ev, arg);
	audit_event_clear(&ev);
	return rc;
}

int
audit_store_scan_seq(struct audit_store *s, uint64_t from, uint64_t to,
    int (*fn)(const struct audit_event *, void *), void *arg)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropts, s->cf[AUDIT_CF_EVENTS]);
	uint8_t key[8];
	const char *k, *v;
	size_t klen, vlen;
	int rc = ERR_OK;

	audit_store_be64(key, from);
	for (rocksdb_iter_seek(it, (const char *)key, 8); rocksdb_iter_valid(it);
	    rocksdb_iter_next(it)) {
		k = rocksdb_iter_key(it, &klen);
		if (klen != 8) {
			rc = ERR_DB;
			break;
		}
		if (to != 0 && audit_store_get_be64((const uint8_t *)k) > to)
			break;
		v = rocksdb_iter_value(it, &vlen);
		if ((rc = audit_store_visit_value(v, vlen, fn, arg)) != ERR_OK)
			break;
	}
	rocksdb_iter_destroy(it);
	return rc;
}

/* Scans an index whose keys are `name` | 0x00 | seq, visiting each event. */
static int
audit_store_scan_name(struct audit_store *s, enum audit_store_cf cf, const char *name,
    int (*fn)(const struct audit_event *, void *), void *arg)
{
	rocksdb_iterator_t *it;
	struct audit_event ev;
	size_t n = strlen(name), klen;
	const char *k;
	int rc = ERR_OK;

	if (n == 0 || n > AUDIT_NAME_MAX)
		return ERR_INVAL;
	it = rocksdb_create_iterator_cf(s->db, s->ropts, s->cf[cf]);
	/* name | 0x00 sorts before every name | 0x00 | seq key */
	for (rocksdb_iter_seek(it, name, n + 1); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		k = rocksdb_iter_key(it, &klen);
		if (klen != n + 9 || memcmp(k, name, n) != 0 || k[n] != 0)
			break;
		if ((rc = audit_store_get(s, audit_store_get_be64((const uint8_t *)k + n + 1),
		    &ev)) != ERR_OK)
			break;
		rc = fn(&ev, arg);
		audit_event_clear(&ev);
		if (rc != ERR_OK)
			break;
	}
	rocksdb_iter_destroy(it);
	return rc;
}

int
audit_store_scan_job(struct audit_store *s, const char *job,
    int (*fn)(const struct audit_event *, void *), void *arg)
{
	return audit_store_scan_name(s, AUDIT_CF_BY_JOB, job, fn, arg);
}

int
audit_store_scan_session(struct audit_store *s, const char *session,
    int (*fn)(const struct audit_event *, void *), void *arg)
{
	return audit_store_scan_name(s, AUDIT_CF_BY_SESSION, session, fn, arg);
}

int
audit_store_seqs_add(struct audit_store_seqs *l, uint64_t seq)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		uint64_t *v;
		if (cap > AUDIT_STORE_SCAN_MAX)
			return ERR_TOOBIG;
		if ((v = realloc(l->v, cap * sizeof(*v))) == NULL)
			return ERR_NOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = seq;
	return ERR_OK;
}

/* Collects seqs of `type` with time in [since, until) from by_type_time. */
static int
audit_store_collect_type(struct audit_store *s, enum audit_type type,
    const char *since, const char *until, struct audit_store_seqs *out)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropts,
	    s->cf[AUDIT_CF_BY_TYPE_TIME]);
	char start[1 + AUDIT_TIME_LEN + 1];
	char t[AUDIT_TIME_LEN + 1];
	size_t slen = 1, klen;
	const char *k;
	int rc = ERR_OK;

	start[0] = (char)type;
	if (since != NULL) {
		slen += strnlen(since, AUDIT_TIME_LEN);
		memcpy(start + 1, since, slen - 1);
	}
	for (rocksdb_iter_seek(it, start, slen); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		k = rocksdb_iter_key(it, &klen);
		if (klen != 1 + AUDIT_TIME_LEN + 8 || (uint8_t)k[0] != (uint8_t)type)
			break;
		memcpy(t, k + 1, AUDIT_TIME_LEN);
		t[AUDIT_TIME_LEN] = '\0';
		if (until != NULL && strcmp(t, until) >= 0)
			break;
		if (since != NULL && strcmp(t, since) < 0)
			continue;
		rc = audit_store_seqs_add(out,
		    audit_store_get_be64((const uint8_t *)k + 1 + AUDIT_TIME_LEN));
		if (rc != ERR_OK)
			break;
	}
	rocksdb_iter_destroy(it);
	return rc;
}

static int
audit_store_cmp_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Collects seqs for the types in [tmin, tmax], sorts them, visits them. */
static int
audit_store_scan_types(struct audit_store *s, int tmin, int tmax, const char *since,
    const char *until, int (*fn)(const struct audit_event *, void *), void *arg)
{
	struct audit_store_seqs l = { NULL, 0, 0 };
	struct audit_event ev;
	int rc = ERR_OK;

	for (int t = tmin; t <= tmax && rc == ERR_OK; t++)
		rc = audit_store_collect_type(s, (enum audit_type)t, since, until, &l);
	if (rc == ERR_OK && l.n > 0)
		qsort(l.v, l.n, sizeof(*l.v), audit_store_cmp_seq);
	for (size_t i = 0; i < l.n && rc == ERR_OK; i++) {
		if ((rc = audit_store_get(s, l.v[i], &ev)) != ERR_OK)
			break;
		rc = fn(&ev, arg);
		audit_event_clear(&ev);
	}
	free(l.v);
	return rc;
}

int
audit_store_scan_type(struct audit_store *s, enum audit_type type, const char *since,
    const char *until, int (*fn)(const struct audit_event *, void *), void *arg)
{
	if ((int)type < AUDIT_TYPE_MIN || (int)type > AUDIT_TYPE_MAX)
		return ERR_INVAL;
	return audit_store_scan_types(s, (int)type, (int)type, since, until, fn, arg);
}

int
audit_store_scan_time(struct audit_store *s, const char *since, const char *until,
    int (*fn)(const struct audit_event *, void *), void *arg)
{
	return audit_store_scan_types(s, AUDIT_TYPE_MIN, AUDIT_TYPE_MAX, since, until,
	    fn, arg);
}

rocksdb_t *
audit_store_rocksdb(const struct audit_store *s)
{
	return s->db;
}

rocksdb_column_family_handle_t *
audit_store_extra_cf(const struct audit_store *s)
{
	return s->conf.extra_cf != NULL && s->n_other > 0 ? s->other_cf[0] : NULL;
}

size_t
audit_store_sealed_count(const struct audit_store *s)
{
	return s->nsealed;
}

bool *
audit_store_failed_flag(struct audit_store *s)
{
	return &s->write_failed;
}
