/*
 * jail — PLACEHOLDER orchestrator: only the --insecure-no-jail path (plain
 * fork/exec with an empty environment, its own process group, rlimits and
 * closed fds).  The namespace/cgroup/seccomp jail replaces this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "worker/jail.h"

struct jail {
	struct jail_conf conf;
	pid_t pid;
	bool reaped;
	struct jail_outcome outcome;
};

struct jail *
jail_new(const struct jail_conf *conf, enum err *err, char *why, size_t whysz)
{
	struct jail *j;

	if (!conf->insecure_no_jail) {
		*err = ERR_JAIL;
		snprintf(why, whysz, "this build has no jail; run with --insecure-no-jail");
		return NULL;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		*err = ERR_NOMEM;
		snprintf(why, whysz, "out of memory");
		return NULL;
	}
	j->conf = *conf;
	return j;
}

enum err
jail_start(struct jail *j, char *const argv[], int in_fd, int out_fd, int err_fd, char *why,
    size_t whysz)
{
	pid_t pid = fork();

	if (pid < 0) {
		snprintf(why, whysz, "fork: %s", strerror(errno));
		return ERR_JAIL;
	}
	if (pid == 0) {
		struct rlimit rl;
		setpgid(0, 0);
		dup2(in_fd, 0);
		dup2(out_fd, 1);
		dup2(err_fd, 2);
		closefrom(3);
		rl.rlim_cur = rl.rlim_max = 0;
		setrlimit(RLIMIT_CORE, &rl);
		if (j->conf.limits.cpu_seconds) {
			rl.rlim_cur = rl.rlim_max = j->conf.limits.cpu_seconds;
			setrlimit(RLIMIT_CPU, &rl);
		}
		execve(j->conf.runtime, argv, (char *const *)j->conf.env);
		_exit(127);
	}
	setpgid(pid, pid);
	j->pid = pid;
	return ERR_OK;
}

pid_t
jail_pid(const struct jail *j)
{
	return j->pid;
}

void
jail_kill(struct jail *j)
{
	if (j->pid > 0)
		kill(-j->pid, SIGKILL);
}

enum err
jail_reap(struct jail *j, bool block, struct jail_outcome *out)
{
	struct rusage ru;
	int st;
	pid_t r;

	if (j->reaped) {
		*out = j->outcome;
		return ERR_OK;
	}
	do
		r = wait4(j->pid, &st, block ? 0 : WNOHANG, &ru);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return ERR_TIMEOUT;
	if (r < 0)
		return ERR_IO;
	memset(&j->outcome, 0, sizeof(j->outcome));
	j->outcome.exited = WIFEXITED(st);
	j->outcome.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	j->outcome.term_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	j->outcome.cpu_ms = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
	j->outcome.max_rss_kb = (uint64_t)ru.ru_maxrss;
	j->reaped = true;
	*out = j->outcome;
	return ERR_OK;
}

void
jail_destroy(struct jail **jp)
{
	struct jail *j;
	struct jail_outcome o;

	if (jp == NULL || (j = *jp) == NULL)
		return;
	if (j->pid > 0 && !j->reaped) {
		jail_kill(j);
		jail_reap(j, true, &o);
	}
	free(j);
	*jp = NULL;
}

bool
jail_probe(const char *runtime, char *why, size_t whysz)
{
	(void)runtime;
	snprintf(why, whysz, "this build has no jail");
	return false;
}
