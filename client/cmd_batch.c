/*
 * cmd_batch — `sluice batch FILE.jsonl --out RESULTS.jsonl [--concurrency N]`.
 *
 * Each input line is a JSON object with `code` or `file`, and optional
 * `key` (idempotency key), `session`, `tenant`, `timeout_ms`, `priority`.
 * Jobs are kept N in flight over one connection; each result is written as
 * one line as soon as it arrives:
 *   {"line": 7, "key": "...", "id": "...", "status": "ok", ...the result...}
 * A bad input line gets a result line with status "rejected" and an error.
 * A progress bar is drawn on a terminal, plain counters when stderr is piped.
 * Exit 0 when every job ended ok, 1 otherwise (also when a result line could
 * not be written: the batch then stops sending), 2 on usage.  A key that
 * repeats an earlier line's is rejected (one job per key).  A broker that
 * answers nothing within RUNJOB_ACCEPT_MS ends the batch: every line not
 * yet answered is rejected saying so.
 *
 * Resuming: run the same command again after a crash.  Lines with a `key`
 * that already ran are answered from the broker's store, not run again.
 */
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client.h"
#include "client/cmd.h"
#include "client/result.h"
#include "client/runjob.h"
#include "common/util.h"

#define BATCH_LINES_MAX 10000000
#define BATCH_LINE_MAX (2u * 1024 * 1024)

struct item {
	struct msg *submit;	/* NULL once answered or rejected */
	char req[33];
	char key[129];
	int64_t retry_at_ms;	/* BUSY: resend after this */
	int64_t deadline_ms;	/* give up waiting */
	bool sent, done;
};

struct batch {
	struct client *c;
	FILE *out;
	struct item *items;
	size_t n, next, in_flight, done, failed;
	zhashx_t *by_req;
	zhashx_t *by_key;	/* key -> its first line + 1 */
	bool tty;
	bool heard;		/* any answer from the broker yet */
	bool write_failed;	/* a result line could not be written: stop */
	int64_t last_progress_ms, start_ms;
};

static void
write_line(struct batch *b, size_t line, const struct item *it, json_t *o)
{
	char *s;

	json_object_set_new(o, "line", json_integer((json_int_t)line + 1));
	if (it->key[0])
		json_object_set_new(o, "key", json_string(it->key));
	if ((s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL ||
	    fprintf(b->out, "%s\n", s) < 0 || fflush(b->out) != 0)
		b->write_failed = true;
	free(s);
}

static void
finish(struct batch *b, size_t i, json_t *o, bool ok)
{
	struct item *it = &b->items[i];

	write_line(b, i, it, o);
	json_decref(o);
	if (it->sent)
		b->in_flight--;
	msg_destroy(&it->submit);
	it->done = true;
	b->done++;
	if (!ok)
		b->failed++;
}

static void
reject(struct batch *b, size_t i, const char *why)
{
	json_t *o = json_object();
	json_object_set_new(o, "status", json_string("rejected"));
	json_object_set_new(o, "error", json_string(why));
	finish(b, i, o, false);
}

/* Builds the SUBMIT for one input line; false with `why` on a bad line. */
static bool
parse_line(const char *line, size_t linelen, struct item *it, char *why, size_t whysz)
{
	json_error_t jerr;
	/* json_loadb: a NUL inside the line is an error, not its end */
	json_t *o = json_loadb(line, linelen, JSON_REJECT_DUPLICATES, &jerr), *v;
	const char *code_s = NULL, *file = NULL;
	char *code = NULL;
	size_t len = 0;
	bool ok = false;
	struct msg *m = msg_new(MSG_SUBMIT);

	if (o == NULL || !json_is_object(o)) {
		snprintf(why, whysz, "not a JSON object: %s", o ? "wrong type" : jerr.text);
		goto out;
	}
	if ((v = json_object_get(o, "code")) != NULL && !(code_s = json_string_value(v))) {
		snprintf(why, whysz, "\"code\" must be a string");
		goto out;
	}
	if ((v = json_object_get(o, "file")) != NULL && !(file = json_string_value(v))) {
		snprintf(why, whysz, "\"file\" must be a string");
		goto out;
	}
	if ((code_s == NULL) == (file == NULL)) {
		snprintf(why, whysz, "exactly one of \"code\" and \"file\" is required");
		goto out;
	}
	if (file != NULL) {
		enum err e = util_read_file(file, (size_t)msg_field_max(MSG_F_CODE), &code, &len);
		if (e != ERR_OK) {
			snprintf(why, whysz, "%s: %s", file, e == ERR_TOOBIG ? "larger than 1 MiB" : "cannot read");
			goto out;
		}
		const char *dot = strrchr(file, '.');
		msg_set_str(m, MSG_F_LANG, dot && (strcmp(dot, ".js") == 0 || strcmp(dot, ".mjs") == 0) ? "js" : "ts");
	} else {
		len = json_string_length(json_object_get(o, "code"));
	}
	if (msg_set_bin(m, MSG_F_CODE, code ? code : code_s, len) != ERR_OK) {
		snprintf(why, whysz, "code larger than 1 MiB");
		goto out;
	}
	static const struct { const char *name; enum msg_field f; } strs[] = {
		{ "key", MSG_F_KEY }, { "session", MSG_F_SESSION }, { "tenant", MSG_F_TENANT },
		{ "lang", MSG_F_LANG }, { "tools", MSG_F_TOOLS }, { "privacy_mode", MSG_F_PRIVACY_MODE },
	};
	for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++) {
		if ((v = json_object_get(o, strs[k].name)) == NULL)
			continue;
		if (!json_is_string(v) || msg_set_str(m, strs[k].f, json_string_value(v)) != ERR_OK) {
			snprintf(why, whysz, "\"%s\" must be a string within bounds", strs[k].name);
			goto out;
		}
	}
	static const struct { const char *name; enum msg_field f; } nums[] = {
		{ "timeout_ms", MSG_F_TIMEOUT_MS }, { "priority", MSG_F_PRIORITY },
		{ "memory_mb", MSG_F_MEMORY_MB },
	};
	for (size_t k = 0; k < sizeof(nums) / sizeof(nums[0]); k++) {
		if ((v = json_object_get(o, nums[k].name)) == NULL)
			continue;
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    msg_set_u64(m, nums[k].f, (uint64_t)json_integer_value(v)) != ERR_OK) {
			snprintf(why, whysz, "\"%s\" must be a non-negative integer within bounds", nums[k].name);
			goto out;
		}
	}
	snprintf(it->key, sizeof(it->key), "%s", msg_str(m, MSG_F_KEY, ""));
	it->submit = m;
	m = NULL;
	ok = true;
