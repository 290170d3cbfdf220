/* Unit tests for client/runjob: `sluice run`'s option validation, shared by
 * sluice-cli and the front binary, and how FILE becomes code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/runjob.h"

static void
test_apply(void **state)
{
	struct msg *sub = msg_new(MSG_SUBMIT);
	uint64_t timeout = RUNJOB_TIMEOUT_DEFAULT;
	char why[256], big[2048];

	(void)state;
	assert_non_null(sub);
	assert_int_equal(runjob_apply(sub, RUNJOB_TIMEOUT, "1500", &timeout, why, sizeof(why)), RUNJOB_SET);
	assert_int_equal(timeout, 1500);
	assert_int_equal(msg_u64(sub, MSG_F_TIMEOUT_MS, 0), 1500);
	assert_int_equal(runjob_apply(sub, RUNJOB_TIMEOUT, "0", &timeout, why, sizeof(why)), RUNJOB_BAD);
	assert_string_equal(why, "bad value for --timeout");
	assert_int_equal(timeout, 1500);
	assert_int_equal(runjob_apply(sub, RUNJOB_OUTPUT_BYTES, "12x", &timeout, why, sizeof(why)), RUNJOB_BAD);
	assert_string_equal(why, "bad value for --output-bytes");
	assert_int_equal(runjob_apply(sub, RUNJOB_MEMORY, "99999999999", &timeout, why, sizeof(why)), RUNJOB_BAD);
	assert_string_equal(why, "bad value for --memory");
	assert_int_equal(runjob_apply(sub, RUNJOB_PIDS, "16", &timeout, why, sizeof(why)), RUNJOB_SET);
	assert_int_equal(runjob_apply(sub, RUNJOB_WORKSPACE, "8", &timeout, why, sizeof(why)), RUNJOB_SET);
	assert_int_equal(runjob_apply(sub, RUNJOB_PRIORITY, "9", &timeout, why, sizeof(why)), RUNJOB_SET);
	assert_int_equal(runjob_apply(sub, RUNJOB_PRIORITY, "10", &timeout, why, sizeof(why)), RUNJOB_BAD);
	assert_string_equal(why, "--priority wants 0..9");
	assert_int_equal(runjob_apply(sub, RUNJOB_PRIVACY_MODE, "hash", &timeout, why, sizeof(why)), RUNJOB_SET);
	assert_string_equal(msg_str(sub, MSG_F_PRIVACY_MODE, ""), "hash");
	assert_int_equal(runjob_apply(sub, RUNJOB_PRIVACY_MODE, "raw", &timeout, why, sizeof(why)), RUNJOB_BAD);
	assert_int_equal(runjob_apply(sub, RUNJOB_TENANT, "acme", &timeout, why, sizeof(why)), RUNJOB_SET);
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(runjob_apply(sub, RUNJOB_KEY, big, &timeout, why, sizeof(why)), RUNJOB_BAD);
	assert_string_equal(why, "--key too long");
	assert_int_equal(runjob_apply(sub, RUNJOB_TOOLS, big, &timeout, why, sizeof(why)), RUNJOB_BAD);
	assert_int_equal(runjob_apply(sub, RUNJOB_SESSION, big, &timeout, why, sizeof(why)), RUNJOB_BAD);
	/* Not SUBMIT fields: the caller's. */
	assert_int_equal(runjob_apply(sub, RUNJOB_BROKER, "x", &timeout, why, sizeof(why)), RUNJOB_OTHER);
	assert_int_equal(runjob_apply(sub, RUNJOB_JSON, NULL, &timeout, why, sizeof(why)), RUNJOB_OTHER);
	assert_int_equal(runjob_apply(sub, '?', NULL, &timeout, why, sizeof(why)), RUNJOB_OTHER);
	msg_destroy(&sub);
}

static void
test_load_code(void **state)
{
	struct msg *sub = msg_new(MSG_SUBMIT);
	char path[] = "/tmp/sluice-runjob-XXXXXX", js[64], why[256];
	int fd = mkstemp(path);
	size_t len;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "console.log(1)", 14), 14);
	close(fd);
	assert_true(runjob_load_code(sub, path, why, sizeof(why)));
	assert_memory_equal(msg_bin(sub, MSG_F_CODE, &len), "console.log(1)", 14);
	assert_int_equal(len, 14);
	assert_string_equal(msg_str(sub, MSG_F_LANG, ""), "ts");
	snprintf(js, sizeof(js), "%s.mjs", path);
	assert_int_equal(rename(path, js), 0);
	assert_true(runjob_load_code(sub, js, why, sizeof(why)));
	assert_string_equal(msg_str(sub, MSG_F_LANG, ""), "js");
	unlink(js);
	assert_false(runjob_load_code(sub, js, why, sizeof(why)));
	assert_non_null(strstr(why, ": cannot read"));
	msg_destroy(&sub);
}

