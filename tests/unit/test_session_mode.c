/* Unit tests for broker/session_mode: the deployment's allow-list and
 * default, sticky modes per (tenant, session), expiry and the bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "broker/session_mode.h"
#include "common/err.h"

#define TTL 1000

static struct session_mode *
new_default(void)
{
	struct session_mode *sm = session_mode_new(PRIVACY_MODES_DEFAULT, PRIVACY_MODE_REDACT, 4, TTL);
	assert_non_null(sm);
	return sm;
}

static int
resolve(struct session_mode *sm, const char *tenant, const char *session, const char *asked,
    int64_t now, enum privacy_mode *out)
{
	char why[256] = "";
	int rc = session_mode_resolve(sm, tenant, session, asked, now, out, why, sizeof(why));
	if (rc != ERR_OK)
		assert_true(strlen(why) > 10);	/* a reason for the client */
	return rc;
}

static void
test_new_checks(void **state)
{
	struct session_mode *sm;

	(void)state;
	/* The default must be allowed; a bound and a TTL are required. */
	assert_null(session_mode_new(PRIVACY_MODE_BIT(PRIVACY_MODE_HASH), PRIVACY_MODE_REDACT, 4, TTL));
	assert_null(session_mode_new(PRIVACY_MODES_DEFAULT, PRIVACY_MODE_REPORT, 4, TTL));
	assert_null(session_mode_new(PRIVACY_MODES_DEFAULT, PRIVACY_MODE_REDACT, 0, TTL));
	assert_null(session_mode_new(PRIVACY_MODES_DEFAULT, PRIVACY_MODE_REDACT, 4, 0));
	sm = session_mode_new(PRIVACY_MODE_BIT(PRIVACY_MODE_REPORT), PRIVACY_MODE_REPORT, 1, TTL);
	assert_non_null(sm);
	session_mode_destroy(&sm);
	assert_null(sm);
	session_mode_destroy(&sm);
	session_mode_destroy(NULL);
}

static void
test_allow_list(void **state)
{
	struct session_mode *sm = new_default();
	enum privacy_mode m = PRIVACY_MODE_HASH;

	(void)state;
	/* No preference: the deployment's default. */
	assert_int_equal(resolve(sm, "t", NULL, NULL, 0, &m), ERR_OK);
	assert_int_equal(m, PRIVACY_MODE_REDACT);
	assert_int_equal(resolve(sm, "t", "", "", 0, &m), ERR_OK);
	assert_int_equal(m, PRIVACY_MODE_REDACT);
	assert_int_equal(resolve(sm, "t", NULL, "tokenize", 0, &m), ERR_OK);
	assert_int_equal(m, PRIVACY_MODE_TOKENIZE);
	assert_int_equal(resolve(sm, "t", NULL, "hash", 0, &m), ERR_OK);
	assert_int_equal(m, PRIVACY_MODE_HASH);
	/* report lets raw data out: not in the default list. */
	assert_int_equal(resolve(sm, "t", NULL, "report", 0, &m), ERR_DENIED);
	assert_int_equal(resolve(sm, "t", NULL, "raw", 0, &m), ERR_INVAL);
	assert_int_equal(resolve(sm, "t", NULL, "Redact", 0, &m), ERR_INVAL);
	session_mode_destroy(&sm);
	/* A deployment that lists report allows it; one that lists only hash
	 * refuses redact even though redact is the safest. */
	sm = session_mode_new(PRIVACY_MODE_BIT(PRIVACY_MODE_REPORT) | PRIVACY_MODE_BIT(PRIVACY_MODE_HASH),
	    PRIVACY_MODE_HASH, 4, TTL);
	assert_non_null(sm);
	assert_int_equal(resolve(sm, "t", "s", "report", 0, &m), ERR_OK);
	assert_int_equal(m, PRIVACY_MODE_REPORT);
	assert_int_equal(resolve(sm, "t", "s", "redact", 0, &m), ERR_DENIED);
	assert_int_equal(resolve(sm, "t", "s", NULL, 0, &m), ERR_OK);
	assert_int_equal(m, PRIVACY_MODE_HASH);
	session_mode_destroy(&sm);
}

