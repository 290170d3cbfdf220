/*
 * cmd_alerts — `sluice alerts [--alerts EP] [--json] [--topic T] [--count N]
 * [--timeout MS]`: subscribes to the broker's alerts PUB socket and prints
 * one line (or one JSON object) per alert.
 *
 * Each alert is three frames, [topic][header][body] (schemas/PROTOCOL.md,
 * "Alerts"); the header and body are an ALERT message, decoded strictly like
 * any socket input.  Alerts carry one `seq` counter for all topics, so when
 * the subscription covers every topic a jump in `seq` means alerts were lost
 * (slow subscriber, reconnect) and is reported on stderr.  With a narrower
 * topic, gaps are expected and not reported.
 */
#include <czmq.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cmd.h"
#include "common/curve.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/util.h"
#include "common/wire.h"


#define ALERTS_DEFAULT_EP "tcp://127.0.0.1:5557"
#define ALERTS_TOPIC_MAX 64

static volatile sig_atomic_t alerts_stop;

static void
on_signal(int sig)
{
	(void)sig;
	alerts_stop = 1;
}

/* Adds a string member, made valid UTF-8 first (wire strings are bytes). */
static void
json_set_str(json_t *o, const char *key, const char *s)
{
	size_t n;
	char *clean;

	if (s == NULL)
		return;
	if ((clean = util_utf8_clean(s, strlen(s), &n)) == NULL)
		return;
	json_object_set_new(o, key, json_stringn(clean, n));
	free(clean);
}

static void
print_json(const struct msg *m)
{
	json_t *o = json_object();
	char *s;

	if (o == NULL)
		return;
	json_object_set_new(o, "seq", json_integer((json_int_t)msg_u64(m, MSG_F_SEQ, 0)));
	json_set_str(o, "topic", msg_str(m, MSG_F_TOPIC, NULL));
	json_object_set_new(o, "time_ms", json_integer((json_int_t)msg_u64(m, MSG_F_TIME_MS, 0)));
	json_set_str(o, "id", msg_str(m, MSG_F_ID, NULL));
	json_set_str(o, "level", msg_str(m, MSG_F_LEVEL, NULL));
	json_set_str(o, "reason", msg_str(m, MSG_F_REASON, NULL));
	json_set_str(o, "session", msg_str(m, MSG_F_SESSION, NULL));
	json_set_str(o, "tenant", msg_str(m, MSG_F_TENANT, NULL));
	json_set_str(o, "host", msg_str(m, MSG_F_HOST, NULL));
	if ((s = json_dumps(o, JSON_COMPACT)) != NULL) {
		printf("%s\n", s);
		free(s);
	}
	json_decref(o);
}

static void
print_text(const struct msg *m)
{
	char topic[80], id[80], level[16], reason[600];
	const char *r = msg_str(m, MSG_F_REASON, "-");

	log_escape(topic, sizeof(topic), msg_str(m, MSG_F_TOPIC, ""), strlen(msg_str(m, MSG_F_TOPIC, "")));
	log_escape(id, sizeof(id), msg_str(m, MSG_F_ID, "-"), strlen(msg_str(m, MSG_F_ID, "-")));
	log_escape(level, sizeof(level), msg_str(m, MSG_F_LEVEL, "-"), strlen(msg_str(m, MSG_F_LEVEL, "-")));
	log_escape(reason, sizeof(reason), r, strlen(r));
	printf("%llu %s %s %s %s\n", (unsigned long long)msg_u64(m, MSG_F_SEQ, 0), topic, id, level,
	    reason);
}

/* Receives one alert: a fresh ALERT in *out, or false (bad input, reported
 * once per interval). */
static bool
recv_alert(zsock_t *sub, struct msg **out, struct log_limit *lim)
{
	zmsg_t *zm = zmsg_recv(sub);
	zframe_t *topic, *hdr, *body;
	char why[256];
	bool ok = false;

	*out = NULL;
	if (zm == NULL)
		return false;
	if (zmsg_size(zm) != 3) {
		log_limited(lim, 10, "alert with %zu frames, expected 3", zmsg_size(zm));
		goto out;
	}
	topic = zmsg_first(zm);
	hdr = zmsg_next(zm);
	body = zmsg_next(zm);
	if (msg_decode(zframe_data(hdr), zframe_size(hdr), zframe_data(body), zframe_size(body), out,
	    why, sizeof(why)) != ERR_OK) {
		log_limited(lim, 10, "malformed alert: %s", why);
		goto out;
	}
	if (msg_cmd(*out) != MSG_ALERT) {
		log_limited(lim, 10, "%s on the alerts socket ignored", msg_cmd_name(msg_cmd(*out)));
		goto out;
	}
	if (zframe_size(topic) != strlen(msg_str(*out, MSG_F_TOPIC, "")) ||
	    memcmp(zframe_data(topic), msg_str(*out, MSG_F_TOPIC, ""), zframe_size(topic)) != 0) {
		log_limited(lim, 10, "alert whose topic frame and topic field differ ignored");
		goto out;
	}
	ok = true;
out:
	if (!ok)
		msg_destroy(out);
	zmsg_destroy(&zm);
	return ok;
}

