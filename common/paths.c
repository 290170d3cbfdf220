/*
 * paths — finding sibling binaries and the pinned Deno (see paths.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/util.h"

bool
paths_exe_dir(char *out, size_t outsz)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return false;
	buf[n] = '\0';
	if ((slash = strrchr(buf, '/')) == NULL)
		return false;
	*slash = '\0';
	return (size_t)snprintf(out, outsz, "%s", buf) < outsz;
}

void
paths_exec_sibling(const char *name, char **argv, char *path, size_t pathsz)
{
	char dir[PATH_MAX];

	if (!paths_exe_dir(dir, sizeof(dir))) {
		snprintf(path, pathsz, "%s", name);
		if (errno == 0)
			errno = ENOENT;
		return;
	}
	if ((size_t)snprintf(path, pathsz, "%s/%s", dir, name) >= pathsz) {
		errno = ENAMETOOLONG;
		return;
	}
	execv(path, argv);
}

bool
paths_deno(char *out, size_t outsz, char *why, size_t whysz)
{
	char dir[PATH_MAX], cand[PATH_MAX + 64], real[PATH_MAX];
	const char *env = getenv("SLUICE_DENO");

	if (env != NULL && *env != '\0') {
		snprintf(cand, sizeof(cand), "%s", env);
	} else {
		if (!paths_exe_dir(dir, sizeof(dir))) {
			snprintf(why, whysz, "cannot find my own executable");
			return false;
		}
		snprintf(cand, sizeof(cand), "%s/../../node_modules/.bin/deno", dir);
	}
	if (realpath(cand, real) == NULL || access(real, X_OK) != 0) {
		snprintf(why, whysz, "no Deno at %s (run ops/install-deps.sh, or set SLUICE_DENO)",
		    cand);
		return false;
	}
	return (size_t)snprintf(out, outsz, "%s", real) < outsz;
}

bool
paths_mkdirs(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	struct stat st;

	if (n == 0 || n >= sizeof(buf)) {
		errno = n == 0 ? ENOENT : ENAMETOOLONG;
		return false;
	}
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return false;
		*p = '/';
	}
	if (mkdir(buf, 0700) == 0)
		return true;
	if (errno != EEXIST)
		return false;
	if (stat(buf, &st) != 0)
		return false;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return false;
	}
	return true;
}

int
paths_create_beneath(const char *dir, const char *rel, mode_t mode)
{
	char buf[PATH_MAX], *part, *slash;
	int dfd, fd = -1, saved;

	if (strlen(rel) >= sizeof(buf) || rel[0] == '\0' || rel[0] == '/') {
		errno = EINVAL;
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 &&
	    (errno != ENOENT || !paths_mkdirs(dir) ||
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0))
		return -1;
	memcpy(buf, rel, strlen(rel) + 1);
	for (part = buf; (slash = strchr(part, '/')) != NULL; part = slash + 1) {
		int nfd;
		*slash = '\0';
		if ((mkdirat(dfd, part, 0700) != 0 && errno != EEXIST) ||
		    (nfd = openat(dfd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			goto out;
		close(dfd);
		dfd = nfd;
	}
	fd = openat(dfd, part, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
out:
	saved = errno;
	close(dfd);
	errno = saved;
	return fd;
}

bool
paths_write_beneath(const char *dir, const char *rel, const void *data, size_t len)
{
	int fd = paths_create_beneath(dir, rel, 0644), saved;
	bool ok = fd >= 0 && util_write_all(fd, data, len) == ERR_OK;

	saved = errno;
	if (fd >= 0)
		close(fd);
	errno = saved;
	return ok;
}

const char *
paths_beneath_error(int err)
{
	return err == ELOOP || err == ENOTDIR ? "a symlink or a file is in the way" : strerror(err);
}