static void
test_options_table(void **state)
{
	size_t n = 0;

	(void)state;
	for (const struct option *o = runjob_options; o->name != NULL; o++, n++)
		assert_true(o->has_arg == no_argument || o->has_arg == required_argument);
	assert_int_equal(n, 16);
}

static struct msg *
reply(enum msg_cmd cmd, const char *req)
{
	struct msg *m = msg_new(cmd);

	assert_non_null(m);
	msg_set_str(m, MSG_F_REQ, req);
	msg_set_str(m, MSG_F_ID, "job1");
	return m;
}

/* The wait both programs run: which reply leads where, and the deadline. */
static void
test_reply_rules(void **state)
{
	struct runjob_wait w;
	struct msg *m;
	int64_t sleep_ms = 0;
	enum err e = ERR_OK;
	char why[256];

	(void)state;
	runjob_wait_init(&w, "r1", 1000, 5000, 1);
	assert_false(w.accepted);
	/* another request's reply, and a kind the wait ignores */
	assert_int_equal(runjob_reply(&w, reply(MSG_ACCEPTED, "r0"), &sleep_ms, &e, why, sizeof(why)),
	    RUNJOB_WAIT);
	assert_false(w.accepted);
	assert_int_equal(runjob_reply(&w, reply(MSG_HEARTBEAT, "r1"), &sleep_ms, &e, why, sizeof(why)),
	    RUNJOB_WAIT);
	/* BUSY once: resend after its retry_ms; twice: give up */
	m = reply(MSG_BUSY, "r1");
	msg_set_u64(m, MSG_F_RETRY_MS, 250);
	assert_int_equal(runjob_reply(&w, m, &sleep_ms, &e, why, sizeof(why)), RUNJOB_RESEND);
	assert_int_equal(sleep_ms, 250);
	assert_int_equal(runjob_reply(&w, reply(MSG_BUSY, "r1"), &sleep_ms, &e, why, sizeof(why)),
	    RUNJOB_FAIL);
	assert_int_equal(e, ERR_BUSY);
	assert_string_equal(why, "the broker stayed busy");
	/* ACCEPTED moves the deadline; "held" lifts it */
	runjob_wait_init(&w, "r1", 1000, 5000, 3);
	assert_int_equal(runjob_reply(&w, reply(MSG_ACCEPTED, "r1"), &sleep_ms, &e, why, sizeof(why)),
	    RUNJOB_WAIT);
	assert_true(w.accepted);
	runjob_timeout_why(&w, "", why, sizeof(why));
	assert_string_equal(why, "no result within 5000 ms");
	m = reply(MSG_JOB_STATE, "r1");
	msg_set_str(m, MSG_F_STATE, "held");
	assert_int_equal(runjob_reply(&w, m, &sleep_ms, &e, why, sizeof(why)), RUNJOB_WAIT);
	assert_true(w.deadline == INT64_MAX);
	/* ERROR fails with its code and text; RESULT is handed over */
	m = reply(MSG_ERROR, "r1");
	msg_set_u64(m, MSG_F_ERRCODE, ERR_DENIED);
	msg_set_str(m, MSG_F_MESSAGE, "no");
	assert_int_equal(runjob_reply(&w, m, &sleep_ms, &e, why, sizeof(why)), RUNJOB_FAIL);
	assert_int_equal(e, ERR_DENIED);
	assert_string_equal(why, "rejected: no");
	m = reply(MSG_RESULT, "r1");
	assert_int_equal(runjob_reply(&w, m, &sleep_ms, &e, why, sizeof(why)), RUNJOB_RESULT);
	msg_destroy(&m);
	runjob_wait_init(&w, "r1", 1000, 5000, 3);
	runjob_timeout_why(&w, " hint", why, sizeof(why));
	assert_string_equal(why, "the broker did not answer within 1000 ms (is it running? hint)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_load_code),
		cmocka_unit_test(test_options_table),
		cmocka_unit_test(test_reply_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
