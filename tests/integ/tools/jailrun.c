/*
 * jailrun — run one program in a sluice jail and print its outcome.
 *
 *   jailrun [--insecure] [--memory MB] [--pids N] [--cpu S] [--timeout S]
 *           [--ws-size MB] [--max-output BYTES] [--env K=V]... [--file SRC[:DEST]]...
 *           [--collect] [--parent DIR] -- ARGV...
 *
 * A test tool (tests/integ/test_jail.sh, tests/escape/): creates a workspace
 * (tmpfs, or a plain dir with --insecure) under --parent (default /tmp),
 * copies the --file's in, runs ARGV with jail_start (ARGV[0] "deno" is the
 * runtime: $SLUICE_DENO or node_modules/deno/deno), relays the job's stdout
 * and stderr up to --max-output bytes (then kills it), kills it at --timeout,
 * and prints "jailrun: key: value" lines: start, exited, exit_code,
 * term_signal, oom, seccomp_kill, violation, cpu_ms, max_rss_kb, wall_ms,
 * output_truncated, and with --collect one "jailrun: file: PATH LEN" line per
 * harvested file.  Exit status: 0 when the jail ran, 2 on a usage or setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "worker/jail.h"
#include "worker/workspace.h"

#define JAILRUN_MAX_ENV		32
#define JAILRUN_MAX_FILES	32
#define JAILRUN_MAX_INPUT	(16u << 20)

static bool
jailrun_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int
jailrun_put(struct workspace *ws, const char *spec)
{
	char src[PATH_MAX], *colon;
	const char *dest;
	unsigned char *buf;
	size_t len = 0;
	ssize_t n;
	int fd;
	enum err e;

	snprintf(src, sizeof(src), "%s", spec);
	if ((colon = strchr(src, ':')) != NULL) {
		*colon = '\0';
		dest = colon + 1;
	} else {
		dest = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
	}
	if ((fd = open(src, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (buf = malloc(JAILRUN_MAX_INPUT)) == NULL) {
		fprintf(stderr, "jailrun: %s: %s\n", src, strerror(errno));
		return -1;
	}
	while (len < JAILRUN_MAX_INPUT && (n = read(fd, buf + len, JAILRUN_MAX_INPUT - len)) > 0)
		len += (size_t)n;
	close(fd);
	if ((e = workspace_put(ws, dest, buf, len)) != ERR_OK)
		fprintf(stderr, "jailrun: put %s: %s\n", dest, err_str(e));
	free(buf);
	return e == ERR_OK ? 0 : -1;
}

/* Relays the job's output until both pipes close, the cap or the deadline. */
static bool
jailrun_relay(struct jail *j, int outfd, int errfd, uint64_t max_out, uint32_t timeout_s,
    bool *timed_out)
{
	struct pollfd p[2] = { { outfd, POLLIN, 0 }, { errfd, POLLIN, 0 } };
	uint64_t total = 0, deadline = (uint64_t)util_now_ms() + (uint64_t)timeout_s * 1000;
	char buf[65536];
	int open_fds = 2;

	while (open_fds > 0) {
		uint64_t now = (uint64_t)util_now_ms();
		if (now >= deadline) {
			*timed_out = true;
			jail_kill(j);
			return false;
		}
		if (poll(p, 2, (int)(deadline - now)) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			if (p[i].fd == -1 || p[i].revents == 0)
				continue;
			if ((n = read(p[i].fd, buf, sizeof(buf))) <= 0) {
				p[i].fd = -1;
				open_fds--;
				continue;
			}
			if (total + (uint64_t)n > max_out) {
				jail_kill(j);
				return true;
			}
			total += (uint64_t)n;
			(void)!write(i == 0 ? 1 : 2, buf, (size_t)n);
		}
	}
	return false;
}

