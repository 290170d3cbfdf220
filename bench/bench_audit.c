/*
 * bench_audit — sustained durable events/s into the audit store.
 *
 *   bench_audit [BASE_DIR] [RUNS]
 *
 * For batch sizes 1, 16, 256, 1024 and 4096 events per synced commit, appends events of a
 * realistic size (ids, session, actor, code hash, ~100 B of details) into a
 * fresh store under BASE_DIR (default /tmp; use a real disk, not tmpfs: the
 * figure is bounded by fsync), RUNS times (default 5), and prints the median
 * events/s, commits/s and the store time per job at 6 events/job.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/audit.h"
#include "common/audit_store.h"
#include "common/err.h"
#include "common/log.h"

#define BENCH_AUDIT_RUNS_MAX 21

static int
bench_audit_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static double
bench_audit_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One run: `events` events in batches of `batch`; returns events/s or -1. */
static double
bench_audit_run(const char *base, size_t batch, size_t events,
    const struct audit_event *tmpl)
{
	struct audit_store_options o = { .max_pending = batch };
	struct audit_store *s;
	struct audit_event ev;
	char dir[512], why[256];
	double t0, t1;
	int err;

	snprintf(dir, sizeof(dir), "%s/bench-audit-XXXXXX", base);
	if (mkdtemp(dir) == NULL)
		return -1;
	if ((s = audit_store_open(dir, &o, &err, why, sizeof(why))) == NULL) {
		fprintf(stderr, "open: %s\n", why);
		return -1;
	}
	t0 = bench_audit_now();
	for (size_t i = 0; i < events; i++) {
		struct audit_event fresh;
		char job[32];
		/* per event: fresh id and time, its job, its type; the details
		 * text was canonicalised once (the caller's cost, not the store's) */
		if (audit_event_copy(&ev, tmpl) != ERR_OK ||
		    audit_event_init(&fresh, (enum audit_type)(1 + i % 10)) != ERR_OK)
			return -1;
		memcpy(ev.id, fresh.id, sizeof(ev.id));
		memcpy(ev.time, fresh.time, sizeof(ev.time));
		ev.type = fresh.type;
		snprintf(job, sizeof(job), "job-%zu", i / 6);
		audit_event_set(&ev, "job", job);
		ev.duration_ms = i;
		if (audit_store_append(s, &ev) != ERR_OK)
			return -1;
		audit_event_clear(&ev);
		if (audit_store_pending(s) == batch && audit_store_commit(s) != ERR_OK)
			return -1;
	}
	if (audit_store_commit(s) != ERR_OK)
		return -1;
	t1 = bench_audit_now();
	audit_store_destroy(&s);
	nftw(dir, bench_audit_rm, 16, FTW_DEPTH | FTW_PHYS);
	return (double)events / (t1 - t0);
}

static int
bench_audit_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : "/tmp";
	long runs = argc > 2 ? strtol(argv[2], NULL, 10) : 5;
	const size_t batches[] = { 1, 16, 256, 1024, 4096 };
	const size_t events[] = { 2000, 32000, 131072, 262144, 524288 };
	double r[BENCH_AUDIT_RUNS_MAX];
	struct audit_event tmpl;
	static const char details[] = "{\"path\":\"/work/data/input.csv\",\"mode\":"
	    "\"read\",\"bytes\":4096,\"allowed\":true,\"rule\":\"fs.read.work\"}";

	log_init("bench_audit", LOG_LEVEL_WARN);
	if (runs < 1 || runs > BENCH_AUDIT_RUNS_MAX) {
		fprintf(stderr, "RUNS must be 1..%d\n", BENCH_AUDIT_RUNS_MAX);
		return 2;
	}
	if (audit_event_init(&tmpl, AUDIT_FILE_ACCESS) != ERR_OK ||
	    audit_event_set(&tmpl, "actor", "worker@host2") != ERR_OK ||
	    audit_event_set(&tmpl, "session", "session-0123456789abcdef") != ERR_OK ||
	    audit_event_set(&tmpl, "tenant", "acme") != ERR_OK ||
	    audit_event_set(&tmpl, "code_sha256",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") != ERR_OK ||
	    audit_event_set_details(&tmpl, details, sizeof(details) - 1) != ERR_OK)
		return 1;
	printf("%-6s %-8s %14s %12s %16s  (median of %ld runs, base %s)\n", "batch",
	    "events", "events/s", "commits/s", "us/job(6 ev)", runs, base);
	for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
		for (long i = 0; i < runs; i++)
			if ((r[i] = bench_audit_run(base, batches[b], events[b], &tmpl)) < 0)
				return 1;
		qsort(r, (size_t)runs, sizeof(r[0]), bench_audit_cmp);
		double med = r[runs / 2];
		printf("%-6zu %-8zu %14.0f %12.0f %16.1f  [min %.0f max %.0f]\n", batches[b],
		    events[b], med, med / (double)batches[b], 6e6 / med, r[0], r[runs - 1]);
		fflush(stdout);
	}
	return 0;
}
