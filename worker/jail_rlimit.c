/*
 * jail_rlimit — resource limits of the job process.
 *
 * Runs in the job process (jailed or not) just before execve.  These are
 * backstops behind the cgroup: CPU seconds (the runner's wall clock is the
 * real deadline), open files, file size (a write past it raises SIGXFSZ,
 * whose default action ends the job), processes
 * (counted per user namespace on Linux >= 5.14), and no core dumps.
 *
 * The same limits are applied from the worker to a jail that is already
 * running (the warm pool: a jail built before its job's limits were known),
 * with prlimit(2) on the job's host pid.
 */
#include <errno.h>
#include <sys/resource.h>

#include "worker/jail_int.h"

static int
jail_rlimit_set(pid_t pid, int res, rlim_t soft, rlim_t hard)
{
	struct rlimit rl = { soft, hard };

	return prlimit(pid, res, &rl, NULL) == -1 ? errno : 0;
}

/* Applies the job's limits to process `pid` (0: the calling process).
 * Returns 0 or an errno with the step. */
int
jail_rlimit_apply(const struct jail *j, pid_t pid, const char **step)
{
	const struct jail_limits *l = &j->limits;
	int e;

	*step = "RLIMIT_CORE";
	if ((e = jail_rlimit_set(pid, RLIMIT_CORE, 0, 0)) != 0)
		return e;
	*step = "RLIMIT_CPU";
	if ((e = jail_rlimit_set(pid, RLIMIT_CPU, l->cpu_seconds, (rlim_t)l->cpu_seconds + 1)) != 0)
		return e;
	*step = "RLIMIT_NOFILE";
	if ((e = jail_rlimit_set(pid, RLIMIT_NOFILE, l->nofile, l->nofile)) != 0)
		return e;
	*step = "RLIMIT_FSIZE";
	if ((e = jail_rlimit_set(pid, RLIMIT_FSIZE, (rlim_t)l->fsize_mb << 20,
	    (rlim_t)l->fsize_mb << 20)) != 0)
		return e;
	if (j->insecure)
		return 0;	/* per host uid there: would count the worker's own */
	*step = "RLIMIT_NPROC";
	if ((e = jail_rlimit_set(pid, RLIMIT_NPROC, l->pids, l->pids)) != 0)
		return e;
	return 0;
}

/* Child: applies the job's limits to itself before execve. */
int
jail_rlimit_enter(const struct jail *j, const char **step)
{
	return jail_rlimit_apply(j, 0, step);
}
