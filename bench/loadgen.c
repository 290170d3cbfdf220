/*
 * loadgen — submits N jobs with at most C in flight over one DEALER socket
 * and accounts for every one: each job must get exactly one RESULT.
 * Used by the integration tests (correctness) and bench/ (latency,
 * throughput).
 *
 *   loadgen --broker EP --jobs N --concurrency C [--timeout-ms MS] FILE.ts
 *
 * Prints one JSON line:
 *   {"jobs":N,"answered":N,"duplicates":0,"lost":0,"status":{"ok":N,...},
 *    "busy_retries":K,"seconds":S,"jobs_per_s":X,"p50_ms":..,"p90_ms":..,"p99_ms":..}
 * Exit 0 when every job was answered exactly once, 1 otherwise.
 */
#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "common/job.h"
#include "common/msg.h"
#include "common/util.h"

struct pending {
	char req[33];
	int64_t sent_ms;
	int answers;
	bool accepted;
};

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int64_t
pct(const int64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "jobs", required_argument, NULL, 'n' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *broker = NULL;
	uint64_t njobs = 100, conc = 10, timeout = 30000;
	unsigned status_count[JOB__COUNT + 1] = { 0 };
	uint64_t sent = 0, answered = 0, dups = 0, busy = 0;
	struct pending *jobs;
	int64_t *lat, t0, idle_deadline;
	char *code;
	size_t len, nlat = 0;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'b': broker = optarg; break;
		case 'n': if (!util_parse_u64(optarg, 1, 10000000, &njobs)) return 2; break;
		case 'c': if (!util_parse_u64(optarg, 1, 100000, &conc)) return 2; break;
		case 't': if (!util_parse_u64(optarg, 1, 3600000, &timeout)) return 2; break;
		default: return 2;
		}
	}
	if (optind != argc - 1 || util_read_file(argv[optind], 1 << 20, &code, &len) != ERR_OK) {
		fprintf(stderr, "usage: loadgen --broker EP --jobs N --concurrency C FILE\n");
		return 2;
	}
	struct client *c = client_new(client_endpoint(broker));
	jobs = calloc(njobs, sizeof(*jobs));
	lat = calloc(njobs, sizeof(*lat));
	if (c == NULL || jobs == NULL || lat == NULL)
		return 1;
	zhashx_t *by_req = zhashx_new();	/* req -> struct pending (not owned) */

	t0 = util_now_ms();
	idle_deadline = t0 + (int64_t)timeout;
	while (answered < njobs && util_now_ms() < idle_deadline) {
		while (sent < njobs && sent - answered < conc) {
			struct msg *m = msg_new(MSG_SUBMIT);
			struct pending *p = &jobs[sent];
			msg_set_bin(m, MSG_F_CODE, code, len);
			msg_set_str(m, MSG_F_LANG, strstr(argv[optind], ".js") ? "js" : "ts");
			client_send(c, m, p->req);
			msg_destroy(&m);
			p->sent_ms = util_now_ms();
			zhashx_insert(by_req, p->req, p);
			sent++;
		}
		struct msg *r = NULL;
		if (client_recv(c, 1000, &r) != ERR_OK)
			continue;
		struct pending *p = zhashx_lookup(by_req, msg_str(r, MSG_F_REQ, ""));
		if (p == NULL) {
			msg_destroy(&r);
			continue;
		}
		idle_deadline = util_now_ms() + (int64_t)timeout;
		if (msg_cmd(r) == MSG_BUSY) {
			/* Resubmit the same request after the advised pause. */
			busy++;
			zclock_sleep((int)msg_u64(r, MSG_F_RETRY_MS, 50));
			struct msg *m = msg_new(MSG_SUBMIT);
			msg_set_str(m, MSG_F_REQ, p->req);
			msg_set_bin(m, MSG_F_CODE, code, len);
			msg_set_str(m, MSG_F_LANG, strstr(argv[optind], ".js") ? "js" : "ts");
			client_send(c, m, NULL);
			msg_destroy(&m);
		} else if (msg_cmd(r) == MSG_ACCEPTED) {
			p->accepted = true;
		} else if (msg_cmd(r) == MSG_RESULT || msg_cmd(r) == MSG_ERROR) {
			enum job_status st = JOB__COUNT;
			if (msg_cmd(r) == MSG_RESULT)
				job_status_parse(msg_str(r, MSG_F_STATUS, ""), &st);
			if (p->answers++ == 0) {
				answered++;
				status_count[st]++;
				lat[nlat++] = util_now_ms() - p->sent_ms;
			} else {
				dups++;
			}
		}
		msg_destroy(&r);
	}
	/* Late duplicates would show up now. */
	for (struct msg *r = NULL; client_recv(c, 300, &r) == ERR_OK; msg_destroy(&r))
		if (msg_cmd(r) == MSG_RESULT) {
			struct pending *p = zhashx_lookup(by_req, msg_str(r, MSG_F_REQ, ""));
			if (p != NULL && p->answers++ > 0)
				dups++;
		}
	double secs = (double)(util_now_ms() - t0) / 1000.0;
	qsort(lat, nlat, sizeof(*lat), cmp_i64);
	printf("{\"jobs\":%llu,\"answered\":%llu,\"duplicates\":%llu,\"lost\":%llu,\"status\":{",
	    (unsigned long long)njobs, (unsigned long long)answered, (unsigned long long)dups,
	    (unsigned long long)(njobs - answered));
	bool first = true;
	for (int s = 0; s <= JOB__COUNT; s++) {
		if (status_count[s] == 0)
			continue;
		printf("%s\"%s\":%u", first ? "" : ",", s == JOB__COUNT ? "rejected_by_broker" :
		    job_status_name((enum job_status)s), status_count[s]);
		first = false;
	}
	printf("},\"busy_retries\":%llu,\"seconds\":%.3f,\"jobs_per_s\":%.1f,\"p50_ms\":%lld,"
	    "\"p90_ms\":%lld,\"p99_ms\":%lld}\n", (unsigned long long)busy, secs,
	    secs > 0 ? (double)answered / secs : 0.0, (long long)pct(lat, nlat, 0.5),
	    (long long)pct(lat, nlat, 0.9), (long long)pct(lat, nlat, 0.99));
	zhashx_destroy(&by_req);
	client_destroy(&c);
	free(jobs);
	free(lat);
	free(code);
	return answered == njobs && dups == 0 ? 0 : 1;
}
