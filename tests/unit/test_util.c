/*
 * Unit tests for common/util: number parsing, bounded file reads, UTF-8
 * cleaning and random hex ids.  Files live in a fresh temp dir per run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/util.h"

/* ---- util_parse_u64 ---- */

static void
test_parse_u64_accepts(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_true(util_parse_u64("0", 0, 10, &v));
	assert_int_equal(v, 0);
	assert_true(util_parse_u64("10", 0, 10, &v));
	assert_int_equal(v, 10);
	assert_true(util_parse_u64("007", 7, 7, &v));
	assert_int_equal(v, 7);
	assert_true(util_parse_u64("18446744073709551615", 0, UINT64_MAX, &v));
	assert_true(v == UINT64_MAX);
}

static void
test_parse_u64_rejects(void **state)
{
	static const char *junk[] = {
		"", " 1", "1 ", "+1", "-1", "-0", "1x", "x1", "0x10", "1.0", "1e3", "\t1", "1\n",
		"18446744073709551616", "99999999999999999999999",
	};
	uint64_t v = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		if (util_parse_u64(junk[i], 0, UINT64_MAX, &v))
			print_error("accepted \"%s\"\n", junk[i]);
		assert_false(util_parse_u64(junk[i], 0, UINT64_MAX, &v));
	}
	assert_false(util_parse_u64(NULL, 0, UINT64_MAX, &v));
	/* range */
	assert_false(util_parse_u64("0", 1, 10, &v));
	assert_false(util_parse_u64("11", 1, 10, &v));
	assert_false(util_parse_u64("18446744073709551615", 0, UINT64_MAX - 1, &v));
	/* a refusal leaves *out alone */
	assert_int_equal(v, 12345);
}

/* ---- util_read_file ---- */

static char tmpdir[] = "/tmp/sluice-test-util.XXXXXX";

