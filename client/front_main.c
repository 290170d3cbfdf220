/*
 * sluice — the front binary, linked against libc only.  It runs the common
 * case itself: `sluice run FILE` with options it fully understands, to a
 * broker on this host (ipc://, or plaintext tcp:// on loopback) without
 * CURVE.  Everything else (every other command, --json, --out, --file,
 * --help, CURVE, remote endpoints, a bad option value) is handed to
 * sluice-cli, found next to this binary, with the same argv: loading
 * ZeroMQ, Hyperscan and the rest costs every process ~3.5 ms before main,
 * and a ZeroMQ context with its I/O thread ~5 ms more (docs/ARCHITECTURE.md,
 * "Two client binaries").  The options' meaning lives in client/runjob.c,
 * shared with sluice-cli.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/front.h"
#include "client/runjob.h"
#include "common/endpoint.h"
#include "common/paths.h"

#define ARGV_MAX 256	/* longer command lines go to sluice-cli */

/* Replaces this process with sluice-cli from our own directory. */
__attribute__((noreturn)) static void
hand_over(char **argv)
{
	char path[PATH_MAX + 16];

	paths_exec_sibling("sluice-cli", argv, path, sizeof(path));
	fprintf(stderr, "sluice: cannot run %s: %s (sluice-cli belongs next to sluice)\n", path,
	    strerror(errno));
	exit(2);
}

/* True when CURVE is asked for, by the environment or a flag anywhere. */
static bool
wants_curve(int argc, char **argv)
{
	if (getenv(CURVE_ENV_KEY) != NULL || getenv(CURVE_ENV_BROKER_KEY) != NULL)
		return true;
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], "--curve-key", 11) == 0 || strncmp(argv[i], "--broker-key", 12) == 0)
			return true;
	return false;
}

int
main(int argc, char **argv)
{
	char *orig[ARGV_MAX + 1], why[512];
	const char *broker = NULL;
	struct endpoint_addr addr;
	struct msg *sub, *res;
	uint64_t timeout = RUNJOB_TIMEOUT_DEFAULT;
	int ch;
	enum err e;

	if (argc < 2 || argc > ARGV_MAX || strcmp(argv[1], "run") != 0 || wants_curve(argc, argv))
		hand_over(argv);
	/* getopt_long permutes argv: sluice-cli gets the original order. */
	memcpy(orig, argv, (size_t)(argc + 1) * sizeof(*argv));
	if ((sub = msg_new(MSG_SUBMIT)) == NULL)
		hand_over(orig);
	opterr = 0;	/* sluice-cli says what is wrong */
	optind = 1;
	while ((ch = getopt_long(argc - 1, argv + 1, RUNJOB_SHORTOPTS, runjob_options, NULL)) != -1) {
		switch (runjob_apply(sub, ch, optarg, &timeout, why, sizeof(why))) {
		case RUNJOB_SET:
			continue;
		case RUNJOB_BAD:
			hand_over(orig);
		case RUNJOB_OTHER:
			break;
		}
		if (ch != RUNJOB_BROKER)
			hand_over(orig);	/* --json, --out, --file, --help, unknown */
		broker = optarg;
	}
	if (optind != argc - 2 ||
	    !endpoint_parse_local(endpoint_resolve(broker), &addr))
		hand_over(orig);
	if (!runjob_load_code(sub, argv[1 + optind], why, sizeof(why))) {
		fprintf(stderr, "sluice run: %s\n", why);
		msg_destroy(&sub);
		return 1;
	}
	e = front_submit(&addr, sub, RUNJOB_ACCEPT_MS, (int)(timeout + RUNJOB_RESULT_SLACK_MS), &res,
	    why, sizeof(why));
	msg_destroy(&sub);
	if (e != ERR_OK) {
		fprintf(stderr, "sluice run: %s\n", why);
		return 1;
	}
	runjob_print_output(res);
	runjob_exit(runjob_status(res, false));
}