out:
	msg_destroy(&m);
	free(code);
	json_decref(o);
	return ok;
}

static void
progress(struct batch *b, bool final)
{
	int64_t now = util_now_ms();

	if (!final && now - b->last_progress_ms < (b->tty ? 100 : 2000))
		return;
	b->last_progress_ms = now;
	double secs = (double)(now - b->start_ms) / 1000.0;
	if (b->tty) {
		int width = 30, fill = b->n ? (int)((double)b->done / (double)b->n * width) : width;
		fprintf(stderr, "\r[%.*s%*s] %zu/%zu done, %zu failed, %zu running, %.1f jobs/s ",
		    fill, "##############################", width - fill, "", b->done, b->n, b->failed,
		    b->in_flight, secs > 0 ? (double)b->done / secs : 0.0);
		if (final)
			fputc('\n', stderr);
	} else {
		fprintf(stderr, "batch: %zu/%zu done, %zu failed, %zu running\n", b->done, b->n,
		    b->failed, b->in_flight);
	}
}

static void
send_item(struct batch *b, size_t i)
{
	struct item *it = &b->items[i];

	if (client_send(b->c, it->submit, it->req) != ERR_OK) {
		reject(b, i, "cannot send to the broker");
		return;
	}
	if (!it->sent) {
		it->sent = true;
		b->in_flight++;
		zhashx_insert(b->by_req, it->req, (void *)(uintptr_t)(i + 1));
	}
	/* until ACCEPTED: as long as `sluice run` waits for it */
	it->deadline_ms = util_now_ms() + RUNJOB_ACCEPT_MS;
}

static void
on_reply(struct batch *b, struct msg *r)
{
	size_t i = (size_t)(uintptr_t)zhashx_lookup(b->by_req, msg_str(r, MSG_F_REQ, ""));
	struct item *it;

	b->heard = true;
	if (i-- == 0 || (it = &b->items[i])->done)
		return;
	switch (msg_cmd(r)) {
	case MSG_ACCEPTED:
		/* then its run: its timeout, and room to wait in the queue */
		it->deadline_ms = util_now_ms() + (int64_t)msg_u64(it->submit, MSG_F_TIMEOUT_MS,
		    30000) + 600000;
		break;
	case MSG_BUSY:
		it->retry_at_ms = util_now_ms() + (int64_t)msg_u64(r, MSG_F_RETRY_MS, 100);
		break;
	case MSG_RESULT:
		finish(b, i, result_json(r), strcmp(msg_str(r, MSG_F_STATUS, ""), "ok") == 0);
		break;
	case MSG_ERROR:
		reject(b, i, msg_str(r, MSG_F_MESSAGE, "error"));
		break;
	default:
		break;
	}
}

