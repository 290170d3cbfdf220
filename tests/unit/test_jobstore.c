/* Unit tests for broker/jobstore: staged writes become durable only on
 * commit, survive a reopen, results replace jobs, keys resolve, discard and
 * expiry work, and a corrupt record is skipped rather than trusted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <unistd.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>

#include "broker/jobstore.h"
#include "common/audit_store.h"
#include "common/msg.h"
#include "common/rdb.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sluice-jobstore.XXXXXX");
	return mkdtemp(dir) == NULL;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static struct msg *
job_msg(const char *id)
{
	struct msg *m = msg_new(MSG_JOB);
	msg_set_str(m, MSG_F_ID, id);
	msg_set_str(m, MSG_F_CODE, "console.log(1)");
	msg_set_str(m, MSG_F_LANG, "ts");
	msg_set_u64(m, MSG_F_TIMEOUT_MS, 1000);
	msg_set_u64(m, MSG_F_MEMORY_MB, 64);
	msg_set_u64(m, MSG_F_PIDS, 8);
	msg_set_u64(m, MSG_F_WORKSPACE_MB, 8);
	msg_set_u64(m, MSG_F_OUTPUT_BYTES, 1024);
	return m;
}

static int seen;
static enum jobstore_state last_state;

static enum err
count_job(void *arg, const char *id, enum jobstore_state st, int64_t ms, const struct msg *m)
{
	(void)arg;
	(void)ms;
	assert_string_equal(msg_str(m, MSG_F_ID, ""), id);
	assert_true(st == JOBSTORE_QUEUED || st == JOBSTORE_RUNNING || st == JOBSTORE_HELD);
	last_state = st;
	seen++;
	return ERR_OK;
}

static void
test_commit_reopen_result_key(void **state)
{
	enum err e;
	char why[256], id[65];
	struct jobstore *s = jobstore_open(dir, &e, why, sizeof(why));
	struct msg *j1 = job_msg("aaaa"), *j2 = job_msg("bbbb"), *r = NULL;
	(void)state;
	assert_non_null(s);
	assert_int_equal(jobstore_put_job(s, "aaaa", JOBSTORE_QUEUED, 1, j1), ERR_OK);
	assert_int_equal(jobstore_put_key(s, "t", "k1", "aaaa"), ERR_OK);
	assert_int_equal(jobstore_pending(s), 2);
	assert_int_equal(jobstore_get_key(s, "t", "k1", id, sizeof(id)), ERR_NOTFOUND);	/* not committed */
	assert_int_equal(jobstore_commit(s, why, sizeof(why)), ERR_OK);
	assert_int_equal(jobstore_get_key(s, "t", "k1", id, sizeof(id)), ERR_OK);
	assert_string_equal(id, "aaaa");
	assert_int_equal(jobstore_get_key(s, "other", "k1", id, sizeof(id)), ERR_NOTFOUND);

	/* A staged write that is discarded never becomes durable. */
	assert_int_equal(jobstore_put_job(s, "bbbb", JOBSTORE_HELD, 2, j2), ERR_OK);
	jobstore_discard(s);
	assert_int_equal(jobstore_commit(s, why, sizeof(why)), ERR_OK);
	jobstore_close(&s);
	assert_null(s);

	s = jobstore_open(dir, &e, why, sizeof(why));
	seen = 0;
	assert_int_equal(jobstore_each_job(s, count_job, NULL), ERR_OK);
	assert_int_equal(seen, 1);
	assert_int_equal(last_state, JOBSTORE_QUEUED);

	/* A state change is a small record that wins over the job record's. */
	assert_int_equal(jobstore_put_state(s, "aaaa", JOBSTORE_RUNNING), ERR_OK);
	assert_int_equal(jobstore_commit(s, why, sizeof(why)), ERR_OK);
	jobstore_close(&s);
	s = jobstore_open(dir, &e, why, sizeof(why));
	seen = 0;
	jobstore_each_job(s, count_job, NULL);
	assert_int_equal(seen, 1);
	assert_int_equal(last_state, JOBSTORE_RUNNING);

	/* A result replaces the job record. */
	struct msg *res = msg_new(MSG_RESULT);
	msg_set_str(res, MSG_F_ID, "aaaa");
	msg_set_str(res, MSG_F_STATUS, "ok");
	assert_int_equal(jobstore_put_result(s, "aaaa", res, true), ERR_OK);
	assert_int_equal(jobstore_commit(s, why, sizeof(why)), ERR_OK);
	seen = 0;
	jobstore_each_job(s, count_job, NULL);
	assert_int_equal(seen, 0);
	int64_t fin = 0;
	assert_int_equal(jobstore_get_result(s, "aaaa", &r, &fin), ERR_OK);
	assert_string_equal(msg_str(r, MSG_F_STATUS, ""), "ok");
	assert_true(fin > 0);
	msg_destroy(&r);
	assert_int_equal(jobstore_get_result(s, "zzzz", &r, NULL), ERR_NOTFOUND);

	/* Expiry drops old results, then the keys that pointed at them. */
	assert_int_equal(jobstore_expire(s, fin + 1), 1);
	assert_int_equal(jobstore_commit(s, why, sizeof(why)), ERR_OK);
	jobstore_expire(s, fin + 1);
	assert_int_equal(jobstore_commit(s, why, sizeof(why)), ERR_OK);
	assert_int_equal(jobstore_get_key(s, "t", "k1", id, sizeof(id)), ERR_NOTFOUND);
	msg_destroy(&res);
	msg_destroy(&j1);
	msg_destroy(&j2);
	jobstore_close(&s);
}

