/*
 * bench_privacy — quality and speed of the privacy filter.
 *
 *   build/bench/bench_privacy [-v | -s | -c] [CORPUS.jsonl...]   (-s: speed only)
 *
 * -c: one redact scan of the first 4 MiB of the speed buffer and nothing else,
 * for counting instructions, which a loaded machine does not disturb:
 *   valgrind --tool=callgrind --toggle-collect=privacy_scan build/bench/bench_privacy -c
 *
 * Without corpus arguments it reads ../shared/privacy-corpus/corpus.jsonl (or
 * ../../shared/... from a worktree) and tests/data/privacy-extra.jsonl,
 * relative to the current directory (bench/run.sh runs from the root).
 *
 * Quality: every corpus line is scanned in report mode; a gold span counts as
 * found when a finding overlaps it (corpus spans are Unicode character
 * offsets, findings are bytes: converted).  Prints recall per type and per
 * kind and the share of clean lines with no finding; -v lists misses and
 * false positives.  Speed: MB/s of redact mode over a >= 16 MiB buffer of
 * corpus text and filler prose, and the median time of 11 runs over 1 MiB.
 * Single thread; times are thread CPU time (wall-clock medians printed too).
 * A benchmark, not a test: it asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/err.h"
#include "common/privacy.h"

#define MAX_TYPES 64
#define BIG_MIN (16u << 20)

struct tally {
	char type[48];
	const char *kind;
	unsigned gold, found;
};

static struct tally tallies[MAX_TYPES];
static size_t ntallies;
static unsigned clean_lines, clean_ok;
static char *corpus_text;
static bool speed_only, count_only;
static size_t corpus_len, corpus_cap;

static struct tally *
tally_for(const char *type, const char *kind)
{
	for (size_t i = 0; i < ntallies; i++)
		if (strcmp(tallies[i].type, type) == 0)
			return &tallies[i];
	if (ntallies == MAX_TYPES)
		return NULL;
	snprintf(tallies[ntallies].type, sizeof(tallies[ntallies].type), "%s", type);
	tallies[ntallies].kind = kind;
	return &tallies[ntallies++];
}

/* Byte offset -> Unicode character offset (counts non-continuation bytes). */
static size_t
char_off(const char *s, size_t byte)
{
	size_t n = 0;

	for (size_t i = 0; i < byte; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

static void
keep_text(const char *t, size_t n)
{
	if (corpus_len + n + 1 > corpus_cap) {
		size_t ncap = corpus_cap ? corpus_cap * 2 : 1 << 20;
		char *p;
		while (ncap < corpus_len + n + 1)
			ncap *= 2;
		if ((p = realloc(corpus_text, ncap)) == NULL)
			return;
		corpus_text = p;
		corpus_cap = ncap;
	}
	memcpy(corpus_text + corpus_len, t, n);
	corpus_len += n;
	corpus_text[corpus_len++] = '\n';
}

static const char *
kind_of_type(const char *line_kind, const char *type)
{
	static const char *const pii[] = {
		"email", "phone", "us_ssn", "credit_card", "iban", "ipv4", "ipv6",
		"mac_address", "passport", "drivers_licence", "bank_account",
		"date_of_birth", "street_address", "zip_code",
	};

	for (size_t i = 0; i < sizeof(pii) / sizeof(pii[0]); i++)
		if (strcmp(type, pii[i]) == 0)
			return "pii";
	(void)line_kind;
	return "secret";
}

static int
eval_file(const char *path, bool verbose)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct privacy_config cfg = { .mode = PRIVACY_MODE_REPORT };

	if (f == NULL) {
		perror(path);
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		json_error_t jerr;
		json_t *o = json_loadb(line, (size_t)n, 0, &jerr), *spans, *types;
		const char *text, *kind;
		size_t tlen;
		struct privacy_result r = { 0 };

		if (o == NULL)
			continue;
		text = json_string_value(json_object_get(o, "text"));
		tlen = json_string_length(json_object_get(o, "text"));
		kind = json_string_value(json_object_get(o, "kind"));
		spans = json_object_get(o, "spans");
		types = json_object_get(o, "span_types");
		if (speed_only && text != NULL) {
			keep_text(text, tlen);
			json_decref(o);
			continue;
		}
		if (text == NULL || kind == NULL ||
		    privacy_scan(&cfg, text, tlen, &r) != ERR_OK) {
			json_decref(o);
			continue;
		}
		keep_text(text, tlen);
		if (strcmp(kind, "clean") == 0) {
			clean_lines++;
			if (r.nfindings == 0)
				clean_ok++;
			else if (verbose)
				printf("FP  %s [%.*s] in: %.120s\n", r.findings[0].type,
				    (int)(r.findings[0].end - r.findings[0].start),
				    text + r.findings[0].start, text);
		}
		for (size_t i = 0; i < json_array_size(spans); i++) {
			json_t *sp = json_array_get(spans, i);
			const char *type = json_string_value(json_array_get(types, i));
			size_t a = (size_t)json_integer_value(json_array_get(sp, 0));
			size_t b = (size_t)json_integer_value(json_array_get(sp, 1));
			struct tally *t;
			bool hit = false;

			if (type == NULL)
				type = json_string_value(json_object_get(o, "type"));
			if (type == NULL || (t = tally_for(type, kind_of_type(kind, type))) == NULL)
				continue;
			t->gold++;
			for (size_t k = 0; k < r.nfindings && !hit; k++) {
				size_t fs = char_off(text, r.findings[k].start);
				size_t fe = char_off(text, r.findings[k].end);
				hit = fs < b && a < fe;
			}
			t->found += hit;
			if (!hit && verbose)
				printf("MISS %s in: %.160s\n", type, text);
		}
		privacy_result_clear(&r);
		json_decref(o);
	}
	free(line);
	fclose(f);
	return 0;
}

/* CPU time of this thread: "per core" figures that a busy machine does not
 * inflate as much as wall-clock time. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall-clock time, printed next to the CPU time. */
static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
speed(void)
{
	static const char filler[] =
	    "The quarterly report was reviewed by the team on Tuesday and the results "
	    "were shared with every department before the planning meeting. Nothing in "
	    "this paragraph is personal data; it is ordinary prose used as filler so that "
	    "the benchmark resembles tool output: logs, JSON, code and text.\n"
	    "{\"status\": \"ok\", \"items\": [1, 2, 3], \"elapsed_ms\": 42, \"version\": \"1.2.3\"}\n"
	    "for (int i = 0; i < n; i++) { total += values[i] * weight; }\n";
	size_t cap = BIG_MIN + 65536, len = 0;
	char *big = malloc(cap);
	struct privacy_config cfg = { .mode = PRIVACY_MODE_REDACT };
	struct privacy_result r;
	double t0, t1, w0, runs[11], walls[11];
	size_t mb = 1 << 20, nfind = 0;

	if (big == NULL || corpus_len == 0)
		return;
	while (len < BIG_MIN) {
		for (size_t k = 0; k < corpus_len * 4 / sizeof(filler) && len + sizeof(filler) < cap; k++) {
			memcpy(big + len, filler, sizeof(filler) - 1);
			len += sizeof(filler) - 1;
		}
		if (len + corpus_len >= cap)
			break;
		memcpy(big + len, corpus_text, corpus_len);
		len += corpus_len;
	}
	if (count_only) {
		if (privacy_scan(&cfg, big, 4u << 20, &r) == ERR_OK)
			printf("one scan of 4 MiB: %zu findings\n", r.nfindings);
		privacy_result_clear(&r);
		free(big);
		return;
	}
	for (int i = 0; i < 5; i++) {
		w0 = wall();
		t0 = now();
		if (privacy_scan(&cfg, big, len, &r) != ERR_OK) {
			printf("scan failed\n");
			free(big);
			return;
		}
		t1 = now();
		runs[i] = t1 - t0;
		walls[i] = wall() - w0;
		nfind = r.nfindings;
		privacy_result_clear(&r);
	}
	qsort(runs, 5, sizeof(runs[0]), dbl_cmp);
	qsort(walls, 5, sizeof(walls[0]), dbl_cmp);
	printf("throughput: %.1f MiB, median of 5 runs %.3f s CPU = %.1f MB/s per core "
	    "(best %.1f), %zu findings; wall median %.1f MB/s\n", (double)len / (1 << 20), runs[2],
	    (double)len / 1e6 / runs[2], (double)len / 1e6 / runs[0], nfind,
	    (double)len / 1e6 / walls[2]);
	for (int i = 0; i < 11; i++) {
		w0 = wall();
		t0 = now();
		if (privacy_scan(&cfg, big, mb, &r) != ERR_OK)
			break;
		runs[i] = now() - t0;
		walls[i] = wall() - w0;
		privacy_result_clear(&r);
	}
	qsort(runs, 11, sizeof(runs[0]), dbl_cmp);
	qsort(walls, 11, sizeof(walls[0]), dbl_cmp);
	printf("1 MiB: median %.2f ms CPU of 11 runs (min %.2f, max %.2f); wall median %.2f ms\n",
	    runs[5] * 1e3, runs[0] * 1e3, runs[10] * 1e3, walls[5] * 1e3);
	free(big);
}

int
main(int argc, char **argv)
{
	bool verbose = false;
	unsigned kg[2] = { 0 }, kf[2] = { 0 }, nfiles = 0;

	if (privacy_init() != ERR_OK) {
		fprintf(stderr, "privacy_init failed\n");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0)
			verbose = true;
		else if (strcmp(argv[i], "-s") == 0)
			speed_only = true;
		else if (strcmp(argv[i], "-c") == 0)
			speed_only = count_only = true;
		else if (eval_file(argv[i], verbose) == 0)
			nfiles++;
	}
	if (nfiles == 0) {
		/* Run from the repository root (bench/run.sh): the default corpora. */
		static const char *const defaults[] = {
			"../shared/privacy-corpus/corpus.jsonl",
			"../../shared/privacy-corpus/corpus.jsonl",
			"tests/data/privacy-extra.jsonl",
		};
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
			FILE *f = fopen(defaults[i], "r");
			if (f == NULL)
				continue;
			fclose(f);
			printf("corpus: %s\n", defaults[i]);
			eval_file(defaults[i], verbose);
			if (i == 0)
				i++;	/* found the shared corpus: skip the other guess */
		}
	}
	printf("%-28s %-7s %6s %6s %8s\n", "type", "kind", "gold", "found", "recall");
	for (size_t i = 0; i < ntallies; i++) {
		struct tally *t = &tallies[i];
		int k = strcmp(t->kind, "pii") == 0 ? 0 : 1;
		kg[k] += t->gold;
		kf[k] += t->found;
		printf("%-28s %-7s %6u %6u %7.1f%%\n", t->type, t->kind, t->gold, t->found,
		    t->gold ? 100.0 * t->found / t->gold : 0);
	}
	printf("PII recall: %u/%u = %.2f%%\n", kf[0], kg[0], kg[0] ? 100.0 * kf[0] / kg[0] : 0);
	printf("secret recall: %u/%u = %.2f%%\n", kf[1], kg[1],
	    kg[1] ? 100.0 * kf[1] / kg[1] : 0);
	printf("clean lines without a finding: %u/%u = %.2f%%\n", clean_ok, clean_lines,
	    clean_lines ? 100.0 * clean_ok / clean_lines : 0);
	if (!verbose)
		speed();
	free(corpus_text);
	return 0;
}
