/*
 * sluice-jail-init — what a jail's init becomes once its job runs.
 *
 * The worker builds each jail in a child that shares the worker's memory
 * (clone with CLONE_VM, worker/jail.c): no copy of the worker's pages is
 * made, so the worker takes no copy-on-write faults afterwards, and no
 * process inside the jail's namespaces holds the worker's memory (its keys,
 * the sessions' token maps) while the job runs.  Once the job's execve has
 * succeeded, that child execs this small static program, which stays pid 1
 * of the jail's pid namespace until the job ends:
 *
 *   - it forwards signals to the job and reaps every process;
 *   - it serves the job's seccomp user notifications: a denied syscall
 *     kills the whole namespace first, then fails with EPERM, and its
 *     number goes into the report;
 *   - when the job ends it kills what is left, reaps it and writes EXIT
 *     (the job's wait status, the denied syscall or -1) on the status pipe.
 *
 *   sluice-jail-init STATUS_FD LISTENER_FD JOB_PID     (LISTENER_FD -1: none)
 *
 * It writes STARTED first: the worker then knows the exec happened and may
 * free the stack the setup ran on.  Run by the worker only: anything but
 * pid 1 of a pid namespace, or bad arguments, exits 2.
 *
 * No C library: every jail execs this once, and a static glibc program's
 * start-up alone costs ~0.8 ms of CPU on the test machine against ~0.07 ms
 * without one (`perf stat -r 300`, docs/BENCHMARKS.md).  So it makes its
 * few syscalls itself (x86_64 and aarch64), needs no files (it runs after
 * pivot_root, in a root that holds the runtime and little else), and takes
 * signals through a signalfd instead of handlers: every signal is blocked
 * since before the exec (a blocked signal is queued even for a namespace's
 * init, whose default actions the kernel otherwise drops).
 */
#include <asm/unistd.h>
#include <linux/ioctl.h>
#include <linux/seccomp.h>
#include <linux/signalfd.h>
#include <linux/types.h>

#define SIG_KILL	9
#define SIG_CHLD	17
#define SIG_SETMASK	2
#define SIGSET_SIZE	8		/* the kernel's sigset_t: 64 signals */
#define E_INTR		4
#define E_CHILD		10
#define E_PERM		1
#define W_NOHANG	1
#define P_IN		0x001
#define P_OUT		0x004
#define P_ERR		0x008
#define P_HUP		0x010
#define P_NVAL		0x020
#define PR_PDEATHSIG	1
#define SFD_FLAGS	(02000000 | 04000)	/* O_CLOEXEC | O_NONBLOCK */
#define IOCTL_RECV	SECCOMP_IOCTL_NOTIF_RECV
#define IOCTL_SEND	SECCOMP_IOCTL_NOTIF_SEND

/* The status records (worker/jail_msg.h: plain C, no includes). */
#include "worker/jail_msg.h"

struct pfd {
	int fd;
	short events, revents;
};

struct tspec {
	long sec, nsec;
};

/* A syscall: its result, or -errno. */
static long
sys(long nr, long a, long b, long c, long d, long e)
{
	long ret;
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	__asm__ volatile ("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
	    : "rcx", "r11", "memory");
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	__asm__ volatile ("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory");
	ret = x0;
#else
#error "sluice-jail-init: syscalls are written for x86_64 and aarch64 only"
#endif
	return ret;
}

/* The compiler may emit calls to these for structure copies and zeroing.
 * The empty asm in each loop keeps it from turning the loop itself into a
 * call to memset or memcpy (gcc and clang both recognise the pattern). */
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

void *
memset(void *d, int c, unsigned long n)
{
	unsigned char *p = d;

	while (n--) {
		*p++ = (unsigned char)c;
		__asm__ volatile ("" ::: "memory");
	}
	return d;
}

void *
memcpy(void *d, const void *s, unsigned long n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--) {
		*p++ = *q++;
		__asm__ volatile ("" ::: "memory");
	}
	return d;
}

static void __attribute__((noreturn))
leave(int code)
{
	for (;;)
		sys(__NR_exit_group, code, 0, 0, 0, 0);
}

static void
say(int fd, const char *s)
{
	unsigned long n = 0;

	while (s[n] != '\0')
		n++;
	sys(__NR_write, fd, (long)s, (long)n, 0, 0);
}

static void
report(int fd, int type, int status, int sysnr)
{
	struct jail_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.status = status;
	m.sysnr = sysnr;
	sys(__NR_write, fd, (long)&m, sizeof(m), 0, 0);
}

/* A decimal argument in [lo, 2^31 - 1]; lo may be -1. */
static int
arg_int(const char *s, long lo, long *out)
{
	long v = 0;
	int neg = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > 214748364L)
			return 0;
		v = v * 10 + (*s - '0');
	}
	if (v > 2147483647L)
		return 0;
	*out = neg ? -v : v;
	return *out >= lo;
}

