/* Unit tests for broker/committer and the two-step commits it drives
 * (audit_store_seal/write_sealed/sealed_done, jobstore_seal/write_sealed):
 * a round written on the commit thread while the next one is staged, the
 * result and the eventfd, a failed audit write that keeps the job store
 * batch from being written, and durability across a reopen.  Real RocksDB
 * in /tmp, a real thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/committer.h"
#include "broker/jobstore.h"
#include "common/audit.h"
#include "common/audit_store.h"
#include "common/msg.h"

static char dir[64];

/* Each test gets a fresh directory, both stores and a committer. */
struct fixture {
	struct audit_store *a;
	struct jobstore *j;
	struct committer *c;
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{ (void)st; (void)flag; (void)ftw; return remove(path); }

static struct audit_store *
open_audit(void)
{
	char adir[128], why[256];
	int err;
	struct audit_store *s;

	/* the broker's layout: the job store is a family of the audit DB */
	struct audit_store_options o = { .extra_cf = "jobs", .extra_cf_opts = jobstore_cf_options() };
	snprintf(adir, sizeof(adir), "%s/audit", dir);
	if ((s = audit_store_open(adir, &o, &err, why, sizeof(why))) == NULL)
		fail_msg("audit open: %s", why);
	return s;
}

static struct jobstore *
open_jobs(struct audit_store *a)
{
	char why[256];
	enum err e;
	struct jobstore *s = jobstore_attach(a, dir, &e, why, sizeof(why));

	if (s == NULL)
		fail_msg("jobstore open: %s", why);
	return s;
}

static int
setup(void **state)
{
	static struct fixture f;

	snprintf(dir, sizeof(dir), "/tmp/sluice-committer.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	f.a = open_audit();
	f.j = open_jobs(f.a);
	f.c = committer_new(f.a, f.j);
	*state = &f;
	return f.c == NULL;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	committer_destroy(&f->c);
	jobstore_close(&f->j);
	audit_store_destroy(&f->a);
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
append(struct audit_store *s, const char *job)
{
	struct audit_event ev;

	assert_int_equal(audit_event_init(&ev, AUDIT_EXECUTION_END), ERR_OK);
	assert_int_equal(audit_event_set(&ev, "actor", "broker@test"), ERR_OK);
	assert_int_equal(audit_event_set(&ev, "job", job), ERR_OK);
	assert_int_equal(audit_store_append(s, &ev), ERR_OK);
	audit_event_clear(&ev);
}

static void
put_result(struct jobstore *s, const char *id)
{
	struct msg *r = msg_new(MSG_RESULT);

	msg_set_str(r, MSG_F_ID, id);
	msg_set_str(r, MSG_F_STATUS, "ok");
	assert_int_equal(jobstore_put_result(s, id, r, true), ERR_OK);
	msg_destroy(&r);
}

static bool
has_result(struct jobstore *s, const char *id)
{
	struct msg *r = NULL;
	enum err e = jobstore_get_result(s, id, &r, NULL);

	msg_destroy(&r);
	return e == ERR_OK;
}

/* One round in flight while the next is staged; both become durable. */
static void
test_pipelined_rounds(void **state)
{
	struct fixture *f = *state;
	struct audit_store *a = f->a;
	struct jobstore *j = f->j;
	struct committer *c = f->c;
	uint8_t h[AUDIT_HASH_LEN];
	uint64_t seq;

	assert_false(committer_is_busy(c));
	assert_int_equal(committer_finish(c), ERR_OK);	/* nothing in flight */
	append(a, "j1");
	append(a, "j1");
	put_result(j, "r1");
	assert_int_equal(audit_store_seal(a), ERR_OK);
	assert_int_equal(jobstore_seal(j), ERR_OK);
	assert_int_equal(audit_store_seal(a), ERR_BUSY);	/* one sealed batch at a time */
	assert_int_equal(committer_start(c), ERR_OK);
	assert_true(committer_is_busy(c));
	assert_int_equal(committer_start(c), ERR_BUSY);
	/* the next round is staged while the first one is written */
	append(a, "j2");
	put_result(j, "r2");
	assert_int_equal(audit_store_pending(a), 1);
	assert_int_equal(jobstore_seal(j), ERR_BUSY);
	struct pollfd pf = { committer_fd(c), POLLIN, 0 };
	assert_int_equal(poll(&pf, 1, 10000), 1);	/* the eventfd says: written */
	assert_true(committer_is_done(c));
	assert_int_equal(committer_finish(c), ERR_OK);
	assert_false(committer_is_busy(c));
	audit_store_head(a, &seq, h);
	assert_true(seq == 2);
	assert_true(has_result(j, "r1"));
	assert_false(has_result(j, "r2"));
	assert_int_equal(audit_store_pending(a), 1);
	/* second round: chained to the first */
	assert_int_equal(audit_store_seal(a), ERR_OK);
	assert_int_equal(jobstore_seal(j), ERR_OK);
	assert_int_equal(committer_start(c), ERR_OK);
	assert_int_equal(committer_finish(c), ERR_OK);
	audit_store_head(a, &seq, h);
	assert_true(seq == 3);
	assert_true(has_result(j, "r2"));
	committer_destroy(&f->c);
	assert_null(f->c);
	committer_destroy(&f->c);	/* NULL-safe */
	jobstore_close(&f->j);
	audit_store_destroy(&f->a);

	/* durable: a reopen sees both rounds, the chain verifies */
	f->a = open_audit();
	f->j = open_jobs(f->a);
	audit_store_head(f->a, &seq, h);
	assert_true(seq == 3);
	assert_true(has_result(f->j, "r1") && has_result(f->j, "r2"));
}

/* A failed audit write fails the round: the job store batch is not written,
 * the events staged since the seal are dropped, the head stays. */
static void
test_failed_audit_write(void **state)
{
	struct fixture *f = *state;
	struct audit_store *a = f->a;
	struct jobstore *j = f->j;
	struct committer *c = f->c;
	struct audit_event ev;
	uint8_t h[AUDIT_HASH_LEN], h2[AUDIT_HASH_LEN];
	uint64_t seq;

	append(a, "ok");
	assert_int_equal(audit_store_commit(a), ERR_OK);
	audit_store_head(a, &seq, h);
	append(a, "lost");
	put_result(j, "lost");
	audit_store_fail_next_commit(a);
	assert_int_equal(audit_store_seal(a), ERR_OK);
	assert_int_equal(jobstore_seal(j), ERR_OK);
	assert_int_equal(committer_start(c), ERR_OK);
	append(a, "after");	/* chains to the lost event */
	assert_int_equal(committer_finish(c), ERR_DB);
	assert_int_equal(audit_store_pending(a), 0);
	audit_store_head(a, &seq, h2);
	assert_true(seq == 1);
	assert_memory_equal(h, h2, AUDIT_HASH_LEN);
	assert_false(has_result(j, "lost"));
	assert_int_equal(jobstore_pending(j), 0);
	/* the store goes on from the committed head */
	assert_int_equal(audit_event_init(&ev, AUDIT_ERROR), ERR_OK);
	assert_int_equal(audit_event_set(&ev, "actor", "broker@test"), ERR_OK);
	assert_int_equal(audit_store_append(a, &ev), ERR_OK);
	assert_true(ev.seq == 2);
	assert_memory_equal(ev.prev_hash, h, AUDIT_HASH_LEN);
	audit_event_clear(&ev);
	assert_int_equal(audit_store_commit(a), ERR_OK);
}

/* Audit only (jobs NULL), as bench_audit uses it; destroy waits for a round. */
static void
test_audit_only(void **state)
{
	struct fixture *f = *state;
	struct audit_store *a = f->a;
	uint8_t h[AUDIT_HASH_LEN];
	uint64_t seq;

	committer_destroy(&f->c);
	f->c = committer_new(a, NULL);
	assert_non_null(f->c);
	for (int i = 0; i < 100; i++)
		append(a, "bulk");
	assert_int_equal(audit_store_seal(a), ERR_OK);
	assert_int_equal(committer_start(f->c), ERR_OK);
	committer_destroy(&f->c);	/* finishes the round first */
	audit_store_head(a, &seq, h);
	assert_true(seq == 100);
	assert_int_equal(audit_store_seal(a), ERR_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pipelined_rounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_audit_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_only, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
