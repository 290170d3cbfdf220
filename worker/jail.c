/*
 * jail — the orchestrator: one fresh sandbox per job.
 *
 * Runs in the worker (root).  It trusts its configuration (from the runner)
 * and nothing that comes back from the child except fixed-size status
 * records on its own pipe, which are range-checked.
 *
 * Process tree of a jailed job:
 *
 *   worker ── clone(VM|NEWUSER|NEWPID|NEWNS|NEWNET|NEWIPC|NEWUTS) ──▶ init (pid 1)
 *                                                                     └─ vfork ─▶ job (deno)
 *
 * init starts as this code, on a stack of its own in the worker's memory
 * (CLONE_VM, like a thread that is a process of its own: no copy of the
 * worker is made, and the worker takes no copy-on-write faults after it).
 * It builds the jail as root of the new user namespace and starts the job
 * (vfork: the job's last steps run on init's stack until its execve;
 * jail_spawn_job).  Then init execs sluice-jail-init (worker/init/main.c),
 * a small static program that forwards signals to the job, reaps
 * everything, and when the job ends kills what is left in the pid
 * namespace and reports the job's wait status.  So no process in the
 * jail's namespaces holds the worker's memory while the job's code runs.
 * Killing init (jail_kill) makes the kernel kill every process of the pid
 * namespace.
 *
 * Until that exec init shares the worker's memory, so it writes nothing of
 * the worker's: the thread that cloned it waits (jail_start returns once
 * sluice-jail-init reports STARTED, or init is dead), every signal stays
 * blocked in init (the worker's handlers never run there; the exec resets
 * them), and the setup steps do not allocate and make their credential
 * calls as raw syscalls (glibc's would signal the worker's threads).
 *
 * Status pipe (child → worker): struct jail_msg records (jail_msg.h).
 *
 * Seccomp: the job hands its filter's user-notification fd to init over a
 * socketpair before execve; a denied syscall wakes sluice-jail-init, which
 * kills the whole pid namespace and records the syscall.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "worker/jail_int.h"
#include "worker/jail_msg.h"

#define JAIL_DEFAULT_MEMORY_MB	512
#define JAIL_DEFAULT_PIDS	64
#define JAIL_DEFAULT_CPU_S	60
#define JAIL_DEFAULT_NOFILE	256
#define JAIL_DEFAULT_FSIZE_MB	64
#define JAIL_ID_MAX		64

#define JAIL_INIT_STACK		(512 * 1024)	/* init's setup stack (lazily backed) */
#define JAIL_INIT_NAME		"sluice-jail-init"

/* AddressSanitizer cannot follow a child that shares its memory (the
 * child's stack frames poison shadow memory it never cleans up): sanitized
 * builds fork init as a copy instead.  Everything else is the same. */
#if defined(__SANITIZE_ADDRESS__)
#define JAIL_INIT_SHARES_MEMORY	0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JAIL_INIT_SHARES_MEMORY	0
#endif
#endif
#ifndef JAIL_INIT_SHARES_MEMORY
#define JAIL_INIT_SHARES_MEMORY	1
#endif

bool
jail_init_shares_memory(void)
{
	return JAIL_INIT_SHARES_MEMORY;
}

void
jail_child_fail(int fd, const char *step, int e)
{
	struct jail_msg m;

	memset(&m, 0, sizeof(m));
	m.type = JAIL_MSG_FAIL;
	m.err = e;
	snprintf(m.step, sizeof(m.step), "%s", step);
	(void)!write(fd, &m, sizeof(m));
	_exit(127);
}

