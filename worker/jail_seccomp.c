/*
 * jail_seccomp — the syscall filter, the jail's last layer.
 *
 * Runs in the worker: the filter is compiled with libseccomp in the parent
 * (libseccomp allocates, which the child must not do) and exported as BPF;
 * the job process installs that program with prctl(PR_SET_SECCOMP) as its
 * last step before execve, after no_new_privs.
 *
 * Policy: default allow (Deno needs a broad, version-dependent set), and
 *   - end the job for syscalls a job never needs and that
 *     widen the kernel attack surface or reach outside the jail: ptrace,
 *     mount APIs, pivot_root, chroot, module loading, kexec, bpf,
 *     perf_event_open, keyrings, userfaultfd, unshare, setns, namespace
 *     flags to clone, handle-based opens, reboot, swap, syslog, acct,
 *     iopl/ioperm, process_vm_*, clock setting, host/domain names, quotactl...
 *   - clone3 fails with ENOSYS (its flags live in memory a filter cannot
 *     read, so it cannot be checked; glibc falls back to clone);
 *   - socket() for any family other than AF_UNIX fails with EAFNOSUPPORT
 *     (Deno starts; the job learns "no network" instead of dying);
 *   - io_uring_* fail with ENOSYS (io_uring work is not seen by seccomp);
 *   - ioctl TIOCSTI / TIOCLINUX fail with EPERM (terminal injection).
 * Syscalls of other ABIs (i386, x32) are killed by the arch check.
 *
 * "End the job" is a user notification (SECCOMP_RET_USER_NOTIF) when the
 * kernel has it: the job hands the listener fd to the jail's init before
 * execve; init receives the notification (which names the syscall), kills
 * every process of the jail and answers EPERM.  The denied syscall never
 * runs: if init were gone the kernel would fail it with ENOSYS.  Without
 * user notification the action is SCMP_ACT_KILL_PROCESS and the syscall is
 * reported as "unknown".
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "worker/jail_int.h"

#define JAIL_SECCOMP_MAX_BPF	4096	/* instructions */

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char *const jail_seccomp_kill[] = {
	"ptrace", "mount", "umount", "umount2", "pivot_root", "chroot",
	"move_mount", "open_tree", "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"create_module", "query_module", "get_kernel_syms", "bpf", "perf_event_open",
	"keyctl", "add_key", "request_key", "userfaultfd", "unshare", "setns",
	"open_by_handle_at", "name_to_handle_at", "reboot", "swapon", "swapoff", "syslog",
	"acct", "iopl", "ioperm", "process_vm_readv", "process_vm_writev", "settimeofday",
	"clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname",
	"quotactl", "quotactl_fd", "nfsservctl", "uselib", "vm86", "vm86old",
	"lookup_dcookie", "fanotify_init", "kcmp", "pidfd_getfd",
};

static const char *const jail_seccomp_enosys[] = {
	"clone3", "io_uring_setup", "io_uring_enter", "io_uring_register",
};

static const unsigned long jail_seccomp_ns_flags[] = {
	CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWIPC,
	CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWTIME,
};

static int
jail_seccomp_rules(scmp_filter_ctx ctx, uint32_t deny)
{
	int nr, rc;

	for (size_t i = 0; i < sizeof(jail_seccomp_kill) / sizeof(jail_seccomp_kill[0]); i++) {
		if ((nr = seccomp_syscall_resolve_name(jail_seccomp_kill[i])) == __NR_SCMP_ERROR)
			continue;	/* not on this architecture */
		if ((rc = seccomp_rule_add(ctx, deny, nr, 0)) < 0)
			return rc;
	}
	for (size_t i = 0; i < sizeof(jail_seccomp_enosys) / sizeof(jail_seccomp_enosys[0]); i++) {
		if ((nr = seccomp_syscall_resolve_name(jail_seccomp_enosys[i])) == __NR_SCMP_ERROR)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0)) < 0)
			return rc;
	}
	for (size_t i = 0; i < sizeof(jail_seccomp_ns_flags) / sizeof(jail_seccomp_ns_flags[0]); i++) {
		unsigned long f = jail_seccomp_ns_flags[i];
		if ((rc = seccomp_rule_add(ctx, deny, SCMP_SYS(clone), 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, f, f))) < 0)
			return rc;
	}
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
	    SCMP_A0(SCMP_CMP_NE, AF_UNIX, 0))) < 0)
		return rc;
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI))) < 0)
		return rc;
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
}

