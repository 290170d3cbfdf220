/*
 * bench_audit — sustained durable events/s into the audit store.
 *
 *   bench_audit [BASE_DIR] [RUNS]
 *
 *   bench_audit BASE_DIR RUNS -p P1,P2,...
 *
 * Fixed batches: for batch sizes 1, 16, 256, 1024 and 4096 events per synced
 * commit, appends events of a realistic size (ids, session, actor, code hash,
 * ~100 B of details) into a fresh store under BASE_DIR (default /tmp; use a
 * real disk, not tmpfs: the figure is bounded by fsync), RUNS times (default
 * 5), and prints the median events/s, commits/s and the store time per job at
 * 6 events/job.
 *
 * Producers (-p): P threads each append one event and wait until it is
 * durable before the next (what an operation waiting for its audit record
 * does).  One writer thread takes whatever is queued, appends it and seals
 * it; broker/committer.c syncs it while the writer collects the next round —
 * the broker's own pipeline, so batches form by themselves.  Prints the
 * median events/s, the mean events per commit and the p50/p99 time from
 * enqueue to durable.
 */
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "broker/committer.h"
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

/* --- producers waiting for durability ------------------------------------- */

#define BENCH_AUDIT_SECONDS 3.0
#define BENCH_AUDIT_LAT_MAX (1u << 22)

/* One waiting producer: posted when its event is durable. */
struct bench_waiter {
	sem_t durable;
	double t0;
};

struct bench_pipe {
	pthread_mutex_t lock;
	pthread_cond_t room_cv;		/* producers wait for queue room */
	struct audit_event *queue;	/* ring of `cap` events, owned */
	struct bench_waiter **qw;	/* their producers */
	size_t cap, head, len;
	uint64_t durable;		/* events durable so far */
	int wakefd;			/* eventfd: producer -> writer */
	bool stop;
	const struct audit_event *tmpl;
	double *lat;			/* enqueue -> durable, seconds */
	size_t nlat;
	bool failed;
};

static void *
bench_audit_producer(void *arg)
{
	struct bench_pipe *q = arg;
	struct bench_waiter w;
	uint64_t one = 1;

	sem_init(&w.durable, 0, 0);
	for (size_t i = 0;; i++) {
		struct audit_event ev, fresh;
		char job[32];

		if (audit_event_copy(&ev, q->tmpl) != ERR_OK ||
		    audit_event_init(&fresh, (enum audit_type)(1 + i % 10)) != ERR_OK)
			break;
		memcpy(ev.id, fresh.id, sizeof(ev.id));
		memcpy(ev.time, fresh.time, sizeof(ev.time));
		ev.type = fresh.type;
		snprintf(job, sizeof(job), "job-%p-%zu", (void *)&w, i / 6);
		audit_event_set(&ev, "job", job);
		w.t0 = bench_audit_now();
		pthread_mutex_lock(&q->lock);
		while (q->len == q->cap && !q->stop)
			pthread_cond_wait(&q->room_cv, &q->lock);
		if (q->stop) {
			pthread_mutex_unlock(&q->lock);
			audit_event_clear(&ev);
			break;
		}
		q->queue[(q->head + q->len) % q->cap] = ev;	/* details move */
		q->qw[(q->head + q->len++) % q->cap] = &w;
		if (write(q->wakefd, &one, sizeof(one)) < 0)
			q->failed = true;
		pthread_mutex_unlock(&q->lock);
		sem_wait(&w.durable);
		if (q->stop)
			break;
	}
	return NULL;
}

/* The writer: append what is queued, seal, let the committer sync it, then
 * post the producers of the events that became durable. */
static int
bench_audit_writer(struct bench_pipe *q, struct audit_store *s, struct committer *c,
    double *events_out, double *commits_out)
{
	double t0 = bench_audit_now(), end = t0 + BENCH_AUDIT_SECONDS;
	struct bench_waiter **pend = calloc(q->cap, sizeof(*pend));	/* appended, in order */
	size_t npend = 0, nsealed = 0;
	uint64_t commits = 0, n;
	struct audit_event ev;
	int rc = -1;

	if (pend == NULL)
		return -1;
	for (;;) {
		pthread_mutex_lock(&q->lock);
		while (q->len > 0) {
			ev = q->queue[q->head];
			pend[npend++] = q->qw[q->head];
			q->head = (q->head + 1) % q->cap;
			q->len--;
			pthread_mutex_unlock(&q->lock);
			if (audit_store_append(s, &ev) != ERR_OK) {
				audit_event_clear(&ev);
				goto out;
			}
			audit_event_clear(&ev);
			pthread_mutex_lock(&q->lock);
		}
		pthread_cond_broadcast(&q->room_cv);
		pthread_mutex_unlock(&q->lock);
		if (committer_is_busy(c) && committer_is_done(c)) {
			if (committer_finish(c) != ERR_OK)
				goto out;
			commits++;
			double now = bench_audit_now();
			for (size_t i = 0; i < nsealed; i++) {
				if (q->nlat < BENCH_AUDIT_LAT_MAX)
					q->lat[q->nlat++] = now - pend[i]->t0;
				sem_post(&pend[i]->durable);
			}
			memmove(pend, pend + nsealed, (npend - nsealed) * sizeof(*pend));
			npend -= nsealed;
			q->durable += nsealed;
			nsealed = 0;
		}
		if (bench_audit_now() >= end)
			break;
		if (!committer_is_busy(c) && audit_store_pending(s) > 0) {
			if (audit_store_seal(s) != ERR_OK || committer_start(c) != ERR_OK)
				goto out;
			nsealed = npend;
		}
		struct pollfd pf[2] = { { q->wakefd, POLLIN, 0 }, { committer_fd(c), POLLIN, 0 } };
		if (poll(pf, 2, 100) > 0 && (pf[0].revents & POLLIN) &&
		    read(q->wakefd, &n, sizeof(n)) < 0)
			goto out;
	}
	*events_out = (double)q->durable / (bench_audit_now() - t0);
	*commits_out = (double)commits / (bench_audit_now() - t0);
	rc = 0;
out:
	/* release every producer still waiting: the run is over */
	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_broadcast(&q->room_cv);
	for (size_t i = 0; i < q->len; i++)
		sem_post(&q->qw[(q->head + i) % q->cap]->durable);
	pthread_mutex_unlock(&q->lock);
	for (size_t i = 0; i < npend; i++)
		sem_post(&pend[i]->durable);
	free(pend);
	return rc;
}

