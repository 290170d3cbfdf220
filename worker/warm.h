/*
 * warm — the worker's pool of pre-built jails (issue 9).
 *
 * A builder thread keeps up to `size` jails ready: workspace mounted, jail
 * built (namespaces, mounts, cgroup, seccomp) and Deno started on a small
 * bootstrap that waits on stdin for the name of the job's program.  The
 * runner takes one per job (warm_take), gives it the job's files and limits,
 * and hands it back for teardown (warm_retire); a warm jail serves exactly
 * one job.  A second thread (the "reaper") tears down retired jails, the
 * pool's and cold ones, so neither building nor destroying a jail runs on
 * the poll thread.
 *
 *   builder:  build ─▶ [ready list] ─▶ warm_take (poll thread) ─▶ runner
 *   reaper:   destroy ◀─ [retired list] ◀─ warm_retire ◀─────────┘
 *
 * Warm jails are named "warm-<worker pid>-<n>" (workspace dir and cgroup):
 * they exist before the job id is known; the runner logs the mapping.
 */
#ifndef SLUICE_WARM_H
#define SLUICE_WARM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "common/job.h"

struct jail;
struct workspace;

struct warm_conf {
	const char *deno;		/* absolute path of the deno binary */
	const char *state_dir;		/* workspaces live here */
	uid_t jail_uid;			/* host uid/gid owning the workspace */
	gid_t jail_gid;
	uint32_t size;			/* jails kept ready; 0: only the teardown thread */
	uint32_t idle_ms;		/* no job for this long: one jail fewer (down to 1) */
	struct job_limits lim;		/* what the warm jails are built with */
	bool prelude;			/* --preload the MCP prelude */
	bool sweep;			/* the reaper runs jail_sweep_cgroups once a minute */
	uint32_t prime;			/* warm_prime_parse: Deno parts initialised at boot */
};

/* One ready jail, owned by whoever took it. */
struct warm_jail {
	char name[64];			/* "warm-<pid>-<n>": workspace and cgroup name */
	struct workspace *ws;
	struct jail *jail;
	int in_w;			/* the bootstrap's stdin (write end) */
	int out_r, err_r;		/* its stdout and stderr (read ends, non-blocking) */
	struct filewatch *watch;	/* armed on the workspace at build time (off the
					 * job's path); NULL: the runner arms one */
	uint64_t rss_kb;		/* resident memory of the idle Deno */
};

/* What every job's Deno gets, cold or warm: the start of its argv (before
 * the --allow flags) and its environment after DENO_DIR. */
#define WARM_DENO_RUN "deno", "run", "--quiet", "--no-remote", "--no-npm", "--cached-only", \
	"--no-config", "--no-lock", "--no-prompt"
#define WARM_JOB_ENV "NO_COLOR=1", "DENO_NO_UPDATE_CHECK=1", "DENO_NO_PACKAGE_JSON=1", \
	"HOME=/nonexistent", "PATH=/nonexistent", "LANG=C.UTF-8", \
	"DENO_AUDIT_PERMISSIONS=/dev/stderr"

/* The bootstrap's end-of-job record on stderr: MARKER + exit code + "\n". */
#define WARM_EXIT_MARKER "\x1eSLUICE-EXIT "

/* The largest pool a worker keeps (--warm; the default, one per slot, is
 * capped here too). */
#define WARM_SIZE_MAX		128

struct warm;

/* Parses --warm-prime: "none" or a comma-separated list of timers, intl,
 * web, inspect (see warm.c) into a mask for warm_conf.prime.  False with a
 * reason on an unknown or empty name. */
bool warm_prime_parse(const char *list, uint32_t *mask, char *why, size_t whysz);

/* The bootstrap a warm jail runs (/work/sluice-warm.js) with the primes of
 * `mask`, malloc'd (NULL: out of memory), and the TypeScript prime it
 * imports (/work/sluice-prime.ts): for bench/deno_ir.sh, which counts what
 * they cost Deno. */
char *warm_bootstrap(uint32_t mask);
const char *warm_prime_source(void);

/* Starts the pool and its thread.  Returns a fresh pool, or NULL with *err. */
struct warm *warm_new(const struct warm_conf *c, enum err *err, char *why, size_t whysz);

/* Does a job with these limits fit a warm jail?  Memory above the warm
 * jails' (V8's heap flag is fixed at start) or another workspace size
 * (the tmpfs is mounted at build) need a cold start. */
bool warm_is_fit(const struct warm *w, const struct job_limits *lim);

/* A ready jail for a job with `lim`, or NULL (none ready, pool off, or the
 * job does not fit).  The caller owns it: warm_retire its jail and
 * workspace, and close its fds.  Called from the poll thread; never blocks
 * on a build. */
struct warm_jail *warm_take(struct warm *w, const struct job_limits *lim);

/* The job of a jail taken from the pool is over (its result is out): the
 * builder may start the replacement now.  Until then, while other jails
 * are ready, it waits a short while so that a Deno start does not compete
 * with the job.  Accepts NULL. */
void warm_job_ended(struct warm *w);

/* Kills the jail now and destroys it and the workspace on the pool's
 * thread.  Takes ownership of both (either may be NULL); clears them. */
void warm_retire(struct warm *w, struct jail **jail, struct workspace **ws);

/* Frees a taken jail that will not be used: fds closed, jail retired. */
void warm_jail_drop(struct warm *w, struct warm_jail **wjp);

/* Counters for logs and benchmarks. */
struct warm_stats {
	uint32_t ready;			/* jails ready now */
	uint32_t target;		/* jails the pool is filling up to */
	uint64_t built, taken, failed;	/* since start */
	uint64_t idle_rss_kb;		/* RSS of the last idle jail built */
};
void warm_stats(struct warm *w, struct warm_stats *out);

/* Stops the thread, destroys every ready and retired jail.  Accepts NULL. */
void warm_destroy(struct warm **wp);

#endif
