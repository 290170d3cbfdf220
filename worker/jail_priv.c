/*
 * jail_priv — privileges and file descriptors of the job process.
 *
 * Runs in the job process between fork and execve.  Before the ids change
 * (jail_user_drop) the capability bounding set and the ambient set are
 * emptied; afterwards the permitted, effective and inheritable sets are
 * zeroed with capset and checked with capget, and PR_SET_NO_NEW_PRIVS is set
 * so no setuid file or file capability can give anything back.  Every fd
 * above 2 is marked close-on-exec (the parent's status pipe must live until
 * execve, so they are closed by the execve itself).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "worker/jail_int.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Child, while still root of its namespace: empties the bounding and
 * ambient capability sets.  Returns 0 or an errno with the step. */
int
jail_priv_enter(const struct jail *j, const char **step)
{
	(void)j;
	*step = "PR_CAPBSET_DROP";
	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1) {
			if (errno == EINVAL)
				break;		/* past CAP_LAST_CAP */
			return errno;
		}
	}
	*step = "PR_CAP_AMBIENT_CLEAR_ALL";
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 && errno != EINVAL)
		return errno;
	return 0;
}

/* Child, after the ids changed: zeroes and checks the capability sets and
 * sets no_new_privs. */
int
jail_priv_finish(const struct jail *j, const char **step)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };

	(void)j;
	*step = "capset";
	if (syscall(SYS_capset, &hdr, data) == -1)
		return errno;
	*step = "capget";
	if (syscall(SYS_capget, &hdr, data) == -1)
		return errno;
	for (int i = 0; i < 2; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return EPERM;
	*step = "PR_SET_NO_NEW_PRIVS";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return errno;
	return 0;
}

/* Marks every fd above 2 close-on-exec. */
int
jail_priv_close_fds(const char **step)
{
	struct rlimit rl;

	*step = "close fds";
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return errno;
	for (rlim_t fd = 3; fd < rl.rlim_cur && fd < 65536; fd++)
		(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	return 0;
}
