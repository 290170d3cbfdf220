/* Unit tests for broker/queue: per-tenant fairness, priorities, requeue at
 * the front, removal, running limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "broker/queue.h"

static int items[64];

static void
test_fair_round_robin(void **state)
{
	struct queue *q = queue_new(0);
	char t[65];
	(void)state;
	assert_non_null(q);
	for (int i = 0; i < 10; i++)
		assert_true(queue_push(q, "big", 4, &items[i], false));
	assert_true(queue_push(q, "small", 4, &items[10], false));
	assert_int_equal(queue_size(q), 11);
	/* The small tenant's only job comes within the first two pops. */
	void *a = queue_pop(q, t, sizeof(t));
	void *b = queue_pop(q, t, sizeof(t));
	assert_true(a == &items[10] || b == &items[10]);
	assert_int_equal(queue_tenant_size(q, "big"), 9);
	queue_destroy(&q);
	assert_null(q);
}

static void
test_priority_and_front(void **state)
{
	struct queue *q = queue_new(0);
	char t[65];
	(void)state;
	queue_push(q, "a", 1, &items[0], false);
	queue_push(q, "a", 9, &items[1], false);
	queue_push(q, "a", 99, &items[2], false);	/* clamped to 9, after items[1] */
	queue_push(q, "a", 1, &items[3], true);		/* requeue: front of priority 1 */
	assert_ptr_equal(queue_pop(q, t, sizeof(t)), &items[1]);
	assert_string_equal(t, "a");
	assert_ptr_equal(queue_pop(q, t, sizeof(t)), &items[2]);
	assert_ptr_equal(queue_pop(q, t, sizeof(t)), &items[3]);
	assert_ptr_equal(queue_pop(q, t, sizeof(t)), &items[0]);
	assert_null(queue_pop(q, t, sizeof(t)));
	queue_destroy(&q);
}

static void
test_remove(void **state)
{
	struct queue *q = queue_new(0);
	char t[65];
	(void)state;
	queue_push(q, "a", 4, &items[0], false);
	queue_push(q, "a", 4, &items[1], false);
	assert_true(queue_remove(q, "a", 4, &items[0]));
	assert_false(queue_remove(q, "a", 4, &items[0]));	/* not queued any more */
	assert_false(queue_remove(q, "nobody", 4, &items[1]));
	assert_false(queue_remove(q, "a", 42, &items[1]));
	assert_int_equal(queue_size(q), 1);
	assert_ptr_equal(queue_pop(q, t, sizeof(t)), &items[1]);
	queue_destroy(&q);
}

static void
test_running_limit(void **state)
{
	struct queue *q = queue_new(1);
	char t[65];
	(void)state;
	queue_push(q, "a", 4, &items[0], false);
	queue_push(q, "a", 4, &items[1], false);
	assert_ptr_equal(queue_pop(q, t, sizeof(t)), &items[0]);
	assert_null(queue_pop(q, t, sizeof(t)));	/* tenant a at its limit */
	queue_done(q, "a");
	queue_done(q, "a");	/* never below zero */
	assert_ptr_equal(queue_pop(q, t, sizeof(t)), &items[1]);
	queue_done(q, "unknown");
	queue_destroy(&q);
	queue_destroy(&q);	/* NULL is fine */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fair_round_robin),
		cmocka_unit_test(test_priority_and_front),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_running_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
