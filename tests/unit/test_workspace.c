/* Unit tests for worker/workspace: creation errors, input paths, harvesting
 * (symlinks, hard links, fifos, limits), tmpfs limits and teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "worker/workspace.h"

static char parent[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(parent, sizeof(parent), "/tmp/sluice-test-ws.XXXXXX");
	return mkdtemp(parent) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	rmdir(parent);
	return 0;
}

static const struct workspace_limits lim = { 4, 256, 8, 4096 };

static struct workspace *
plain(const char *id)
{
	char why[256];
	enum err e;
	struct workspace *ws = workspace_new(parent, id, getuid(), getgid(), &lim, false, &e,
	    why, sizeof(why));
	assert_non_null(ws);
	assert_int_equal(e, ERR_OK);
	return ws;
}

static void
test_workspace_new_errors(void **state)
{
	char why[256];
	enum err e;
	struct workspace_limits zero = { 0, 0, 0, 0 };
	struct workspace *ws;
	(void)state;

	assert_null(workspace_new(parent, "../x", 0, 0, &lim, false, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_INVAL);
	assert_null(workspace_new(parent, "a/b", 0, 0, &lim, false, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_INVAL);
	assert_null(workspace_new("relative-nonexistent", "id", 0, 0, &lim, false, &e, why,
	    sizeof(why)));
	assert_int_equal(e, ERR_INVAL);
	assert_null(workspace_new(parent, "id", 0, 0, &zero, false, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_INVAL);
	assert_null(workspace_new("/nonexistent-sluice", "id", 0, 0, &lim, false, &e, why,
	    sizeof(why)));
	assert_int_equal(e, ERR_IO);
	assert_non_null(strstr(why, "mkdir"));
	/* a relative parent that exists is resolved to an absolute path */
	assert_int_equal(chdir(parent), 0);
	ws = workspace_new(".", "rel", getuid(), getgid(), &lim, false, &e, why, sizeof(why));
	assert_non_null(ws);
	assert_int_equal(workspace_path(ws)[0], '/');
	assert_int_equal(strncmp(workspace_path(ws), parent, strlen(parent)), 0);
	workspace_destroy(&ws);
	assert_int_equal(chdir("/"), 0);
	ws = plain("dup");
	assert_null(workspace_new(parent, "dup", 0, 0, &lim, false, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_DUPLICATE);
	workspace_destroy(&ws);
	assert_null(ws);
	workspace_destroy(NULL);
}

static void
test_workspace_put_paths(void **state)
{
	struct workspace *ws = plain("put");
	char path[256], outside[128];
	struct stat st;
	(void)state;

	assert_int_equal(workspace_put(ws, "a/b/c.txt", "abc", 3), ERR_OK);
	snprintf(path, sizeof(path), "%s/a/b/c.txt", workspace_path(ws));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3);
	assert_int_equal(workspace_put(ws, "../x", "x", 1), ERR_INVAL);
	assert_int_equal(workspace_put(ws, "/abs", "x", 1), ERR_INVAL);
	assert_int_equal(workspace_put(ws, "a//b", "x", 1), ERR_INVAL);
	assert_int_equal(workspace_put(ws, "a/./b", "x", 1), ERR_INVAL);
	assert_int_equal(workspace_put(ws, "a/", "x", 1), ERR_INVAL);
	assert_int_equal(workspace_put(ws, "", "x", 1), ERR_INVAL);
	/* a symlinked directory in the workspace is not followed */
	snprintf(outside, sizeof(outside), "%s/outside", parent);
	assert_int_equal(mkdir(outside, 0755), 0);
	snprintf(path, sizeof(path), "%s/evil", workspace_path(ws));
	assert_int_equal(symlink(outside, path), 0);
	assert_int_equal(workspace_put(ws, "evil/x", "x", 1), ERR_IO);
	snprintf(path, sizeof(path), "%s/x", outside);
	assert_int_equal(access(path, F_OK), -1);
	/* a symlinked file is not followed either */
	snprintf(path, sizeof(path), "%s/lnk", workspace_path(ws));
	assert_int_equal(symlink("/tmp/sluice-should-not-exist", path), 0);
	assert_int_equal(workspace_put(ws, "lnk", "x", 1), ERR_IO);
	assert_int_equal(access("/tmp/sluice-should-not-exist", F_OK), -1);
	workspace_destroy(&ws);
	assert_int_equal(access(outside, F_OK), 0);	/* destroy did not follow "evil" */
	rmdir(outside);
}

