/*
 * latency — client-measured latency of one job at a time at low load: each
 * job is submitted `--gap-ms` after the previous result came back (a farm
 * under light, steady use, where the warm pool has time to refill), and
 * timed from just before the SUBMIT to the RESULT, in microseconds.
 *
 *   latency --broker EP --jobs N [--gap-ms MS] [--warmup K] FILE.ts
 *
 * Prints one JSON line: {"jobs":N,"ok":K,"gap_ms":G,"p50_ms":..,"p90_ms":..,
 * "p99_ms":..,"max_ms":..,"wall_p50_ms":..}; wall_p50_ms is the median of the
 * results' wall_ms (the job's own run in the worker, handover to end).  Exit
 * 0 when every job ended ok.
 */
#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "common/msg.h"
#include "common/trace.h"
#include "common/util.h"

static int
by_value(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The value at quantile q of sorted v[0..n), nearest rank, in ms. */
static double
quantile_ms(const int64_t *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return n == 0 ? 0.0 : (double)v[i < n ? i : n - 1] / 1000.0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "jobs", required_argument, NULL, 'n' },
		{ "gap-ms", required_argument, NULL, 'g' },
		{ "warmup", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	const char *broker = NULL;
	uint64_t njobs = 100, gap = 100, warmup = 3, ok = 0;
	size_t len, n = 0;
	char *code, why[256];
	int64_t *us, *wall;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'b': broker = optarg; break;
		case 'n': if (!util_parse_u64(optarg, 1, 1000000, &njobs)) return 2; break;
		case 'g': if (!util_parse_u64(optarg, 0, 60000, &gap)) return 2; break;
		case 'w': if (!util_parse_u64(optarg, 0, 1000, &warmup)) return 2; break;
		default: return 2;
		}
	}
	if (optind != argc - 1 || util_read_file(argv[optind], 1 << 20, &code, &len) != ERR_OK) {
		fprintf(stderr, "usage: latency --broker EP --jobs N [--gap-ms MS] [--warmup K] FILE\n");
		return 2;
	}
	struct client *c = client_new(client_endpoint(broker));
	if (c == NULL || (us = calloc(njobs, sizeof(*us))) == NULL ||
	    (wall = calloc(njobs, sizeof(*wall))) == NULL)
		return 1;
	for (uint64_t i = 0; i < warmup + njobs; i++) {
		struct msg *m = msg_new(MSG_SUBMIT), *res = NULL;
		int64_t t0;

		msg_set_bin(m, MSG_F_CODE, code, len);
		msg_set_str(m, MSG_F_LANG, strstr(argv[optind], ".js") ? "js" : "ts");
		t0 = util_now_us();
		TRACE_MARK("C0_submit");
		enum err e = client_run(c, m, 10000, 60000, &res, why, sizeof(why));
		TRACE_MARK("C5_result");
		int64_t dt = util_now_us() - t0;
		msg_destroy(&m);
		if (i >= warmup) {
			wall[n] = e == ERR_OK ? (int64_t)msg_u64(res, MSG_F_WALL_MS, 0) * 1000 : 0;
			us[n++] = dt;
			if (e == ERR_OK && strcmp(msg_str(res, MSG_F_STATUS, ""), "ok") == 0)
				ok++;
			else
				fprintf(stderr, "latency: job %llu: %s\n", (unsigned long long)i,
				    e == ERR_OK ? msg_str(res, MSG_F_STATUS, "?") : why);
		}
		msg_destroy(&res);
		if (gap > 0)
			zclock_sleep((int)gap);
	}
	qsort(us, n, sizeof(*us), by_value);
	qsort(wall, n, sizeof(*wall), by_value);
	printf("{\"jobs\":%llu,\"ok\":%llu,\"gap_ms\":%llu,\"p50_ms\":%.2f,\"p90_ms\":%.2f,"
	    "\"p99_ms\":%.2f,\"max_ms\":%.2f,\"wall_p50_ms\":%.0f}\n", (unsigned long long)njobs,
	    (unsigned long long)ok, (unsigned long long)gap, quantile_ms(us, n, 0.5),
	    quantile_ms(us, n, 0.9), quantile_ms(us, n, 0.99), quantile_ms(us, n, 1.0),
	    quantile_ms(wall, n, 0.5));
	client_destroy(&c);
	free(us);
	free(wall);
	free(code);
	return ok == njobs ? 0 : 1;
}