static void
test_corrupt_record_skipped(void **state)
{
	enum err e;
	char why[256], path[128], *err = NULL;
	struct jobstore *s;
	rocksdb_options_t *o = rocksdb_options_create();
	rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
	(void)state;
	snprintf(path, sizeof(path), "%s/jobs", dir);
	rocksdb_options_set_create_if_missing(o, 1);
	rocksdb_t *db = rocksdb_open(o, path, &err);
	assert_null(err);
	rocksdb_put(db, wo, "j/bad1", 6, "\x01garbage", 8, &err);
	rocksdb_put(db, wo, "j/bad2", 6, "\x09\0\0\0\0\0\0\0\0SL\x01\x31\x80", 14, &err);
	rocksdb_close(db);
	rocksdb_writeoptions_destroy(wo);
	rocksdb_options_destroy(o);
	s = jobstore_open(dir, &e, why, sizeof(why));
	assert_non_null(s);
	seen = 0;
	assert_int_equal(jobstore_each_job(s, count_job, NULL), ERR_OK);
	assert_int_equal(seen, 0);
	jobstore_close(&s);
	assert_null(jobstore_open("/proc/no/such/dir", &e, why, sizeof(why)));
	assert_int_equal(e, ERR_DB);
}

static struct audit_store *
open_audit(bool with_jobs)
{
	char adir[128], why[256];
	int err;
	struct audit_store_options o = { 0 };
	struct audit_store *a;

	if (with_jobs) {
		o.extra_cf = "jobs";
		o.extra_cf_opts = jobstore_cf_options();
	}
	snprintf(adir, sizeof(adir), "%s/audit", dir);
	a = audit_store_open(adir, &o, &err, why, sizeof(why));
	if (a == NULL)
		fail_msg("audit_store_open: %s", why);
	return a;
}

/* How many entries of `dir` start with `prefix`. */
static int
entries(const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	if (d != NULL)
		closedir(d);
	return n;
}

/* The broker's layout: the job store as a column family of the audit DB,
 * written through the audit store's log; the audit store still opens
 * without it (a writer opens the unknown family and leaves it alone; a
 * reader opens only the trail's). */
