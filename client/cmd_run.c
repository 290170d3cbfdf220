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
#include "common/mpread.h"
#include "common/msg.h"
#include "common/paths.h"
#include "common/privacy.h"
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

/* Writes the result's output files below `dir`; returns how many. */
static int
write_files(const struct msg *res, const char *dir)
{
	struct mpread r;
	struct mpread_item it;
	size_t len;
	const void *raw = msg_bin(res, MSG_F_FILES, &len);
	int written = 0;

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
			continue;
		}
		if (withheld) {
			fprintf(stderr, "sluice run: %.*s withheld by the farm (its data class)\n",
			    (int)plen, (const char *)path);
			continue;
		}
		char full[PATH_MAX];
		snprintf(full, sizeof(full), "%s/%.*s", dir, (int)plen, (const char *)path);
		char *slash = strrchr(full, '/');
		*slash = '\0';
		if (!paths_mkdirs(full)) {
			fprintf(stderr, "sluice run: cannot create %s: %s\n", full, strerror(errno));
			continue;
		}
		*slash = '/';
		int fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 || util_write_all(fd, data ? (const void *)data : "", dlen) != ERR_OK)
			fprintf(stderr, "sluice run: cannot write %s: %s\n", full, strerror(errno));
		else
			written++;
		if (fd >= 0)
			close(fd);
	}
	return written;
}

static const char *
lang_of(const char *file)
{
	const char *dot = strrchr(file, '.');
	if (dot != NULL && (strcmp(dot, ".js") == 0 || strcmp(dot, ".mjs") == 0))
		return "js";
	return "ts";
}

