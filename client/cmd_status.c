/*
 * cmd_status — `sluice status [--json] [--wait-workers N] [--timeout MS]`:
 * the broker's queue and worker counts.  With --wait-workers, polls until at
 * least N workers are registered (used by `sluice up` and the tests).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <czmq.h>
#include <stdlib.h>

#include "client/client.h"
#include "client/cmd.h"
#include "common/util.h"

/* Asks once; fresh STATUS_REPLY in *out or an error. */
static enum err
ask(struct client *c, int timeout_ms, struct msg **out)
{
	struct msg *q = msg_new(MSG_STATUS), *r = NULL;
	char req[33];
	int64_t deadline = util_now_ms() + timeout_ms;
	enum err e;

	*out = NULL;
	if (q == NULL)
		return ERR_NOMEM;
	e = client_send(c, q, req);
	msg_destroy(&q);
	while (e == ERR_OK) {
		int64_t left = deadline - util_now_ms();
		if (left <= 0)
			return ERR_TIMEOUT;
		if ((e = client_recv(c, (int)left, &r)) != ERR_OK)
			return e;
		if (msg_cmd(r) == MSG_STATUS_REPLY) {
			*out = r;
			return ERR_OK;
		}
		msg_destroy(&r);
	}
	return e;
}

int
cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "wait-workers", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *broker = NULL;
	bool json = false;
	uint64_t want = 0, timeout = 5000;
	struct client *c;
	struct msg *r = NULL;
	int64_t deadline;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'b': broker = optarg; break;
		case 'j': json = true; break;
		case 'w':
			if (!util_parse_u64(optarg, 0, 100000, &want))
				goto usage;
			break;
		case 't':
			if (!util_parse_u64(optarg, 1, 3600000, &timeout))
				goto usage;
			break;
		default: goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	if ((c = client_new(client_endpoint(broker))) == NULL)
		return 1;
	deadline = util_now_ms() + (int64_t)timeout;
	for (;;) {
		int64_t left = deadline - util_now_ms();
		if (left <= 0 || ask(c, (int)(left < 1000 ? left : 1000), &r) == ERR_TIMEOUT) {
			if (util_now_ms() < deadline)
				continue;	/* a lost request: ask again */
			fprintf(stderr, "sluice status: no answer from %s\n", client_endpoint(broker));
			client_destroy(&c);
			return 1;
		}
		if (r != NULL && msg_u64(r, MSG_F_WORKERS, 0) >= want)
			break;
		msg_destroy(&r);
		zclock_sleep(50);
	}
	if (json) {
		json_t *o = json_loads(msg_str(r, MSG_F_DETAILS, "{}"), 0, NULL);
		char *txt;
		if (!json_is_object(o)) {
			json_decref(o);
			o = json_object();
		}
		json_object_set_new(o, "queued", json_integer((json_int_t)msg_u64(r, MSG_F_QUEUED, 0)));
		json_object_set_new(o, "running", json_integer((json_int_t)msg_u64(r, MSG_F_RUNNING, 0)));
		json_object_set_new(o, "workers", json_integer((json_int_t)msg_u64(r, MSG_F_WORKERS, 0)));
		json_object_set_new(o, "free_slots", json_integer((json_int_t)msg_u64(r, MSG_F_FREE, 0)));
		json_object_set_new(o, "done", json_integer((json_int_t)msg_u64(r, MSG_F_DONE_COUNT, 0)));
		if ((txt = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) != NULL)
			printf("%s\n", txt);
		free(txt);
		json_decref(o);
	}
	else
		printf("workers %llu, free slots %llu, queued %llu, running %llu, done %llu\n",
		    (unsigned long long)msg_u64(r, MSG_F_WORKERS, 0),
		    (unsigned long long)msg_u64(r, MSG_F_FREE, 0),
		    (unsigned long long)msg_u64(r, MSG_F_QUEUED, 0),
		    (unsigned long long)msg_u64(r, MSG_F_RUNNING, 0),
		    (unsigned long long)msg_u64(r, MSG_F_DONE_COUNT, 0));
	msg_destroy(&r);
	client_destroy(&c);
	return 0;
usage:
	fprintf(stderr, "usage: sluice status [--broker EP] [--json] [--wait-workers N] [--timeout MS]\n");
	return 2;
}
