/*
 * jail_int — what the jail orchestrator (jail.c) shares with its facility
 * files (jail_user.c, jail_ns.c, jail_mnt.c, jail_cgroup.c, jail_rlimit.c,
 * jail_priv.c, jail_seccomp.c).  Private to worker/jail*.c: the runner sees
 * only worker/jail.h.
 *
 * Every facility has the same shape; a facility leaves out the steps it does
 * not need:
 *
 *   jail_X_prepare(j, why, whysz)  parent, in jail_new/jail_start, before the
 *                                  clone: checks, allocations, host files.
 *   jail_X_parent(j, why, whysz)   parent, after the clone while the child
 *                                  waits: what only the host side can do.
 *   jail_X_enter(j, &step)         child, between clone and execve: returns 0
 *                                  or an errno and names the failed step.
 *                                  Must not allocate (the worker may have
 *                                  threads holding the malloc lock).
 *   jail_X_cleanup(j)              parent, in jail_destroy; idempotent.
 */
#ifndef SLUICE_JAIL_INT_H
#define SLUICE_JAIL_INT_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "worker/jail.h"

#define JAIL_MAX_BINDS	32		/* runtime + its libraries */
#define JAIL_PATH_MAX	4096

/* The ids the job runs as inside, and the host ids they map to. */
#define JAIL_INSIDE_UID	1000
#define JAIL_INSIDE_GID	1000
#define JAIL_ROOT_HOST_UID	(JAIL_HOST_UID - 1000)	/* setup-time root inside */
#define JAIL_ROOT_HOST_GID	(JAIL_HOST_GID - 1000)

/* One read-only bind of a host file into the new root. */
struct jail_bind {
	char *host;		/* host path (for messages) */
	char *inside;		/* path inside the jail */
};

enum jail_cg_version { JAIL_CG_NONE, JAIL_CG_V1, JAIL_CG_V2 };

struct jail {
	/* configuration, copied from struct jail_conf */
	char *runtime;
	char *workspace;
	char *id;
	char **env;
	struct jail_limits limits;
	bool insecure;

	/* jail_mnt */
	char *newroot;			/* empty host dir the new root is mounted on */
	char *stage_work;		/* empty host dir: the workspace is staged here */
	char *stage_runtime;		/* empty host file: the runtime is staged here */
	struct jail_bind binds[JAIL_MAX_BINDS];
	size_t nbinds;

	/* jail_cgroup */
	enum jail_cg_version cg_version;
	char *cg_memory;		/* v1: memory group dir; v2: the one group dir */
	char *cg_pids;			/* v1 only */
	char *cg_cpuacct;		/* v1 only, may be NULL */
	bool cg_memsw;			/* v1: swap is limited too */

	/* jail_seccomp: the filter, compiled by the parent */
	struct sock_filter *bpf;
	unsigned short bpf_len;
	bool seccomp_notify;		/* deny = user notification, else kill */

	/* jail: process state */
	pid_t pid;			/* host pid of the jail's init (or the process) */
	pid_t job_pid;			/* host pid of the job (warm pool), 0 until looked up */
	int status_fd;			/* read end: child reports, see jail.c */
	int sync_fd;			/* write end: parent tells child to go on */
	const char *exec_path;		/* what execve runs (inside the jail when jailed) */
	bool started;
	bool reaped;
	int wait_status;
	struct jail_outcome outcome;
};

/* True when init runs in the worker's memory (CLONE_VM); false in
 * AddressSanitizer builds, which fork it as a copy (jail.c). */
bool jail_init_shares_memory(void);

/* Child side: report a failed step (errno `e`) on `fd` and _exit. */
void jail_child_fail(int fd, const char *step, int e) __attribute__((noreturn));

/* jail_user: user namespace id maps, then the job's ids. */
enum err jail_user_parent(struct jail *j, char *why, size_t whysz);
int jail_user_enter(const struct jail *j, const char **step);
int jail_user_drop(const struct jail *j, const char **step);

/* jail_ns: the namespaces: clone flags, uts, cgroup namespace. */
int jail_ns_clone_flags(void);
int jail_ns_enter(const struct jail *j, const char **step);

/* jail_mnt: minimal root on a tmpfs, pivot_root. */
enum err jail_mnt_prepare(struct jail *j, char *why, size_t whysz);
int jail_mnt_stage(const struct jail *j, const char **step);
int jail_mnt_enter(const struct jail *j, const char **step);
void jail_mnt_cleanup(struct jail *j);

/* jail_cgroup: memory, pids, cpu accounting. */
enum err jail_cgroup_prepare(struct jail *j, char *why, size_t whysz);
enum err jail_cgroup_parent(struct jail *j, char *why, size_t whysz);
void jail_cgroup_kill(struct jail *j);
enum err jail_cgroup_set(struct jail *j, char *why, size_t whysz);
pid_t jail_cgroup_member(const struct jail *j, pid_t not);
void jail_cgroup_outcome(const struct jail *j, struct jail_outcome *out);
void jail_cgroup_cleanup(struct jail *j);

/* jail_rlimit: resource limits of the job process. */
int jail_rlimit_enter(const struct jail *j, const char **step);
int jail_rlimit_apply(const struct jail *j, pid_t pid, const char **step);

/* jail_priv: capabilities, no_new_privs, fds. */
int jail_priv_enter(const struct jail *j, const char **step);
int jail_priv_finish(const struct jail *j, const char **step);
int jail_priv_close_fds(const char **step);

/* jail_seccomp: syscall filter, compiled in the parent, installed last. */
enum err jail_seccomp_prepare(struct jail *j, char *why, size_t whysz);
int jail_seccomp_enter(const struct jail *j, int *listener, const char **step);
void jail_seccomp_cleanup(struct jail *j);
void jail_seccomp_name(int nr, char *out, size_t outsz);

#endif
