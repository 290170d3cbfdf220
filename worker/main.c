/*
 * sluice-worker — flags, the startup jail check, then worker_run().
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/curve.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/util.h"
#include "common/wspath.h"
#include "worker/jail.h"
#include "worker/warm.h"
#include "worker/worker.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sluice-worker [--broker EP] [--slots N] [--state-dir DIR] [--host NAME]\n"
	    "                     [--deno PATH] [--heartbeat-ms N] [--max-timeout-ms N]\n"
	    "                     [--max-memory-mb N] [--insecure-no-jail] [--log-level L]\n"
	    "  --broker EP          broker worker endpoint (default tcp://127.0.0.1:5556)\n"
	    "  --slots N            jobs run at once (default 2)\n"
	    "  --state-dir DIR      per-job workspaces (default sluice-data/worker)\n"
	    "  --privacy-mode M     filter outputs of a job whose JOB names no mode (from an older\n"
	    "                       broker): redact (default) | tokenize | hash | report; the broker\n"
	    "                       decides every job's mode (--privacy-modes, --privacy-default)\n"
	    "  --mcp-config FILE    mcpServers JSON: jobs may call these tools (docs/MCP.md)\n"
	    "  --mcp-allow GLOBS    comma-separated server.tool globs jobs may call (default *)\n"
	    "  --mcp-refuse-destructive  refuse tools not marked read-only / non-destructive\n"
	    "  --mcp-approve-destructive hold such calls for a human (sluice approvals)\n"
	    "  --file-class C       class of an unlabelled input file (default internal)\n"
	    "  --withhold-from C    output files of class C and up are listed, not returned\n"
	    "                       (default confidential; never: return every class)\n"
	    "  --warm N             jails kept built with Deno started, 0..128 (default: = slots,\n"
	    "                       at most 128; 0: off)\n"
	    "  --warm-idle-ms MS    no job for MS: keep one warm jail fewer (default 60000)\n"
	    "  --warm-prime LIST    Deno parts a warm jail initialises before its job:\n"
	    "                       timers,intl,web,inspect or none (default none; each\n"
	    "                       costs every warm jail CPU, see docs/ARCHITECTURE.md)\n"
	    "  --insecure-no-jail   run jobs as plain processes: NO SANDBOX (development only)\n"
	    "  --curve-key FILE     our NAME.key (CURVE; or SLUICE_CURVE_KEY)\n"
	    "  --broker-key FILE    the broker's NAME.pub (CURVE; or SLUICE_BROKER_KEY)\n");
}

/* Every running job and every warm jail holds a few descriptors (pipes,
 * status, fanotify; ~5 per warm jail measured, more for a running job and
 * its MCP gateway): the soft limit goes up to the hard one, and a worker
 * that may still need more says so at start instead of failing jail
 * builds with EMFILE later.  (No select() anywhere: fds above 1024 are
 * fine.) */
