/*
 * cmd_run — `sluice run FILE`: submit one program, wait, print its output.
 * Exit 0 when the job ended `ok`, 1 otherwise (with a one-line reason on
 * stderr), 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"
#include "client/cmd.h"
#include "client/jobfiles.h"
#include "client/result.h"
#include "client/runjob.h"
#include "common/mpread.h"
#include "common/msg.h"
#include "common/paths.h"
#include "common/util.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sluice run FILE [--broker EP] [--session S] [--timeout MS] [--memory MB]\n"
	    "                  [--pids N] [--workspace MB] [--output-bytes N] [--json]\n"
	    "                  [--tenant T] [--key K] [--priority 0-9] [--out DIR]\n"
	    "                  [--tools GLOBS] [--privacy-mode M]\n"
	    "                  [--file [WORKPATH=]LOCAL[:CLASS] ...]\n"
	    "  --file attaches LOCAL as /work/WORKPATH (default: its base name) with a data class\n"
	    "         (public, internal, confidential, restricted; default: the farm's).\n"
	    "  --out DIR writes the files the job left in /work (filtered, bounded) below DIR.\n"
	    "  --tools GLOBS limits the MCP tools the job may call (comma-separated server.tool globs).\n"
	    "  --privacy-mode M filters the output in redact | tokenize | hash | report mode (the\n"
	    "            deployment decides which are allowed; a session keeps its first job's mode).\n"
	    "  FILE is TypeScript (.ts) or JavaScript (.js, .mjs); '-' reads stdin as TypeScript.\n");
}

/* A path from the job may name only something below DIR: relative, no "..",
 * no empty or dot components, printable. */