static int
setup_dir(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

/* Removes the temp dir and whatever a failed test left in it. */
static int
remove_dir(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;

	(void)state;
	while (d != NULL && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	if (d != NULL)
		closedir(d);
	return rmdir(tmpdir);
}

/* Writes `len` bytes of a pattern to tmpdir/name; returns the path (static). */
static const char *
make_file(const char *name, size_t len)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	for (size_t i = 0; i < len; i++)
		fputc('a' + (int)(i % 26), f);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void
assert_reads_whole(const char *path, size_t flen, size_t max)
{
	char *buf = NULL;
	size_t len = 999;

	assert_int_equal(util_read_file(path, max, &buf, &len), ERR_OK);
	assert_non_null(buf);
	assert_int_equal(len, flen);
	assert_int_equal(buf[len], '\0');
	for (size_t i = 0; i < len; i++)
		if (buf[i] != 'a' + (int)(i % 26))
			fail_msg("byte %zu of %zu differs", i, len);
	free(buf);
}

static void
test_read_file_missing(void **state)
{
	char path[512];
	char *buf = (char *)1;
	size_t len;

	(void)state;
	snprintf(path, sizeof(path), "%s/absent", tmpdir);
	assert_int_equal(util_read_file(path, 100, &buf, &len), ERR_IO);
	assert_null(buf);
	/* a directory cannot be read as a file */
	assert_int_equal(util_read_file(tmpdir, 100, &buf, &len), ERR_IO);
	assert_null(buf);
}

static void
test_read_file_empty(void **state)
{
	const char *path = make_file("empty", 0);

	(void)state;
	assert_reads_whole(path, 0, 0);
	assert_reads_whole(path, 0, 100);
	unlink(path);
}

static void
test_read_file_bounds(void **state)
{
	/* sizes around the reader's 4096-byte first buffer and its doublings */
	static const size_t sizes[] = { 1, 100, 4094, 4095, 4096, 4097, 8191, 8192, 8193, 100000 };

	(void)state;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		const char *path = make_file("sized", n);
		char *buf = (char *)1;
		size_t len;

		assert_reads_whole(path, n, n);		/* exactly max */
		assert_reads_whole(path, n, n + 1);
		assert_reads_whole(path, n, n * 3);
		assert_int_equal(util_read_file(path, n - 1, &buf, &len), ERR_TOOBIG);
		assert_null(buf);
		if (n > 2)
			assert_int_equal(util_read_file(path, n / 2, &buf, &len), ERR_TOOBIG);
		unlink(path);
	}
}

/* Config and evidence files must be regular: a FIFO in their place would
 * block a plain open() forever (no writer), a device would read forever. */
static void
test_read_regular(void **state)
{
	const char *path = make_file("regular", 10);
	char fifo[512], *buf = (char *)1;
	size_t len = 0;
	int fd;

	(void)state;
	assert_int_equal(util_read_regular(path, 100, &buf, &len), ERR_OK);
	assert_int_equal(len, 10);
	assert_memory_equal(buf, "abcdefghij", 11);
	free(buf);
	assert_int_equal(util_read_regular(path, 9, &buf, &len), ERR_TOOBIG);
	assert_null(buf);
	unlink(path);
	assert_int_equal(util_read_regular(path, 100, &buf, &len), ERR_IO);
	assert_int_equal(errno, ENOENT);

	/* a FIFO with no writer: refused at once, not waited on */
	snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10);		/* a regression hangs; this turns it into a failure */
	errno = 0;
	assert_int_equal(util_open_regular(fifo), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(util_read_regular(fifo, 100, &buf, &len), ERR_INVAL);
	assert_null(buf);
	alarm(0);
	unlink(fifo);

	assert_int_equal(util_open_regular(tmpdir), -1);
	assert_int_equal(errno, EISDIR);
	assert_int_equal(util_read_regular(tmpdir, 100, &buf, &len), ERR_INVAL);
	assert_int_equal(util_open_regular("/dev/null"), -1);
	assert_int_equal(errno, EINVAL);
	assert_true((fd = util_open_regular("/proc/self/status")) >= 0);
	close(fd);
}

/* paths_mkdirs: -p semantics, and an existing non-directory is an error
 * (a worker given a file as its state dir must not start). */
static void
test_mkdirs(void **state)
{
	char deep[512], mid[512], top[512];
	const char *file = make_file("plain", 1);
	char under[600];

	(void)state;
	snprintf(top, sizeof(top), "%s/a", tmpdir);
	snprintf(mid, sizeof(mid), "%s/a/b", tmpdir);
	snprintf(deep, sizeof(deep), "%s/a/b/c", tmpdir);
	assert_true(paths_mkdirs(deep));
	assert_true(paths_mkdirs(deep));	/* exists: fine */
	assert_true(paths_mkdirs(mid));
	errno = 0;
	assert_false(paths_mkdirs(file));
	assert_int_equal(errno, ENOTDIR);
	snprintf(under, sizeof(under), "%s/x", file);
	assert_false(paths_mkdirs(under));
	assert_int_equal(errno, ENOTDIR);
	assert_false(paths_mkdirs(""));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(rmdir(deep), 0);
	assert_int_equal(rmdir(mid), 0);
	assert_int_equal(rmdir(top), 0);
	unlink(file);
}

/* paths_create_beneath: directories made on the way, a symlink anywhere
 * below the base refused (ELOOP/ENOTDIR), the base itself may be made. */
static void
test_create_beneath(void **state)
{
	char base[600], link[700], target[600], path[800];
	int fd;

	(void)state;
	snprintf(base, sizeof(base), "%s/cb", tmpdir);
	snprintf(target, sizeof(target), "%s/cb-target", tmpdir);
	assert_true((fd = paths_create_beneath(base, "a/b/f.txt", 0644)) >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	snprintf(path, sizeof(path), "%s/a/b/f.txt", base);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(mkdir(target, 0700), 0);
	snprintf(link, sizeof(link), "%s/l", base);
	assert_int_equal(symlink(target, link), 0);
	errno = 0;
	assert_int_equal(paths_create_beneath(base, "l/f.txt", 0644), -1);
	assert_true(errno == ELOOP || errno == ENOTDIR);
	assert_int_equal(paths_create_beneath(base, "l", 0644), -1);	/* the last part too */
	assert_int_equal(errno, ELOOP);
	assert_int_equal(paths_create_beneath(base, "/abs", 0644), -1);
	assert_int_equal(errno, EINVAL);
	snprintf(path, sizeof(path), "%s/f.txt", target);
	assert_int_equal(access(path, F_OK), -1);	/* nothing went through the link */
	unlink(link);
	rmdir(target);
	snprintf(path, sizeof(path), "%s/a/b/f.txt", base);
	unlink(path);
	snprintf(path, sizeof(path), "%s/a/b", base);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a", base);
	rmdir(path);
	rmdir(base);
}

/* A bound near SIZE_MAX means "no practical limit", not a tiny buffer. */
static void
test_read_file_huge_max(void **state)
{
	const char *path = make_file("huge-max", 5000);

	(void)state;
	assert_reads_whole(path, 5000, SIZE_MAX);
	assert_reads_whole(path, 5000, SIZE_MAX - 1);
	assert_reads_whole(path, 5000, SIZE_MAX - 2);
	unlink(path);
}

/* ---- util_utf8_clean ---- */

static void
assert_clean(const char *in, size_t inlen, const char *want)
{
	size_t outlen = 999;
	char *out = util_utf8_clean(in, inlen, &outlen);

	assert_non_null(out);
	assert_int_equal(outlen, strlen(want));
	assert_memory_equal(out, want, outlen);
	assert_int_equal(out[outlen], '\0');
	free(out);
}

#define FFFD "\xef\xbf\xbd"
#define CLEAN(in, want) assert_clean(in, sizeof(in) - 1, want)

static void
test_utf8_prefix_and_repair(void **state)
{
	const char *s = "a\xc3\xa9\xe2\x82\xac";	/* a é € : 1 + 2 + 3 bytes */
	char r[] = "ok \xc3\xa9 cut\xe2\x82 end \xff";
	size_t n;

	(void)state;
	n = strlen(s);
	assert_false(util_utf8_prefix(s, &n, 6));
	assert_int_equal(n, 6);
	for (size_t max = 0; max < 6; max++) {
		static const size_t whole[] = { 0, 1, 1, 3, 3, 3 };
		n = strlen(s);
		assert_true(util_utf8_prefix(s, &n, max));
		assert_int_equal(n, whole[max]);
	}
	util_utf8_repair(r);
	assert_string_equal(r, "ok \xc3\xa9 cut?? end ?");
}

static void
test_utf8_clean(void **state)
{
	(void)state;
	CLEAN("", "");
	CLEAN("plain ascii\n", "plain ascii\n");
	/* valid 2-, 3- and 4-byte sequences, and the extremes of each */
	CLEAN("\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9");
	CLEAN("\xe2\x82\xac", "\xe2\x82\xac");
	CLEAN("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");
	CLEAN("\xc2\x80", "\xc2\x80");
	CLEAN("\xef\xbf\xbf", "\xef\xbf\xbf");
	CLEAN("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");
	CLEAN("\xed\x9f\xbf", "\xed\x9f\xbf");		/* U+D7FF, just below surrogates */
	CLEAN("\xee\x80\x80", "\xee\x80\x80");		/* U+E000, just above */
	/* overlong forms */
	CLEAN("\xc0\xaf", FFFD FFFD);
	CLEAN("\xc1\xbf", FFFD FFFD);
	CLEAN("\xe0\x80\xaf", FFFD FFFD FFFD);
	CLEAN("\xe0\x9f\xbf", FFFD FFFD FFFD);
	CLEAN("\xf0\x8f\xbf\xbf", FFFD FFFD FFFD FFFD);
	/* surrogates */
	CLEAN("\xed\xa0\x80", FFFD FFFD FFFD);
	CLEAN("\xed\xbf\xbf", FFFD FFFD FFFD);
	/* beyond U+10FFFF and bytes that never start a sequence */
	CLEAN("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	CLEAN("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD);
	CLEAN("\xff\xfe", FFFD FFFD);
	CLEAN("\x80", FFFD);
	/* truncated sequences, at the end and before other text */
	CLEAN("a\xc3", "a" FFFD);
	CLEAN("a\xe2\x82", "a" FFFD FFFD);
	CLEAN("a\xf0\x9f\x98", "a" FFFD FFFD FFFD);
	CLEAN("\xe2\x82z", FFFD FFFD "z");
	/* NUL is not allowed through */
	CLEAN("a\0b", "a" FFFD "b");
	CLEAN("\0", FFFD);
}

static void
test_utf8_clean_every_byte(void **state)
{
	unsigned char in[256];
	size_t outlen;
	char *out;

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)i;
	out = util_utf8_clean(in, sizeof(in), &outlen);
	assert_non_null(out);
	/* 1..127 kept, NUL and 128 bytes of junk each become U+FFFD */
	assert_int_equal(outlen, 127 + 129 * 3);
	free(out);
}

/* ---- util_random_hex ---- */

static void
test_random_hex(void **state)
{
	char a[129], b[129];

	(void)state;
	for (size_t n = 0; n <= 64; n++) {
		memset(a, 'X', sizeof(a));
		assert_int_equal(util_random_hex(a, n), ERR_OK);
		assert_int_equal(strlen(a), 2 * n);
		assert_int_equal(strspn(a, "0123456789abcdef"), 2 * n);
		if (n < 64)
			assert_int_equal(a[2 * n + 1], 'X');	/* nothing written past the NUL */
	}
	assert_int_equal(util_random_hex(a, 16), ERR_OK);
	assert_int_equal(util_random_hex(b, 16), ERR_OK);
	assert_string_not_equal(a, b);
	assert_int_equal(util_random_hex(a, 65), ERR_INVAL);
}

/* ---- util_strlcpy, util_fmt_i64: the bytes snprintf would give ---- */

static void
test_strlcpy_fmt_i64(void **state)
{
	static const int64_t vals[] = { 0, 1, -1, 9, 10, -10, 99, 100, 12345, -987654321,
	    INT64_MAX, INT64_MIN, INT64_MIN + 1, 4294967296LL, -4294967295LL };
	char out[UTIL_I64_CHARS], want[64], buf[8];

	(void)state;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		int n = snprintf(want, sizeof(want), "%lld", (long long)vals[i]);
		assert_int_equal(util_fmt_i64(out, vals[i]), n);
		assert_string_equal(out, want);
	}
	assert_int_equal(util_strlcpy(buf, "abc", sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(util_strlcpy(buf, "abcdefghij", sizeof(buf)), 7);
	assert_string_equal(buf, "abcdefg");
	assert_int_equal(util_strlcpy(buf, "", sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(util_strlcpy(buf, "x", 1), 0);
	assert_string_equal(buf, "");
}

/* The pool of util_random_bytes: a child made by fork() or by a raw clone()
 * (no glibc fork handlers run) must not hand out the parent's next bytes;
 * requests larger than the pool, and many in a row, work too. */
static void
child_next(bool raw_clone, uint8_t out[16])
{
	int fd[2];
	pid_t pid;

	assert_int_equal(pipe(fd), 0);
	pid = raw_clone ? (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL) : fork();
	if (pid == 0) {
		uint8_t b[16];
		_exit(util_random_bytes(b, sizeof(b)) == ERR_OK &&
		    write(fd[1], b, sizeof(b)) == (ssize_t)sizeof(b) ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(read(fd[0], out, 16), 16);
	waitpid(pid, NULL, 0);
	close(fd[0]);
	close(fd[1]);
}

static void
test_random_bytes_pool(void **state)
{
	static uint8_t big[10000];
	uint8_t child[16], next[16], zero[16] = { 0 };

	(void)state;
	assert_int_equal(util_random_bytes(big, sizeof(big)), ERR_OK);	/* past the pool */
	for (int i = 0; i < 1000; i++)		/* crosses several refills */
		assert_int_equal(util_random_bytes(next, sizeof(next)), ERR_OK);
	for (int raw = 0; raw < 2; raw++) {
		child_next(raw != 0, child);
		assert_int_equal(util_random_bytes(next, sizeof(next)), ERR_OK);
		assert_memory_not_equal(child, next, sizeof(next));
		assert_memory_not_equal(child, zero, sizeof(zero));
	}
}

/* ---- clocks and util_write_all ---- */

static void
test_clocks_and_write_all(void **state)
{
	int64_t t0 = util_now_ms();
	char path[512];
	char *buf;
	size_t len;
	int fd;

	(void)state;
	assert_true(util_now_ms() >= t0);
	assert_true(util_wall_ns() > INT64_C(1600000000) * 1000000000);
	snprintf(path, sizeof(path), "%s/written", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(util_write_all(fd, "hello", 5), ERR_OK);
	assert_int_equal(util_write_all(fd, "", 0), ERR_OK);
	close(fd);
	assert_int_equal(util_write_all(fd, "x", 1), ERR_IO);	/* closed */
	assert_int_equal(util_read_file(path, 5, &buf, &len), ERR_OK);
	assert_string_equal(buf, "hello");
	free(buf);
	unlink(path);
}

/* util_now_us runs on util_now_ms's clock, 1000 times finer, and does not
 * go back. */
static void
test_now_us(void **state)
{
	int64_t ms0 = util_now_ms(), us = util_now_us(), ms1 = util_now_ms(), us2;

	(void)state;
	assert_true(us / 1000 >= ms0 && us / 1000 <= ms1);
	us2 = util_now_us();
	assert_true(us2 >= us);
}

/* util_rss_kb: this process has some; a reaped child and a pid that
 * cannot exist have none (-1). */
static void
test_rss_kb(void **state)
{
	pid_t child;
	int st;

	(void)state;
	assert_true(util_rss_kb(getpid()) > 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_int_equal(util_rss_kb(child), -1);
	assert_int_equal(util_rss_kb(-1), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_now_us),
		cmocka_unit_test(test_rss_kb),
		cmocka_unit_test(test_parse_u64_accepts),
		cmocka_unit_test(test_parse_u64_rejects),
		cmocka_unit_test(test_read_file_missing),
		cmocka_unit_test(test_read_file_empty),
		cmocka_unit_test(test_read_file_bounds),
		cmocka_unit_test(test_read_file_huge_max),
		cmocka_unit_test(test_read_regular),
		cmocka_unit_test(test_mkdirs),
		cmocka_unit_test(test_create_beneath),
		cmocka_unit_test(test_utf8_prefix_and_repair),
		cmocka_unit_test(test_utf8_clean),
		cmocka_unit_test(test_utf8_clean_every_byte),
		cmocka_unit_test(test_random_hex),
		cmocka_unit_test(test_random_bytes_pool),
		cmocka_unit_test(test_strlcpy_fmt_i64),
		cmocka_unit_test(test_clocks_and_write_all),
	};
	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