static bool
jail_id_is_safe(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > JAIL_ID_MAX || id[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') || id[i] == '-' || id[i] == '_' || id[i] == '.'))
			return false;
	return true;
}

/* The limits with defaults for zero fields; false if one is absurd. */
static bool
jail_limits_fill(struct jail_limits *l, char *why, size_t whysz)
{
	if (l->memory_mb == 0)
		l->memory_mb = JAIL_DEFAULT_MEMORY_MB;
	if (l->pids == 0)
		l->pids = JAIL_DEFAULT_PIDS;
	if (l->cpu_seconds == 0)
		l->cpu_seconds = JAIL_DEFAULT_CPU_S;
	if (l->nofile == 0)
		l->nofile = JAIL_DEFAULT_NOFILE;
	if (l->fsize_mb == 0)
		l->fsize_mb = JAIL_DEFAULT_FSIZE_MB;
	if (l->memory_mb < 16 || l->memory_mb > (1u << 20)) {
		snprintf(why, whysz, "memory limit %u MB out of range [16, 1048576]", l->memory_mb);
		return false;
	}
	if (l->pids < 4 || l->pids > 65536 || l->nofile < 16 || l->nofile > (1u << 20) ||
	    l->cpu_seconds > 86400 || l->fsize_mb > (1u << 20)) {
		snprintf(why, whysz, "a limit is out of range (pids, nofile, cpu or fsize)");
		return false;
	}
	return true;
}

/* The workspace must be a directory the job's user can write. */
static enum err
jail_check_workspace(const struct jail *j, char *why, size_t whysz)
{
	struct stat st;
	bool ok;

	if (stat(j->workspace, &st) == -1) {
		snprintf(why, whysz, "workspace %.200s: %s", j->workspace, strerror(errno));
		return ERR_NOTFOUND;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whysz, "workspace %.200s is not a directory", j->workspace);
		return ERR_INVAL;
	}
	if (j->insecure)
		ok = access(j->workspace, W_OK | X_OK) == 0;
	else
		ok = (st.st_uid == JAIL_HOST_UID && (st.st_mode & S_IWUSR)) ||
		    (st.st_mode & S_IWOTH);
	if (!ok) {
		snprintf(why, whysz, "workspace %.200s is not writable by the job's user (host uid %u)",
		    j->workspace, j->insecure ? (unsigned)getuid() : JAIL_HOST_UID);
		return ERR_DENIED;
	}
	return ERR_OK;
}

static char **
jail_env_copy(const char *const *env)
{
	size_t n = 0;
	char **out;

	while (env != NULL && env[n] != NULL)
		n++;
	if ((out = calloc(n + 1, sizeof(*out))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if ((out[i] = strdup(env[i])) == NULL) {
			for (size_t k = 0; k < i; k++)
				free(out[k]);
			free(out);
			return NULL;
		}
	}
	return out;
}

/* See jail.h.  The sequence: validate, copy, then per facility "prepare":
 * mount plan (runtime + libraries opened), seccomp program, cgroup. */
struct jail *
jail_new(const struct jail_conf *conf, enum err *err, char *why, size_t whysz)
{
	struct jail *j;
	enum err e = ERR_INVAL;

	snprintf(why, whysz, "ok");
	if (conf->runtime == NULL || conf->runtime[0] != '/' || conf->workspace == NULL ||
	    conf->workspace[0] != '/' || conf->id == NULL || !jail_id_is_safe(conf->id)) {
		snprintf(why, whysz, "runtime and workspace must be absolute paths, id [A-Za-z0-9._-]{1,64}");
		*err = ERR_INVAL;
		return NULL;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		snprintf(why, whysz, "out of memory");
		*err = ERR_NOMEM;
		return NULL;
	}
	j->status_fd = j->sync_fd = -1;
	j->insecure = conf->insecure_no_jail;
	j->limits = conf->limits;
	j->runtime = strdup(conf->runtime);
	j->workspace = strdup(conf->workspace);
	j->id = strdup(conf->id);
	j->env = jail_env_copy(conf->env);
	if (j->runtime == NULL || j->workspace == NULL || j->id == NULL || j->env == NULL) {
		snprintf(why, whysz, "out of memory");
		e = ERR_NOMEM;
		goto fail;
	}
	if (!jail_limits_fill(&j->limits, why, whysz))
		goto fail;
	if (access(j->runtime, X_OK) == -1) {
		snprintf(why, whysz, "runtime %.200s: %s", j->runtime, strerror(errno));
		e = ERR_NOTFOUND;
		goto fail;
	}
	if ((e = jail_check_workspace(j, why, whysz)) != ERR_OK)
		goto fail;
	if (j->insecure)
		goto done;
	/* 1. the file system plan: runtime, its libraries, the workspace */
	if ((e = jail_mnt_prepare(j, why, whysz)) != ERR_OK)
		goto fail;
	/* 2. the seccomp program (compiled here: the child must not allocate) */
	if ((e = jail_seccomp_prepare(j, why, whysz)) != ERR_OK)
		goto fail;
	/* 3. the cgroup with its limits */
	if ((e = jail_cgroup_prepare(j, why, whysz)) != ERR_OK)
		goto fail;
done:
	*err = ERR_OK;
	return j;
fail:
	*err = e;
	jail_destroy(&j);
	return NULL;
}

/* Sends fd over the unix socket `sock` (SCM_RIGHTS). */
static int
jail_send_fd(int sock, int fd)
{
	char c = 'L', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr mh;
	struct cmsghdr *cm;

	memset(&mh, 0, sizeof(mh));
	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == 1 ? 0 : errno;
}

/* Receives one fd from `sock`; -1 on EOF (the job never got that far). */
static int
jail_recv_fd(int sock)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr mh;
	struct cmsghdr *cm;
	int fd = -1;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) == -1 && errno == EINTR)
		;
	if (n != 1 || (cm = CMSG_FIRSTHDR(&mh)) == NULL || cm->cmsg_level != SOL_SOCKET ||
	    cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* Sets up stdio of the job from the runner's fds (any of them may be 0..2). */
static int
jail_stdio(int in_fd, int out_fd, int err_fd, const char **step)
{
	int fds[3] = { in_fd, out_fd, err_fd };

	*step = "stdio";
	for (int i = 0; i < 3; i++)
		if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) == -1)
			return errno;
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) == -1)
			return errno;
	return 0;
}