int
cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "session", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "memory", required_argument, NULL, 'm' },
		{ "pids", required_argument, NULL, 'p' },
		{ "workspace", required_argument, NULL, 'w' },
		{ "output-bytes", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "tenant", required_argument, NULL, 'T' },
		{ "key", required_argument, NULL, 'k' },
		{ "priority", required_argument, NULL, 'P' },
		{ "out", required_argument, NULL, 'O' },
		{ "tools", required_argument, NULL, 'L' },
		{ "privacy-mode", required_argument, NULL, 'M' },
		{ "file", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct { int opt; enum msg_field f; } limits[] = {
		{ 't', MSG_F_TIMEOUT_MS }, { 'm', MSG_F_MEMORY_MB }, { 'p', MSG_F_PIDS },
		{ 'w', MSG_F_WORKSPACE_MB }, { 'o', MSG_F_OUTPUT_BYTES },
	};
	const char *broker = NULL, *file, *outdir = NULL;
	struct msg *sub = NULL, *res = NULL;
	struct client *c = NULL;
	struct jobfiles *jf = NULL;
	bool json = false;
	char *code = NULL, why[512];
	size_t len;
	uint64_t timeout = 30000, v;
	int ch, rc = 1;
	enum err e;

	if ((sub = msg_new(MSG_SUBMIT)) == NULL || (jf = jobfiles_new()) == NULL) {
		msg_destroy(&sub);
		return 1;
	}
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		bool known = false;
		for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
			if (limits[i].opt != ch)
				continue;
			known = true;
			if (!util_parse_u64(optarg, 1, msg_field_max(limits[i].f), &v) ||
			    msg_set_u64(sub, limits[i].f, v) != ERR_OK) {
				fprintf(stderr, "sluice run: bad value for --%s\n", opts[i + 2].name);
				goto usage;
			}
			if (ch == 't')
				timeout = v;
		}
		if (known)
			continue;
		switch (ch) {
		case 'b': broker = optarg; break;
		case 's':
			if (msg_set_str(sub, MSG_F_SESSION, optarg) != ERR_OK) {
				fprintf(stderr, "sluice run: --session too long\n");
				goto usage;
			}
			break;
		case 'j': json = true; break;
		case 'T':
		case 'k':
			if (msg_set_str(sub, ch == 'T' ? MSG_F_TENANT : MSG_F_KEY, optarg) != ERR_OK) {
				fprintf(stderr, "sluice run: --%s too long\n", ch == 'T' ? "tenant" : "key");
				goto usage;
			}
			break;
		case 'O': outdir = optarg; break;
		case 'F':
			if (jobfiles_add(jf, optarg, why, sizeof(why)) != ERR_OK) {
				fprintf(stderr, "sluice run: --file %s\n", why);
				goto out;
			}
			break;
		case 'L':
			if (msg_set_str(sub, MSG_F_TOOLS, optarg) != ERR_OK) {
				fprintf(stderr, "sluice run: --tools longer than 1 KiB\n");
				goto usage;
			}
			break;
		case 'M': {
			enum privacy_mode pm;
			if (!privacy_mode_parse(optarg, &pm) ||
			    msg_set_str(sub, MSG_F_PRIVACY_MODE, optarg) != ERR_OK) {
				fprintf(stderr, "sluice run: --privacy-mode wants redact|tokenize|hash|report\n");
				goto usage;
			}
			break;
		}
		case 'P':
			if (!util_parse_u64(optarg, 0, 9, &v) || msg_set_u64(sub, MSG_F_PRIORITY, v) != ERR_OK) {
				fprintf(stderr, "sluice run: --priority wants 0..9\n");
				goto usage;
			}
			break;
		case 'h': usage(); rc = 0; goto out;
		default: goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	file = argv[optind];
	e = util_read_file(strcmp(file, "-") == 0 ? "/dev/stdin" : file,
	    (size_t)msg_field_max(MSG_F_CODE), &code, &len);
	if (e != ERR_OK) {
		fprintf(stderr, "sluice run: %s: %s\n", file,
		    e == ERR_TOOBIG ? "larger than 1 MiB" : "cannot read");
		goto out;
	}
	msg_set_bin(sub, MSG_F_CODE, code, len);
	msg_set_str(sub, MSG_F_LANG, lang_of(file));
	if (jobfiles_set(jf, sub) != ERR_OK) {
		fprintf(stderr, "sluice run: the input files exceed the message bound\n");
		goto out;
	}
	if ((c = client_new(client_endpoint(broker))) == NULL) {
		fprintf(stderr, "sluice run: cannot open a socket to %s\n", client_endpoint(broker));
		goto out;
	}
	e = client_run(c, sub, 10000, (int)(timeout + 60000), &res, why, sizeof(why));
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
		size_t olen, elen;
		const void *out = msg_bin(res, MSG_F_STDOUT, &olen);
		const void *err = msg_bin(res, MSG_F_STDERR, &elen);
		if (olen)
			fwrite(out, 1, olen, stdout);
		if (elen)
			fwrite(err, 1, elen, stderr);
		fflush(stdout);
	}
	if (outdir != NULL && write_files(res, outdir) < 0)
		fprintf(stderr, "sluice run: the result's file list is malformed\n");
	if (strcmp(msg_str(res, MSG_F_STATUS, ""), "ok") == 0) {
		rc = 0;
	} else if (!json) {
		fprintf(stderr, "sluice: job %s %s%s%s\n", msg_str(res, MSG_F_ID, "?"),
		    msg_str(res, MSG_F_STATUS, "?"), msg_has(res, MSG_F_REASON) ? ": " : "",
		    msg_str(res, MSG_F_REASON, ""));
	}
	/* The result is printed and nothing is left to send: end here, without
	 * the ZeroMQ teardown (stopping its I/O and reaper threads was ~1-2 ms
	 * of every `sluice run` of a trivial job).  An error writing the output
	 * (a full disk, a closed pipe) still fails the command. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "sluice run: cannot write the output: %s\n", strerror(errno));
		rc = rc == 0 ? 1 : rc;
	}
	fflush(stderr);
	_exit(rc);
usage:
	usage();
	rc = 2;
out:
	free(code);
	jobfiles_destroy(&jf);
	msg_destroy(&sub);
	msg_destroy(&res);
	client_destroy(&c);
	return rc;
}