static void
raise_nofile(uint32_t slots, uint32_t warm)
{
	uint64_t need = 8 * (uint64_t)slots + 6 * (uint64_t)warm + 128;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
		log_warnx("open files limit %llu is below the ~%llu that %u slots and %u warm jails "
		    "may need: raise it (systemd: LimitNOFILE=) or lower --slots/--warm",
		    (unsigned long long)rl.rlim_cur, (unsigned long long)need, slots, warm);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "slots", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "host", required_argument, NULL, 'n' },
		{ "deno", required_argument, NULL, 'D' },
		{ "heartbeat-ms", required_argument, NULL, 'H' },
		{ "max-timeout-ms", required_argument, NULL, 'T' },
		{ "max-memory-mb", required_argument, NULL, 'M' },
		{ "insecure-no-jail", no_argument, NULL, 'I' },
		{ "privacy-mode", required_argument, NULL, 'P' },
		{ "mcp-config", required_argument, NULL, 'C' },
		{ "mcp-allow", required_argument, NULL, 'W' },
		{ "mcp-refuse-destructive", no_argument, NULL, 'X' },
		{ "mcp-approve-destructive", no_argument, NULL, 'Y' },
		{ "warm", required_argument, NULL, 'w' },
		{ "warm-idle-ms", required_argument, NULL, 'i' },
		{ "warm-prime", required_argument, NULL, 'R' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "file-class", required_argument, NULL, 'F' },
		{ "withhold-from", required_argument, NULL, 'O' },
		{ "curve-key", required_argument, NULL, 'k' },
		{ "broker-key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct worker_conf conf;
	enum log_level level = LOG_LEVEL_INFO;
	char deno[PATH_MAX], host[256], why[512];
	const char *deno_arg = NULL, *key = NULL, *broker_key = NULL;
	struct curve_client *curve = NULL;
	uint64_t v;
	int c;

	worker_conf_default(&conf);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "worker");
	host[sizeof(host) - 1] = '\0';
	conf.host = host;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': conf.broker = optarg; break;
		case 's':
			if (!util_opt_u64("sluice-worker", "slots", optarg, 1, 256, &v))
				return 2;
			conf.slots = (uint32_t)v;
			break;
		case 'S': conf.state_dir = optarg; break;
		case 'n': conf.host = optarg; break;
		case 'D': deno_arg = optarg; break;
		case 'H':
			if (!util_opt_u64("sluice-worker", "heartbeat-ms", optarg, 10, 600000, &v))
				return 2;
			conf.heartbeat_ms = (uint32_t)v;
			break;
		case 'T':
			if (!util_opt_u64("sluice-worker", "max-timeout-ms", optarg, 1, job_limits_max.timeout_ms, &v))
				return 2;
			conf.max.timeout_ms = v;
			break;
		case 'M':
			if (!util_opt_u64("sluice-worker", "max-memory-mb", optarg, 16, job_limits_max.memory_mb, &v))
				return 2;
			conf.max.memory_mb = v;
			break;
		case 'I': conf.insecure_no_jail = true; break;
		case 'w':
			if (!util_opt_u64("sluice-worker", "warm", optarg, 0, WARM_SIZE_MAX, &v))
				return 2;
			conf.warm = (uint32_t)v;
			break;
		case 'i':
			if (!util_opt_u64("sluice-worker", "warm-idle-ms", optarg, 100, 86400000, &v))
				return 2;
			conf.warm_idle_ms = (uint32_t)v;
			break;
		case 'R':
			if (!warm_prime_parse(optarg, &conf.warm_prime, why, sizeof(why))) {
				fprintf(stderr, "sluice-worker: --warm-prime: %s\n", why);
				return 2;
			}
			break;
		case 'C': conf.mcp_config = optarg; break;
		case 'W': conf.mcp_allow = optarg; break;
		case 'X': conf.mcp_refuse_destructive = true; break;
		case 'Y': conf.mcp_approve_destructive = true; break;
		case 'P':
			if (!privacy_mode_parse(optarg, &conf.privacy_mode)) {
				fprintf(stderr, "sluice-worker: --privacy-mode wants redact|tokenize|hash|report\n");
				return 2;
			}
			break;
		case 'l':
			if (!log_parse_level(optarg, &level)) {
				fprintf(stderr, "sluice-worker: bad --log-level\n");
				return 2;
			}
			break;
		case 'F': {
			enum wspath_class cls;
			if (wspath_class_parse(optarg, strlen(optarg), &cls) != ERR_OK) {
				fprintf(stderr, "sluice-worker: --file-class wants public|internal|"
				    "confidential|restricted\n");
				return 2;
			}
			conf.file_class = (int)cls;
			break;
		}
		case 'O':
			if (wspath_withhold_parse(optarg, &conf.withhold_from) != ERR_OK) {
				fprintf(stderr, "sluice-worker: --withhold-from wants public|internal|"
				    "confidential|restricted|never\n");
				return 2;
			}
			break;
		case 'k': key = optarg; break;
		case 'K': broker_key = optarg; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	log_init("sluice-worker", level);
	raise_nofile(conf.slots, worker_warm_size(&conf));
	if (deno_arg != NULL)
		setenv("SLUICE_DENO", deno_arg, 1);
	if (!paths_deno(deno, sizeof(deno), why, sizeof(why))) {
		log_error("%s", why);
		return 1;
	}
	conf.deno = deno;
	if (!paths_mkdirs(conf.state_dir)) {
		log_warn("cannot create state dir %s", conf.state_dir);
		return 1;
	}
	if (conf.insecure_no_jail) {
		log_warnx("*** --insecure-no-jail: jobs run WITHOUT a sandbox; never use this with untrusted code ***");
	} else if (!jail_probe(conf.deno, why, sizeof(why))) {
		log_error("cannot build a jail on this host: %s (refusing to start; "
		    "--insecure-no-jail runs without one)", why);
		return 1;
	}
	if (!curve_client_load_flags(key, broker_key, &curve))
		return 1;
	conf.curve = curve;
	c = worker_run(&conf);
	curve_client_destroy(&curve);
	return c;
}
