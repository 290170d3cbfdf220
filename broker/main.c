/*
 * sluice-broker — flags, logging, then broker_run().
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "common/log.h"
#include "common/util.h"
#include "common/wspath.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sluice-broker [--front EP] [--back EP] [--approvals EP] [--alerts EP] [--data DIR]\n"
	    "                     [--heartbeat-ms N] [--queue-max N] [--log-level L]\n"
	    "  --front EP        client endpoint (default tcp://127.0.0.1:5555)\n"
	    "  --back EP         worker endpoint (default tcp://127.0.0.1:5556)\n"
	    "  --data DIR        data directory (default sluice-data/broker)\n"
	    "  --heartbeat-ms N  heartbeat interval; 3 missed = worker lost (default 1000)\n"
	    "  --queue-max N     queued jobs before clients get BUSY (default 10000)\n"
	    "  --approvals EP    approver endpoint (default tcp://127.0.0.1:5558)\n"
	    "  --alerts EP       alert PUB endpoint (default tcp://127.0.0.1:5557)\n"
	    "  --metrics EP      Prometheus text endpoint, e.g. tcp://127.0.0.1:9464 (default off)\n"
	    "  --approval-timeout-ms N  L3 jobs undecided by then are denied (default 900000)\n"
	    "  --risk-rules FILE rules TSV (default: the built-in schemas/risk_rules.tsv)\n"
	    "  --risk-config FILE thresholds, multipliers, floors (docs/RISK.md)\n"
	    "  --tenant-running-max N, --tenant-concurrency N\n"
	    "                    jobs of one tenant running at once (default 0: no limit)\n"
	    "  --tenant-rate N   submissions per second per tenant; over it: BUSY (default 0: off)\n"
	    "  --tenant-burst N  submissions a tenant may make at once (default 0: the rate)\n"
	    "  --curve-secret FILE  the broker's NAME.key: CURVE on every socket (sluice keygen)\n"
	    "  --clients DIR     enrolled client keys (*.pub, each with a tenant)\n"
	    "  --workers DIR     enrolled worker keys (*.pub)\n"
	    "  --approvers DIR   enrolled approver/operator keys (*.pub): approvals and alerts\n"
	    "  --insecure-plaintext  allow plaintext on non-loopback endpoints (logged loudly)\n"
	    "  --privacy-modes LIST  modes a session may pick (default redact,tokenize,hash;\n"
	    "                    report lets raw data out and must be listed to be allowed)\n"
	    "  --privacy-default M  mode of a session that does not ask (default redact)\n"
	    "  --session-quota N bytes a session may keep in /work/session (default 8 MiB)\n"
	    "  --session-ttl-ms N a session unused this long is removed (default 7 days)\n"
	    "  --session-withhold-from C  sluice session get lists files of class C and up\n"
	    "                    without their data (default confidential; never: all data)\n"
	    "  --log-level L     error|warn|info|debug (default info)\n"
	    "  --test-lose-acks N  tests only: drop the DONE_ACKs of the first N jobs to end\n"
	    "                      (workers resend; acks of repeated DONEs are kept)\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "front", required_argument, NULL, 'f' },
		{ "back", required_argument, NULL, 'b' },
		{ "data", required_argument, NULL, 'd' },
		{ "heartbeat-ms", required_argument, NULL, 'H' },
		{ "test-lose-acks", required_argument, NULL, 'K' },
		{ "queue-max", required_argument, NULL, 'q' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "approvals", required_argument, NULL, 'a' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "alerts", required_argument, NULL, 'A' },
		{ "approval-timeout-ms", required_argument, NULL, 'T' },
		{ "risk-rules", required_argument, NULL, 'r' },
		{ "risk-config", required_argument, NULL, 'R' },
		{ "tenant-running-max", required_argument, NULL, 'm' },
		{ "privacy-modes", required_argument, NULL, 'p' },
		{ "privacy-default", required_argument, NULL, 'j' },
		{ "session-quota", required_argument, NULL, 'Q' },
		{ "session-ttl-ms", required_argument, NULL, 'E' },
		{ "session-withhold-from", required_argument, NULL, 'O' },
		{ "tenant-concurrency", required_argument, NULL, 'm' },
		{ "tenant-rate", required_argument, NULL, 'g' },
		{ "tenant-burst", required_argument, NULL, 'G' },
		{ "curve-secret", required_argument, NULL, 'S' },
		{ "clients", required_argument, NULL, 'C' },
		{ "workers", required_argument, NULL, 'W' },
		{ "approvers", required_argument, NULL, 'P' },
		{ "insecure-plaintext", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct broker_conf conf;
	enum log_level level = LOG_LEVEL_INFO;
	uint64_t v;
	int c;

	broker_conf_default(&conf);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': conf.front = optarg; break;
		case 'b': conf.back = optarg; break;
		case 'd': conf.data = optarg; break;
		case 'a': conf.approvals = optarg; break;
		case 'M': conf.metrics = optarg; break;
		case 'A': conf.alerts = optarg; break;
		case 'r': conf.risk_rules = optarg; break;
		case 'R': conf.risk_config = optarg; break;
		case 'T':
			if (!util_opt_u64("sluice-broker", "approval-timeout-ms", optarg, 100, 604800000, &v))
				return 2;
			conf.approval_timeout_ms = (uint32_t)v;
			break;
		case 'm':
			if (!util_opt_u64("sluice-broker", "tenant-running-max", optarg, 0, 100000, &v))
				return 2;
			conf.tenant_running_max = (uint32_t)v;
			break;
		case 'p':
			if (!privacy_mode_list_parse(optarg, &conf.privacy_modes)) {
				fprintf(stderr, "sluice-broker: --privacy-modes wants a list of "
				    "redact,tokenize,hash,report\n");
				return 2;
			}
			break;
		case 'j':
			if (!privacy_mode_parse(optarg, &conf.privacy_default)) {
				fprintf(stderr, "sluice-broker: --privacy-default wants redact|tokenize|hash|report\n");
				return 2;
			}
			break;
		case 'Q':
			if (!util_opt_u64("sluice-broker", "session-quota", optarg, 0, 12u << 20,
			    &conf.session_quota_bytes))
				return 2;
			break;
		case 'E':
			if (!util_opt_u64("sluice-broker", "session-ttl-ms", optarg, 1, UINT64_MAX / 2,
			    &conf.session_ttl_ms))
				return 2;
			break;
		case 'O':
			if (wspath_withhold_parse(optarg, &conf.session_withhold_from) != ERR_OK) {
				fprintf(stderr, "sluice-broker: --session-withhold-from wants public|internal|"
				    "confidential|restricted|never\n");
				return 2;
			}
			break;
		case 'g':
			if (!util_opt_u64("sluice-broker", "tenant-rate", optarg, 0, 1000000, &v))
				return 2;
			conf.tenant_rate = (uint32_t)v;
			break;
		case 'G':
			if (!util_opt_u64("sluice-broker", "tenant-burst", optarg, 0, 10000000, &v))
				return 2;
			conf.tenant_burst = (uint32_t)v;
			break;
		/* An empty value (an unset variable in a unit file) means none. */
		case 'S': conf.curve_secret = *optarg ? optarg : NULL; break;
		case 'C': conf.clients_dir = *optarg ? optarg : NULL; break;
		case 'W': conf.workers_dir = *optarg ? optarg : NULL; break;
		case 'P': conf.approvers_dir = *optarg ? optarg : NULL; break;
		case 'I': conf.insecure_plaintext = true; break;
		case 'H':
			if (!util_opt_u64("sluice-broker", "heartbeat-ms", optarg, 10, 600000, &v))
				return 2;
			conf.heartbeat_ms = (uint32_t)v;
			break;
		case 'K':
			if (!util_opt_u64("sluice-broker", "test-lose-acks", optarg, 0, 1000000, &v))
				return 2;
			conf.test_lose_acks = (uint32_t)v;
			break;
		case 'q':
			if (!util_opt_u64("sluice-broker", "queue-max", optarg, 1, 10000000, &v))
				return 2;
			conf.queue_max = (uint32_t)v;
			break;
		case 'l':
			if (!log_parse_level(optarg, &level)) {
				fprintf(stderr, "sluice-broker: bad --log-level\n");
				return 2;
			}
			break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	if ((conf.privacy_modes & PRIVACY_MODE_BIT(conf.privacy_default)) == 0) {
		fprintf(stderr, "sluice-broker: --privacy-default %s is not in --privacy-modes\n",
		    privacy_mode_name(conf.privacy_default));
		return 2;
	}
	log_init("sluice-broker", level);
	return broker_run(&conf);
}
