/*
 * bench_risk — timing of risk_assess on a ~100 KB buffer of realistic agent
 * code (the labelled snippets under tests/risk/snippets, all bands,
 * concatenated until the size is reached), on ~100 KB of the benign
 * snippets only (typical traffic: few matches) and on one copy of the
 * benign set.
 * Prints median and p99 (wall clock and thread CPU time) over RUNS runs
 * after a warm-up.  Reads snippets
 * from $SLUICE_ROOT (default ".").
 *
 *   build/bench/bench_risk [RUNS]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/risk.h"

#define BENCH_RISK_SIZE		(100u * 1024)
#define BENCH_RISK_RUNS		2001

static double
bench_risk_now_us(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
bench_risk_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Appends every snippet file of one band to buf; returns bytes added. */
static size_t
bench_risk_band(const char *root, const char *band, char *buf, size_t used,
    size_t cap)
{
	char path[1024];
	struct dirent *de;
	size_t start = used;
	DIR *d;

	snprintf(path, sizeof(path), "%s/tests/risk/snippets/%s", root, band);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && used < cap) {
		FILE *f;

		if (strstr(de->d_name, ".ts") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/tests/risk/snippets/%s/%s",
		    root, band, de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		used += fread(buf + used, 1, cap - used, f);
		fclose(f);
	}
	closedir(d);
	return used - start;
}

static void
bench_risk_run(const struct risk *r, const char *name, const char *code,
    size_t len, int runs)
{
	struct risk_verdict *v = malloc(sizeof(*v));
	double *t = malloc((size_t)runs * sizeof(*t));
	double *c = malloc((size_t)runs * sizeof(*c));

	if (v == NULL || t == NULL || c == NULL) {
		fprintf(stderr, "bench_risk: out of memory\n");
		exit(1);
	}
	for (int i = 0; i < 20; i++)
		risk_assess(r, code, len, v);
	for (int i = 0; i < runs; i++) {
		double t0 = bench_risk_now_us(CLOCK_MONOTONIC);
		double c0 = bench_risk_now_us(CLOCK_THREAD_CPUTIME_ID);

		if (risk_assess(r, code, len, v) != ERR_OK) {
			fprintf(stderr, "bench_risk: assess failed\n");
			exit(1);
		}
		c[i] = bench_risk_now_us(CLOCK_THREAD_CPUTIME_ID) - c0;
		t[i] = bench_risk_now_us(CLOCK_MONOTONIC) - t0;
	}
	qsort(t, (size_t)runs, sizeof(*t), bench_risk_cmp);
	qsort(c, (size_t)runs, sizeof(*c), bench_risk_cmp);
	printf("%s: %zu bytes, %d runs, %zu matches, %s, score %.3f\n"
	    "  wall  median %8.1f us  p99 %8.1f us  max %8.1f us\n"
	    "  cpu   median %8.1f us  p99 %8.1f us  max %8.1f us\n", name, len,
	    runs, v->total, risk_level_name(v->level), v->score,
	    t[runs / 2], t[(size_t)((double)runs * 0.99)], t[runs - 1],
	    c[runs / 2], c[(size_t)((double)runs * 0.99)], c[runs - 1]);
	free(c);
	free(t);
	free(v);
}

int
main(int argc, char **argv)
{
	static const char *const bands[] = { "benign", "medium", "high",
	    "critical" };
	const char *root = getenv("SLUICE_ROOT");
	int runs = argc > 1 ? (int)strtol(argv[1], NULL, 10) : BENCH_RISK_RUNS;
	char why[256], *buf, *small;
	size_t used = 0, one, benign;
	struct risk *r;
	enum err e;

	if (root == NULL || *root == '\0')
		root = ".";
	if (runs < 101)
		runs = 101;
	r = risk_new(NULL, NULL, &e, why, sizeof(why));
	buf = malloc(BENCH_RISK_SIZE);
	small = malloc(BENCH_RISK_SIZE);
	if (r == NULL || buf == NULL || small == NULL) {
		fprintf(stderr, "bench_risk: setup: %s\n", r ? "no memory" : why);
		return 1;
	}
	benign = bench_risk_band(root, "benign", small, 0, BENCH_RISK_SIZE);
	while (used < BENCH_RISK_SIZE) {
		one = 0;
		for (size_t b = 0; b < 4; b++)
			one += bench_risk_band(root, bands[b], buf, used + one,
			    BENCH_RISK_SIZE);
		if (one == 0) {
			fprintf(stderr, "bench_risk: no snippets under %s\n",
			    root);
			return 1;
		}
		used += one;
	}
	printf("rules %zu\n", risk_rule_count(r));
	bench_risk_run(r, "all bands x N (100KB)", buf, used, runs);
	for (used = 0; used < BENCH_RISK_SIZE;) {
		one = bench_risk_band(root, "benign", buf, used,
		    BENCH_RISK_SIZE);
		if (one == 0)
			return 1;
		used += one;
	}
	bench_risk_run(r, "benign x N (100KB)", buf, used, runs);
	bench_risk_run(r, "benign set (one copy)", small, benign, runs);
	risk_destroy(&r);
	free(buf);
	free(small);
	return 0;
}
