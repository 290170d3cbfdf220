/*
 * Unit tests for worker/filewatch: a real fanotify group on a real tmpfs.
 * A child process (another pid, like the jailed job) reads one file and
 * writes another; the watcher sees both with the right sizes and ignores
 * what this process (the worker) does itself.  Skipped, loudly, where
 * fanotify or mounting is not allowed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "worker/filewatch.h"

struct seen {
	char log[4096];
};

static void
collect(void *arg, const char *rel, const char *op, uint64_t bytes)
{
	struct seen *s = arg;
	size_t n = strlen(s->log);
	snprintf(s->log + n, sizeof(s->log) - n, "%s %s %llu;", op, rel, (unsigned long long)bytes);
}

static void
put(const char *dir, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
test_reads_and_writes(void **state)
{
	char dir[] = "/tmp/sluice-fw.XXXXXX", why[256], p[512], buf[64];
	struct filewatch *fw;
	struct seen s = { "" };
	enum err e;
	pid_t pid;
	int st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	if (mount("tmpfs", dir, "tmpfs", 0, "size=4m") == -1) {
		rmdir(dir);
		skip();
	}
	put(dir, "in.csv", "1,2,3\n");			/* the worker writes an input */
	fw = filewatch_new(dir, true, &e, why, sizeof(why));
	if (fw == NULL) {
		fprintf(stderr, "fanotify unavailable: %s\n", why);
		umount2(dir, MNT_DETACH);
		rmdir(dir);
		skip();
	}
	if ((pid = fork()) == 0) {		/* the job: read one, write one */
		snprintf(p, sizeof(p), "%s/in.csv", dir);
		int fd = open(p, O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
		close(fd);
		snprintf(p, sizeof(p), "%s/out.txt", dir);
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (n != 6 || fd < 0 || write(fd, "hello, world", 12) != 12)
			_exit(1);
		close(fd);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	put(dir, "worker-own.txt", "not the job's");	/* the worker itself: not counted */
	snprintf(p, sizeof(p), "%s/out.txt", dir);
	int fd = open(p, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 12);	/* harvesting: not counted */
	close(fd);
	filewatch_drain(fw);
	filewatch_each(fw, collect, &s);
	assert_true(filewatch_was_read(fw, "in.csv"));
	assert_false(filewatch_was_read(fw, "out.txt"));
	assert_non_null(strstr(s.log, "read in.csv 6;"));
	assert_non_null(strstr(s.log, "write out.txt 12;"));
	assert_null(strstr(s.log, "worker-own"));
	assert_false(filewatch_overflowed(fw));
	filewatch_destroy(&fw);
	assert_null(fw);
	filewatch_destroy(NULL);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

/* Reads dir/name in a child process (not the worker: counted). */
static void
child_reads(const char *dir, const char *name)
{
	char p[512], buf[64];
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		snprintf(p, sizeof(p), "%s/%s", dir, name);
		int fd = open(p, O_RDONLY);
		_exit(fd >= 0 && read(fd, buf, sizeof(buf)) > 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A warm jail's watch is armed at build time: what its bootstrap touched
 * before the handover is forgotten by filewatch_reset, what follows counts. */
static void
test_reset(void **state)
{
	char dir[] = "/tmp/sluice-fw.XXXXXX", why[256];
	struct filewatch *fw;
	enum err e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	if (mount("tmpfs", dir, "tmpfs", 0, "size=4m") == -1) {
		rmdir(dir);
		skip();
	}
	put(dir, "boot.js", "// bootstrap\n");
	put(dir, "main.ts", "console.log(1);\n");
	if ((fw = filewatch_new(dir, true, &e, why, sizeof(why))) == NULL) {
		fprintf(stderr, "fanotify unavailable: %s\n", why);
		umount2(dir, MNT_DETACH);
		rmdir(dir);
		skip();
	}
	child_reads(dir, "boot.js");
	filewatch_reset(fw);
	assert_false(filewatch_was_read(fw, "boot.js"));
	child_reads(dir, "main.ts");
	filewatch_drain(fw);
	assert_true(filewatch_was_read(fw, "main.ts"));
	assert_false(filewatch_was_read(fw, "boot.js"));
	filewatch_destroy(&fw);
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

static void
test_bad_root(void **state)
{
	char why[256];
	enum err e;
	(void)state;
	assert_null(filewatch_new("/nonexistent/sluice", true, &e, why, sizeof(why)));
	assert_int_not_equal(e, ERR_OK);
	assert_non_null(strstr(why, "nonexistent"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_and_writes),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_bad_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
