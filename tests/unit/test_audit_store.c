/* Unit tests for common/audit_store: chain across reopen, indexes, readers,
 * crash and failed-commit behaviour, checkpoints.  Real RocksDB in /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "common/audit_store.h"
#include "common/audit.h"
#include "common/err.h"

static char tmpdir[64];

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-audit-store-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static struct audit_store *
open_store(const struct audit_store_options *opt)
{
	char why[256];
	int err;
	struct audit_store *s = audit_store_open(tmpdir, opt, &err, why, sizeof(why));
	if (s == NULL)
		fail_msg("open: %s (%s)", why, err_str(err));
	return s;
}

static struct audit_store *
open_reader(void)
{
	char why[256];
	int err;
	struct audit_store *s = audit_store_open_reader(tmpdir, &err, why, sizeof(why));
	if (s == NULL)
		fail_msg("open reader: %s (%s)", why, err_str(err));
	return s;
}

/* Appends one event of `type` for job/session. */
static void
append(struct audit_store *s, enum audit_type type, const char *job, const char *session)
{
	struct audit_event ev;
	assert_int_equal(audit_event_init(&ev, type), ERR_OK);
	assert_int_equal(audit_event_set(&ev, "actor", "broker@test"), ERR_OK);
	assert_int_equal(audit_event_set(&ev, "job", job), ERR_OK);
	assert_int_equal(audit_event_set(&ev, "session", session), ERR_OK);
	assert_int_equal(audit_event_set_details(&ev, "{\"n\":1}", 7), ERR_OK);
	assert_int_equal(audit_store_append(s, &ev), ERR_OK);
	audit_event_clear(&ev);
}

/* Chain checker: every event links to the previous and hashes right. */
struct chain_walk {
	uint64_t n, last_seq;
	uint8_t prev[AUDIT_HASH_LEN];
	uint64_t seqs[64];
};

static int
walk(const struct audit_event *ev, void *arg)
{
	struct chain_walk *w = arg;
	uint8_t h[AUDIT_HASH_LEN];
	if (ev->seq != w->last_seq + 1 || memcmp(ev->prev_hash, w->prev, AUDIT_HASH_LEN) != 0)
		return -1;
	if (audit_event_compute_hash(ev, h) != ERR_OK || memcmp(h, ev->hash, AUDIT_HASH_LEN) != 0)
		return -2;
	memcpy(w->prev, ev->hash, AUDIT_HASH_LEN);
	w->last_seq = ev->seq;
	if (w->n < 64)
		w->seqs[w->n] = ev->seq;
	w->n++;
	return 0;
}

static int
collect(const struct audit_event *ev, void *arg)
{
	struct chain_walk *w = arg;
	if (w->n < 64)
		w->seqs[w->n] = ev->seq;
	w->n++;
	return 0;
}

static int
stop_at_two(const struct audit_event *ev, void *arg)
{
	uint64_t *n = arg;
	(void)ev;
	return ++*n == 2 ? 99 : 0;
}

static void
test_append_commit_reopen(void **state)
{
	struct audit_store *s = open_store(NULL);
	struct chain_walk w = { 0 };
	uint8_t h[AUDIT_HASH_LEN], h2[AUDIT_HASH_LEN];
	uint64_t seq;
	(void)state;
	for (int i = 0; i < 5; i++)
		append(s, AUDIT_EXECUTION_START, "j1", "s1");
	assert_int_equal(audit_store_pending(s), 5);
	assert_int_equal(audit_store_commit(s), ERR_OK);
	assert_int_equal(audit_store_pending(s), 0);
	assert_int_equal(audit_store_commit(s), ERR_OK);	/* empty: no-op */
	audit_store_head(s, &seq, h);
	assert_true(seq == 5);
	audit_store_destroy(&s);
	assert_null(s);
	audit_store_destroy(&s);

	s = open_store(NULL);
	audit_store_head(s, &seq, h2);
	assert_true(seq == 5);
	assert_memory_equal(h, h2, AUDIT_HASH_LEN);
	append(s, AUDIT_EXECUTION_END, "j1", "s1");
	assert_int_equal(audit_store_commit(s), ERR_OK);
	assert_int_equal(audit_store_scan_seq(s, 1, 0, walk, &w), ERR_OK);
	assert_true(w.n == 6 && w.last_seq == 6);
	/* a range and an early stop */
	memset(&w, 0, sizeof(w));
	w.last_seq = 2;
	struct audit_event ev;
	assert_int_equal(audit_store_get(s, 2, &ev), ERR_OK);
	memcpy(w.prev, ev.hash, AUDIT_HASH_LEN);
	audit_event_clear(&ev);
	assert_int_equal(audit_store_scan_seq(s, 3, 4, walk, &w), ERR_OK);
	assert_true(w.n == 2);
	uint64_t n = 0;
	assert_int_equal(audit_store_scan_seq(s, 1, 0, stop_at_two, &n), 99);
	assert_int_equal(audit_store_get(s, 77, &ev), ERR_NOTFOUND);
	audit_store_destroy(&s);

	/* key file is private */
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "%s/audit.key", tmpdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, AUDIT_SK_LEN);
}

