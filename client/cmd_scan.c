/*
 * cmd_scan — `sluice scan [--mode redact|tokenize|hash|report] [--json] [FILE|-]`:
 * runs the privacy filter over a file or stdin, locally, and prints the
 * filtered text, or with --json one object
 *     {"mode": ..., "findings": [{"type","kind","start","end"}], "text": ...}
 * with byte offsets into the input.  Runs in the sluice CLI; the input is
 * untrusted (any bytes, capped at SCAN_MAX_INPUT); JSON text that is not
 * valid UTF-8 goes through util_utf8_clean (bad bytes and NULs become
 * U+FFFD).  Hash mode keys come from $SLUICE_PRIVACY_KEY (16..64 bytes) or,
 * without it, a random per-run key.
 * Exit: 0 success (findings or not), 1 I/O error or oversized input, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "client/cmd.h"
#include "common/err.h"
#include "common/log.h"
#include "common/privacy.h"
#include "common/util.h"

#define SCAN_MAX_INPUT	((size_t)64 << 20)	/* 64 MiB */
#define SCAN_TOKENS_MAX	65536

static int
usage(void)
{
	fprintf(stderr, "usage: sluice scan [--mode redact|tokenize|hash|report] [--json] [FILE|-]\n");
	return 2;
}

/* Reads all of `f` into a fresh buffer (caller frees).  Returns ERR_OK,
 * ERR_TOOBIG past SCAN_MAX_INPUT, ERR_IO or ERR_NOMEM. */
static int
read_all(FILE *f, char **out, size_t *outlen)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);

	if (buf == NULL)
		return ERR_NOMEM;
	for (;;) {
		size_t n;
		if (len == cap) {
			char *nb;
			if (cap > SCAN_MAX_INPUT) {
				free(buf);
				return ERR_TOOBIG;
			}
			/* One byte past the cap tells an oversized input apart. */
			cap = cap * 2 > SCAN_MAX_INPUT ? SCAN_MAX_INPUT + 1 : cap * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return ERR_NOMEM;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (len > SCAN_MAX_INPUT) {
			free(buf);
			return ERR_TOOBIG;
		}
		if (n == 0) {
			if (ferror(f)) {
				free(buf);
				return ERR_IO;
			}
			break;
		}
	}
	*out = buf;
	*outlen = len;
	return ERR_OK;
}

/* A JSON string of the bytes; invalid UTF-8 becomes U+FFFD. */
static json_t *
json_bytes(const char *p, size_t len)
{
	json_t *j = json_stringn(p, len);
	char *clean;
	size_t n;

	if (j != NULL || (clean = util_utf8_clean(p, len, &n)) == NULL)
		return j;
	j = json_stringn(clean, n);
	free(clean);
	return j;
}

static int
print_json(enum privacy_mode mode, const struct privacy_result *r)
{
	json_t *o = json_object(), *arr = json_array(), *text = json_bytes(r->text, r->len);
	int rc = 1;

	if (o == NULL || arr == NULL || text == NULL)
		goto free_json;
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct privacy_finding *f = &r->findings[i];
		json_t *e = json_pack("{s:s, s:s, s:I, s:I}", "type", f->type, "kind",
		    privacy_kind_name(f->kind), "start", (json_int_t)f->start, "end",
		    (json_int_t)f->end);
		if (e == NULL || json_array_append_new(arr, e) != 0)
			goto free_json;
	}
	if (json_object_set_new(o, "mode", json_string(privacy_mode_name(mode))) != 0 ||
	    json_object_set_new(o, "findings", arr) != 0)
		goto free_json;
	arr = NULL;
	if (json_object_set_new(o, "text", text) != 0)
		goto free_json;
	text = NULL;
	if (json_dumpf(o, stdout, JSON_COMPACT) == 0 && fputc('\n', stdout) != EOF)
		rc = 0;
free_json:
	json_decref(arr);
	json_decref(text);
	json_decref(o);
	return rc;
}

int
cmd_scan(int argc, char **argv)
{
	struct privacy_config cfg = { .mode = PRIVACY_MODE_REDACT };
	struct privacy_result r = { 0 };
	uint8_t key[32];
	const char *path = NULL, *envkey;
	bool json = false;
	char *in = NULL;
	size_t inlen = 0;
	FILE *f;
	int rc, status = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--mode") == 0) {
			if (i + 1 >= argc || !privacy_mode_parse(argv[i + 1], &cfg.mode))
				return usage();
			i++;
		} else if (strncmp(argv[i], "--mode=", 7) == 0) {
			if (!privacy_mode_parse(argv[i] + 7, &cfg.mode))
				return usage();
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			return usage();
		} else if (path != NULL) {
			return usage();
		} else {
			path = argv[i];
		}
	}
	if (path == NULL || strcmp(path, "-") == 0) {
		rc = read_all(stdin, &in, &inlen);
	} else if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "sluice scan: %s: %s\n", path, strerror(errno));
		return 1;
	} else {
		rc = read_all(f, &in, &inlen);
		fclose(f);
	}
	if (rc == ERR_TOOBIG) {
		fprintf(stderr, "sluice scan: input larger than %zu MiB\n", SCAN_MAX_INPUT >> 20);
		return 1;
	}
	if (rc != ERR_OK) {
		fprintf(stderr, "sluice scan: cannot read input: %s\n", err_str(rc));
		return 1;
	}
	if (cfg.mode == PRIVACY_MODE_TOKENIZE &&
	    (cfg.tokens = privacy_tokens_new(SCAN_TOKENS_MAX, &rc)) == NULL)
		goto free_input;
	if (cfg.mode == PRIVACY_MODE_HASH) {
		envkey = getenv("SLUICE_PRIVACY_KEY");
		if (envkey != NULL && strlen(envkey) >= PRIVACY_HASH_KEY_MIN) {
			cfg.hash_key = (const uint8_t *)envkey;
			cfg.hash_key_len = strlen(envkey) > PRIVACY_HASH_KEY_MAX ?
			    PRIVACY_HASH_KEY_MAX : strlen(envkey);
		} else {
			if (sodium_init() < 0)
				goto free_input;
			randombytes_buf(key, sizeof(key));
			cfg.hash_key = key;
			cfg.hash_key_len = sizeof(key);
		}
	}
	if ((rc = privacy_scan(&cfg, in, inlen, &r)) != ERR_OK) {
		fprintf(stderr, "sluice scan: filter failed: %s\n", err_str(rc));
		goto free_tokens;
	}
	if (json)
		status = print_json(cfg.mode, &r);
	else
		status = fwrite(r.text, 1, r.len, stdout) == r.len ? 0 : 1;
	if (fflush(stdout) != 0)
		status = 1;
	privacy_result_clear(&r);
free_tokens:
	privacy_tokens_destroy(&cfg.tokens);
free_input:
	sodium_memzero(key, sizeof(key));
	if (in != NULL)
		sodium_memzero(in, inlen);
	free(in);
	return status;
}
