/*
 * Unit tests for common/wspath: path normalisation and every refusal
 * (traversal, absolute, NUL and control bytes, huge, deep, duplicate,
 * reserved), the `files` field parser (counts, total size, wrong types,
 * trailing bytes, unknown classes) and classification taint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "common/wspath.h"

static enum err
norm(const char *in, char out[WSPATH_MAX + 1])
{
	char why[128];
	return wspath_normalize(in, strlen(in), out, why, sizeof(why));
}

static void
test_normalize_ok(void **state)
{
	char out[WSPATH_MAX + 1];
	(void)state;
	assert_int_equal(norm("a.txt", out), ERR_OK);
	assert_string_equal(out, "a.txt");
	assert_int_equal(norm("./data//in/./x.csv", out), ERR_OK);
	assert_string_equal(out, "data/in/x.csv");
	assert_int_equal(norm("a..b/c...", out), ERR_OK);	/* dots inside a name are fine */
	assert_string_equal(out, "a..b/c...");
}

static void
test_normalize_refused(void **state)
{
	char out[WSPATH_MAX + 1], big[400], deep[64], why[128];
	(void)state;
	assert_int_equal(norm("", out), ERR_INVAL);
	assert_int_equal(norm("/etc/passwd", out), ERR_INVAL);
	assert_int_equal(norm("../x", out), ERR_INVAL);
	assert_int_equal(norm("a/../../x", out), ERR_INVAL);
	assert_int_equal(norm("a/..", out), ERR_INVAL);
	assert_int_equal(norm("a\x01" "b", out), ERR_INVAL);
	assert_int_equal(norm("a\nb", out), ERR_INVAL);
	assert_int_equal(norm("a\x7f", out), ERR_INVAL);
	assert_int_equal(wspath_normalize("a\0b", 3, out, why, sizeof(why)), ERR_INVAL);
	assert_non_null(strstr(why, "NUL"));
	assert_int_equal(norm(".", out), ERR_INVAL);
	assert_int_equal(norm("./", out), ERR_INVAL);
	assert_int_equal(norm("dir/", out), ERR_INVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(norm(big, out), ERR_TOOBIG);
	big[WSPATH_MAX] = '\0';
	assert_int_equal(norm(big, out), ERR_OK);	/* exactly the limit */
	snprintf(deep, sizeof(deep), "%s", "a/b/c/d/e/f/g/h/i");
	assert_int_equal(norm(deep, out), ERR_TOOBIG);
	deep[15] = '\0';				/* a/b/c/d/e/f/g/h */
	assert_int_equal(norm(deep, out), ERR_OK);
}

static void
test_reserved(void **state)
{
	(void)state;
	assert_true(wspath_is_reserved("main.ts"));
	assert_true(wspath_is_reserved("sluice-prelude.ts"));
	assert_true(wspath_is_reserved(".deno/x"));
	assert_true(wspath_is_reserved("session/skills/a.ts"));
	assert_false(wspath_is_reserved("sessions.txt"));
	assert_false(wspath_is_reserved("src/main.ts"));
}

static void
test_classes(void **state)
{
	enum wspath_class c;
	(void)state;
	assert_int_equal(wspath_class_parse("restricted", 10, &c), ERR_OK);
	assert_int_equal(c, WSPATH_RESTRICTED);
	assert_int_equal(wspath_class_parse("secret", 6, &c), ERR_INVAL);
	assert_int_equal(wspath_class_parse("public", 4, &c), ERR_INVAL);
	assert_string_equal(wspath_class_name(WSPATH_CONFIDENTIAL), "confidential");
	assert_string_equal(wspath_class_name((enum wspath_class)9), "?");
	assert_true(WSPATH_PUBLIC < WSPATH_INTERNAL && WSPATH_INTERNAL < WSPATH_CONFIDENTIAL &&
	    WSPATH_CONFIDENTIAL < WSPATH_RESTRICTED);

	int w = -1;
	assert_int_equal(wspath_withhold_parse("never", &w), ERR_OK);
	assert_int_equal(w, WSPATH_CLASS_COUNT);
	assert_int_equal(wspath_withhold_parse("confidential", &w), ERR_OK);
	assert_int_equal(w, WSPATH_CONFIDENTIAL);
	assert_int_equal(wspath_withhold_parse("Never", &w), ERR_INVAL);
	assert_int_equal(wspath_withhold_parse("", &w), ERR_INVAL);
	assert_int_equal(w, WSPATH_CONFIDENTIAL);	/* untouched on error */
}

struct spec {
	const char *path;
	size_t plen;		/* 0: strlen */
	const char *data;
	const char *cls;	/* NULL: no class key */
};

static void
pack_str(msgpack_packer *pk, const char *s, size_t n)
{
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static void
pack_files(msgpack_sbuffer *sb, const struct spec *f, size_t n)
{
	msgpack_packer pk;
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_map(&pk, f[i].cls ? 3 : 2);
		pack_str(&pk, "path", 4);
		pack_str(&pk, f[i].path, f[i].plen ? f[i].plen : strlen(f[i].path));
		pack_str(&pk, "data", 4);
		msgpack_pack_bin(&pk, strlen(f[i].data));
		msgpack_pack_bin_body(&pk, f[i].data, strlen(f[i].data));
		if (f[i].cls) {
			pack_str(&pk, "class", 5);
			pack_str(&pk, f[i].cls, strlen(f[i].cls));
		}
	}
}

static enum err
parse(const struct spec *f, size_t n, const struct wspath_limits *lim, char *why,
    struct wspath_input **in, size_t *nin)
{
	msgpack_sbuffer sb;
	pack_files(&sb, f, n);
	/* copy into an exact-size buffer: ASan catches any over-read */
	unsigned char *copy = malloc(sb.size);
	memcpy(copy, sb.data, sb.size);
	enum err e = wspath_inputs_parse(copy, sb.size, lim ? lim : &wspath_limits_default,
	    WSPATH_INTERNAL, in, nin, why, 256);
	if (e == ERR_OK && *nin > 0) {	/* data points into the input: copy check */
		assert_true((*in)[0].data >= copy && (*in)[0].data < copy + sb.size);
	}
	free(copy);
	msgpack_sbuffer_destroy(&sb);
	return e;
}

static void
test_parse_ok(void **state)
{
	struct spec f[] = {
		{ "./in/a.csv", 0, "1,2", "confidential" },
		{ "b.txt", 0, "hello", NULL },
	};
	struct wspath_input *in;
	size_t n;
	char why[256];
	(void)state;
	assert_int_equal(parse(f, 2, NULL, why, &in, &n), ERR_OK);
	assert_int_equal(n, 2);
	assert_string_equal(in[0].path, "in/a.csv");
	assert_int_equal(in[0].cls, WSPATH_CONFIDENTIAL);
	assert_int_equal(in[0].len, 3);
	assert_int_equal(in[1].cls, WSPATH_INTERNAL);	/* the default */
	free(in);
}

static void
expect_refused(const struct spec *f, size_t n, const struct wspath_limits *lim, enum err want,
    const char *in_why)
{
	struct wspath_input *in = (void *)1;
	size_t nin = 7;
	char why[256] = "";
	assert_int_equal(parse(f, n, lim, why, &in, &nin), want);
	assert_null(in);
	assert_int_equal(nin, 0);
	if (strstr(why, in_why) == NULL)
		fail_msg("reason \"%s\" does not mention \"%s\"", why, in_why);
}

static void
test_parse_refused(void **state)
{
	struct wspath_limits small = { 2, 8, false };
	(void)state;
	expect_refused((struct spec[]){ { "ok", 0, "", NULL }, { "../etc/x", 0, "", NULL } }, 2, NULL,
	    ERR_INVAL, "file 1 (../etc/x)");
	expect_refused((struct spec[]){ { "/etc/passwd", 0, "", NULL } }, 1, NULL, ERR_INVAL,
	    "absolute");
	expect_refused((struct spec[]){ { "a\0b", 3, "", NULL } }, 1, NULL, ERR_INVAL, "NUL");
	expect_refused((struct spec[]){ { "a", 0, "", NULL }, { "./a", 0, "", NULL } }, 2, NULL,
	    ERR_DUPLICATE, "duplicate of file 0 (a)");
	expect_refused((struct spec[]){ { "d", 0, "", NULL }, { "d/x", 0, "", NULL } }, 2, NULL,
	    ERR_DUPLICATE, "file 1 (d/x)");
	expect_refused((struct spec[]){ { "main.ts", 0, "", NULL } }, 1, NULL, ERR_INVAL, "reserved");
	expect_refused((struct spec[]){ { "x", 0, "", "secret" } }, 1, NULL, ERR_INVAL, "class");
	expect_refused((struct spec[]){ { "a", 0, "", NULL }, { "b", 0, "", NULL },
	    { "c", 0, "", NULL } }, 3, &small, ERR_TOOBIG, "at most 2");
	expect_refused((struct spec[]){ { "a", 0, "12345", NULL }, { "b", 0, "6789", NULL } }, 2,
	    &small, ERR_TOOBIG, "file 1 (b)");
}

#define C(s) s, sizeof(s) - 1

static void
test_parse_malformed(void **state)
{
	struct wspath_input *in;
	size_t n;
	char why[256];
	/* not an array; a map entry with an int value; unknown key; missing data;
	 * array count lying; trailing byte */
	static const struct { const char *b; size_t len; enum err e; } cases[] = {
		{ C("\x80"), ERR_TYPE },
		{ C("\x91\x81\xa4path\x01"), ERR_TYPE },
		{ C("\x91\x81\xa1x\xa1y"), ERR_INVAL },
		{ C("\x91\x81\xa4path\xa1x"), ERR_MISSING },
		{ C("\x93\x82\xa4path\xa1x\xa4" "data\xa0"), ERR_TRUNCATED },
		{ C("\x90\x00"), ERR_TRAILING },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char *copy = malloc(cases[i].len);
		memcpy(copy, cases[i].b, cases[i].len);
		enum err e = wspath_inputs_parse(copy, cases[i].len, &wspath_limits_default,
		    WSPATH_PUBLIC, &in, &n, why, sizeof(why));
		free(copy);
		if (e != cases[i].e)
			fail_msg("case %zu: %d, want %d (%s)", i, e, cases[i].e, why);
		assert_null(in);
	}
}

static void
test_taint(void **state)
{
	struct wspath_input in[2] = {
		{ .path = "secret.csv", .cls = WSPATH_RESTRICTED },
		{ .path = "notes.txt", .cls = WSPATH_PUBLIC },
	};
	(void)state;
	/* a new file carries the taint */
	assert_int_equal(wspath_output_class(in, 2, "out.txt", WSPATH_CONFIDENTIAL), WSPATH_CONFIDENTIAL);
	/* an input file coming back is never lower than it went in */
	assert_int_equal(wspath_output_class(in, 2, "secret.csv", WSPATH_PUBLIC), WSPATH_RESTRICTED);
	assert_int_equal(wspath_output_class(in, 2, "notes.txt", WSPATH_INTERNAL), WSPATH_INTERNAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize_ok),
		cmocka_unit_test(test_normalize_refused),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_taint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