static int bench_audit_cmp(const void *a, const void *b);

/* One run with `producers` threads; prints nothing, fills the figures. */
static int
bench_audit_producers(const char *base, size_t producers, const struct audit_event *tmpl,
    double *eps, double *cps, double *p50, double *p99)
{
	struct audit_store_options o = { .max_pending = 1u << 20 };
	struct bench_pipe q = { .cap = producers, .tmpl = tmpl };
	pthread_t *th = calloc(producers, sizeof(*th));
	struct audit_store *s = NULL;
	struct committer *c = NULL;
	char dir[512], why[256];
	int err, rc = -1;
	size_t started = 0;

	snprintf(dir, sizeof(dir), "%s/bench-audit-XXXXXX", base);
	q.queue = calloc(producers, sizeof(*q.queue));
	q.qw = calloc(producers, sizeof(*q.qw));
	q.lat = malloc(BENCH_AUDIT_LAT_MAX * sizeof(*q.lat));
	pthread_mutex_init(&q.lock, NULL);
	pthread_cond_init(&q.room_cv, NULL);
	if (th == NULL || q.queue == NULL || q.qw == NULL || q.lat == NULL || mkdtemp(dir) == NULL ||
	    (q.wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		goto out;
	if ((s = audit_store_open(dir, &o, &err, why, sizeof(why))) == NULL) {
		fprintf(stderr, "open: %s\n", why);
		goto out;
	}
	if ((c = committer_new(s, NULL)) == NULL)
		goto out;
	for (; started < producers; started++)
		if (pthread_create(&th[started], NULL, bench_audit_producer, &q) != 0)
			break;
	rc = bench_audit_writer(&q, s, c, eps, cps);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (q.nlat > 0) {
		qsort(q.lat, q.nlat, sizeof(*q.lat), bench_audit_cmp);
		*p50 = q.lat[q.nlat / 2];
		*p99 = q.lat[q.nlat * 99 / 100];
	}
	while (q.len > 0) {
		audit_event_clear(&q.queue[q.head]);
		q.head = (q.head + 1) % q.cap;
		q.len--;
	}
out:
	committer_destroy(&c);
	audit_store_destroy(&s);
	nftw(dir, bench_audit_rm, 16, FTW_DEPTH | FTW_PHYS);
	if (q.wakefd > 0)
		close(q.wakefd);
	free(q.queue);
	free(q.qw);
	free(q.lat);
	free(th);
	return rc != 0 || q.failed ? -1 : 0;
}

/* -p P1,P2,...: the producer mode, RUNS runs per count, medians. */
static int
bench_audit_producer_table(const char *base, long runs, const char *list,
    const struct audit_event *tmpl)
{
	double eps[BENCH_AUDIT_RUNS_MAX], cps[BENCH_AUDIT_RUNS_MAX];
	double l50[BENCH_AUDIT_RUNS_MAX], l99[BENCH_AUDIT_RUNS_MAX];
	char *end;

	printf("%-9s %12s %12s %12s %10s %10s  (median of %ld runs of %.0f s, base %s)\n",
	    "producers", "events/s", "commits/s", "events/commit", "p50 ms", "p99 ms", runs,
	    BENCH_AUDIT_SECONDS, base);
	for (const char *p = list; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		unsigned long n = strtoul(p, &end, 10);
		if (end == p || n == 0 || n > 4096) {
			fprintf(stderr, "producer counts: 1..4096, comma-separated\n");
			return 2;
		}
		for (long i = 0; i < runs; i++) {
			l50[i] = l99[i] = 0;
			if (bench_audit_producers(base, n, tmpl, &eps[i], &cps[i], &l50[i], &l99[i]) != 0)
				return 1;
		}
		double e = eps[0], cm;
		qsort(eps, (size_t)runs, sizeof(eps[0]), bench_audit_cmp);
		qsort(cps, (size_t)runs, sizeof(cps[0]), bench_audit_cmp);
		qsort(l50, (size_t)runs, sizeof(l50[0]), bench_audit_cmp);
		qsort(l99, (size_t)runs, sizeof(l99[0]), bench_audit_cmp);
		(void)e;
		cm = cps[runs / 2];
		printf("%-9lu %12.0f %12.0f %12.1f %10.2f %10.2f  [events/s min %.0f max %.0f]\n", n,
		    eps[runs / 2], cm, cm > 0 ? eps[runs / 2] / cm : 0, l50[runs / 2] * 1e3,
		    l99[runs / 2] * 1e3, eps[0], eps[runs - 1]);
		fflush(stdout);
	}
	return 0;
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
	if (argc > 4 && strcmp(argv[3], "-p") == 0)
		return bench_audit_producer_table(base, runs, argv[4], &tmpl);
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
