/*
 * sluice — the command-line client.  Dispatches to client/cmd_*.c.
 *
 * `sluice audit` runs build/bin/sluice-audit (client/audit_main.c), found
 * next to this binary: reading the broker's RocksDB store is the only thing
 * that needs RocksDB, and linking it here would cost every `sluice run`
 * ~9 ms of process start (RocksDB's library closure and static
 * constructors; docs/BENCHMARKS.md, "CLI start").
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cmd.h"
#include "common/paths.h"
#include "common/curve.h"
#include "common/log.h"

static int exec_audit(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{ "run", cmd_run, "run FILE            submit a program, print its output" },
	{ "up", cmd_up, "up [--workers N]    start a local farm (broker + workers)" },
	{ "batch", cmd_batch, "batch FILE.jsonl --out R.jsonl [--concurrency N]  run many jobs" },
	{ "result", cmd_result, "result ID [--json]  fetch a job's result (or its state)" },
	{ "cancel", cmd_cancel, "cancel ID           cancel a queued or running job" },
	{ "status", cmd_status, "status [--json]     queue depth, workers, free slots" },
	{ "scan", cmd_scan, "scan [--mode M] [--json] [FILE|-]  find and filter PII and secrets" },
	{ "session", cmd_session, "session ls|get|rm S  a session workspace (/work/session)" },
	{ "audit", exec_audit, "audit tail|export|verify  read the audit trail, export and verify evidence packs" },
	{ "assess", cmd_assess, "assess FILE [--json]  risk score, level and findings of a program" },
	{ "approvals", cmd_approvals, "approvals list|show|approve|deny  work the L3 approval queue" },
	{ "alerts", cmd_alerts, "alerts [--json]     print broker alerts as they happen" },
	{ "keygen", cmd_keygen, "keygen [--out DIR] [--tenant T] NAME  make NAME.key and NAME.pub (CURVE)" },
};

/* Replaces this process with sluice-audit from our own directory. */
static int
exec_audit(int argc, char **argv)
{
	char path[PATH_MAX + 16];

	(void)argc;
	paths_exec_sibling("sluice-audit", argv, path, sizeof(path));
	fprintf(stderr, "sluice: cannot run %s: %s\n", path, strerror(errno));
	return 127;
}

static void
usage(void)
{
	fprintf(stderr, "usage: sluice COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  sluice %s\n", commands[i].help);
	fprintf(stderr, "\nThe broker endpoint comes from --broker or SLUICE_BROKER "
	    "(default tcp://127.0.0.1:5555).\n"
	    "CURVE: --curve-key NAME.key --broker-key BROKER.pub (before or after the command),\n"
	    "or SLUICE_CURVE_KEY and SLUICE_BROKER_KEY.\n");
}

/* Takes the global --curve-key / --broker-key flags out of argv (anywhere in
 * it) into the environment, where client_new and the alert subscriber find
 * them.  Returns the new argc, or -1 when a flag lacks its value. */
static int
global_flags(int argc, char **argv)
{
	static const char *const flags[][2] = {
		{ "--curve-key", CURVE_ENV_KEY }, { "--broker-key", CURVE_ENV_BROKER_KEY },
	};
	int out = 0;

	for (int i = 0; i < argc; i++) {
		bool taken = false;
		for (size_t f = 0; f < 2 && !taken; f++) {
			size_t n = strlen(flags[f][0]);
			if (strcmp(argv[i], flags[f][0]) == 0) {
				if (i + 1 >= argc)
					return -1;
				setenv(flags[f][1], argv[++i], 1);
				taken = true;
			} else if (strncmp(argv[i], flags[f][0], n) == 0 && argv[i][n] == '=') {
				setenv(flags[f][1], argv[i] + n + 1, 1);
				taken = true;
			}
		}
		if (!taken)
			argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

int
main(int argc, char **argv)
{
	log_init("sluice", LOG_LEVEL_WARN);
	if ((argc = global_flags(argc, argv)) < 0) {
		fprintf(stderr, "sluice: --curve-key and --broker-key need a file\n");
		return 2;
	}
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage();
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "sluice: unknown command '%s'\n", argv[1]);
	usage();
	return 2;
}
