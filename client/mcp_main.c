/*
 * sluice-mcp — the farm as an MCP server on stdio (client/mcp_server.h).
 *
 *   sluice-mcp [--broker EP] [--timeout MS] [--log-level L] [--curve-key F --broker-key F]
 *
 * stdout carries only JSON-RPC; logs go to stderr.  search_tools asks the
 * farm itself (a tiny job calling the prelude's tools.search), so it shows
 * the workers' MCP catalogue, not a local one.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/mcp_server.h"
#include "common/curve.h"
#include "common/log.h"
#include "common/util.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sluice-mcp [--broker EP] [--timeout MS] [--log-level error|warn|info|debug]\n"
	    "                  [--curve-key FILE --broker-key FILE]\n"
	    "  An MCP server on stdin/stdout with the tools execute_code and search_tools\n"
	    "  (search_tools searches the tools the farm's workers are configured with).\n"
	    "  --curve-key FILE, --broker-key FILE  CURVE keys (or SLUICE_CURVE_KEY, SLUICE_BROKER_KEY)\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "curve-key", required_argument, NULL, 'k' },
		{ "broker-key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mcp_server_conf conf = { .default_timeout_ms = 30000 };
	enum log_level level = LOG_LEVEL_WARN;
	struct mcp_server *s = NULL;
	uint64_t v;
	char why[512];
	enum err e;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'b': conf.broker = optarg; break;
		case 't':
			if (!util_parse_u64(optarg, 1, 86400000, &v)) {
				fprintf(stderr, "sluice-mcp: bad --timeout\n");
				return 2;
			}
			conf.default_timeout_ms = (int)v;
			break;
		case 'l':
			if (!log_parse_level(optarg, &level)) {
				fprintf(stderr, "sluice-mcp: bad --log-level\n");
				return 2;
			}
			break;
		/* client_new reads the key files from the environment */
		case 'k': setenv(CURVE_ENV_KEY, optarg, 1); break;
		case 'K': setenv(CURVE_ENV_BROKER_KEY, optarg, 1); break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	log_init("sluice-mcp", level);
	signal(SIGPIPE, SIG_IGN);
	if ((s = mcp_server_new(&conf, &e, why, sizeof(why))) == NULL) {
		log_error("%s", why);
		return 1;
	}
	rc = mcp_server_run(s, STDIN_FILENO, STDOUT_FILENO);
	mcp_server_destroy(&s);
	return rc;
}
