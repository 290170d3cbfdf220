/*
 * jail — one fresh sandbox per job, built by the worker (runs as root).
 *
 * The orchestrator (worker/jail.c) runs a fixed, commented sequence over one
 * file per facility (jail_user.c, jail_mnt.c, jail_net.c, jail_cgroup.c,
 * jail_rlimit.c, jail_seccomp.c, ...).  The worker's runner uses only this
 * header:
 *
 *     struct jail_conf c = { .runtime = "/.../deno", .workspace = ws_dir, ... };
 *     struct jail *j = jail_new(&c, &err, why, sizeof(why));
 *     jail_start(j, argv, in_fd, out_fd, err_fd)   // fork into the namespaces
 *     ... poll the pipes; on deadline: jail_kill(j) ...
 *     jail_reap(j, &outcome)                       // after the child exited
 *     jail_destroy(&j)                             // cgroup removed, mounts gone
 *
 * The workspace is a host directory the worker created and filled (see
 * worker/workspace.h); the jail mounts it at /work.  Nothing from the worker's
 * environment reaches the child: envp is built from `conf->env` alone.
 */
#ifndef SLUICE_JAIL_H
#define SLUICE_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

/* The job runs as uid/gid 1000 inside the jail, which is this id on the host
 * (the owner the workspace must be given).  Setup inside the jail runs as
 * root-in-the-namespace, mapped to JAIL_HOST_UID - 1000; it never execs. */
#define JAIL_HOST_UID	100000u
#define JAIL_HOST_GID	100000u

/* Where the runtime is found inside the jail.  argv[0] equal to
 * conf->runtime (or "deno") starts this file. */
#define JAIL_RUNTIME_PATH "/usr/bin/deno"

/* The runtime's cache directory inside the jail (its DENO_DIR): on the
 * jail's fresh /tmp, made by init before the job starts (jail_mnt.c). */
#define JAIL_DENO_DIR "/tmp/deno"

struct jail_limits {
	uint32_t memory_mb;	/* cgroup memory (+swap) limit */
	uint32_t pids;		/* cgroup pids limit */
	uint32_t cpu_seconds;	/* RLIMIT_CPU backstop (wall clock is the runner's) */
	uint32_t nofile;	/* RLIMIT_NOFILE */
	uint32_t fsize_mb;	/* RLIMIT_FSIZE */
};

struct jail_conf {
	const char *runtime;		/* absolute host path of the runtime binary (deno) */
	const char *workspace;		/* host dir mounted read-write at /work */
	const char *const *env;		/* NULL-terminated "K=V" list: the whole environment */
	const char *id;			/* job id, used in cgroup names (safe chars only) */
	struct jail_limits limits;
	bool insecure_no_jail;		/* plain fork/exec: no namespaces, cgroup or seccomp */
};

/* How the jailed program ended. */
struct jail_outcome {
	bool exited;		/* exit() was called: exit_code is valid */
	int exit_code;
	int term_signal;	/* signal that killed it, 0 if none */
	bool oom;		/* the memory limit was hit */
	bool seccomp_kill;	/* killed by the seccomp filter */
	char violation[64];	/* name of the denied syscall, when known */
	uint64_t cpu_ms;	/* user + system CPU of everything in the jail */
	uint64_t max_rss_kb;	/* peak memory of the jail */
};

struct jail;

/* Prepares a jail (cgroup etc.) without starting anything.  Returns a fresh
 * jail owned by the caller, or NULL with *err set and a reason in `why`. */
struct jail *jail_new(const struct jail_conf *conf, enum err *err, char *why, size_t whysz);

/* Starts argv[0] (resolved inside the jail) with stdin/stdout/stderr on the
 * given fds; every other fd is closed in the child.  Returns ERR_OK or an
 * error with a reason in `why`.  At most once per jail.  Returns once the
 * runtime's execve succeeded; a step that failed in the child comes back as
 * ERR_JAIL with the step and errno in `why`.  The jail dies with the calling
 * thread (PR_SET_PDEATHSIG): call it from a thread that outlives the job. */
enum err jail_start(struct jail *j, char *const argv[], int in_fd, int out_fd, int err_fd,
    char *why, size_t whysz);

/* The host pid of the jail's top process (0 before jail_start). */
pid_t jail_pid(const struct jail *j);

/* Kills everything in the jail (SIGKILL to the whole pid namespace / cgroup).
 * Safe to call more than once and after exit. */
void jail_kill(struct jail *j);

/* Waits for the top process and fills `out`.  Blocks if `block`, otherwise
 * returns ERR_TIMEOUT when it has not exited yet. */
enum err jail_reap(struct jail *j, bool block, struct jail_outcome *out);

/* Warm pool (worker/warm.c): a jail is built and its runtime started before
 * the job is known; these give it the job's limits and end it quickly. */

/* The host pid of the job process (the runtime, not init); 0 when it is
 * gone.  Looked up once, in the jail's cgroup. */
pid_t jail_job_pid(struct jail *j);

/* Replaces the limits of a running jail: cgroup memory and pids, and the
 * job process's rlimits (prlimit).  Zero fields take the defaults; limits
 * equal to the jail's current ones change nothing (no write).  Returns
 * ERR_OK, ERR_INVAL (absurd limits, jail not running) or ERR_JAIL with the
 * reason (e.g. cgroup v1 could not reclaim below a lower memory limit);
 * after a failure the jail must not be used for the job. */
enum err jail_set_limits(struct jail *j, const struct jail_limits *l, char *why, size_t whysz);

/* Sets the nice value of every thread in the jail (a warm jail is started
 * at the builder's low priority; its job runs at the worker's): one
 * setpriority on the jail's process group. */
void jail_renice(struct jail *j, int nice);

/* For a job that reported its own end with `exit_code`: fills `out` from
 * the jail's counters (cpu, peak memory, oom) and kills the job process,
 * without waiting for it; jail_destroy kills the rest and reaps. */
void jail_finish(struct jail *j, int exit_code, struct jail_outcome *out);

/* Kills what is left, removes the cgroup and frees.  Accepts NULL; clears *jp. */
void jail_destroy(struct jail **jp);

/* At worker start: removes the cgroups (every hierarchy a jail uses) that
 * workers now gone left behind (killed with SIGKILL, or crashed), killing
 * what still runs in them.  A group whose worker still runs is never
 * touched, so several workers may share a host.  Logs how many went. */
void jail_sweep_cgroups(void);

/* Startup check: can this host build a jail (namespaces, cgroup, seccomp)?
 * Returns true, or false with the reason in `why`. */
bool jail_probe(const char *runtime, char *why, size_t whysz);

#endif