static void
test_indexes(void **state)
{
	struct audit_store *s = open_store(NULL);
	struct chain_walk w = { 0 };
	(void)state;
	append(s, AUDIT_EXECUTION_START, "ja", "sx");	/* 1 */
	append(s, AUDIT_FILE_ACCESS, "jb", "sx");	/* 2 */
	append(s, AUDIT_FILE_ACCESS, "ja", "sy");	/* 3 */
	append(s, AUDIT_EXECUTION_END, "ja", "");	/* 4 */
	append(s, AUDIT_ERROR, "", "sx");		/* 5 */
	append(s, AUDIT_EXECUTION_START, "jab", "sx");	/* 6: prefix of no other */
	assert_int_equal(audit_store_commit(s), ERR_OK);

	assert_int_equal(audit_store_scan_job(s, "ja", collect, &w), ERR_OK);
	assert_true(w.n == 3 && w.seqs[0] == 1 && w.seqs[1] == 3 && w.seqs[2] == 4);
	memset(&w, 0, sizeof(w));
	assert_int_equal(audit_store_scan_session(s, "sx", collect, &w), ERR_OK);
	assert_true(w.n == 4 && w.seqs[0] == 1 && w.seqs[3] == 6);
	memset(&w, 0, sizeof(w));
	assert_int_equal(audit_store_scan_session(s, "nope", collect, &w), ERR_OK);
	assert_true(w.n == 0);
	assert_int_equal(audit_store_scan_job(s, "", collect, &w), ERR_INVAL);
	memset(&w, 0, sizeof(w));
	assert_int_equal(audit_store_scan_type(s, AUDIT_FILE_ACCESS, NULL, NULL, collect, &w), ERR_OK);
	assert_true(w.n == 2 && w.seqs[0] == 2 && w.seqs[1] == 3);
	memset(&w, 0, sizeof(w));
	assert_int_equal(audit_store_scan_time(s, "2000", "9999", collect, &w), ERR_OK);
	assert_true(w.n == 6);
	for (int i = 0; i < 6; i++)
		assert_true(w.seqs[i] == (uint64_t)i + 1);
	memset(&w, 0, sizeof(w));
	assert_int_equal(audit_store_scan_time(s, "2000", "2001", collect, &w), ERR_OK);
	assert_true(w.n == 0);
	/* exact time bounds: [t3, t5) gives 3 and 4 */
	struct audit_event e3, e5;
	assert_int_equal(audit_store_get(s, 3, &e3), ERR_OK);
	assert_int_equal(audit_store_get(s, 5, &e5), ERR_OK);
	memset(&w, 0, sizeof(w));
	assert_int_equal(audit_store_scan_time(s, e3.time, e5.time, collect, &w), ERR_OK);
	assert_true(w.n == 2 && w.seqs[0] == 3 && w.seqs[1] == 4);
	audit_event_clear(&e3);
	audit_event_clear(&e5);
	audit_store_destroy(&s);
}