static bool
safe_rel_path(const unsigned char *p, uint32_t len)
{
	uint32_t start = 0;

	if (len == 0 || len > 1024 || p[0] == '/')
		return false;
	for (uint32_t i = 0; i <= len; i++) {
		if (i < len && (p[i] < 0x20 || p[i] == 0x7f))
			return false;
		if (i == len || p[i] == '/') {
			uint32_t n = i - start;
			if (n == 0 || (n == 1 && p[start] == '.') ||
			    (n == 2 && p[start] == '.' && p[start + 1] == '.'))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* Writes the result's output files below `dir` (never through a symlink
 * found there); returns how many could not be written (reported), -1 when
 * the list is malformed. */
static int
write_files(const struct msg *res, const char *dir)
{
	struct mpread r;
	struct mpread_item it;
	size_t len;
	const void *raw = msg_bin(res, MSG_F_FILES, &len);
	int failed = 0;

	if (raw == NULL)
		return 0;
	mpread_init(&r, raw, len);
	if (mpread_next(&r, &it) != ERR_OK || it.kind != MPREAD_ARRAY)
		return -1;
	for (uint32_t f = 0, nf = it.len; f < nf; f++) {
		const unsigned char *path = NULL, *data = NULL;
		uint32_t plen = 0, dlen = 0;
		bool withheld = false;
		if (mpread_next(&r, &it) != ERR_OK || it.kind != MPREAD_MAP)
			return -1;
		for (uint32_t k = 0, nk = it.len; k < nk; k++) {
			const unsigned char *key;
			uint32_t klen;
			if (mpread_bytes(&r, &key, &klen) != ERR_OK)
				return -1;
			if (klen == 4 && memcmp(key, "path", 4) == 0) {
				if (mpread_bytes(&r, &path, &plen) != ERR_OK)
					return -1;
			} else if (klen == 4 && memcmp(key, "data", 4) == 0) {
				if (mpread_bytes(&r, &data, &dlen) != ERR_OK)
					return -1;
			} else if (klen == 8 && memcmp(key, "withheld", 8) == 0) {
				if (mpread_next(&r, &it) != ERR_OK || it.kind != MPREAD_BOOL)
					return -1;
				withheld = it.b;
			} else if (mpread_skip(&r, 4) != ERR_OK) {
				return -1;
			}
		}
		if (path == NULL || !safe_rel_path(path, plen)) {
			fprintf(stderr, "sluice run: skipped an output file with an unsafe path\n");
			failed++;
			continue;
		}
		if (withheld) {
			fprintf(stderr, "sluice run: %.*s withheld by the farm (its data class)\n",
			    (int)plen, (const char *)path);
			continue;
		}
		char rel[PATH_MAX];
		snprintf(rel, sizeof(rel), "%.*s", (int)plen, (const char *)path);
		if (!paths_write_beneath(dir, rel, data ? (const void *)data : "", dlen)) {
			fprintf(stderr, "sluice run: cannot write %s/%s: %s\n", dir, rel,
			    paths_beneath_error(errno));
			failed++;
		}
	}
	return failed;
}

int
cmd_run(int argc, char **argv)
{
	const char *broker = NULL, *file, *outdir = NULL;
	struct msg *sub = NULL, *res = NULL;
	struct client *c = NULL;
	struct jobfiles *jf = NULL;
	bool json = false;
	char why[512];
	uint64_t timeout = RUNJOB_TIMEOUT_DEFAULT;
	int ch, rc = 1;
	enum err e;

	if ((sub = msg_new(MSG_SUBMIT)) == NULL || (jf = jobfiles_new()) == NULL) {
		msg_destroy(&sub);
		return 1;
	}
	optind = 1;
	while ((ch = getopt_long(argc, argv, RUNJOB_SHORTOPTS, runjob_options, NULL)) != -1) {
		switch (runjob_apply(sub, ch, optarg, &timeout, why, sizeof(why))) {
		case RUNJOB_SET:
			continue;
		case RUNJOB_BAD:
			fprintf(stderr, "sluice run: %s\n", why);
			goto usage;
		case RUNJOB_OTHER:
			break;
		}
		switch (ch) {
		case RUNJOB_BROKER: broker = optarg; break;
		case RUNJOB_JSON: json = true; break;
		case RUNJOB_OUT: outdir = optarg; break;
		case RUNJOB_FILE:
			if (jobfiles_add(jf, optarg, why, sizeof(why)) != ERR_OK) {
				fprintf(stderr, "sluice run: --file %s\n", why);
				goto out;
			}
			break;
		case RUNJOB_HELP: usage(); rc = 0; goto out;
		default: goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	file = argv[optind];
	if (!runjob_load_code(sub, file, why, sizeof(why))) {
		fprintf(stderr, "sluice run: %s\n", why);
		goto out;
	}
	if (jobfiles_set(jf, sub) != ERR_OK) {
		fprintf(stderr, "sluice run: the input files exceed the message bound\n");
		goto out;
	}
	if ((c = client_new(client_endpoint(broker))) == NULL) {
		fprintf(stderr, "sluice run: cannot open a socket to %s\n", client_endpoint(broker));
		goto out;
	}
	e = client_run(c, sub, RUNJOB_ACCEPT_MS, (int)(timeout + RUNJOB_RESULT_SLACK_MS), &res,
	    why, sizeof(why));
	if (e != ERR_OK) {
		fprintf(stderr, "sluice run: %s\n", why);
		goto out;
	}
	if (json) {
		json_t *o = result_json(res);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (s != NULL)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	} else {
		runjob_print_output(res);
	}
	int st = runjob_status(res, json), bad = outdir != NULL ? write_files(res, outdir) : 0;
	if (bad < 0)
		fprintf(stderr, "sluice run: the result's file list is malformed\n");
	runjob_exit(bad != 0 && st == 0 ? 1 : st);	/* files asked for and not written: 1 */
usage:
	usage();
	rc = 2;
out:
	jobfiles_destroy(&jf);
	msg_destroy(&sub);
	msg_destroy(&res);
	client_destroy(&c);
	return rc;
}