int
cmd_batch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *broker = NULL, *outpath = NULL;
	struct batch b = { 0 };
	uint64_t conc = 16;
	char *line = NULL, why[512];
	size_t cap = 0;
	ssize_t len;
	FILE *in;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'b': broker = optarg; break;
		case 'o': outpath = optarg; break;
		case 'c':
			if (!util_parse_u64(optarg, 1, 10000, &conc))
				goto usage;
			break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || outpath == NULL)
		goto usage;
	if ((in = strcmp(argv[optind], "-") == 0 ? stdin : fopen(argv[optind], "r")) == NULL) {
		fprintf(stderr, "sluice batch: cannot open %s\n", argv[optind]);
		return 1;
	}
	struct stat sin, sout;
	if (strcmp(outpath, "-") != 0 && stat(outpath, &sout) == 0 && fstat(fileno(in), &sin) == 0 &&
	    sin.st_dev == sout.st_dev && sin.st_ino == sout.st_ino) {
		fprintf(stderr, "sluice batch: --out %s is the input file\n", outpath);
		return 2;
	}
	if ((b.out = strcmp(outpath, "-") == 0 ? stdout : fopen(outpath, "w")) == NULL) {
		fprintf(stderr, "sluice batch: cannot write %s: %s\n", outpath, strerror(errno));
		return 1;
	}
	b.c = client_new(client_endpoint(broker));
	b.by_req = zhashx_new();
	b.by_key = zhashx_new();
	if (b.c == NULL || b.by_req == NULL || b.by_key == NULL)
		return 1;
	b.tty = isatty(2);
	b.start_ms = util_now_ms();

	/* Read every line first: counts for the progress bar, errors early. */
	while ((len = getline(&line, &cap, in)) >= 0) {
		struct item *grown;
		if (b.n >= BATCH_LINES_MAX) {
			fprintf(stderr, "sluice batch: more than %d lines\n", BATCH_LINES_MAX);
			return 1;
		}
		if ((grown = realloc(b.items, (b.n + 1) * sizeof(*b.items))) == NULL)
			return 1;
		b.items = grown;
		memset(&b.items[b.n], 0, sizeof(b.items[b.n]));
		b.n++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		struct item *it = &b.items[b.n - 1];
		size_t first;
		if ((size_t)len > BATCH_LINE_MAX) {
			reject(&b, b.n - 1, "line longer than 2 MiB");
		} else if (!parse_line(line, (size_t)len, it, why, sizeof(why))) {
			reject(&b, b.n - 1, why);
		} else if (it->key[0] && (first = (size_t)(uintptr_t)zhashx_lookup(b.by_key, it->key)) != 0) {
			snprintf(why, sizeof(why), "key \"%.128s\" repeats line %zu's: one job per key",
			    it->key, first);
			reject(&b, b.n - 1, why);
		} else if (it->key[0]) {
			zhashx_insert(b.by_key, it->key, (void *)(uintptr_t)b.n);
		}
	}
	free(line);
	if (in != stdin)
		fclose(in);

	while (b.done < b.n && !b.write_failed) {
		int64_t now = util_now_ms();
		for (; b.next < b.n && b.in_flight < conc; b.next++)
			if (!b.items[b.next].done)
				send_item(&b, b.next);
		for (size_t i = 0; i < b.next; i++) {
			struct item *it = &b.items[i];
			if (it->done || !it->sent)
				continue;
			if (it->retry_at_ms && now >= it->retry_at_ms) {
				it->retry_at_ms = 0;
				send_item(&b, i);
			} else if (now > it->deadline_ms && !b.heard) {
				/* nothing at all from it: every line would wait as long */
				snprintf(why, sizeof(why), "no answer from the broker at %s in %d s",
				    client_endpoint(broker), RUNJOB_ACCEPT_MS / 1000);
				for (size_t k = 0; k < b.n; k++)
					if (!b.items[k].done)
						reject(&b, k, why);
				break;
			} else if (now > it->deadline_ms) {
				reject(&b, i, "no result from the broker in time");
			}
		}
		struct msg *r = NULL;
		if (client_recv(b.c, 200, &r) == ERR_OK) {
			on_reply(&b, r);
			msg_destroy(&r);
			/* Drain what else is ready before the bookkeeping pass. */
			while (client_recv(b.c, 0, &r) == ERR_OK) {
				on_reply(&b, r);
				msg_destroy(&r);
			}
		}
		progress(&b, false);
	}
	progress(&b, true);
	if ((b.out != stdout ? fclose(b.out) : fflush(b.out)) != 0)
		b.write_failed = true;
	if (b.write_failed)
		fprintf(stderr, "sluice batch: cannot write the results to %s: %s (stopped; lines "
		    "with a key resume when run again)\n", outpath, strerror(errno));
	for (size_t i = 0; i < b.n; i++)
		msg_destroy(&b.items[i].submit);
	free(b.items);
	zhashx_destroy(&b.by_req);
	zhashx_destroy(&b.by_key);
	client_destroy(&b.c);
	return b.failed || b.write_failed ? 1 : 0;
usage:
	fprintf(stderr, "usage: sluice batch FILE.jsonl --out RESULTS.jsonl [--concurrency N] [--broker EP]\n");
	return 2;
}
