/*
 * cmd_up — `sluice up`: a local farm for a newcomer.  Starts sluice-broker
 * and N sluice-worker processes (the binaries beside this one), waits until
 * the workers have registered, prints how to use it, and runs until Ctrl-C
 * or SIGTERM, then stops them.  If any of them dies, the farm is stopped and
 * the exit code is 1.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/cmd.h"
#include "common/paths.h"
#include "common/util.h"

#define UP_WORKERS_MAX 64

static volatile sig_atomic_t up_stop;

static void
on_signal(int sig)
{
	(void)sig;
	up_stop = 1;
}

static pid_t
spawn(char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		fprintf(stderr, "sluice up: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

int
cmd_up(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "workers", required_argument, NULL, 'w' },
		{ "slots", required_argument, NULL, 's' },
		{ "data", required_argument, NULL, 'd' },
		{ "front", required_argument, NULL, 'f' },
		{ "back", required_argument, NULL, 'b' },
		{ "insecure-no-jail", no_argument, NULL, 'I' },
		{ "approvals", required_argument, NULL, 'a' },
		{ "alerts", required_argument, NULL, 'A' },
		{ "mcp-config", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = "sluice-data", *front = "tcp://127.0.0.1:5555", *back = "tcp://127.0.0.1:5556";
	char dir[PATH_MAX], broker_bin[PATH_MAX + 32], worker_bin[PATH_MAX + 32], self[PATH_MAX + 32];
	char approver_bin[PATH_MAX + 32], adata[PATH_MAX], control[PATH_MAX + 16];
	const char *approvals = "tcp://127.0.0.1:5558", *alerts = "tcp://127.0.0.1:5557";
	const char *mcp_config = NULL;
	char bdata[PATH_MAX], wstate[UP_WORKERS_MAX][PATH_MAX], wname[UP_WORKERS_MAX][32], slots[16] = "2";
	pid_t pids[UP_WORKERS_MAX + 2];
	uint64_t nworkers = 2, v;
	bool insecure = false;
	int ch, n = 0, rc = 0;
	struct sigaction sa = { .sa_handler = on_signal };

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			if (!util_parse_u64(optarg, 1, UP_WORKERS_MAX, &nworkers))
				goto usage;
			break;
		case 's':
			if (!util_parse_u64(optarg, 1, 256, &v))
				goto usage;
			snprintf(slots, sizeof(slots), "%llu", (unsigned long long)v);
			break;
		case 'd': data = optarg; break;
		case 'f': front = optarg; break;
		case 'b': back = optarg; break;
		case 'I': insecure = true; break;
		case 'a': approvals = optarg; break;
		case 'A': alerts = optarg; break;
		case 'C': mcp_config = optarg; break;
		default: goto usage;
		}
	}
	if (optind != argc || !paths_exe_dir(dir, sizeof(dir)))
		goto usage;
	snprintf(broker_bin, sizeof(broker_bin), "%s/sluice-broker", dir);
	snprintf(worker_bin, sizeof(worker_bin), "%s/sluice-worker", dir);
	snprintf(self, sizeof(self), "%s/sluice", dir);
	snprintf(approver_bin, sizeof(approver_bin), "%s/sluice-approver", dir);
	snprintf(adata, sizeof(adata), "%s/approver", data);
	snprintf(control, sizeof(control), "ipc://%s/control", adata);
	snprintf(bdata, sizeof(bdata), "%s/broker", data);
	if (!paths_mkdirs(bdata)) {
		fprintf(stderr, "sluice up: cannot create %s: %s\n", bdata, strerror(errno));
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	char *bargv[] = { broker_bin, "--front", (char *)front, "--back", (char *)back, "--data", bdata,
		"--approvals", (char *)approvals, "--alerts", (char *)alerts, NULL };
	pids[n++] = spawn(bargv);
	char *aargv[] = { approver_bin, "--broker", (char *)approvals, "--data", adata, "--control", control, NULL };
	pids[n++] = spawn(aargv);
	for (uint64_t i = 0; i < nworkers; i++) {
		snprintf(wstate[i], sizeof(wstate[i]), "%s/worker%llu", data, (unsigned long long)i + 1);
		snprintf(wname[i], sizeof(wname[i]), "worker%llu", (unsigned long long)i + 1);
		char *wargv[8 + 6] = { worker_bin, "--broker", (char *)back, "--slots", slots, "--state-dir",
			wstate[i], "--host", wname[i] };
		int k = 9;
		if (mcp_config != NULL) {
			wargv[k++] = "--mcp-config";
			wargv[k++] = (char *)mcp_config;
		}
		if (insecure)
			wargv[k++] = "--insecure-no-jail";
		wargv[k] = NULL;
		pids[n++] = spawn(wargv);
	}

	/* Ready when every worker has registered with the broker. */
	char want[16];
	snprintf(want, sizeof(want), "%llu", (unsigned long long)nworkers);
	char *sargv[] = { self, "status", "--broker", (char *)front, "--wait-workers", want,
		"--timeout", "20000", NULL };
	pid_t sp = spawn(sargv);
	int st = 0;
	while (waitpid(sp, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "sluice up: the farm did not come up (see the log lines above)\n");
		up_stop = 1;
		rc = 1;
	} else {
		printf("sluice farm up: broker %s, %llu workers x %s slots%s, approver, alerts on %s\n"
		    "  export SLUICE_BROKER=%s SLUICE_ALERTS=%s SLUICE_APPROVER_DATA=%s\n"
		    "  sluice run examples/hello.ts; sluice approvals list; sluice alerts\n"
		    "  Ctrl-C stops it.\n", front, (unsigned long long)nworkers, slots,
		    insecure ? " (INSECURE: no jail)" : "", alerts, front, alerts, adata);
		fflush(stdout);
	}
	while (!up_stop) {
		pid_t dead = waitpid(-1, &st, 0);
		if (dead > 0) {
			fprintf(stderr, "sluice up: process %d exited; stopping the farm\n", (int)dead);
			for (int i = 0; i < n; i++)
				if (pids[i] == dead)
					pids[i] = -1;
			rc = 1;
			break;
		}
	}
	for (int i = n - 1; i >= 0; i--)	/* workers first, then the broker */
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	for (int i = n - 1; i >= 0; i--)
		if (pids[i] > 0)
			while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
				;
	return rc;
usage:
	fprintf(stderr, "usage: sluice up [--workers N] [--slots N] [--data DIR] [--front EP] [--back EP]\n"
	    "                 [--approvals EP] [--alerts EP] [--mcp-config FILE] [--insecure-no-jail]\n");
	return 2;
}