/* Compiles the filter (the same program for every jail: the rules are
 * fixed and the notify action depends only on the kernel) into *bpf. */
static enum err
compile_filter(bool notify, struct sock_filter **bpf, unsigned short *len, char *why, size_t whysz)
{
	scmp_filter_ctx ctx;
	struct stat st;
	int fd = -1, rc;
	enum err e = ERR_JAIL;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		snprintf(why, whysz, "seccomp_init failed");
		return ERR_JAIL;
	}
	if ((rc = jail_seccomp_rules(ctx, notify ? SCMP_ACT_NOTIFY : SCMP_ACT_KILL_PROCESS)) < 0) {
		snprintf(why, whysz, "seccomp rule: %s", strerror(-rc));
		goto out_ctx;
	}
	if ((fd = memfd_create("sluice-seccomp", MFD_CLOEXEC)) == -1) {
		snprintf(why, whysz, "memfd_create: %s", strerror(errno));
		goto out_ctx;
	}
	if ((rc = seccomp_export_bpf(ctx, fd)) < 0 || fstat(fd, &st) == -1) {
		snprintf(why, whysz, "seccomp export: %s", strerror(rc < 0 ? -rc : errno));
		goto out_fd;
	}
	if (st.st_size == 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
	    st.st_size / sizeof(struct sock_filter) > JAIL_SECCOMP_MAX_BPF) {
		snprintf(why, whysz, "seccomp program has a bad size (%lld)", (long long)st.st_size);
		goto out_fd;
	}
	if ((*bpf = malloc((size_t)st.st_size)) == NULL) {
		snprintf(why, whysz, "out of memory");
		e = ERR_NOMEM;
		goto out_fd;
	}
	if (pread(fd, *bpf, (size_t)st.st_size, 0) != st.st_size) {
		snprintf(why, whysz, "seccomp program read back: %s", strerror(errno));
		free(*bpf);
		*bpf = NULL;
		goto out_fd;
	}
	*len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	e = ERR_OK;
out_fd:
	close(fd);
out_ctx:
	seccomp_release(ctx);
	return e;
}

/* The program, compiled once per process (jails are built by the worker's
 * loop and its warm builder thread: under the mutex); never freed. */
static pthread_mutex_t filter_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sock_filter *filter;
static unsigned short filter_len;
static bool filter_notify;

/* Parent: a copy of the compiled filter into j->bpf.  Returns ERR_OK, or
 * ERR_JAIL / ERR_NOMEM with the reason. */
enum err
jail_seccomp_prepare(struct jail *j, char *why, size_t whysz)
{
	enum err e = ERR_OK;

	pthread_mutex_lock(&filter_mu);
	if (filter == NULL) {
		uint32_t notif = SECCOMP_RET_USER_NOTIF;
		filter_notify = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &notif) == 0;
		e = compile_filter(filter_notify, &filter, &filter_len, why, whysz);
	}
	if (e == ERR_OK) {
		j->seccomp_notify = filter_notify;
		if ((j->bpf = malloc(filter_len * sizeof(*filter))) == NULL) {
			snprintf(why, whysz, "out of memory");
			e = ERR_NOMEM;
		} else {
			memcpy(j->bpf, filter, filter_len * sizeof(*filter));
			j->bpf_len = filter_len;
		}
	}
	pthread_mutex_unlock(&filter_mu);
	return e;
}

/* Job process, last step before execve: installs the filter.  *listener
 * is the user-notification fd (to hand to init), or -1. */
int
jail_seccomp_enter(const struct jail *j, int *listener, const char **step)
{
	struct sock_fprog prog = { j->bpf_len, j->bpf };
	long fd;

	*step = "install seccomp filter";
	*listener = -1;
	fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    j->seccomp_notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0, &prog);
	if (fd == -1)
		return errno;
	if (j->seccomp_notify)
		*listener = (int)fd;
	return 0;
}

/* Frees the compiled program. */
void
jail_seccomp_cleanup(struct jail *j)
{
	free(j->bpf);
	j->bpf = NULL;
	j->bpf_len = 0;
}

/* Writes the name of syscall `nr` of the native ABI (or "unknown") to out. */
void
jail_seccomp_name(int nr, char *out, size_t outsz)
{
	char *s = nr < 0 ? NULL : seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

	snprintf(out, outsz, "%s", s != NULL ? s : "unknown");
	free(s);
}
