/* Unit tests for client/cmd_scan (`sluice scan`): output, JSON, exit codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "client/cmd.h"

static char in_path[64], out_path[64];

static int
setup(void **state)
{
	int fd;

	(void)state;
	snprintf(in_path, sizeof(in_path), "/tmp/sluice-scan-in-XXXXXX");
	snprintf(out_path, sizeof(out_path), "/tmp/sluice-scan-out-XXXXXX");
	if ((fd = mkstemp(in_path)) < 0)
		return -1;
	close(fd);
	if ((fd = mkstemp(out_path)) < 0)
		return -1;
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(in_path);
	unlink(out_path);
	return 0;
}

static void
write_input(const void *bytes, size_t len)
{
	FILE *f = fopen(in_path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	fclose(f);
}

/* Runs cmd_scan with stdout sent to out_path; returns the exit code and the
 * output in a fresh buffer (*out, caller frees). */
static int
run_scan(int argc, char **argv, char **out, size_t *outlen)
{
	int saved = dup(STDOUT_FILENO), rc;
	FILE *f;
	long n;

	fflush(stdout);
	assert_non_null(freopen(out_path, "wb", stdout));
	rc = cmd_scan(argc, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	f = fopen(out_path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*out = malloc((size_t)n + 1);
	assert_non_null(*out);
	*outlen = fread(*out, 1, (size_t)n, f);
	(*out)[*outlen] = '\0';
	fclose(f);
	return rc;
}

static void
test_scan_redacts_file(void **state)
{
	const char in[] = "to bob@example.com key AKIAZ7VRSQ4TLPBE3XN2\n";
	char *argv[] = { "scan", in_path, NULL }, *out;
	size_t n;

	(void)state;
	write_input(in, sizeof(in) - 1);
	assert_int_equal(run_scan(2, argv, &out, &n), 0);
	assert_string_equal(out, "to [REDACTED:email] key [REDACTED:aws_access_key_id]\n");
	free(out);
}

static void
test_scan_json(void **state)
{
	const char in[] = "to bob@example.com \xff\x00 end";
	char *argv[] = { "scan", "--json", "--mode", "tokenize", in_path, NULL }, *out;
	json_t *o, *f;
	json_error_t jerr;
	size_t n;

	(void)state;
	write_input(in, sizeof(in) - 1);
	assert_int_equal(run_scan(5, argv, &out, &n), 0);
	o = json_loads(out, JSON_ALLOW_NUL, &jerr);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "mode")), "tokenize");
	f = json_array_get(json_object_get(o, "findings"), 0);
	assert_string_equal(json_string_value(json_object_get(f, "type")), "email");
	assert_string_equal(json_string_value(json_object_get(f, "kind")), "pii");
	assert_int_equal(json_integer_value(json_object_get(f, "start")), 3);
	assert_int_equal(json_integer_value(json_object_get(f, "end")), 18);
	/* Text that is not valid UTF-8 goes through util_utf8_clean: the bad
	 * byte and the NUL each become U+FFFD. */
	assert_int_equal(json_string_length(json_object_get(o, "text")), strlen("to [EMAIL_1] ") + 3 + 3 + 4);
	json_decref(o);
	free(out);
}

static void
test_scan_report_keeps_text(void **state)
{
	const char in[] = "ip 10.1.2.3";
	char *argv[] = { "scan", "--mode=report", in_path, NULL }, *out;
	size_t n;

	(void)state;
	write_input(in, sizeof(in) - 1);
	assert_int_equal(run_scan(3, argv, &out, &n), 0);
	assert_string_equal(out, in);
	free(out);
}

static void
test_scan_usage_and_io_errors(void **state)
{
	char *bad_mode[] = { "scan", "--mode", "shred", NULL };
	char *no_mode[] = { "scan", "--mode", NULL };
	char *bad_flag[] = { "scan", "--frobnicate", NULL };
	char *two_files[] = { "scan", "a", "b", NULL };
	char *missing[] = { "scan", "/nonexistent/sluice-scan-input", NULL };
	char *out;
	size_t n;

	(void)state;
	assert_int_equal(run_scan(3, bad_mode, &out, &n), 2);
	free(out);
	assert_int_equal(run_scan(2, no_mode, &out, &n), 2);
	free(out);
	assert_int_equal(run_scan(2, bad_flag, &out, &n), 2);
	free(out);
	assert_int_equal(run_scan(3, two_files, &out, &n), 2);
	free(out);
	assert_int_equal(run_scan(2, missing, &out, &n), 1);
	assert_int_equal(n, 0);
	free(out);
}

static void
test_scan_empty_input(void **state)
{
	char *argv[] = { "scan", "--json", in_path, NULL }, *out;
	size_t n;

	(void)state;
	write_input("", 0);
	assert_int_equal(run_scan(3, argv, &out, &n), 0);
	assert_string_equal(out, "{\"mode\":\"redact\",\"findings\":[],\"text\":\"\"}\n");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_redacts_file),
		cmocka_unit_test(test_scan_json),
		cmocka_unit_test(test_scan_report_keeps_text),
		cmocka_unit_test(test_scan_usage_and_io_errors),
		cmocka_unit_test(test_scan_empty_input),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
