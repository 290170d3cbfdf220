/*
 * cmd_session — `sluice session ls|get|rm S`: a session workspace (the files
 * jobs of session S keep under /work/session/), as the broker stores it.
 * ls lists path, class and size; get writes the files below --out DIR (or
 * prints one --path to stdout); rm removes them all.  Only the caller's
 * tenant's session is ever visible.
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
#include "common/mpread.h"
#include "common/msg.h"
#include "common/paths.h"
#include "common/util.h"
#include "common/wspath.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sluice session ls|get|rm SESSION [--broker EP] [--tenant T] [--out DIR] [--path P]\n"
	    "  ls   list the session's files (path, class, bytes)\n"
	    "  get  write them below --out DIR, or print the one named by --path\n"
	    "  rm   remove them all\n");
}

/* Writes one file below dir, never through a symlink found there; false on
 * failure (reported). */
static bool
put_file(const char *dir, const char *rel, const unsigned char *data, uint32_t len)
{
	if (paths_write_beneath(dir, rel, data, len))
		return true;
	fprintf(stderr, "sluice session: cannot write %s/%s: %s\n", dir, rel,
	    paths_beneath_error(errno));
	return false;
}

/* Walks the reply's items [{path, class, size, data?}]; -1 when malformed,
 * -2 when a file could not be written (reported).  For `get --path`, *got
 * says what became of that one: 0 not there, 1 printed, 2 withheld. */
static int
show(const struct msg *r, const char *action, const char *outdir, const char *one, int *got)
{
	struct mpread rd;
	struct mpread_item it;
	size_t len;
	const void *raw = msg_bin(r, MSG_F_ITEMS, &len);
	int found = 0;

	mpread_init(&rd, raw, len);
	if (raw == NULL || mpread_next(&rd, &it) != ERR_OK || it.kind != MPREAD_ARRAY)
		return -1;
	for (uint32_t i = 0, n = it.len; i < n; i++) {
		const unsigned char *path = NULL, *cls = NULL, *data = NULL;
		uint32_t plen = 0, clen = 0, dlen = 0;
		uint64_t size = 0;
		bool withheld = false;
		char norm[WSPATH_MAX + 1], why[128];

		if (mpread_next(&rd, &it) != ERR_OK || it.kind != MPREAD_MAP)
			return -1;
		for (uint32_t k = 0, nk = it.len; k < nk; k++) {
			const unsigned char *key;
			uint32_t klen;
			enum err e = mpread_bytes(&rd, &key, &klen);
			if (e == ERR_OK && klen == 4 && memcmp(key, "size", 4) == 0)
				e = mpread_u64(&rd, &size);
			else if (e == ERR_OK && klen == 4 && memcmp(key, "path", 4) == 0)
				e = mpread_bytes(&rd, &path, &plen);
			else if (e == ERR_OK && klen == 5 && memcmp(key, "class", 5) == 0)
				e = mpread_bytes(&rd, &cls, &clen);
			else if (e == ERR_OK && klen == 4 && memcmp(key, "data", 4) == 0)
				e = mpread_bytes(&rd, &data, &dlen);
			else if (e == ERR_OK && klen == 8 && memcmp(key, "withheld", 8) == 0) {
				withheld = true;	/* the broker sends only `true` */
				e = mpread_skip(&rd, 1);
			}
			else if (e == ERR_OK)
				e = mpread_skip(&rd, 4);
			if (e != ERR_OK)
				return -1;
		}
		if (path == NULL || wspath_normalize(path, plen, norm, why, sizeof(why)) != ERR_OK)
			continue;	/* never a path that could leave DIR */
		found++;
		if (one != NULL && strcmp(one, norm) == 0)
			*got = withheld || data == NULL ? 2 : 1;
		if (withheld && strcmp(action, "get") == 0 && (one == NULL || strcmp(one, norm) == 0))
			fprintf(stderr, "sluice: session/%s (%.*s, %llu bytes) withheld: its class is at or "
			    "above the deployment's --session-withhold-from\n", norm, (int)clen,
			    cls ? (const char *)cls : "?", (unsigned long long)size);
		if (strcmp(action, "get") != 0) {
			printf("%s%-40s %-12.*s %llu\n", strcmp(action, "rm") == 0 ? "removed " : "", norm,
			    (int)clen, cls ? (const char *)cls : "?", (unsigned long long)size);
		} else if (one != NULL) {
			if (strcmp(one, norm) == 0 && data != NULL)
				fwrite(data, 1, dlen, stdout);
		} else if (outdir != NULL && data != NULL && !put_file(outdir, norm, data, dlen)) {
			return -2;
		}
	}
	return found;
}

int
cmd_session(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "broker", required_argument, NULL, 'b' },
		{ "tenant", required_argument, NULL, 'T' },
		{ "out", required_argument, NULL, 'O' },
		{ "path", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *broker = NULL, *tenant = NULL, *outdir = NULL, *one = NULL, *action, *session;
	struct client *c = NULL;
	struct msg *m = NULL, *r = NULL;
	char req[40];
	int ch, rc = 1, n;
	enum err e;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'b': broker = optarg; break;
		case 'T': tenant = optarg; break;
		case 'O': outdir = optarg; break;
		case 'p': one = optarg; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (optind != argc - 2) {
		usage();
		return 2;
	}
	action = argv[optind];
	session = argv[optind + 1];
	if (strcmp(action, "ls") != 0 && strcmp(action, "get") != 0 && strcmp(action, "rm") != 0) {
		usage();
		return 2;
	}
	if (strcmp(action, "get") == 0 && outdir == NULL && one == NULL) {
		fprintf(stderr, "sluice session get: --out DIR or --path P\n");
		return 2;
	}
	if ((m = msg_new(MSG_SESSION_OP)) == NULL ||
	    msg_set_str(m, MSG_F_SESSION, session) != ERR_OK ||
	    msg_set_str(m, MSG_F_ACTION, action) != ERR_OK ||
	    (tenant != NULL && msg_set_str(m, MSG_F_TENANT, tenant) != ERR_OK)) {
		fprintf(stderr, "sluice session: session or tenant name too long\n");
		goto out;
	}
	if ((c = client_new(client_endpoint(broker))) == NULL ||
	    (e = client_send(c, m, req)) != ERR_OK) {
		fprintf(stderr, "sluice session: cannot reach %s\n", client_endpoint(broker));
		goto out;
	}
	if ((e = client_recv(c, 10000, &r)) != ERR_OK) {
		fprintf(stderr, "sluice session: no answer from the broker (%s)\n", err_str(e));
		goto out;
	}
	if (msg_cmd(r) == MSG_ERROR) {
		fprintf(stderr, "sluice session: %s\n", msg_str(r, MSG_F_MESSAGE, "error"));
		goto out;
	}
	int got = 0;
	if ((n = show(r, action, outdir, one, &got)) < 0) {
		if (n == -1)
			fprintf(stderr, "sluice session: malformed reply\n");
		goto out;
	}
	if (one != NULL && got == 0) {
		fprintf(stderr, "sluice session get: no file session/%s in session %s\n", one, session);
		goto out;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "sluice session: cannot write the output: %s\n", strerror(errno));
		goto out;
	}
	rc = got == 2 ? 1 : 0;	/* withheld: said on stderr, nothing printed */
out:
	msg_destroy(&m);
	msg_destroy(&r);
	client_destroy(&c);
	return rc;
}
