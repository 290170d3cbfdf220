/* Unit tests for common/err and common/log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

static void
test_err_every_value_named(void **state)
{
	(void)state;
	for (int e = 0; e < ERR__COUNT; e++) {
		assert_string_not_equal(err_str(e), "unknown error");
		assert_string_not_equal(err_name(e), "unknown");
	}
	assert_string_equal(err_str(-1), "unknown error");
	assert_string_equal(err_str(ERR__COUNT), "unknown error");
	assert_string_equal(err_name(ERR_BUSY), "busy");
}

static void
test_log_escape(void **state)
{
	char out[16];
	(void)state;
	assert_string_equal(log_escape(out, sizeof(out), "ab\n\x01", 4), "ab\\x0a\\x01");
	log_escape(out, sizeof(out), "0123456789abcdefghijkl", 22);
	assert_true(strlen(out) < sizeof(out));
	assert_non_null(strstr(out, "..."));
	log_escape(out, sizeof(out), "", 0);
	assert_string_equal(out, "");
}

static void
test_log_parse_level(void **state)
{
	enum log_level l;
	(void)state;
	assert_true(log_parse_level("debug", &l));
	assert_int_equal(l, LOG_LEVEL_DEBUG);
	assert_false(log_parse_level("loud", &l));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_every_value_named),
		cmocka_unit_test(test_log_escape),
		cmocka_unit_test(test_log_parse_level),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