static void
test_reader_while_writer_open(void **state)
{
	struct audit_store *s = open_store(NULL), *r;
	struct chain_walk w = { 0 };
	uint8_t h[AUDIT_HASH_LEN], pk1[AUDIT_PK_LEN], pk2[AUDIT_PK_LEN];
	uint64_t seq;
	(void)state;
	append(s, AUDIT_EXECUTION_START, "j", "s");
	append(s, AUDIT_EXECUTION_END, "j", "s");
	assert_int_equal(audit_store_commit(s), ERR_OK);
	r = open_reader();
	audit_store_head(r, &seq, h);
	assert_true(seq == 2);
	audit_store_public_key(s, pk1);
	audit_store_public_key(r, pk2);
	assert_memory_equal(pk1, pk2, AUDIT_PK_LEN);
	struct audit_event ev;
	assert_int_equal(audit_event_init(&ev, AUDIT_ERROR), ERR_OK);
	assert_int_equal(audit_store_append(r, &ev), ERR_DENIED);
	assert_int_equal(audit_store_commit(r), ERR_DENIED);
	/* more writes: the reader sees them after catching up (--follow) */
	append(s, AUDIT_ERROR, "j", "s");
	assert_int_equal(audit_store_commit(s), ERR_OK);
	assert_int_equal(audit_store_catch_up(r), ERR_OK);
	audit_store_head(r, &seq, h);
	assert_true(seq == 3);
	assert_int_equal(audit_store_scan_seq(r, 1, 0, walk, &w), ERR_OK);
	assert_true(w.n == 3);
	memset(&w, 0, sizeof(w));
	assert_int_equal(audit_store_scan_job(r, "j", collect, &w), ERR_OK);
	assert_true(w.n == 3);
	/* the reader can sign (key file readable here) */
	uint8_t sig[AUDIT_SIG_LEN];
	assert_int_equal(audit_store_sign(r, (const uint8_t *)"m", 1, sig), ERR_OK);
	assert_int_equal(crypto_sign_verify_detached(sig, (const uint8_t *)"m", 1, pk1), 0);
	audit_store_destroy(&r);
	audit_store_destroy(&s);
}