static int
usage(void)
{
	fprintf(stderr,
	    "usage: sluice alerts [--alerts EP] [--json] [--topic T] [--count N] [--timeout MS]\n"
	    "  --alerts EP    the broker's alerts socket (default $SLUICE_ALERTS, else %s)\n"
	    "  --topic T      topic prefix to subscribe to (default \"alert.\")\n"
	    "  --count N      exit after N alerts\n"
	    "  --timeout MS   give up (exit 1) when N alerts have not come in MS\n",
	    ALERTS_DEFAULT_EP);
	return 2;
}

int
cmd_alerts(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "alerts", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "topic", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	struct log_limit lim = { 0 };
	const char *ep = getenv("SLUICE_ALERTS"), *topic = "alert.";
	bool json = false, all_topics, have_seq = false;
	uint64_t count = 0, timeout = 0, seen = 0, last_seq = 0;
	zsock_t *sub = NULL;
	zpoller_t *poller = NULL;
	int64_t deadline;
	char why[512];
	int ch, rc = 1;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'a': ep = optarg; break;
		case 'j': json = true; break;
		case 't': topic = optarg; break;
		case 'n':
			if (!util_parse_u64(optarg, 1, UINT32_MAX, &count))
				return usage();
			break;
		case 'T':
			if (!util_parse_u64(optarg, 1, 86400000, &timeout))
				return usage();
			break;
		case 'h': usage(); return 0;
		default: return usage();
		}
	}
	if (optind != argc || strlen(topic) > ALERTS_TOPIC_MAX)
		return usage();
	if (ep == NULL || *ep == '\0')
		ep = ALERTS_DEFAULT_EP;
	/* a prefix of "alert." matches every topic: only then is a seq gap a loss */
	all_topics = strncmp("alert.", topic, strlen(topic)) == 0;

	zsys_handler_set(NULL);
	alerts_stop = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if ((sub = zsock_new(ZMQ_SUB)) == NULL)
		goto out;
	wire_tune(sub);
	zsock_set_linger(sub, 0);
	zsock_set_subscribe(sub, topic);
	if (!curve_client_setup_env(sub, ep, "sluice alerts", why, sizeof(why))) {
		fprintf(stderr, "sluice alerts: %s\n", why);
		goto out;
	}
	if (zsock_connect(sub, "%s", ep) < 0) {
		fprintf(stderr, "sluice alerts: cannot connect to %s\n", ep);
		goto out;
	}
	if ((poller = zpoller_new(sub, NULL)) == NULL)
		goto out;
	deadline = timeout > 0 ? util_now_ms() + (int64_t)timeout : INT64_MAX;
	while (!alerts_stop && (count == 0 || seen < count)) {
		struct msg *m = NULL;
		int64_t left = deadline - util_now_ms();
		uint64_t seq;

		if (left <= 0) {
			fprintf(stderr, "sluice alerts: %llu of %llu alerts within %llu ms\n",
			    (unsigned long long)seen, (unsigned long long)count,
			    (unsigned long long)timeout);
			goto out;
		}
		if (zpoller_wait(poller, (int)(left < 200 ? left : 200)) == NULL)
			continue;
		if (!recv_alert(sub, &m, &lim))
			continue;
		seq = msg_u64(m, MSG_F_SEQ, 0);
		if (all_topics && have_seq && seq > last_seq + 1)
			fprintf(stderr, "sluice alerts: missed %llu alerts (seq %llu..%llu)\n",
			    (unsigned long long)(seq - last_seq - 1), (unsigned long long)last_seq + 1,
			    (unsigned long long)seq - 1);
		else if (have_seq && seq <= last_seq)
			fprintf(stderr, "sluice alerts: seq went back to %llu (broker restarted?)\n",
			    (unsigned long long)seq);
		have_seq = true;
		last_seq = seq;
		if (json)
			print_json(m);
		else
			print_text(m);
		fflush(stdout);
		msg_destroy(&m);
		seen++;
	}
	rc = 0;
out:
	zpoller_destroy(&poller);
	zsock_destroy(&sub);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}