/* The job process: the last steps, in this order, then execve. */
static void __attribute__((noreturn))
jail_job_main(const struct jail *j, char *const argv[], int in_fd, int out_fd, int err_fd,
    int fail_fd, int notify_sock)
{
	const char *step = "start";
	sigset_t none;
	int e, listener;

	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (j->insecure && setsid() == -1)
		jail_child_fail(fail_fd, "setsid", errno);
	/* 1. stdio on 0, 1, 2 */
	if ((e = jail_stdio(in_fd, out_fd, err_fd, &step)) != 0)
		jail_child_fail(fail_fd, step, e);
	/* 2. rlimits */
	if ((e = jail_rlimit_enter(j, &step)) != 0)
		jail_child_fail(fail_fd, step, e);
	if (!j->insecure) {
		/* 3. empty bounding/ambient sets, while we still hold CAP_SETPCAP */
		if ((e = jail_priv_enter(j, &step)) != 0)
			jail_child_fail(fail_fd, step, e);
		/* 4. become uid/gid 1000 (the kernel clears the capabilities) */
		if ((e = jail_user_drop(j, &step)) != 0)
			jail_child_fail(fail_fd, step, e);
		/* 5. zero and check the capability sets, no_new_privs */
		if ((e = jail_priv_finish(j, &step)) != 0)
			jail_child_fail(fail_fd, step, e);
	} else if (chdir(j->workspace) == -1) {
		jail_child_fail(fail_fd, "chdir workspace", errno);
	}
	/* 6. every fd above 2 is closed by the execve */
	if ((e = jail_priv_close_fds(&step)) != 0)
		jail_child_fail(fail_fd, step, e);
	/* 7. seccomp, last; its notification fd goes to init */
	if (!j->insecure) {
		if ((e = jail_seccomp_enter(j, &listener, &step)) != 0)
			jail_child_fail(fail_fd, step, e);
		if (listener != -1) {
			if ((e = jail_send_fd(notify_sock, listener)) != 0)
				jail_child_fail(fail_fd, "pass seccomp listener", e);
			close(listener);
		}
	}
	execve(j->exec_path, argv, j->env);
	jail_child_fail(fail_fd, "execve runtime", errno);
}

/* Closes every fd but 0..2 and those in keep[] (init does not exec, so the
 * worker's other fds, e.g. pipes of concurrent jobs, must go explicitly). */
static void
jail_close_except(const int *keep, int n)
{
	int lo = 3;

	for (;;) {
		int next = -1;
		for (int i = 0; i < n; i++)	/* smallest kept fd >= lo */
			if (keep[i] >= lo && (next == -1 || keep[i] < next))
				next = keep[i];
		if (next == -1) {
			if (syscall(SYS_close_range, (unsigned)lo, ~0U, 0) == -1)
				for (int fd = lo; fd < 4096; fd++)
					close(fd);
			return;
		}
		if (next > lo && syscall(SYS_close_range, (unsigned)lo, (unsigned)next - 1, 0) == -1)
			for (int fd = lo; fd < next; fd++)
				close(fd);
		lo = next + 1;
	}
}

/* True when nobody holds the read end of `fd` any more (POLLERR on a
 * writer: the worker is gone). */
static bool
jail_reader_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP)) != 0;
}

/* Init: starts the job process, which runs jail_job_main; returns its pid
 * (or -1).  vfork, not fork(): glibc's fork handlers would take locks that
 * another thread of the worker may hold; and no copy of init's memory (the
 * worker's, shared) is made for the job only to be torn down by its
 * execve.  Init is suspended until that execve
 * or the job's _exit: the job's steps run in init's memory, on the stack
 * below this frame (which it never returns to), and write nothing of init's
 * (they do not allocate; fds, signal handlers, credentials, rlimits and the
 * seccomp filter are the job process's own). */
static pid_t __attribute__((noinline))
jail_spawn_job(const struct jail *j, char *const argv[], int in_fd, int out_fd, int err_fd,
    const int ep[2], const int sv[2])
{
	pid_t pid = vfork();

	if (pid == 0) {
		close(ep[0]);
		close(sv[0]);
		jail_job_main(j, argv, in_fd, out_fd, err_fd, ep[1], sv[1]);
	}
	return pid;
}

