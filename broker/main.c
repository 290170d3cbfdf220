/*
 * sluice-broker — flags, logging, then broker_run().
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "broker/broker.h"
#include "common/log.h"
#include "common/util.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sluice-broker [--front EP] [--back EP] [--data DIR]\n"
	    "                     [--heartbeat-ms N] [--queue-max N] [--log-level L]\n"
	    "  --front EP        client endpoint (default tcp://127.0.0.1:5555)\n"
	    "  --back EP         worker endpoint (default tcp://127.0.0.1:5556)\n"
	    "  --data DIR        data directory (default sluice-data/broker)\n"
	    "  --heartbeat-ms N  heartbeat interval; 3 missed = worker lost (default 1000)\n"
	    "  --queue-max N     queued jobs before clients get BUSY (default 10000)\n"
	    "  --log-level L     error|warn|info|debug (default info)\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "front", required_argument, NULL, 'f' },
		{ "back", required_argument, NULL, 'b' },
		{ "data", required_argument, NULL, 'd' },
		{ "heartbeat-ms", required_argument, NULL, 'H' },
		{ "queue-max", required_argument, NULL, 'q' },
		{ "log-level", required_argument, NULL, 'l' },
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
		case 'H':
			if (!util_parse_u64(optarg, 10, 600000, &v)) {
				fprintf(stderr, "sluice-broker: --heartbeat-ms wants 10..600000\n");
				return 2;
			}
			conf.heartbeat_ms = (uint32_t)v;
			break;
		case 'q':
			if (!util_parse_u64(optarg, 1, 10000000, &v)) {
				fprintf(stderr, "sluice-broker: --queue-max wants 1..10000000\n");
				return 2;
			}
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
	log_init("sluice-broker", level);
	return broker_run(&conf);
}
