/*
 * cmd_jobs — `sluice result ID` and `sluice cancel ID`: one request about an
 * existing job, one reply.  Exit 0 on success, 1 on failure (not found, job
 * not finished for `result`), 2 on usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "client/cmd.h"
#include "client/result.h"
#include "common/util.h"

/* Sends `m` and waits for the reply with the same req (5 s). */
static enum err
ask(const char *broker, struct msg *m, struct msg **reply)
{
	struct client *c = client_new(client_endpoint(broker));
	char req[33];
	int64_t deadline = util_now_ms() + 5000;
	enum err e;

	*reply = NULL;
	if (c == NULL)
		return ERR_IO;
	e = client_send(c, m, req);
	while (e == ERR_OK) {
		int64_t left = deadline - util_now_ms();
		if (left <= 0) {
			e = ERR_TIMEOUT;
			break;
		}
		if ((e = client_recv(c, (int)left, reply)) != ERR_OK)
			break;
		if (strcmp(msg_str(*reply, MSG_F_REQ, ""), req) == 0)
			break;
		msg_destroy(reply);
	}
	client_destroy(&c);
	return e;
}

static int
one_job_command(int argc, char **argv, enum msg_cmd cmd, const char *usage_line)
{
	static const struct option opts[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "tenant", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *broker = NULL, *tenant = NULL;
	struct msg *m, *r = NULL;
	bool json = false;
	int ch, rc = 1;
	enum err e;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'b': broker = optarg; break;
		case 't': tenant = optarg; break;
		case 'j': json = true; break;
		default: fprintf(stderr, "usage: %s\n", usage_line); return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: %s\n", usage_line);
		return 2;
	}
	if ((m = msg_new(cmd)) == NULL)
		return 1;
	if (msg_set_str(m, MSG_F_ID, argv[optind]) != ERR_OK ||
	    (tenant && msg_set_str(m, MSG_F_TENANT, tenant) != ERR_OK)) {
		fprintf(stderr, "sluice %s: id or tenant too long\n", argv[0]);
		msg_destroy(&m);
		return 2;
	}
	e = ask(broker, m, &r);
	msg_destroy(&m);
	if (e != ERR_OK) {
		fprintf(stderr, "sluice %s: no answer from %s: %s\n", argv[0], client_endpoint(broker), err_str(e));
		return 1;
	}
	switch (msg_cmd(r)) {
	case MSG_RESULT:
		if (json) {
			json_t *o = result_json(r);
			char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
			if (s)
				printf("%s\n", s);
			free(s);
			json_decref(o);
		} else {
			size_t n;
			const void *out = msg_bin(r, MSG_F_STDOUT, &n);
			fwrite(out ? out : "", 1, n, stdout);
			printf("%sstatus %s%s%s\n", n && ((const char *)out)[n - 1] != '\n' ? "\n" : "",
			    msg_str(r, MSG_F_STATUS, "?"), msg_has(r, MSG_F_REASON) ? ": " : "",
			    msg_str(r, MSG_F_REASON, ""));
		}
		rc = 0;
		break;
	case MSG_JOB_STATE:
		if (json)
			printf("{\"id\":\"%s\",\"state\":\"%s\"}\n", msg_str(r, MSG_F_ID, ""), msg_str(r, MSG_F_STATE, ""));
		else
			printf("job %s: %s\n", msg_str(r, MSG_F_ID, ""), msg_str(r, MSG_F_STATE, ""));
		/* `result` of an unfinished job is not a success; `cancel` is. */
		rc = cmd == MSG_CANCEL_JOB ? 0 : 1;
		break;
	case MSG_ERROR:
		fprintf(stderr, "sluice %s: %s\n", argv[0], msg_str(r, MSG_F_MESSAGE, "error"));
		break;
	default:
		fprintf(stderr, "sluice %s: unexpected %s\n", argv[0], msg_cmd_name(msg_cmd(r)));
	}
	msg_destroy(&r);
	return rc;
}

int
cmd_result(int argc, char **argv)
{
	return one_job_command(argc, argv, MSG_FETCH, "sluice result ID [--json] [--tenant T] [--broker EP]");
}

int
cmd_cancel(int argc, char **argv)
{
	return one_job_command(argc, argv, MSG_CANCEL_JOB, "sluice cancel ID [--tenant T] [--broker EP]");
}