/* The fd of sluice-jail-init (O_PATH), opened once; -1 when not found. */
static int jail_init_fd = -1;
static char jail_init_where[2 * PATH_MAX + 64];
static pthread_once_t jail_init_once = PTHREAD_ONCE_INIT;

/* $SLUICE_JAIL_INIT, else next to this program, else in ../bin from it
 * (the tests and benchmarks run from build/test and build/bench). */
static void
jail_init_find(void)
{
	const char *env = getenv("SLUICE_JAIL_INIT");
	char self[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n;
	char *slash;

	if (env != NULL && *env != '\0') {
		jail_init_fd = open(env, O_PATH | O_CLOEXEC);
		snprintf(jail_init_where, sizeof(jail_init_where), "%s (SLUICE_JAIL_INIT)", env);
		return;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		snprintf(jail_init_where, sizeof(jail_init_where), "/proc/self/exe unreadable");
		return;
	}
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/" JAIL_INIT_NAME, self);
	if ((jail_init_fd = open(path, O_PATH | O_CLOEXEC)) == -1) {
		snprintf(path, sizeof(path), "%s/../bin/" JAIL_INIT_NAME, self);
		jail_init_fd = open(path, O_PATH | O_CLOEXEC);
	}
	snprintf(jail_init_where, sizeof(jail_init_where), "%s/" JAIL_INIT_NAME " or %s/../bin/"
	    JAIL_INIT_NAME, self, self);
}

/* Init, its last step: becomes sluice-jail-init for the rest of the job.
 * The status pipe and the seccomp listener stay open across the exec; the
 * program's own fd is close-on-exec. */
static void __attribute__((noreturn))
jail_init_exec(int status_fd, int listener, pid_t job)
{
	char sfd[16], lfd[16], jp[16];
	char *argv[] = { JAIL_INIT_NAME, sfd, lfd, jp, NULL };
	char *envp[] = { NULL };
	int e;

	snprintf(sfd, sizeof(sfd), "%d", status_fd);
	snprintf(lfd, sizeof(lfd), "%d", listener);
	snprintf(jp, sizeof(jp), "%d", (int)job);
	if (fcntl(status_fd, F_SETFD, 0) == -1 || (listener != -1 && fcntl(listener, F_SETFD, 0) == -1))
		e = errno;
	else if (syscall(SYS_execveat, jail_init_fd, "", argv, envp, AT_EMPTY_PATH) == -1)
		e = errno;
	else
		e = EINVAL;
	kill(job, SIGKILL);
	jail_child_fail(status_fd, "exec " JAIL_INIT_NAME, e);
}

/* The jail's init (pid 1 of the new pid namespace), in the worker's memory
 * until it execs sluice-jail-init.  Never returns. */
static void __attribute__((noreturn))
jail_init_main(const struct jail *j, char *const argv[], int in_fd, int out_fd, int err_fd,
    int status_fd, int sync_fd)
{
	const char *step = "start";
	struct jail_msg m;
	int e, ep[2], sv[2], listener, keep[5];
	char go;
	pid_t pid;
	ssize_t n;

	/* 0. die with the worker; wait until the parent wrote the id maps
	 *    and moved us into the cgroup.  Every signal stays blocked here
	 *    (since the clone): the worker's handlers, which would write the
	 *    worker's memory, never run; the exec resets them, and
	 *    sluice-jail-init takes what is pending from a signalfd. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(sync_fd, &go, 1) != 1)
		_exit(126);
	close(sync_fd);
	keep[0] = in_fd;
	keep[1] = out_fd;
	keep[2] = err_fd;
	keep[3] = status_fd;
	keep[4] = jail_init_fd;
	jail_close_except(keep, 5);
	/* 1. private mounts; workspace and runtime staged while we are still
	 *    the worker's uid 0 on the host (their dirs may be root-only) */
	if ((e = jail_mnt_stage(j, &step)) != 0)
		jail_child_fail(status_fd, step, e);
	/* 1b. a session and process group of our own (not the worker's): the
	 *     group that jail_renice sets in one call, and no signal for the
	 *     worker's group reaches the jail */
	if (setsid() == -1)
		jail_child_fail(status_fd, "setsid", errno);
	/* 2. root of the new user namespace, no host groups.  The kernel
	 *    clears the parent-death signal when our uid/gid change, so it is
	 *    armed again; if the worker died before that, the read end of
	 *    our status channel is closed (POLLERR) and we go now. */
	if ((e = jail_user_enter(j, &step)) != 0)
		jail_child_fail(status_fd, step, e);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (jail_reader_gone(status_fd))
		_exit(126);
	/* 3. hostname, cgroup namespace */
	if ((e = jail_ns_enter(j, &step)) != 0)
		jail_child_fail(status_fd, step, e);
	/* 4. the new root: binds, /work, /tmp, /dev, /etc, /proc; pivot_root */
	if ((e = jail_mnt_enter(j, &step)) != 0)
		jail_child_fail(status_fd, step, e);
	/* 5. the job */
	if (pipe2(ep, O_CLOEXEC) == -1 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		jail_child_fail(status_fd, "pipe", errno);
	if ((pid = jail_spawn_job(j, argv, in_fd, out_fd, err_fd, ep, sv)) == -1)
		jail_child_fail(status_fd, "fork job", errno);
	close(ep[1]);
	close(sv[1]);
	close(in_fd);
	close(out_fd);
	close(err_fd);
	/* 6. the seccomp listener (EOF if the job failed before), then the
	 *    exec check: a FAIL record, or EOF when execve closed the pipe */
	listener = jail_recv_fd(sv[0]);
	close(sv[0]);
	while ((n = read(ep[0], &m, sizeof(m))) == -1 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(m)) {
		(void)!write(status_fd, &m, sizeof(m));
		kill(pid, SIGKILL);
		_exit(125);
	}
	close(ep[0]);
	/* 7. the rest of the job as sluice-jail-init, which reports STARTED */
	jail_init_exec(status_fd, listener, pid);
}

/* Child of the clone: init.  `arg` is jail_start's struct jail_init_args,
 * alive until init has exec'd or died. */
struct jail_init_args {
	const struct jail *j;
	char *const *argv;
	int in_fd, out_fd, err_fd, status_w, status_r, sync_r, sync_w;
};

static int
jail_init_entry(void *arg)
{
	const struct jail_init_args *a = arg;

	close(a->status_r);
	close(a->sync_w);
	jail_init_main(a->j, a->argv, a->in_fd, a->out_fd, a->err_fd, a->status_w, a->sync_r);
}

/* Reads one record; false on EOF or a short/garbled record. */
static bool
jail_recv(int fd, struct jail_msg *m)
{
	ssize_t n;

	while ((n = read(fd, m, sizeof(*m))) == -1 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(*m) || m->type < JAIL_MSG_FAIL || m->type > JAIL_MSG_EXIT)
		return false;
	m->step[sizeof(m->step) - 1] = '\0';
	return true;
}

static void
jail_wait_dead(struct jail *j)
{
	struct rusage ru;

	while (wait4(j->pid, &j->wait_status, 0, &ru) == -1 && errno == EINTR)
		;
	j->reaped = true;
}

/* Picks what execve runs: the runtime for argv[0] naming it. */
static void
jail_exec_path(struct jail *j, const char *argv0)
{
	if (strcmp(argv0, j->runtime) == 0 || strcmp(argv0, "deno") == 0 ||
	    strcmp(argv0, JAIL_RUNTIME_PATH) == 0)
		j->exec_path = j->insecure ? j->runtime : JAIL_RUNTIME_PATH;
	else
		j->exec_path = argv0;
}

/* The parent's half of the sequence: clone, id maps, cgroup, "go", then
 * wait for STARTED (sluice-jail-init runs: init's stack is free) or FAIL.
 * Jailed, it runs with every signal blocked (jail_start). */
static enum err
jail_start_blocked(struct jail *j, char *const argv[], int in_fd, int out_fd, int err_fd,
    char *why, size_t whysz)
{
	int sp[2] = { -1, -1 }, gp[2] = { -1, -1 };
	struct jail_init_args a;
	struct jail_msg m;
	char *stack = MAP_FAILED;
	enum err e;
	char go = 'g';

	if (j->started || argv == NULL || argv[0] == NULL) {
		snprintf(why, whysz, j->started ? "jail already started" : "empty argv");
		return ERR_INVAL;
	}
	if (!j->insecure) {
		pthread_once(&jail_init_once, jail_init_find);
		if (jail_init_fd == -1) {
			snprintf(why, whysz, JAIL_INIT_NAME " not found: %s (build it with make; "
			    "install it next to sluice-worker)", jail_init_where);
			return ERR_JAIL;
		}
	}
	if (!j->insecure && JAIL_INIT_SHARES_MEMORY) {
		/* A guard page below: an overflow kills init, not the worker's heap. */
		stack = mmap(NULL, JAIL_INIT_STACK, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
		if (stack == MAP_FAILED || mprotect(stack, 4096, PROT_NONE) == -1) {
			snprintf(why, whysz, "init stack: %s", strerror(errno));
			if (stack != MAP_FAILED)
				munmap(stack, JAIL_INIT_STACK);
			return ERR_NOMEM;
		}
	}
	j->started = true;
	jail_exec_path(j, argv[0]);
	if (pipe2(sp, O_CLOEXEC) == -1 || (!j->insecure && pipe2(gp, O_CLOEXEC) == -1)) {
		snprintf(why, whysz, "pipe: %s", strerror(errno));
		e = ERR_IO;
		goto close_pipes;
	}
	a = (struct jail_init_args){ j, argv, in_fd, out_fd, err_fd, sp[1], sp[0], gp[0], gp[1] };
	if (j->insecure) {
		j->pid = fork();
	} else if (JAIL_INIT_SHARES_MEMORY) {
		j->pid = clone(jail_init_entry, stack + JAIL_INIT_STACK,
		    CLONE_VM | SIGCHLD | jail_ns_clone_flags(), &a);
	} else if ((j->pid = (pid_t)syscall(SYS_clone, SIGCHLD | jail_ns_clone_flags(), NULL, NULL,
	    NULL, 0)) == 0) {
		jail_init_entry(&a);
	}
	if (j->pid == -1) {
		int ce = errno;
		snprintf(why, whysz, "clone: %s", strerror(ce));
		e = ce == EPERM || ce == EINVAL ? ERR_JAIL : ERR_IO;
		j->pid = 0;
		goto close_pipes;
	}
	if (j->pid == 0) {	/* insecure: the job itself */
		close(sp[0]);
		jail_job_main(j, argv, in_fd, out_fd, err_fd, sp[1], -1);
	}
	close(sp[1]);
	j->status_fd = sp[0];
	if (!j->insecure) {
		close(gp[0]);
		j->sync_fd = gp[1];
		if ((e = jail_user_parent(j, why, whysz)) != ERR_OK ||
		    (e = jail_cgroup_parent(j, why, whysz)) != ERR_OK)
			goto fail;
		if (write(j->sync_fd, &go, 1) != 1) {
			snprintf(why, whysz, "jail init vanished before setup");
			e = ERR_JAIL;
			goto fail;
		}
		close(j->sync_fd);
		j->sync_fd = -1;
	}
	if (j->insecure) {
		if (jail_recv(j->status_fd, &m) && m.type == JAIL_MSG_FAIL)
			goto child_failed;
		return ERR_OK;		/* EOF: the execve happened */
	}
	if (!jail_recv(j->status_fd, &m)) {
		snprintf(why, whysz, "jail init died during setup");
		e = ERR_JAIL;
		goto fail;
	}
	if (m.type == JAIL_MSG_STARTED) {
		if (stack != MAP_FAILED)
			munmap(stack, JAIL_INIT_STACK);
		return ERR_OK;
	}
child_failed:
	snprintf(why, whysz, "jail setup failed at \"%s\": %s%s", m.step, strerror(m.err),
	    m.err == EACCES && strncmp(m.step, "bind", 4) == 0 ?
	    " (every directory above it must be searchable by others, o+x)" : "");
	e = ERR_JAIL;
fail:
	kill(j->pid, SIGKILL);
	jail_wait_dead(j);	/* init no longer runs on its stack */
	goto unmap;
close_pipes:	/* nothing was started: every end is still ours */
	for (int i = 0; i < 2; i++) {
		if (sp[i] != -1)
			close(sp[i]);
		if (gp[i] != -1)
			close(gp[i]);
	}
unmap:
	if (stack != MAP_FAILED)
		munmap(stack, JAIL_INIT_STACK);
	return e;
}

/* See jail.h.  Jailed, every signal of this thread stays blocked until
 * init has exec'd or died: init starts with this mask and keeps it, so none
 * of the worker's handlers runs in init; and this thread's reads cannot be
 * interrupted, so it never looks at errno while init, sharing its
 * thread-local storage, may write it.  A raw rt_sigprocmask: glibc's
 * would leave its own two signals (thread cancellation, setxid) open. */
enum err
jail_start(struct jail *j, char *const argv[], int in_fd, int out_fd, int err_fd,
    char *why, size_t whysz)
{
	uint64_t all = ~(uint64_t)0, old = 0;
	enum err e;

	if (j->insecure)
		return jail_start_blocked(j, argv, in_fd, out_fd, err_fd, why, whysz);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof(all));
	e = jail_start_blocked(j, argv, in_fd, out_fd, err_fd, why, whysz);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof(old));
	return e;
}

pid_t
jail_pid(const struct jail *j)
{
	return j->pid;
}

/* See jail.h.  SIGKILL to init ends the pid namespace; the cgroup sweep
 * catches anything else; in insecure mode the process group is killed. */
void
jail_kill(struct jail *j)
{
	if (j == NULL || j->pid <= 0 || j->reaped)
		return;
	if (j->insecure) {
		kill(-j->pid, SIGKILL);
		kill(j->pid, SIGKILL);
		return;
	}
	kill(j->pid, SIGKILL);
	jail_cgroup_kill(j);
}

/* See jail.h. */
enum err
jail_reap(struct jail *j, bool block, struct jail_outcome *out)
{
	struct rusage ru;
	struct jail_msg m;
	int st, job_status, sysnr = -1;
	bool have_exit = false;
	pid_t w;

	if (!j->started || j->pid <= 0)
		return ERR_INVAL;
	if (j->reaped) {
		*out = j->outcome;
		return ERR_OK;
	}
	memset(&ru, 0, sizeof(ru));
	while ((w = wait4(j->pid, &st, block ? 0 : WNOHANG, &ru)) == -1 && errno == EINTR)
		;
	if (w == 0)
		return ERR_TIMEOUT;
	if (w == -1)
		return ERR_IO;
	j->reaped = true;
	j->wait_status = st;
	job_status = st;
	if (!j->insecure) {
		fcntl(j->status_fd, F_SETFL, O_NONBLOCK);
		while (jail_recv(j->status_fd, &m))
			if (m.type == JAIL_MSG_EXIT) {
				job_status = m.status;
				sysnr = m.sysnr;
				have_exit = true;
			}
		if (!have_exit && WIFEXITED(st))
			job_status = st;	/* init failed: report its exit */
	}
	memset(&j->outcome, 0, sizeof(j->outcome));
	if (WIFEXITED(job_status)) {
		j->outcome.exited = true;
		j->outcome.exit_code = WEXITSTATUS(job_status);
	} else if (WIFSIGNALED(job_status)) {
		j->outcome.term_signal = WTERMSIG(job_status);
	}
	j->outcome.cpu_ms = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
	j->outcome.max_rss_kb = (uint64_t)ru.ru_maxrss;
	if (!j->insecure) {
		jail_cgroup_outcome(j, &j->outcome);
		if (sysnr >= 0 || j->outcome.term_signal == SIGSYS) {
			j->outcome.seccomp_kill = true;
			j->outcome.exited = false;
			j->outcome.term_signal = SIGSYS;
			jail_seccomp_name(sysnr, j->outcome.violation, sizeof(j->outcome.violation));
		}
	}
	*out = j->outcome;
	return ERR_OK;
}

/* See jail.h.  The job is the one process of the jail's cgroup that is not
 * init (it cannot fork: no subprocess permission, seccomp, pids). */
pid_t
jail_job_pid(struct jail *j)
{
	if (j->job_pid == 0 && j->started && !j->reaped)
		j->job_pid = j->insecure ? j->pid : jail_cgroup_member(j, j->pid);
	return j->job_pid;
}

/* See jail.h.  The cgroup first (memory, pids), then the job's rlimits. */
enum err
jail_set_limits(struct jail *j, const struct jail_limits *l, char *why, size_t whysz)
{
	struct jail_limits nl = *l;
	const char *step = "rlimits";
	pid_t pid;
	int e;

	if (!j->started || j->reaped || j->insecure) {
		snprintf(why, whysz, "set limits: jail not running (or not a jail)");
		return ERR_INVAL;
	}
	if (!jail_limits_fill(&nl, why, whysz))
		return ERR_INVAL;
	/* The limits it runs with already (a warm jail given the default
	 * limits it was built with): ~60 us of cgroup writes and prlimits
	 * saved on the job's path. */
	if (nl.memory_mb == j->limits.memory_mb && nl.pids == j->limits.pids &&
	    nl.cpu_seconds == j->limits.cpu_seconds && nl.nofile == j->limits.nofile &&
	    nl.fsize_mb == j->limits.fsize_mb)
		return ERR_OK;
	if ((pid = jail_job_pid(j)) <= 0) {
		snprintf(why, whysz, "set limits: the job process is gone");
		return ERR_JAIL;
	}
	j->limits = nl;
	if (jail_cgroup_set(j, why, whysz) != ERR_OK)
		return ERR_JAIL;
	if ((e = jail_rlimit_apply(j, pid, &step)) != 0) {
		snprintf(why, whysz, "set limits: prlimit %s: %s", step, strerror(e));
		return ERR_JAIL;
	}
	return ERR_OK;
}

/* See jail.h.  setpriority(PRIO_PGRP) reaches every thread of every
 * process in the group (PRIO_PROCESS would set one thread). */
void
jail_renice(struct jail *j, int nice)
{
	/* One call for every thread of the group: init (jailed) or the job
	 * (insecure) leads its own process group (setsid), whose id is that
	 * pid; the job is in it.  Not after the reap: the id could be reused. */
	if (j != NULL && j->started && j->pid > 0 && !j->reaped)
		(void)setpriority(PRIO_PGRP, (id_t)j->pid, nice);
}

/* See jail.h.  The dying job's teardown (the kernel freeing its memory)
 * yields to the result on its way out. */
void
jail_finish(struct jail *j, int exit_code, struct jail_outcome *out)
{
	pid_t job;

	memset(out, 0, sizeof(*out));
	out->exited = true;
	out->exit_code = exit_code;
	if (!j->insecure)
		jail_cgroup_outcome(j, out);
	jail_renice(j, 19);
	/* The job itself at once, on the result's path; init and the rest
	 * of the group (nothing else can run there: the job cannot fork)
	 * with jail_kill, which jail_destroy calls off that path. */
	if (!j->insecure && (job = jail_job_pid(j)) > 0)
		kill(job, SIGKILL);
	else
		jail_kill(j);
}

/* See jail.h.  Undoes jail_new in reverse: process, cgroup, seccomp, mounts. */
void
jail_destroy(struct jail **jp)
{
	struct jail *j;

	if (jp == NULL || (j = *jp) == NULL)
		return;
	if (j->started && j->pid > 0 && !j->reaped) {
		jail_kill(j);
		jail_wait_dead(j);
	}
	jail_cgroup_cleanup(j);
	jail_seccomp_cleanup(j);
	jail_mnt_cleanup(j);
	if (j->status_fd != -1)
		close(j->status_fd);
	if (j->sync_fd != -1)
		close(j->sync_fd);
	for (size_t i = 0; j->env != NULL && j->env[i] != NULL; i++)
		free(j->env[i]);
	free(j->env);
	free(j->runtime);
	free(j->workspace);
	free(j->id);
	free(j);
	*jp = NULL;
}

/* See jail.h.  Builds a throw-away jail (own workspace under /tmp, default
 * limits) and runs `<runtime> --version` in it; the output must start with
 * "deno" or at least be non-empty, and the exit status must be 0. */
bool
jail_probe(const char *runtime, char *why, size_t whysz)
{
	char dir[] = "/tmp/sluice-probe.XXXXXX", id[32], out[256];
	const char *env[] = { "NO_COLOR=1", NULL };
	char *argv[] = { (char *)runtime, "--version", NULL };
	struct jail_conf c;
	struct jail_outcome oc;
	struct jail *j = NULL;
	struct pollfd pfd;
	size_t got = 0;
	enum err e;
	bool ok = false;
	int p[2] = { -1, -1 }, nul = -1;
	ssize_t n;

	if (mkdtemp(dir) == NULL) {
		snprintf(why, whysz, "mkdtemp: %s", strerror(errno));
		return false;
	}
	if (chown(dir, JAIL_HOST_UID, JAIL_HOST_GID) == -1 || chmod(dir, 0755) == -1) {
		snprintf(why, whysz, "chown probe dir: %s", strerror(errno));
		goto out_dir;
	}
	snprintf(id, sizeof(id), "probe-%d", (int)getpid());
	memset(&c, 0, sizeof(c));
	c.runtime = runtime;
	c.workspace = dir;
	c.env = env;
	c.id = id;
	if ((j = jail_new(&c, &e, why, whysz)) == NULL)
		goto out_dir;
	if (pipe2(p, O_CLOEXEC) == -1 || (nul = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
		snprintf(why, whysz, "pipe: %s", strerror(errno));
		goto out_jail;
	}
	if (jail_start(j, argv, nul, p[1], p[1], why, whysz) != ERR_OK)
		goto out_jail;
	close(p[1]);
	p[1] = -1;
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, 10000) != 1) {
			jail_kill(j);		/* hung: the outcome says SIGKILL */
			break;
		}
		if ((n = read(p[0], out + got, sizeof(out) - 1 - got)) <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof(out) - 1)
			break;
	}
	out[got] = '\0';
	if (jail_reap(j, true, &oc) != ERR_OK) {
		snprintf(why, whysz, "probe: reap failed");
		goto out_jail;
	}
	if (!oc.exited || oc.exit_code != 0 || got == 0) {
		char esc[96];
		snprintf(why, whysz, "probe: '%s --version' in a jail: exit %d signal %d, output \"%s\"",
		    runtime, oc.exited ? oc.exit_code : -1, oc.term_signal,
		    log_escape(esc, sizeof(esc), out, got));
		goto out_jail;
	}
	snprintf(why, whysz, "ok");
	ok = true;
out_jail:
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	if (nul != -1)
		close(nul);
	jail_destroy(&j);
out_dir:
	rmdir(dir);
	return ok;
}
