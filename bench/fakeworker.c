/*
 * fakeworker — a protocol-level stand-in for sluice-worker, for measuring the
 * broker alone (bench/broker.sh).  It speaks the worker side of
 * schemas/PROTOCOL.md on one DEALER socket: READY with many slots, and for
 * every JOB an immediate STARTED then DONE {status ok, exit_code 0, stdout
 * "ok\n"}; heartbeats every interval; READY again when the broker says "not
 * registered".  No jail, no Deno: the job costs the broker what a real one
 * does (store writes, leases, audit, result), the worker side costs ~nothing.
 *
 *   fakeworker --broker EP [--slots N] [--host NAME] [--heartbeat-ms N]
 *
 * Trusts the broker it is pointed at (a benchmark tool, not a daemon).  Runs
 * until SIGINT/SIGTERM, then prints "fakeworker HOST: N jobs" on stderr.
 */
#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/curve.h"
#include "common/msg.h"
#include "common/util.h"
#include "common/wire.h"

struct fake {
	zsock_t *sock;
	const char *host;
	uint64_t slots;
	uint64_t jobs;
};

static void
fake_send(struct fake *f, struct msg *m)
{
	if (m != NULL)
		wire_send(f->sock, NULL, m);
}

static void
fake_ready(struct fake *f)
{
	struct msg *m = msg_new(MSG_READY);
	if (m == NULL)
		return;
	msg_set_u64(m, MSG_F_SLOTS, f->slots);
	msg_set_u64(m, MSG_F_FREE, f->slots);
	msg_set_str(m, MSG_F_HOST, f->host);
	fake_send(f, m);
	msg_destroy(&m);
}

static void
fake_heartbeat(struct fake *f)
{
	struct msg *m = msg_new(MSG_HEARTBEAT);
	if (m == NULL)
		return;
	msg_set_u64(m, MSG_F_FREE, f->slots);
	fake_send(f, m);
	msg_destroy(&m);
}

/* STARTED then DONE ok, at once. */
static void
fake_job(struct fake *f, const struct msg *job)
{
	const char *id = msg_str(job, MSG_F_ID, "");
	struct msg *m;

	if ((m = msg_new(MSG_STARTED)) != NULL) {
		msg_set_str(m, MSG_F_ID, id);
		fake_send(f, m);
		msg_destroy(&m);
	}
	if ((m = msg_new(MSG_DONE)) != NULL) {
		msg_set_str(m, MSG_F_ID, id);
		msg_set_str(m, MSG_F_STATUS, "ok");
		msg_set_i64(m, MSG_F_EXIT_CODE, 0);
		msg_set_bin(m, MSG_F_STDOUT, "ok\n", 3);
		msg_set_bin(m, MSG_F_STDERR, "", 0);
		msg_set_u64(m, MSG_F_WALL_MS, 1);
		msg_set_u64(m, MSG_F_CPU_MS, 1);
		msg_set_u64(m, MSG_F_MAX_RSS_KB, 1024);
		fake_send(f, m);
		msg_destroy(&m);
	}
	f->jobs++;
}

static void
fake_handle(struct fake *f, const struct msg *m)
{
	switch (msg_cmd(m)) {
	case MSG_JOB:
		fake_job(f, m);
		break;
	case MSG_ERROR:
		/* "not registered": the broker restarted or forgot us. */
		fake_ready(f);
		break;
	default:
		/* HEARTBEAT, CANCEL (the job is already done), DONE_ACK (a fake
		 * keeps no DONE to resend): nothing to do. */
		break;
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "slots", required_argument, NULL, 's' },
		{ "host", required_argument, NULL, 'h' },
		{ "heartbeat-ms", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct fake f = { .host = "fake", .slots = 1024 };
	const char *broker = NULL;
	uint64_t hb = 1000;
	char why[256];
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'b': broker = optarg; break;
		case 's': if (!util_parse_u64(optarg, 1, 1024, &f.slots)) return 2; break;
		case 'h': f.host = optarg; break;
		case 'H': if (!util_parse_u64(optarg, 10, 60000, &hb)) return 2; break;
		default: return 2;
		}
	}
	if (broker == NULL || optind != argc) {
		fprintf(stderr, "usage: fakeworker --broker EP [--slots N] [--host NAME] "
		    "[--heartbeat-ms N]\n");
		return 2;
	}
	if ((f.sock = zsock_new(ZMQ_DEALER)) == NULL)
		return 1;
	wire_tune(f.sock);
	/* CURVE from SLUICE_CURVE_KEY / SLUICE_BROKER_KEY, as the CLI */
	if (!curve_client_setup_env(f.sock, broker, "fakeworker", why, sizeof(why))) {
		fprintf(stderr, "fakeworker: %s\n", why);
		zsock_destroy(&f.sock);
		return 1;
	}
	if (zsock_connect(f.sock, "%s", broker) < 0) {
		fprintf(stderr, "fakeworker: cannot connect to %s\n", broker);
		zsock_destroy(&f.sock);
		return 1;
	}
	fake_ready(&f);
	zpoller_t *poller = zpoller_new(f.sock, NULL);
	int64_t next_hb = util_now_ms() + (int64_t)hb;
	while (!zsys_interrupted) {
		int64_t wait = next_hb - util_now_ms();
		zpoller_wait(poller, (int)(wait > 0 ? wait : 0));
		/* Drain everything that is there before looking at the clock
		 * (without waiting: wire_try_recv says when it is empty). */
		for (;;) {
			struct msg *m = NULL;
			enum err e = wire_try_recv(f.sock, false, NULL, &m, NULL, why, sizeof(why));
			if (e == ERR_OK && m == NULL)
				break;
			if (e == ERR_OK)
				fake_handle(&f, m);
			msg_destroy(&m);
		}
		if (util_now_ms() >= next_hb) {
			fake_heartbeat(&f);
			next_hb = util_now_ms() + (int64_t)hb;
		}
	}
	fprintf(stderr, "fakeworker %s: %llu jobs\n", f.host, (unsigned long long)f.jobs);
	zpoller_destroy(&poller);
	zsock_destroy(&f.sock);
	return 0;
}
