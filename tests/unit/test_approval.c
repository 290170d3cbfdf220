/*
 * Unit tests for worker/approval: a tool thread asks and waits, the poll
 * side sends and decides (here the test thread plays the poll thread).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "worker/approval.h"

struct asker {
	struct approval *a;
	int64_t deadline_ms;
	volatile int stop;
	enum err result;
	char why[256];
};

static void *
ask_main(void *arg)
{
	struct asker *k = arg;
	k->result = approval_ask(k->a, "0123456789abcdef0123456789abcdef", "s1", "memory.delete_entities",
	    "{\"entityNames\":[\"carol\"]}", k->deadline_ms, &k->stop, k->why, sizeof(k->why));
	return NULL;
}

struct seen {
	char id[65], tool[201], session[129], summary[128];
	int n;
	bool accept;
};

static bool
take(void *arg, const struct approval_question *q)
{
	struct seen *s = arg;
	s->n++;
	snprintf(s->id, sizeof(s->id), "%s", q->id);
	snprintf(s->tool, sizeof(s->tool), "%s", q->tool);
	snprintf(s->session, sizeof(s->session), "%s", q->session);
	snprintf(s->summary, sizeof(s->summary), "%s", q->summary);
	return s->accept;
}

static int64_t
wall_ms(void)
{
	return util_wall_ns() / 1000000;
}

/* Starts an asker and waits until its question is in the table. */
static void
start(struct asker *k, struct approval *a, int64_t in_ms, pthread_t *t)
{
	memset(k, 0, sizeof(*k));
	k->a = a;
	k->deadline_ms = wall_ms() + in_ms;
	assert_int_equal(pthread_create(t, NULL, ask_main, k), 0);
	for (int i = 0; i < 200 && approval_waiting(a) == 0; i++)
		usleep(5000);
	assert_int_equal(approval_waiting(a), 1);
}

static void
test_approve(void **state)
{
	struct approval *a = approval_new();
	struct asker k;
	struct seen s = { .accept = true };
	pthread_t t;

	(void)state;
	start(&k, a, 10000, &t);
	approval_take_new(a, take, &s);
	approval_take_new(a, take, &s);		/* sent once only */
	assert_int_equal(s.n, 1);
	assert_string_equal(s.id, "0123456789abcdef0123456789abcdef.t1");
	assert_string_equal(s.tool, "memory.delete_entities");
	assert_string_equal(s.session, "s1");
	assert_string_equal(s.summary, "{\"entityNames\":[\"carol\"]}");
	assert_false(approval_decide(a, "0123456789abcdef0123456789abcdef.t9", "approve", "x", "y"));
	assert_true(approval_decide(a, s.id, "approve", "alice@h", "ok"));
	pthread_join(t, NULL);
	assert_int_equal(k.result, ERR_OK);
	assert_int_equal(approval_waiting(a), 0);
	assert_false(approval_decide(a, s.id, "approve", "alice@h", "again"));	/* answered */
	approval_destroy(&a);
	assert_null(a);
}

static void
test_deny_and_resend(void **state)
{
	struct approval *a = approval_new();
	struct asker k;
	struct seen s = { .accept = false };
	pthread_t t;

	(void)state;
	start(&k, a, 10000, &t);
	approval_take_new(a, take, &s);		/* the send failed: kept */
	s.accept = true;
	approval_take_new(a, take, &s);
	assert_int_equal(s.n, 2);
	approval_resend_all(a);			/* a reconnect: sent again */
	approval_take_new(a, take, &s);
	assert_int_equal(s.n, 3);
	assert_true(approval_decide(a, s.id, "deny", "bob@h", "keep carol"));
	pthread_join(t, NULL);
	assert_int_equal(k.result, ERR_DENIED);
	assert_string_equal(k.why, "denied by bob@h: keep carol");
	approval_destroy(&a);
}

static void
test_deadline_and_stop(void **state)
{
	struct approval *a = approval_new();
	struct asker k;
	pthread_t t;
	int64_t t0 = wall_ms();

	(void)state;
	start(&k, a, 300, &t);
	pthread_join(t, NULL);
	assert_int_equal(k.result, ERR_TIMEOUT);
	assert_true(wall_ms() - t0 >= 290);
	assert_non_null(strstr(k.why, "fail closed"));

	start(&k, a, 60000, &t);
	k.stop = 1;
	pthread_join(t, NULL);
	assert_int_equal(k.result, ERR_SHUTDOWN);
	assert_int_equal(approval_waiting(a), 0);
	approval_destroy(&a);
	approval_destroy(&a);			/* NULL is fine */
}

static void
test_full_table_is_busy(void **state)
{
	struct approval *a = approval_new();
	static struct asker k[APPROVAL_PENDING_MAX];
	static pthread_t t[APPROVAL_PENDING_MAX];
	char why[128];

	(void)state;
	for (int i = 0; i < APPROVAL_PENDING_MAX; i++) {
		k[i].a = a;
		k[i].deadline_ms = wall_ms() + 60000;
		assert_int_equal(pthread_create(&t[i], NULL, ask_main, &k[i]), 0);
	}
	for (int i = 0; i < 400 && approval_waiting(a) < APPROVAL_PENDING_MAX; i++)
		usleep(5000);
	assert_int_equal(approval_waiting(a), APPROVAL_PENDING_MAX);
	assert_int_equal(approval_ask(a, "j", "", "x.y", "{}", wall_ms() + 1000, NULL, why, sizeof(why)),
	    ERR_BUSY);
	for (int i = 0; i < APPROVAL_PENDING_MAX; i++)
		k[i].stop = 1;
	for (int i = 0; i < APPROVAL_PENDING_MAX; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(k[i].result, ERR_SHUTDOWN);
	}
	approval_destroy(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_approve),
		cmocka_unit_test(test_deny_and_resend),
		cmocka_unit_test(test_deadline_and_stop),
		cmocka_unit_test(test_full_table_is_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