static void
test_attached_to_audit_db(void **state)
{
	enum err e;
	char why[256], id[65], adir[128];
	int err;
	struct audit_store *a = open_audit(true);
	struct jobstore *s = jobstore_attach(a, dir, &e, why, sizeof(why));
	struct msg *j = job_msg("cccc"), *r = NULL;
	int64_t fin;
	(void)state;
	assert_non_null(s);
	assert_true(jobstore_shares_log(s));
	assert_int_equal(jobstore_put_job(s, "cccc", JOBSTORE_QUEUED, 5, j), ERR_OK);
	assert_int_equal(jobstore_put_key(s, "t", "k1", "cccc"), ERR_OK);
	assert_int_equal(jobstore_commit(s, why, sizeof(why)), ERR_OK);
	jobstore_close(&s);
	audit_store_destroy(&a);
	assert_int_equal(entries("jobs"), 0);	/* no DIR/jobs was made */

	a = open_audit(false);	/* e.g. a tool opening the broker's trail */
	audit_store_destroy(&a);
	snprintf(adir, sizeof(adir), "%s/audit", dir);
	a = audit_store_open_reader(adir, &err, why, sizeof(why));
	assert_non_null(a);
	audit_store_destroy(&a);

	a = open_audit(true);
	assert_non_null(s = jobstore_attach(a, dir, &e, why, sizeof(why)));
	seen = 0;
	assert_int_equal(jobstore_each_job(s, count_job, NULL), ERR_OK);
	assert_int_equal(seen, 1);
	assert_int_equal(jobstore_get_key(s, "t", "k1", id, sizeof(id)), ERR_OK);
	assert_string_equal(id, "cccc");
	assert_int_equal(jobstore_get_result(s, "cccc", &r, &fin), ERR_NOTFOUND);
	jobstore_close(&s);
	audit_store_destroy(&a);

	a = open_audit(false);
	assert_null(jobstore_attach(a, dir, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_INVAL);
	audit_store_destroy(&a);
	msg_destroy(&j);
}

/* An older broker's DIR/jobs is copied into the audit DB at the first
 * attach and renamed; nothing is lost and the next attach has nothing to
 * move. */
static void
test_legacy_store_migrated(void **state)
{
	enum err e;
	char why[256], id[65];
	struct jobstore *s = jobstore_open(dir, &e, why, sizeof(why));
	struct msg *j = job_msg("dddd"), *res = msg_new(MSG_RESULT), *r = NULL;
	struct audit_store *a;
	int64_t fin;
	(void)state;
	assert_non_null(s);
	for (int i = 0; i < 25000; i++) {	/* more than one migration batch */
		char k[32];
		snprintf(k, sizeof(k), "key%d", i);
		assert_int_equal(jobstore_put_key(s, "t", k, "dddd"), ERR_OK);
	}
	assert_int_equal(jobstore_put_job(s, "dddd", JOBSTORE_RUNNING, 7, j), ERR_OK);
	msg_set_str(res, MSG_F_ID, "eeee");
	msg_set_str(res, MSG_F_STATUS, "ok");
	assert_int_equal(jobstore_put_result(s, "eeee", res, true), ERR_OK);
	assert_int_equal(jobstore_commit(s, why, sizeof(why)), ERR_OK);
	jobstore_close(&s);

	a = open_audit(true);
	assert_non_null(s = jobstore_attach(a, dir, &e, why, sizeof(why)));
	assert_int_equal(entries("jobs.migrated-"), 1);
	assert_int_equal(entries("jobs"), 1);	/* the old copy only */
	seen = 0;
	assert_int_equal(jobstore_each_job(s, count_job, NULL), ERR_OK);
	assert_int_equal(seen, 1);
	assert_int_equal(last_state, JOBSTORE_RUNNING);
	assert_int_equal(jobstore_get_key(s, "t", "key24999", id, sizeof(id)), ERR_OK);
	assert_string_equal(id, "dddd");
	assert_int_equal(jobstore_get_result(s, "eeee", &r, &fin), ERR_OK);
	assert_string_equal(msg_str(r, MSG_F_STATUS, ""), "ok");
	msg_destroy(&r);
	jobstore_close(&s);
	audit_store_destroy(&a);

	a = open_audit(true);
	assert_non_null(s = jobstore_attach(a, dir, &e, why, sizeof(why)));
	assert_int_equal(entries("jobs.migrated-"), 1);
	assert_int_equal(jobstore_get_key(s, "t", "key0", id, sizeof(id)), ERR_OK);
	jobstore_close(&s);
	audit_store_destroy(&a);
	msg_destroy(&j);
	msg_destroy(&res);
}

/* Two batches joined into one (the committer's atomic round): every
 * operation of both, in order, and the count right. */
static void
test_batch_concat(void **state)
{
	char path[128], *err = NULL;
	rocksdb_options_t *o = rdb_options();
	rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	rocksdb_writebatch_t *a = rocksdb_writebatch_create(), *b = rocksdb_writebatch_create(), *ab;
	size_t vlen;
	char *v;
	(void)state;
	rocksdb_options_set_create_if_missing(o, 1);
	snprintf(path, sizeof(path), "%s/concat", dir);
	rocksdb_t *db = rocksdb_open(o, path, &err);
	assert_null(err);
	rocksdb_writebatch_put(a, "k1", 2, "a", 1);
	rocksdb_writebatch_put(a, "k2", 2, "a", 1);
	rocksdb_writebatch_put(b, "k2", 2, "b", 1);	/* b's put comes after a's */
	rocksdb_writebatch_delete(b, "k1", 2);
	rocksdb_writebatch_put(b, "k3", 2, "b", 1);
	assert_non_null(ab = rdb_batch_concat(a, b));
	assert_int_equal(rocksdb_writebatch_count(ab), 5);
	rocksdb_write(db, wo, ab, &err);
	assert_null(err);
	assert_null(rocksdb_get(db, ro, "k1", 2, &vlen, &err));
	v = rocksdb_get(db, ro, "k2", 2, &vlen, &err);
	assert_true(v != NULL && vlen == 1 && v[0] == 'b');
	rocksdb_free(v);
	v = rocksdb_get(db, ro, "k3", 2, &vlen, &err);
	assert_true(v != NULL && vlen == 1);
	rocksdb_free(v);
	rocksdb_writebatch_destroy(ab);
	rocksdb_writebatch_clear(b);	/* an empty side joins too */
	assert_non_null(ab = rdb_batch_concat(a, b));
	assert_int_equal(rocksdb_writebatch_count(ab), 2);
	rocksdb_writebatch_destroy(ab);
	rocksdb_writebatch_destroy(a);
	rocksdb_writebatch_destroy(b);
	rocksdb_close(db);
	rocksdb_readoptions_destroy(ro);
	rocksdb_writeoptions_destroy(wo);
	rocksdb_options_destroy(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_reopen_result_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_record_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attached_to_audit_db, setup, teardown),
		cmocka_unit_test_setup_teardown(test_legacy_store_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_concat, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