static void
test_reader_with_writer_child(void **state)
{
	int to_parent[2], to_child[2];
	char c;
	(void)state;
	assert_int_equal(pipe(to_parent), 0);
	assert_int_equal(pipe(to_child), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int err;
		struct audit_store *s = audit_store_open(tmpdir, NULL, &err, NULL, 0);
		if (s == NULL)
			_exit(3);
		for (int i = 0; i < 4; i++)
			append(s, AUDIT_NETWORK_ACCESS, "child", "cs");
		if (audit_store_commit(s) != ERR_OK)
			_exit(4);
		if (write(to_parent[1], "1", 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(5);
		append(s, AUDIT_NETWORK_ACCESS, "child", "cs");
		if (audit_store_commit(s) != ERR_OK)
			_exit(4);
		if (write(to_parent[1], "2", 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(5);
		audit_store_destroy(&s);
		_exit(0);
	}
	assert_int_equal(read(to_parent[0], &c, 1), 1);
	/* the writer in the child holds the DB lock: a second writer fails */
	int err;
	assert_null(audit_store_open(tmpdir, NULL, &err, NULL, 0));
	assert_int_equal(err, ERR_DB);
	struct audit_store *r = open_reader();
	struct chain_walk w = { 0 };
	assert_int_equal(audit_store_scan_seq(r, 1, 0, walk, &w), ERR_OK);
	assert_true(w.n == 4);
	assert_int_equal(write(to_child[1], "g", 1), 1);
	assert_int_equal(read(to_parent[0], &c, 1), 1);
	assert_int_equal(audit_store_catch_up(r), ERR_OK);
	memset(&w, 0, sizeof(w));
	assert_int_equal(audit_store_scan_session(r, "cs", collect, &w), ERR_OK);
	assert_true(w.n == 5);
	assert_int_equal(write(to_child[1], "g", 1), 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	audit_store_destroy(&r);
}

static void
test_crash_loses_only_uncommitted(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int err;
		struct audit_store *s = audit_store_open(tmpdir, NULL, &err, NULL, 0);
		if (s == NULL)
			_exit(3);
		for (int i = 0; i < 5; i++)
			append(s, AUDIT_FILE_ACCESS, "c", "c");
		if (audit_store_commit(s) != ERR_OK)
			_exit(4);
		for (int i = 0; i < 3; i++)
			append(s, AUDIT_FILE_ACCESS, "c", "c");
		_exit(0);	/* crash: no commit, no close */
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	struct audit_store *s = open_store(NULL);
	uint64_t seq;
	uint8_t h[AUDIT_HASH_LEN];
	audit_store_head(s, &seq, h);
	assert_true(seq == 5);
	append(s, AUDIT_FILE_ACCESS, "c", "c");
	assert_int_equal(audit_store_commit(s), ERR_OK);
	struct chain_walk w = { 0 };
	assert_int_equal(audit_store_scan_seq(s, 1, 0, walk, &w), ERR_OK);
	assert_true(w.n == 6 && w.last_seq == 6);
	audit_store_destroy(&s);
}

/* One committed event (its head in *seq/h), then two staged ones. */
static void
one_committed_two_staged(struct audit_store *s, const char *job, uint64_t *seq,
    uint8_t h[AUDIT_HASH_LEN])
{
	append(s, AUDIT_EXECUTION_START, job, job);
	assert_int_equal(audit_store_commit(s), ERR_OK);
	audit_store_head(s, seq, h);
	append(s, AUDIT_EXECUTION_END, job, job);
	append(s, AUDIT_EXECUTION_END, job, job);
}

static void
test_failed_commit_rolls_back(void **state)
{
	struct audit_store *s = open_store(NULL);
	struct audit_event ev;
	uint8_t h[AUDIT_HASH_LEN], h2[AUDIT_HASH_LEN];
	uint64_t seq;
	(void)state;
	one_committed_two_staged(s, "f", &seq, h);
	audit_store_fail_next_commit(s);
	assert_int_equal(audit_store_commit(s), ERR_DB);
	assert_int_equal(audit_store_pending(s), 0);
	audit_store_head(s, &seq, h2);
	assert_true(seq == 1);
	assert_memory_equal(h, h2, AUDIT_HASH_LEN);
	assert_int_equal(audit_store_get(s, 2, &ev), ERR_NOTFOUND);
	/* the next append reuses seq 2 and links to seq 1 */
	assert_int_equal(audit_event_init(&ev, AUDIT_ERROR), ERR_OK);
	assert_int_equal(audit_event_set(&ev, "actor", "broker@test"), ERR_OK);
	assert_int_equal(audit_store_append(s, &ev), ERR_OK);
	assert_true(ev.seq == 2);
	assert_memory_equal(ev.prev_hash, h, AUDIT_HASH_LEN);
	audit_event_clear(&ev);
	assert_int_equal(audit_store_commit(s), ERR_OK);
	struct chain_walk w = { 0 };
	assert_int_equal(audit_store_scan_seq(s, 1, 0, walk, &w), ERR_OK);
	assert_true(w.n == 2);
	/* an invalid event stages nothing */
	assert_int_equal(audit_event_init(&ev, AUDIT_ERROR), ERR_OK);	/* no actor */
	assert_int_not_equal(audit_store_append(s, &ev), ERR_OK);
	assert_int_equal(audit_store_pending(s), 0);
	audit_store_destroy(&s);
}

/* audit_store_discard: staged events vanish, the chain goes on from the
 * sealed batch when one is pending, else from the committed head. */
static void
test_discard_staged(void **state)
{
	struct audit_store *s = open_store(NULL);
	struct audit_event ev;
	uint8_t h[AUDIT_HASH_LEN];
	uint64_t seq;
	(void)state;
	one_committed_two_staged(s, "d", &seq, h);
	audit_store_discard(s);
	assert_int_equal(audit_store_pending(s), 0);
	assert_int_equal(audit_store_commit(s), ERR_OK);	/* nothing to write */
	assert_int_equal(audit_store_get(s, 2, &ev), ERR_NOTFOUND);
	/* with a sealed batch pending: discard keeps it, drops what came after */
	append(s, AUDIT_EXECUTION_END, "d", "d");		/* seq 2, sealed */
	assert_int_equal(audit_store_seal(s), ERR_OK);
	append(s, AUDIT_ERROR, "d", "d");			/* seq 3, discarded */
	audit_store_discard(s);
	assert_int_equal(audit_store_write_sealed(s, NULL), ERR_OK);
	audit_store_sealed_done(s, ERR_OK);
	append(s, AUDIT_ERROR, "d", "d");			/* seq 3 again, after 2 */
	assert_int_equal(audit_store_commit(s), ERR_OK);
	audit_store_head(s, &seq, h);
	assert_true(seq == 3);
	struct chain_walk w = { 0 };
	assert_int_equal(audit_store_scan_seq(s, 1, 0, walk, &w), ERR_OK);
	assert_true(w.n == 3);
	audit_store_discard(s);					/* nothing staged: no-op */
	assert_int_equal(audit_store_pending(s), 0);
	audit_store_destroy(&s);
}

static void
test_batch_bound(void **state)
{
	struct audit_store_options o = { .max_pending = 3 };
	struct audit_store *s = open_store(&o);
	struct audit_event ev;
	(void)state;
	for (int i = 0; i < 3; i++)
		append(s, AUDIT_ERROR, "b", "b");
	assert_int_equal(audit_event_init(&ev, AUDIT_ERROR), ERR_OK);
	assert_int_equal(audit_event_set(&ev, "actor", "broker@test"), ERR_OK);
	assert_int_equal(audit_store_append(s, &ev), ERR_BUSY);
	assert_int_equal(audit_store_commit(s), ERR_OK);
	assert_int_equal(audit_store_append(s, &ev), ERR_OK);
	assert_true(ev.seq == 4);
	assert_int_equal(audit_store_commit(s), ERR_OK);
	audit_store_destroy(&s);
}

static void
test_checkpoints(void **state)
{
	struct audit_store_options o = { .checkpoint_every = 4 };
	struct audit_store *s = open_store(&o);
	struct audit_checkpoint cp;
	struct audit_event ev;
	uint8_t pk[AUDIT_PK_LEN];
	(void)state;
	for (int i = 0; i < 10; i++)
		append(s, AUDIT_RISK_ASSESSMENT, "k", "k");
	assert_int_equal(audit_store_checkpoint_find(s, 1, &cp), ERR_NOTFOUND); /* uncommitted */
	assert_int_equal(audit_store_commit(s), ERR_OK);
	audit_store_public_key(s, pk);
	assert_int_equal(audit_store_checkpoint_find(s, 1, &cp), ERR_OK);
	assert_true(cp.seq == 4);
	assert_true(audit_checkpoint_verify(&cp, pk));
	assert_int_equal(audit_store_get(s, 4, &ev), ERR_OK);
	assert_memory_equal(cp.hash, ev.hash, AUDIT_HASH_LEN);
	audit_event_clear(&ev);
	assert_int_equal(audit_store_checkpoint_find(s, 5, &cp), ERR_OK);
	assert_true(cp.seq == 8);
	assert_true(audit_checkpoint_verify(&cp, pk));
	cp.hash[0] ^= 1;
	assert_false(audit_checkpoint_verify(&cp, pk));
	assert_int_equal(audit_store_checkpoint_find(s, 9, &cp), ERR_NOTFOUND);
	audit_store_destroy(&s);
	/* time-based: a commit 1 s after the last checkpoint signs the head */
	o.checkpoint_every = 1000;
	o.checkpoint_secs = 1;
	s = open_store(&o);
	sleep(2);
	append(s, AUDIT_RISK_ASSESSMENT, "k", "k");
	assert_int_equal(audit_store_commit(s), ERR_OK);
	assert_int_equal(audit_store_checkpoint_find(s, 9, &cp), ERR_OK);
	assert_true(cp.seq == 11);
	assert_true(audit_checkpoint_verify(&cp, pk));
	audit_store_destroy(&s);
}

static void
test_key_mismatch_refused(void **state)
{
	struct audit_store *s = open_store(NULL);
	char path[128], why[256];
	uint8_t pk[AUDIT_PK_LEN], sk[AUDIT_SK_LEN];
	int err;
	FILE *f;
	(void)state;
	audit_store_destroy(&s);
	snprintf(path, sizeof(path), "%s/audit.key", tmpdir);
	crypto_sign_keypair(pk, sk);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(sk, 1, sizeof(sk), f), sizeof(sk));
	fclose(f);
	sodium_memzero(sk, sizeof(sk));
	assert_null(audit_store_open(tmpdir, NULL, &err, why, sizeof(why)));
	assert_int_equal(err, ERR_CRYPTO);
	assert_non_null(strstr(why, "audit.key"));
	/* a truncated key file */
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
	assert_null(audit_store_open(tmpdir, NULL, &err, why, sizeof(why)));
	assert_int_equal(err, ERR_CRYPTO);
	/* no store at all: the reader fails cleanly */
	assert_null(audit_store_open_reader("/tmp/does-not-exist-sluice", &err, why, sizeof(why)));
	assert_int_equal(err, ERR_DB);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_commit_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discard_staged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indexes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_while_writer_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_with_writer_child, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_loses_only_uncommitted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_commit_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_mismatch_refused, setup, teardown),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
