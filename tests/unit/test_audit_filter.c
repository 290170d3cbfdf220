/* Unit tests for common/audit_filter: the details privacy filter and its memo
 * give exactly what privacy_scan gives, and only exact repeats hit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/audit.h"
#include "common/audit_filter.h"
#include "common/err.h"
#include "common/privacy.h"

/* Filters the canonical form of `json` into a fresh event; returns its
 * details text (a fresh copy, "" when the event got none). */
static char *
filtered(struct audit_filter *f, const char *json)
{
	struct audit_event ev;
	json_error_t jerr;
	json_t *obj = json_loads(json, 0, &jerr);
	char *txt, *out;

	assert_non_null(obj);
	assert_int_equal(audit_event_init(&ev, AUDIT_EXECUTION_END), ERR_OK);
	txt = audit_details_canonical(obj);
	assert_non_null(txt);
	audit_filter_details(f, &ev, &txt);
	assert_null(txt);
	out = strdup(ev.details ? ev.details : "");
	assert_non_null(out);
	audit_event_clear(&ev);
	json_decref(obj);
	return out;
}

/* What the broker stored before the memo: privacy_scan of the canonical text. */
static char *
scanned(const char *json)
{
	struct privacy_config pc = { .mode = PRIVACY_MODE_REDACT };
	struct privacy_result pr = { 0 };
	json_error_t jerr;
	json_t *obj = json_loads(json, 0, &jerr);
	char *txt = audit_details_canonical(obj), *out;

	assert_int_equal(privacy_scan(&pc, txt, strlen(txt), &pr), ERR_OK);
	out = strdup(pr.nfindings == 0 ? txt : pr.text);
	privacy_result_clear(&pr);
	free(txt);
	json_decref(obj);
	return out;
}

static void
check_same(struct audit_filter *f, const char *json)
{
	char *got = filtered(f, json), *want = scanned(json);

	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void
test_clean_text_hits_the_second_time(void **state)
{
	struct audit_filter *f = audit_filter_new();
	(void)state;

	assert_non_null(f);
	check_same(f, "{\"worker\":\"host-1\"}");
	assert_int_equal(audit_filter_hits(f), 0);
	check_same(f, "{\"worker\":\"host-1\"}");
	assert_int_equal(audit_filter_hits(f), 1);
	/* One byte different: scanned, not a hit. */
	check_same(f, "{\"worker\":\"host-2\"}");
	assert_int_equal(audit_filter_hits(f), 1);
	check_same(f, "{\"worker\":\"host-1\"}");
	assert_int_equal(audit_filter_hits(f), 2);
	audit_filter_destroy(&f);
	assert_null(f);
	audit_filter_destroy(&f);
}

static void
test_findings_are_redacted_every_time(void **state)
{
	struct audit_filter *f = audit_filter_new();
	const char *pii = "{\"reason\":\"mail alice.smith@example.com or call 415-555-0134\"}";
	char *got;
	(void)state;

	for (int i = 0; i < 3; i++) {
		got = filtered(f, pii);
		assert_null(strstr(got, "alice.smith@example.com"));
		assert_null(strstr(got, "555-0134"));
		free(got);
		check_same(f, pii);
	}
	assert_int_equal(audit_filter_hits(f), 0);
	audit_filter_destroy(&f);
}

static void
test_long_texts_are_always_scanned(void **state)
{
	struct audit_filter *f = audit_filter_new();
	char json[3000];
	(void)state;

	snprintf(json, sizeof(json), "{\"reason\":\"%02000d\"}", 7);
	check_same(f, json);
	check_same(f, json);
	assert_int_equal(audit_filter_hits(f), 0);
	audit_filter_destroy(&f);
}

/* Many distinct texts: slots are replaced, results stay exact. */
static void
test_many_texts(void **state)
{
	struct audit_filter *f = audit_filter_new();
	char json[64];
	(void)state;

	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 600; i++) {
			snprintf(json, sizeof(json), "{\"status\":\"ok\",\"n\":%d}", i);
			check_same(f, json);
		}
	assert_true(audit_filter_hits(f) > 0);
	assert_true(audit_filter_hits(f) < 600);
	audit_filter_destroy(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_text_hits_the_second_time),
		cmocka_unit_test(test_findings_are_redacted_every_time),
		cmocka_unit_test(test_long_texts_are_always_scanned),
		cmocka_unit_test(test_many_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
