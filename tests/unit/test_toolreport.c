/*
 * Unit tests for worker/toolreport: the per-job tally of tool calls and its
 * wire form (decoded back with common/mpjson).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mpjson.h"
#include "worker/toolreport.h"

static json_t *
packed(const struct toolreport *tr)
{
	unsigned char *p;
	size_t len;
	assert_int_equal(toolreport_pack(tr, &p, &len), ERR_OK);
	json_t *j = mpjson_decode(p, len);
	free(p);
	assert_non_null(j);
	return j;
}

static void
test_tally(void **state)
{
	struct toolreport *tr = toolreport_new();
	json_t *j, *e;

	(void)state;
	assert_non_null(tr);
	j = packed(tr);
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);
	toolreport_add(tr, "memory", "search_nodes", true, 100, 2000, 12);
	toolreport_add(tr, "memory", "create_entities", true, 5000, 300, 40);
	toolreport_add(tr, "memory", "search_nodes", false, 90, 80, -3);	/* negative ms ignored */
	toolreport_add(tr, "", "nodots", false, 10, 20, 1);			/* unparsed name */
	assert_int_equal(toolreport_count(tr), 3);
	j = packed(tr);
	assert_int_equal(json_array_size(j), 3);
	e = json_array_get(j, 0);	/* first-call order */
	assert_string_equal(json_string_value(json_object_get(e, "tool")), "memory.search_nodes");
	assert_int_equal(json_integer_value(json_object_get(e, "calls")), 2);
	assert_int_equal(json_integer_value(json_object_get(e, "errors")), 1);
	assert_int_equal(json_integer_value(json_object_get(e, "bytes_in")), 190);
	assert_int_equal(json_integer_value(json_object_get(e, "bytes_out")), 2080);
	assert_int_equal(json_integer_value(json_object_get(e, "ms")), 12);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 2), "tool")), "nodots");
	json_decref(j);
	toolreport_destroy(&tr);
	assert_null(tr);
	toolreport_destroy(&tr);
}

static void
test_bounded(void **state)
{
	struct toolreport *tr = toolreport_new();
	char name[400];
	json_t *j, *last;

	(void)state;
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	toolreport_add(tr, "s", name, true, 1, 1, 1);		/* a hostile long name is cut */
	for (int i = 0; i < 100; i++) {
		char t[16];
		snprintf(t, sizeof(t), "t%d", i);
		toolreport_add(tr, "s", t, true, 1, 1, 1);
	}
	assert_int_equal(toolreport_count(tr), TOOLREPORT_TOOLS + 1);
	j = packed(tr);
	assert_int_equal(strlen(json_string_value(json_object_get(json_array_get(j, 0), "tool"))),
	    TOOLREPORT_NAME_MAX);
	last = json_array_get(j, TOOLREPORT_TOOLS);
	assert_string_equal(json_string_value(json_object_get(last, "tool")), "(other)");
	assert_int_equal(json_integer_value(json_object_get(last, "calls")), 101 - TOOLREPORT_TOOLS);
	json_decref(j);
	toolreport_destroy(&tr);
}

/* A name longer than the report keeps is cut before a whole character:
 * the report reaches the client as JSON (a cut mid-character showed as
 * U+FFFD there). */
static void
test_name_cut_whole(void **state)
{
	struct toolreport *tr = toolreport_new();
	char tool[400];
	size_t n = 0;
	json_t *j;
	const char *name;

	(void)state;
	assert_non_null(tr);
	tool[n++] = 'y';
	while (n < 300) {
		tool[n++] = (char)0xc3;
		tool[n++] = (char)0xa9;	/* é */
	}
	tool[n] = '\0';
	toolreport_add(tr, "x", tool, true, 1, 1, 1);	/* "x.y" + é...: byte 128 is mid-é */
	j = packed(tr);
	name = json_string_value(json_object_get(json_array_get(j, 0), "tool"));
	assert_non_null(name);
	assert_int_equal(strlen(name), TOOLREPORT_NAME_MAX - 1);
	json_t *v = json_string(name);	/* NULL for invalid UTF-8 */
	assert_non_null(v);
	json_decref(v);
	json_decref(j);
	toolreport_destroy(&tr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tally),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_name_cut_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
