/*
 * test_cmd_assess — the `sluice assess` subcommand: exit codes (0 assessed,
 * 1 I/O, rules or config error, 2 usage), text and JSON output, the file
 * size cap.  Output is captured by redirecting fd 1 to a temp file.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "client/cmd.h"

static char out_buf[1 << 16];

/* Writes `text` to a fresh temp file named after `tag`; returns its path. */
static const char *
write_file(const char *tag, const char *text, size_t len)
{
	static char path[4][64];
	static int slot;
	char *p = path[slot++ % 4];
	FILE *f;

	snprintf(p, sizeof(path[0]), "/tmp/test_cmd_assess_%d_%s",
	    (int)getpid(), tag);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	return p;
}

/* Runs cmd_assess with stdout captured into out_buf; returns its code. */
static int
run(int argc, ...)
{
	char *argv[16];
	char path[64];
	va_list ap;
	int fd, saved, rc;
	ssize_t n;

	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	snprintf(path, sizeof(path), "/tmp/test_cmd_assess_%d_out",
	    (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stdout);
	saved = dup(1);
	dup2(fd, 1);
	rc = cmd_assess(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out_buf, sizeof(out_buf) - 1);
	out_buf[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return rc;
}

static const char code[] =
    "// helper\n"
    "const t = Deno.env.get('TOKEN');\n"
    "const r = eval(src);\n";

static void
test_usage(void **state)
{
	(void)state;
	assert_int_equal(run(1, "assess"), 2);
	assert_int_equal(run(3, "assess", "a.ts", "--bogus"), 2);
	assert_int_equal(run(3, "assess", "a.ts", "b.ts"), 2);
	assert_int_equal(run(3, "assess", "a.ts", "--rules"), 2);
	assert_int_equal(run(2, "assess", "--json"), 2);
}

static void
test_io_errors(void **state)
{
	const char *f = write_file("code.ts", code, sizeof(code) - 1);
	char *big;

	(void)state;
	assert_int_equal(run(2, "assess", "/nonexistent/x.ts"), 1);
	assert_int_equal(run(4, "assess", f, "--rules", "/nonexistent/r.tsv"),
	    1);
	assert_int_equal(run(4, "assess", f, "--rules",
	    write_file("bad.tsv", "x\tnetwork\n", 10)), 1);
	assert_int_equal(run(4, "assess", f, "--config",
	    write_file("bad.conf", "nope = 1\n", 9)), 1);
	/* over the 4 MiB cap */
	big = malloc((4u << 20) + 1);
	assert_non_null(big);
	memset(big, ' ', (4u << 20) + 1);
	assert_int_equal(run(2, "assess", write_file("big.ts", big,
	    (4u << 20) + 1)), 1);
	/* exactly at the cap is fine */
	assert_int_equal(run(2, "assess", write_file("big.ts", big,
	    4u << 20)), 0);
	free(big);
}

static void
test_text(void **state)
{
	const char *f = write_file("code.ts", code, sizeof(code) - 1);

	(void)state;
	assert_int_equal(run(2, "assess", f), 0);
	assert_non_null(strstr(out_buf, "level L3"));
	assert_non_null(strstr(out_buf, "3:11"));
	assert_non_null(strstr(out_buf, "ce.eval"));
	assert_non_null(strstr(out_buf, "ex.deno_env"));
	assert_non_null(strstr(out_buf, "const r = eval(src);"));
}

static void
test_json(void **state)
{
	const char *f = write_file("code.ts", code, sizeof(code) - 1);
	json_error_t jerr;
	json_t *root, *fs, *f0;

	(void)state;
	assert_int_equal(run(3, "assess", "--json", f), 0);
	root = json_loads(out_buf, 0, &jerr);
	assert_non_null(root);
	assert_true(json_is_real(json_object_get(root, "score")));
	assert_true(json_real_value(json_object_get(root, "score")) > 0.6);
	assert_string_equal(json_string_value(json_object_get(root, "level")),
	    "L3");
	fs = json_object_get(root, "findings");
	assert_true(json_is_array(fs));
	assert_int_equal(json_array_size(fs), 2);
	f0 = json_array_get(fs, 0);
	assert_string_equal(json_string_value(json_object_get(f0, "rule")),
	    "ex.deno_env");
	assert_string_equal(json_string_value(json_object_get(f0,
	    "category")), "exfiltration");
	assert_int_equal(json_integer_value(json_object_get(f0, "line")), 2);
	assert_int_equal(json_integer_value(json_object_get(f0, "col")), 11);
	assert_true(json_is_real(json_object_get(f0, "weight")));
	assert_non_null(json_string_value(json_object_get(f0, "excerpt")));
	json_decref(root);

	/* a config changes the verdict */
	assert_int_equal(run(5, "assess", f, "--json", "--config",
	    write_file("ok.conf", "threshold.l4 = 0.6\n", 19)), 0);
	root = json_loads(out_buf, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "level")),
	    "L4");
	json_decref(root);
}

static int
cleanup(void **state)
{
	static const char *const tags[] = { "code.ts", "bad.tsv", "bad.conf",
	    "big.ts", "ok.conf" };
	char p[64];

	(void)state;
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		snprintf(p, sizeof(p), "/tmp/test_cmd_assess_%d_%s",
		    (int)getpid(), tags[i]);
		unlink(p);
	}
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_io_errors),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, cleanup);
}