static void
test_sticky(void **state)
{
	struct session_mode *sm = new_default();
	enum privacy_mode m;

	(void)state;
	assert_int_equal(resolve(sm, "t", "s1", "tokenize", 0, &m), ERR_OK);
	assert_int_equal(session_mode_pin(sm, "t", "s1", m, 0), ERR_OK);
	/* Same mode again, or no preference: the session's mode. */
	assert_int_equal(resolve(sm, "t", "s1", "tokenize", 10, &m), ERR_OK);
	assert_int_equal(resolve(sm, "t", "s1", NULL, 10, &m), ERR_OK);
	assert_int_equal(m, PRIVACY_MODE_TOKENIZE);
	/* Another mode is refused. */
	assert_int_equal(resolve(sm, "t", "s1", "redact", 10, &m), ERR_DENIED);
	assert_int_equal(resolve(sm, "t", "s1", "hash", 10, &m), ERR_DENIED);
	/* Another session, or the same name in another tenant, is free. */
	assert_int_equal(resolve(sm, "t", "s2", "hash", 10, &m), ERR_OK);
	assert_int_equal(resolve(sm, "u", "s1", "hash", 10, &m), ERR_OK);
	/* Jobs without a session are never pinned. */
	assert_int_equal(session_mode_pin(sm, "t", NULL, PRIVACY_MODE_HASH, 10), ERR_OK);
	assert_int_equal(session_mode_pin(sm, "t", "", PRIVACY_MODE_HASH, 10), ERR_OK);
	assert_int_equal(resolve(sm, "t", NULL, "tokenize", 10, &m), ERR_OK);
	assert_int_equal(session_mode_count(sm), 1);
	/* A session that did not ask is pinned to the default it got. */
	assert_int_equal(resolve(sm, "t", "s3", NULL, 10, &m), ERR_OK);
	assert_int_equal(session_mode_pin(sm, "t", "s3", m, 10), ERR_OK);
	assert_int_equal(resolve(sm, "t", "s3", "tokenize", 10, &m), ERR_DENIED);
	session_mode_destroy(&sm);
}

static void
test_expiry_and_bound(void **state)
{
	struct session_mode *sm = new_default();
	enum privacy_mode m;
	char name[16];

	(void)state;
	assert_int_equal(session_mode_pin(sm, "t", "s", PRIVACY_MODE_TOKENIZE, 0), ERR_OK);
	/* Each use refreshes the session... */
	assert_int_equal(session_mode_pin(sm, "t", "s", PRIVACY_MODE_TOKENIZE, TTL), ERR_OK);
	assert_int_equal(resolve(sm, "t", "s", "redact", 2 * TTL, &m), ERR_DENIED);
	/* ...and one idle for longer than the TTL is forgotten. */
	assert_int_equal(resolve(sm, "t", "s", "redact", 2 * TTL + 1, &m), ERR_OK);
	assert_int_equal(session_mode_count(sm), 0);
	/* At most 4 sessions: a fifth is BUSY until one expires. */
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_int_equal(session_mode_pin(sm, "t", name, PRIVACY_MODE_HASH, 100 * i), ERR_OK);
	}
	assert_int_equal(session_mode_pin(sm, "t", "s4", PRIVACY_MODE_HASH, 400), ERR_BUSY);
	/* A known session is still refreshed when the map is full. */
	assert_int_equal(session_mode_pin(sm, "t", "s3", PRIVACY_MODE_HASH, 400), ERR_OK);
	/* s0 (used at 0) expires after TTL: its place is taken. */
	assert_int_equal(session_mode_pin(sm, "t", "s4", PRIVACY_MODE_HASH, TTL + 1), ERR_OK);
	assert_int_equal(session_mode_count(sm), 4);
	assert_int_equal(resolve(sm, "t", "s0", "redact", TTL + 1, &m), ERR_OK);
	assert_int_equal(resolve(sm, "t", "s1", "redact", TTL + 1, &m), ERR_DENIED);
	session_mode_destroy(&sm);
}

static void
test_long_names(void **state)
{
	struct session_mode *sm = new_default();
	char tenant[65], session[129];
	enum privacy_mode m;

	(void)state;
	/* The longest names the decoder lets through. */
	memset(tenant, 'T', 64);
	tenant[64] = '\0';
	memset(session, 'S', 128);
	session[128] = '\0';
	assert_int_equal(session_mode_pin(sm, tenant, session, PRIVACY_MODE_HASH, 0), ERR_OK);
	assert_int_equal(resolve(sm, tenant, session, "redact", 0, &m), ERR_DENIED);
	session[127] = '\0';	/* a different session */
	assert_int_equal(resolve(sm, tenant, session, "redact", 0, &m), ERR_OK);
	session_mode_destroy(&sm);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_checks),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_sticky),
		cmocka_unit_test(test_expiry_and_bound),
		cmocka_unit_test(test_long_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
