/*
 * sluice-mcp — the farm as an MCP server on stdio (client/mcp_server.h).
 *
 *   sluice-mcp [--broker EP] [--mcp-config FILE] [--allow GLOB]... [--timeout MS]
 *              [--log-level L]
 *
 * stdout carries only JSON-RPC; logs go to stderr.  With --mcp-config the
 * tools of those MCP servers (an mcp_pool, searched through a gateway that no
 * job drives) back search_tools.
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
#include "worker/gateway.h"
#include "worker/mcp_pool.h"

#define ALLOW_MAX 32

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sluice-mcp [--broker EP] [--mcp-config FILE] [--allow GLOB]... [--timeout MS]\n"
	    "                  [--log-level error|warn|info|debug]\n"
	    "  An MCP server on stdin/stdout with the tools execute_code and search_tools.\n"
	    "  --mcp-config  mcpServers file whose tools search_tools searches\n"
	    "  --allow       glob over server.tool that search_tools may show (default *)\n"
	    "  --curve-key FILE, --broker-key FILE  CURVE keys (or SLUICE_CURVE_KEY, SLUICE_BROKER_KEY)\n");
}

static enum err
audit_to_log(void *ctx, const struct gateway_audit *rec)
{
	(void)ctx;
	log_debug("mcp: %s.%s %s", rec->server, rec->tool, rec->outcome);
	return ERR_OK;
}

static json_t *
search(void *ctx, const char *query, const char *detail, int limit, char *why, size_t whysz)
{
	return gateway_search(ctx, query, detail, limit, why, whysz);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "mcp-config", required_argument, NULL, 'c' },
		{ "allow", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "curve-key", required_argument, NULL, 'k' },
		{ "broker-key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const all[] = { "*", NULL };
	struct mcp_server_conf conf = { .default_timeout_ms = 30000 };
	const char *allow[ALLOW_MAX + 1] = { NULL }, *config = NULL;
	struct mcp_pool *pool = NULL;
	struct gateway *catalogue = NULL;
	enum log_level level = LOG_LEVEL_WARN;
	struct mcp_server *s = NULL;
	size_t nallow = 0;
	uint64_t v;
	char why[512];
	enum err e;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'b': conf.broker = optarg; break;
		case 'c': config = optarg; break;
		case 'a':
			if (nallow == ALLOW_MAX) {
				fprintf(stderr, "sluice-mcp: at most %d --allow\n", ALLOW_MAX);
				return 2;
			}
			allow[nallow++] = optarg;
			break;
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
	rc = 1;
	if (config != NULL) {
		struct gateway_conf gc = {
			.job = "sluice-mcp", .allow = nallow ? allow : all, .audit = audit_to_log,
		};
		if ((pool = mcp_pool_load(config, &e, why, sizeof(why))) == NULL) {
			log_error("%s", why);
			goto out;
		}
		if ((catalogue = gateway_new(pool, &gc, &e)) == NULL) {
			log_error("gateway: %s", err_str(e));
			goto out;
		}
		conf.search = search;
		conf.search_ctx = catalogue;
	}
	if ((s = mcp_server_new(&conf, &e, why, sizeof(why))) == NULL) {
		log_error("%s", why);
		goto out;
	}
	rc = mcp_server_run(s, STDIN_FILENO, STDOUT_FILENO);
out:
	mcp_server_destroy(&s);
	gateway_destroy(&catalogue);
	mcp_pool_destroy(&pool);
	return rc;
}
