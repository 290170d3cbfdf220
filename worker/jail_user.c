/*
 * jail_user — the user namespace of a jail.
 *
 * Runs in the worker (root).  The parent writes the id maps of the fresh
 * user namespace: root inside maps to JAIL_ROOT_HOST_UID (used only while the
 * jail's init builds the root; it never execs), uid/gid 1000 inside maps to
 * JAIL_HOST_UID/GID, which owns the workspace.  Nothing else is mapped, so
 * host files owned by real root are "nobody" inside and only their "other"
 * permission bits apply.  Trusts nothing from the child.
 *
 * The id changes use raw syscalls: glibc's wrappers broadcast them to every
 * thread it believes exists (__nptl_setxid) and, in a child cloned from the
 * threaded worker, wait forever for threads that are not there.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "worker/jail_int.h"

static enum err
jail_user_write_map(pid_t pid, const char *file, const char *map, char *why, size_t whysz)
{
	char path[64];
	int fd;
	size_t len = strlen(map);

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(why, whysz, "open %s: %s", path, strerror(errno));
		return ERR_JAIL;
	}
	if (write(fd, map, len) != (ssize_t)len) {
		snprintf(why, whysz, "write %s: %s", path, strerror(errno));
		close(fd);
		return ERR_JAIL;
	}
	close(fd);
	return ERR_OK;
}

/* Writes uid_map and gid_map of the child.  Returns ERR_OK or ERR_JAIL. */
enum err
jail_user_parent(struct jail *j, char *why, size_t whysz)
{
	char map[128];
	enum err e;

	snprintf(map, sizeof(map), "0 %u 1\n%u %u 1\n", JAIL_ROOT_HOST_UID,
	    JAIL_INSIDE_UID, JAIL_HOST_UID);
	if ((e = jail_user_write_map(j->pid, "uid_map", map, why, whysz)) != ERR_OK)
		return e;
	snprintf(map, sizeof(map), "0 %u 1\n%u %u 1\n", JAIL_ROOT_HOST_GID,
	    JAIL_INSIDE_GID, JAIL_HOST_GID);
	return jail_user_write_map(j->pid, "gid_map", map, why, whysz);
}

/* Child, once the maps exist: become root of the namespace (keeping the
 * namespace's capabilities) and drop the host's supplementary groups. */
int
jail_user_enter(const struct jail *j, const char **step)
{
	(void)j;
	*step = "setgroups";
	if (syscall(SYS_setgroups, 0, NULL) == -1)
		return errno;
	*step = "setresgid(0)";
	if (syscall(SYS_setresgid, 0, 0, 0) == -1)
		return errno;
	*step = "setresuid(0)";
	if (syscall(SYS_setresuid, 0, 0, 0) == -1)
		return errno;
	return 0;
}

/* Job process: become uid/gid 1000.  The kernel clears every capability
 * when all uids leave 0; jail_priv checks that. */
int
jail_user_drop(const struct jail *j, const char **step)
{
	(void)j;
	*step = "setresgid(job)";
	if (syscall(SYS_setresgid, JAIL_INSIDE_GID, JAIL_INSIDE_GID, JAIL_INSIDE_GID) == -1)
		return errno;
	*step = "setresuid(job)";
	if (syscall(SYS_setresuid, JAIL_INSIDE_UID, JAIL_INSIDE_UID, JAIL_INSIDE_UID) == -1)
		return errno;
	return 0;
}