/* Forwards what the signalfd holds to the job (SIGCHLD only wakes us). */
static void
forward_signals(int sfd, long job)
{
	struct signalfd_siginfo si;

	while (sys(__NR_read, sfd, (long)&si, sizeof(si), 0, 0) == (long)sizeof(si))
		if (si.ssi_signo != SIG_CHLD && job > 0)
			sys(__NR_kill, job, (long)si.ssi_signo, 0, 0, 0);
}

/* A pending seccomp notification: kills the namespace, then fails the
 * syscall with EPERM; returns its number or -1. */
static int
deny_notified(int listener)
{
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;

	memset(&req, 0, sizeof(req));
	if (sys(__NR_ioctl, listener, (long)IOCTL_RECV, (long)&req, 0, 0) != 0)
		return -1;
	sys(__NR_kill, -1, SIG_KILL, 0, 0, 0);	/* first: the job must not go on */
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.error = -E_PERM;
	sys(__NR_ioctl, listener, (long)IOCTL_SEND, (long)&resp, 0, 0);
	return req.data.nr;
}

int init_main(long argc, char **argv);

int
init_main(long argc, char **argv)
{
	long status_fd, listener, job, w, r;
	unsigned long all = ~0UL;
	struct tspec now = { 0, 0 };
	struct pfd pfd[2];
	int st, job_status = 0, sysnr = -1, sfd, nr;

	/* Only as pid 1 of a pid namespace: kill(-1) below must never reach
	 * anything outside the jail. */
	if (argc != 4 || sys(__NR_getpid, 0, 0, 0, 0, 0) != 1 || !arg_int(argv[1], 0, &status_fd) ||
	    !arg_int(argv[2], -1, &listener) || !arg_int(argv[3], 1, &job)) {
		say(2, "sluice-jail-init: started by sluice-worker only, as a jail's init "
		    "(STATUS_FD LISTENER_FD JOB_PID)\n");
		leave(2);
	}
	/* Die with the worker; if it is gone already, end the jail now. */
	sys(__NR_prctl, PR_PDEATHSIG, SIG_KILL, 0, 0, 0);
	pfd[0] = (struct pfd){ (int)status_fd, P_OUT, 0 };
	if (sys(__NR_ppoll, (long)pfd, 1, (long)&now, 0, SIGSET_SIZE) > 0 &&
	    (pfd[0].revents & (P_ERR | P_HUP | P_NVAL)) != 0) {
		sys(__NR_kill, -1, SIG_KILL, 0, 0, 0);
		leave(126);
	}
	sys(__NR_rt_sigprocmask, SIG_SETMASK, (long)&all, 0, SIGSET_SIZE, 0);
	if ((sfd = (int)sys(__NR_signalfd4, -1, (long)&all, SIGSET_SIZE, SFD_FLAGS, 0)) < 0) {
		sys(__NR_kill, -1, SIG_KILL, 0, 0, 0);
		leave(125);
	}
	report((int)status_fd, JAIL_MSG_STARTED, 0, -1);

	/* Reap until the job ends; forward signals and serve seccomp
	 * notifications meanwhile. */
	pfd[0] = (struct pfd){ sfd, P_IN, 0 };
	pfd[1] = (struct pfd){ (int)listener, P_IN, 0 };
	for (;;) {
		while ((w = sys(__NR_wait4, -1, (long)&st, W_NOHANG, 0, 0)) > 0)
			if (w == job) {
				job_status = st;
				job = 0;
			}
		if (job == 0 || w == -E_CHILD)
			break;
		r = sys(__NR_ppoll, (long)pfd, pfd[1].fd >= 0 ? 2 : 1, 0, 0, SIGSET_SIZE);
		if (r == -E_INTR)
			continue;
		if (r < 0) {
			job_status = SIG_KILL;	/* cannot wait: end it, as killed */
			break;
		}
		if (pfd[0].revents & P_IN)
			forward_signals(sfd, job);
		if (pfd[1].fd >= 0 && (pfd[1].revents & P_IN)) {
			if ((nr = deny_notified(pfd[1].fd)) >= 0 && sysnr < 0)
				sysnr = nr;
		} else if (pfd[1].fd >= 0 && (pfd[1].revents & (P_HUP | P_ERR | P_NVAL))) {
			pfd[1].fd = -1;	/* no process uses the filter any more */
		}
	}
	sys(__NR_kill, -1, SIG_KILL, 0, 0, 0);
	while (sys(__NR_wait4, -1, (long)&st, 0, 0, 0) != -E_CHILD)
		;
	report((int)status_fd, JAIL_MSG_EXIT, job_status, sysnr);
	leave(0);
}

/* The entry point: argc and argv from the initial stack, which is 16-byte
 * aligned here; init_main is called as a normal function. */
#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n"
    "\txor %rbp, %rbp\n\tmov (%rsp), %rdi\n\tlea 8(%rsp), %rsi\n"
    "\tand $-16, %rsp\n\tcall init_main\n\thlt\n");
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n"
    "\tmov x29, #0\n\tldr x0, [sp]\n\tadd x1, sp, #8\n\tbl init_main\n\tbrk #0\n");
#endif
