/*
 * sluice-approver — flags, then approver_run().
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "approver/approver.h"
#include "common/curve.h"
#include "common/log.h"
#include "common/util.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sluice-approver [--broker EP] [--data DIR] [--control EP] [--host NAME]\n"
	    "                       [--heartbeat-ms N] [--expired-keep-s N] [--log-level L]\n"
	    "  --broker EP          broker approvals endpoint (default tcp://127.0.0.1:5558)\n"
	    "  --data DIR           store and control socket (default sluice-data/approver)\n"
	    "  --control EP         CLI control endpoint (default ipc://DIR/control)\n"
	    "  --heartbeat-ms N     heartbeat interval (default 1000)\n"
	    "  --expired-keep-s N   expired items stay listed this long (default 86400)\n"
	    "  --curve-key FILE     our NAME.key (CURVE; or SLUICE_CURVE_KEY)\n"
	    "  --broker-key FILE    the broker's NAME.pub (CURVE; or SLUICE_BROKER_KEY)\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "data", required_argument, NULL, 'd' },
		{ "control", required_argument, NULL, 'c' },
		{ "host", required_argument, NULL, 'n' },
		{ "heartbeat-ms", required_argument, NULL, 'H' },
		{ "expired-keep-s", required_argument, NULL, 'E' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "curve-key", required_argument, NULL, 'k' },
		{ "broker-key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct approver_conf conf;
	enum log_level level = LOG_LEVEL_INFO;
	char host[256];
	const char *key = NULL, *broker_key = NULL;
	struct curve_client *curve = NULL;
	uint64_t v;
	int c;

	approver_conf_default(&conf);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "approver");
	host[sizeof(host) - 1] = '\0';
	conf.host = host;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': conf.broker = optarg; break;
		case 'd': conf.data = optarg; break;
		case 'c': conf.control = optarg; break;
		case 'n': conf.host = optarg; break;
		case 'H':
			if (!util_opt_u64("sluice-approver", "heartbeat-ms", optarg, 10, 600000, &v))
				return 2;
			conf.heartbeat_ms = (uint32_t)v;
			break;
		case 'E':
			if (!util_opt_u64("sluice-approver", "expired-keep-s", optarg, 0, 365ull * 86400, &v))
				return 2;
			conf.expired_keep_ms = v * 1000;
			break;
		case 'l':
			if (!log_parse_level(optarg, &level)) {
				fprintf(stderr, "sluice-approver: bad --log-level\n");
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
	log_init("sluice-approver", level);
	if (!curve_client_load_flags(key, broker_key, &curve))
		return 1;
	conf.curve = curve;
	c = approver_run(&conf);
	curve_client_destroy(&curve);
	return c;
}
