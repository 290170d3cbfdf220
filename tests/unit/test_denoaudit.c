/*
 * Unit tests for worker/denoaudit: Deno permission-audit lines are cut out
 * of a stderr capture (also after a partial line of the job's own), paths
 * inside /work are told from denied ones outside it, net checks are kept,
 * duplicates fold, a line cut off by the output cap stays, garbage is
 * dropped without harm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker/denoaudit.h"

struct seen {
	char text[512];
};

static void
denied(void *arg, const char *kind, const char *value)
{
	struct seen *s = arg;
	size_t n = strlen(s->text);
	snprintf(s->text + n, sizeof(s->text) - n, "%s %s;", kind, value);
}

#define L(p, v) "{\"v\":1,\"datetime\":\"2026-01-01T00:00:00Z\",\"permission\":\"" p "\",\"value\":\"" v "\"}\n"

static void
test_take(void **state)
{
	static const char in[] =
	    "job says hi\n"
	    L("read", "/work/main.ts")
	    "partial " L("read", "/etc/passwd")
	    L("write", "./out.txt")
	    L("read", "/etc/passwd")
	    L("net", "127.0.0.1:9")
	    "{\"v\":1,\"datetime\":\"broken\n"
	    "bye\n"
	    L("read", "/work/cut-off");
	size_t len = sizeof(in) - 2;	/* the last line lost its newline to the cap */
	char *buf = malloc(len);
	struct denoaudit *da = denoaudit_new();
	struct seen s = { "" };

	(void)state;
	memcpy(buf, in, len);
	denoaudit_take(da, buf, &len, "/work");
	assert_int_equal(len, strlen("job says hi\npartial bye\n") +
	    strlen(L("read", "/work/cut-off")) - 1);
	assert_memory_equal(buf, "job says hi\npartial bye\n", 24);
	assert_true(denoaudit_saw(da, "main.ts"));
	assert_true(denoaudit_saw(da, "out.txt"));
	assert_false(denoaudit_saw(da, "cut-off"));
	assert_false(denoaudit_saw(da, "/etc/passwd"));
	denoaudit_each_denied(da, denied, &s);
	assert_string_equal(s.text, "read /etc/passwd;net 127.0.0.1:9;");
	free(buf);
	denoaudit_destroy(&da);
	assert_null(da);
	denoaudit_destroy(NULL);
}

static void
test_nothing(void **state)
{
	char buf[] = "plain output without audit lines\n";
	size_t len = strlen(buf);
	struct denoaudit *da = denoaudit_new();
	struct seen s = { "" };

	(void)state;
	denoaudit_take(da, buf, &len, "/work");
	assert_int_equal(len, strlen(buf));
	denoaudit_each_denied(da, denied, &s);
	assert_string_equal(s.text, "");
	denoaudit_destroy(&da);
}

static void
count_denied(void *arg, const char *kind, const char *value)
{
	(void)kind;
	(void)value;
	(*(int *)arg)++;
}

/* The table grows as lines come (it starts small) and stops at 256
 * distinct records: later ones are still cut from stderr, not kept. */
static void
test_many(void **state)
{
	size_t cap = 300 * 128, len = 0;
	char *buf = malloc(cap);
	struct denoaudit *da = denoaudit_new();
	int ndenied = 0;

	(void)state;
	for (int i = 0; i < 300; i++)
		len += (size_t)snprintf(buf + len, cap - len, "{\"v\":1,\"datetime\":\"x\","
		    "\"permission\":\"%s\",\"value\":\"/%s/f%d\"}\n", i % 2 ? "read" : "write",
		    i < 250 ? "work" : "etc", i);
	denoaudit_take(da, buf, &len, "/work");
	assert_int_equal(len, 0);
	assert_true(denoaudit_saw(da, "f0"));
	assert_true(denoaudit_saw(da, "f9"));	/* past the first growth */
	assert_true(denoaudit_saw(da, "f249"));
	denoaudit_each_denied(da, count_denied, &ndenied);
	assert_int_equal(ndenied, 6);		/* records 250..255: the table is full */
	free(buf);
	denoaudit_destroy(&da);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_nothing),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