int
main(int argc, char **argv)
{
	struct jail_conf c = { 0 };
	struct workspace_limits wl = { 16, 2048, 64, 1u << 20 };
	const char *env[JAILRUN_MAX_ENV + 1] = { NULL }, *files[JAILRUN_MAX_FILES];
	const char *parent = "/tmp", *deno;
	char why[512], id[64], denodir[PATH_MAX], rt[PATH_MAX];
	uint32_t timeout_s = 60, max_out = 1u << 20;
	size_t nenv = 0, nfiles = 0;
	bool collect = false, timed_out = false, cut = false, trunc;
	struct workspace *ws;
	struct workspace_file *out;
	struct jail_outcome oc;
	struct jail *j;
	uint64_t t0;
	size_t nout;
	int i, op[2], ep[2];
	enum err e;

	log_init("jailrun", LOG_LEVEL_WARN);
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = true;
		if (strcmp(a, "--insecure") == 0) {
			c.insecure_no_jail = true;
			continue;
		} else if (strcmp(a, "--collect") == 0) {
			collect = true;
			continue;
		}
		if (v == NULL)
			ok = false;
		else if (strcmp(a, "--memory") == 0)
			ok = jailrun_u32(v, &c.limits.memory_mb);
		else if (strcmp(a, "--pids") == 0)
			ok = jailrun_u32(v, &c.limits.pids);
		else if (strcmp(a, "--cpu") == 0)
			ok = jailrun_u32(v, &c.limits.cpu_seconds);
		else if (strcmp(a, "--timeout") == 0)
			ok = jailrun_u32(v, &timeout_s);
		else if (strcmp(a, "--ws-size") == 0)
			ok = jailrun_u32(v, &wl.size_mb);
		else if (strcmp(a, "--max-output") == 0)
			ok = jailrun_u32(v, &max_out);
		else if (strcmp(a, "--parent") == 0)
			parent = v;
		else if (strcmp(a, "--env") == 0 && nenv < JAILRUN_MAX_ENV - 4)
			env[nenv++] = v;
		else if (strcmp(a, "--file") == 0 && nfiles < JAILRUN_MAX_FILES)
			files[nfiles++] = v;
		else
			ok = false;
		if (!ok) {
			fprintf(stderr, "jailrun: bad option %s\n", a);
			return 2;
		}
		i++;
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: jailrun [options] -- ARGV...\n");
		return 2;
	}
	argv += i + 1;
	if ((deno = getenv("SLUICE_DENO")) == NULL)
		deno = "node_modules/deno/deno";
	if (realpath(deno, rt) == NULL) {
		fprintf(stderr, "jailrun: runtime %s: %s\n", deno, strerror(errno));
		return 2;
	}
	if (strcmp(argv[0], "deno") == 0)
		argv[0] = rt;
	snprintf(id, sizeof(id), "jailrun-%d", (int)getpid());
	ws = workspace_new(parent, id, c.insecure_no_jail ? getuid() : JAIL_HOST_UID,
	    c.insecure_no_jail ? getgid() : JAIL_HOST_GID, &wl, !c.insecure_no_jail, &e, why,
	    sizeof(why));
	if (ws == NULL) {
		printf("jailrun: start: error workspace: %s\n", why);
		return 2;
	}
	for (size_t k = 0; k < nfiles; k++)
		if (jailrun_put(ws, files[k]) != 0)
			goto fail_ws;
	if (c.insecure_no_jail)
		snprintf(denodir, sizeof(denodir), "DENO_DIR=%s/.deno-dir", workspace_path(ws));
	else
		snprintf(denodir, sizeof(denodir), "DENO_DIR=/tmp/deno-dir");
	env[nenv++] = denodir;
	env[nenv++] = "NO_COLOR=1";
	env[nenv] = NULL;
	c.runtime = rt;
	c.workspace = workspace_path(ws);
	c.env = env;
	c.id = id;
	if ((j = jail_new(&c, &e, why, sizeof(why))) == NULL) {
		printf("jailrun: start: error %s: %s\n", err_name(e), why);
		goto fail_ws;
	}
	if (pipe2(op, O_CLOEXEC) == -1 || pipe2(ep, O_CLOEXEC) == -1)
		goto fail_jail;
	t0 = (uint64_t)util_now_ms();
	if ((e = jail_start(j, argv, 0, op[1], ep[1], why, sizeof(why))) != ERR_OK) {
		printf("jailrun: start: error %s: %s\n", err_name(e), why);
		goto fail_jail;
	}
	close(op[1]);
	close(ep[1]);
	printf("jailrun: start: ok pid %d\n", (int)jail_pid(j));
	fflush(stdout);
	cut = jailrun_relay(j, op[0], ep[0], max_out, timeout_s, &timed_out);
	if (jail_reap(j, true, &oc) != ERR_OK)
		goto fail_jail;
	printf("jailrun: exited: %d\njailrun: exit_code: %d\njailrun: term_signal: %d\n"
	    "jailrun: oom: %d\njailrun: seccomp_kill: %d\njailrun: violation: %s\n"
	    "jailrun: cpu_ms: %llu\njailrun: max_rss_kb: %llu\njailrun: wall_ms: %llu\n"
	    "jailrun: output_truncated: %d\njailrun: timed_out: %d\n",
	    oc.exited, oc.exit_code, oc.term_signal, oc.oom, oc.seccomp_kill, oc.violation,
	    (unsigned long long)oc.cpu_ms, (unsigned long long)oc.max_rss_kb,
	    (unsigned long long)((uint64_t)util_now_ms() - t0), cut, timed_out);
	if (collect && workspace_collect(ws, NULL, &out, &nout, &trunc) == ERR_OK) {
		for (size_t k = 0; k < nout; k++)
			printf("jailrun: file: %s %zu\n", out[k].path, out[k].len);
		printf("jailrun: files_truncated: %d\n", trunc);
		workspace_files_free(out, nout);
	}
	jail_destroy(&j);
	workspace_destroy(&ws);
	return 0;
fail_jail:
	jail_destroy(&j);
fail_ws:
	workspace_destroy(&ws);
	return 2;
}