static void
test_workspace_collect_skips_links(void **state)
{
	struct workspace *ws = plain("collect");
	struct workspace_file *f;
	const char *skip[] = { "main.ts", NULL };
	char host[128], path[256];
	size_t n;
	bool trunc;
	int fd;
	(void)state;

	assert_int_equal(workspace_put(ws, "main.ts", "code", 4), ERR_OK);
	assert_int_equal(workspace_put(ws, "out/r.txt", "result", 6), ERR_OK);
	snprintf(host, sizeof(host), "%s/host-secret", parent);
	fd = open(host, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "secret", 6), 6);
	close(fd);
	snprintf(path, sizeof(path), "%s/hard", workspace_path(ws));
	assert_int_equal(link(host, path), 0);
	snprintf(path, sizeof(path), "%s/sym", workspace_path(ws));
	assert_int_equal(symlink(host, path), 0);
	snprintf(path, sizeof(path), "%s/fifo", workspace_path(ws));
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/symdir", workspace_path(ws));
	assert_int_equal(symlink(parent, path), 0);

	assert_int_equal(workspace_collect(ws, skip, &f, &n, &trunc), ERR_OK);
	assert_int_equal(n, 1);
	assert_false(trunc);
	assert_string_equal(f[0].path, "out/r.txt");
	assert_int_equal(f[0].len, 6);
	assert_memory_equal(f[0].data, "result", 6);
	workspace_files_free(f, n);
	workspace_destroy(&ws);
	assert_int_equal(access(host, F_OK), 0);	/* the host file survived */
	unlink(host);
}

static void
test_workspace_collect_limits(void **state)
{
	struct workspace *ws = plain("limits");
	struct workspace_file *f;
	char name[32], big[3000];
	size_t n, total = 0;
	bool trunc;
	(void)state;

	memset(big, 'b', sizeof(big));
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		assert_int_equal(workspace_put(ws, name, "x", 1), ERR_OK);
	}
	assert_int_equal(workspace_collect(ws, NULL, &f, &n, &trunc), ERR_OK);
	assert_int_equal(n, 8);		/* max_files */
	assert_true(trunc);
	workspace_files_free(f, n);
	workspace_destroy(&ws);

	ws = plain("bytes");
	assert_int_equal(workspace_put(ws, "a", big, sizeof(big)), ERR_OK);
	assert_int_equal(workspace_put(ws, "b", big, sizeof(big)), ERR_OK);
	assert_int_equal(workspace_collect(ws, NULL, &f, &n, &trunc), ERR_OK);
	for (size_t i = 0; i < n; i++)
		total += f[i].len;
	assert_int_equal(n, 1);
	assert_true(total <= 4096);	/* max_bytes */
	assert_true(trunc);
	workspace_files_free(f, n);
	workspace_destroy(&ws);
}

static bool
mounted(const char *path)
{
	char line[1024];
	FILE *fp = fopen("/proc/self/mountinfo", "r");
	bool found = false;

	while (fp && fgets(line, sizeof(line), fp))
		if (strstr(line, path))
			found = true;
	if (fp)
		fclose(fp);
	return found;
}

static void
test_workspace_tmpfs_limits(void **state)
{
	struct workspace_limits small = { 1, 16, 8, 4096 };
	char why[256], path[256];
	struct workspace *ws;
	struct stat st;
	char *mb;
	enum err e;
	(void)state;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP test_workspace_tmpfs_limits: needs root to mount tmpfs\n");
		skip();
	}
	ws = workspace_new(parent, "tmpfs", 100000, 100000, &small, true, &e, why, sizeof(why));
	assert_non_null(ws);
	snprintf(path, sizeof(path), "%s", workspace_path(ws));
	assert_true(mounted(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 100000);
	mb = calloc(1, 2u << 20);
	assert_non_null(mb);
	assert_int_equal(workspace_put(ws, "big", mb, 2u << 20), ERR_TOOBIG);	/* size=1m */
	free(mb);
	for (int i = 0; i < 32; i++) {			/* nr_inodes=16 */
		char name[16];
		snprintf(name, sizeof(name), "i%d", i);
		if ((e = workspace_put(ws, name, "x", 1)) != ERR_OK)
			break;
	}
	assert_int_not_equal(e, ERR_OK);
	workspace_destroy(&ws);
	assert_false(mounted(path));
	assert_int_equal(access(path, F_OK), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_workspace_new_errors),
		cmocka_unit_test(test_workspace_put_paths),
		cmocka_unit_test(test_workspace_collect_skips_links),
		cmocka_unit_test(test_workspace_collect_limits),
		cmocka_unit_test(test_workspace_tmpfs_limits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
