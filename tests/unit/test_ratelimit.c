/* Unit tests for broker/ratelimit: the token bucket under an injected clock
 * (burst, refill, retry_ms, no overflow after a long idle time), and the
 * per-tenant table (independent tenants, limiting off, bounded table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "broker/ratelimit.h"

static void
test_bucket_burst_then_rate(void **state)
{
	struct ratelimit_bucket b;
	uint32_t retry = 0;
	(void)state;

	ratelimit_bucket_init(&b, 3, 1000);
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_bucket_take(&b, 2, 3, 1000, &retry));
	/* Empty: at 2 tokens/s the next one is 500 ms away. */
	assert_false(ratelimit_bucket_take(&b, 2, 3, 1000, &retry));
	assert_int_equal(retry, 500);
	/* 200 ms later: 0.4 token, 300 ms to go. */
	assert_false(ratelimit_bucket_take(&b, 2, 3, 1200, &retry));
	assert_int_equal(retry, 300);
	assert_true(ratelimit_bucket_take(&b, 2, 3, 1500, &retry));
	assert_false(ratelimit_bucket_take(&b, 2, 3, 1500, &retry));
	assert_int_equal(retry, 500);
}

static void
test_bucket_refill_capped_at_burst(void **state)
{
	struct ratelimit_bucket b;
	uint32_t retry = 0;
	int took = 0;
	(void)state;

	ratelimit_bucket_init(&b, 5, 0);
	for (int i = 0; i < 5; i++)
		assert_true(ratelimit_bucket_take(&b, 1000000, 5, 0, &retry));
	/* A day idle at a high rate: back to exactly `burst`, no overflow. */
	while (ratelimit_bucket_take(&b, 1000000, 5, 86400000, &retry))
		took++;
	assert_int_equal(took, 5);
	assert_int_equal(retry, 1);	/* a thousandth of a token at 1e6/s: under 1 ms, reported as 1 */
}

static void
test_bucket_clock_backwards(void **state)
{
	struct ratelimit_bucket b;
	uint32_t retry = 0;
	(void)state;

	ratelimit_bucket_init(&b, 1, 5000);
	assert_true(ratelimit_bucket_take(&b, 1, 1, 5000, &retry));
	/* An earlier time adds nothing (and does not wrap). */
	assert_false(ratelimit_bucket_take(&b, 1, 1, 4000, &retry));
	assert_int_equal(retry, 1000);
	assert_true(ratelimit_bucket_take(&b, 1, 1, 6000, &retry));
}

static void
test_tenants_independent(void **state)
{
	struct ratelimit *r = ratelimit_new(10, 2);
	uint32_t retry = 0;
	(void)state;

	assert_non_null(r);
	assert_true(ratelimit_take(r, "a", 0, &retry));
	assert_true(ratelimit_take(r, "a", 0, &retry));
	assert_false(ratelimit_take(r, "a", 0, &retry));
	assert_int_equal(retry, 100);
	/* Tenant b is not affected by a's flood. */
	assert_true(ratelimit_take(r, "b", 0, &retry));
	assert_int_equal(ratelimit_tenants(r), 2);
	assert_true(ratelimit_take(r, "a", 100, &retry));
	ratelimit_destroy(&r);
	assert_null(r);
	ratelimit_destroy(&r);	/* accepts NULL */
}

static void
test_off_and_default_burst(void **state)
{
	struct ratelimit *off = ratelimit_new(0, 0), *r = ratelimit_new(3, 0);
	uint32_t retry = 0;
	(void)state;

	for (int i = 0; i < 10000; i++)
		assert_true(ratelimit_take(off, "t", 0, &retry));
	assert_int_equal(ratelimit_tenants(off), 0);
	/* burst 0 means burst = rate. */
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_take(r, "t", 0, &retry));
	assert_false(ratelimit_take(r, "t", 0, &retry));
	assert_int_equal(retry, 334);
	ratelimit_destroy(&off);
	ratelimit_destroy(&r);
}

static void
test_table_bounded(void **state)
{
	struct ratelimit *r = ratelimit_new(1, 1);
	uint32_t retry = 0;
	char t[32];
	(void)state;

	/* Fill the table with active (empty-bucket) tenants. */
	for (int i = 0; i < RATELIMIT_TENANTS_MAX; i++) {
		snprintf(t, sizeof(t), "t%d", i);
		assert_true(ratelimit_take(r, t, 0, &retry));
	}
	assert_int_equal(ratelimit_tenants(r), RATELIMIT_TENANTS_MAX);
	/* A new tenant now is refused rather than the table grown ... */
	assert_false(ratelimit_take(r, "new", 10, &retry));
	assert_int_equal(retry, 1000);
	assert_int_equal(ratelimit_tenants(r), RATELIMIT_TENANTS_MAX);
	/* ... until the others have refilled: their buckets are dropped. */
	assert_true(ratelimit_take(r, "new", 1000, &retry));
	assert_int_equal(ratelimit_tenants(r), 1);
	ratelimit_destroy(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_burst_then_rate),
		cmocka_unit_test(test_bucket_refill_capped_at_burst),
		cmocka_unit_test(test_bucket_clock_backwards),
		cmocka_unit_test(test_tenants_independent),
		cmocka_unit_test(test_off_and_default_burst),
		cmocka_unit_test(test_table_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
