/*
 * cmd_assess — `sluice assess FILE [--json] [--rules FILE] [--config FILE]`:
 * runs the CARS risk assessment (common/risk) on a local file and prints
 * the score, level and findings, as text or as one JSON object.
 *
 * Runs in the sluice CLI.  The file under assessment is untrusted (any
 * bytes, capped at CMD_ASSESS_FILE_MAX); excerpts are escaped and secrets
 * masked by risk_assess before they are printed.
 *
 * Exit codes: 0 assessed (whatever the level), 1 I/O or rules/config error,
 * 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/cmd.h"
#include "common/err.h"
#include "common/log.h"
#include "common/risk.h"

#define CMD_ASSESS_FILE_MAX	(4u << 20)

static void
cmd_assess_usage(void)
{
	fprintf(stderr, "usage: sluice assess FILE [--json] [--rules FILE] "
	    "[--config FILE]\n");
}

/* Reads `path` ("-" is stdin) into a fresh buffer of at most
 * CMD_ASSESS_FILE_MAX bytes; prints the reason on failure. */
static int
cmd_assess_read(const char *path, char **out, size_t *outlen)
{
	FILE *f;
	char *buf;
	size_t n;
	char esc[128];

	log_escape(esc, sizeof(esc), path, strlen(path));
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "sluice assess: %s: %s\n", esc, strerror(errno));
		return -1;
	}
	buf = malloc(CMD_ASSESS_FILE_MAX + 1);
	if (buf == NULL) {
		fprintf(stderr, "sluice assess: out of memory\n");
		goto fail_close;
	}
	n = fread(buf, 1, CMD_ASSESS_FILE_MAX + 1, f);
	if (ferror(f)) {
		fprintf(stderr, "sluice assess: %s: read error\n", esc);
		goto fail_free;
	}
	if (n > CMD_ASSESS_FILE_MAX) {
		fprintf(stderr, "sluice assess: %s: file larger than %u bytes "
		    "(limit)\n", esc, CMD_ASSESS_FILE_MAX);
		goto fail_free;
	}
	if (f != stdin)
		fclose(f);
	*out = buf;
	*outlen = n;
	return 0;
fail_free:
	free(buf);
fail_close:
	if (f != stdin)
		fclose(f);
	return -1;
}

static void
cmd_assess_print_text(const struct risk_verdict *v)
{
	printf("score %.3f  level %s  findings %zu", v->score,
	    risk_level_name(v->level), v->total);
	if (v->total > v->nfindings)
		printf(" (%zu shown)", v->nfindings);
	printf("\n");
	for (size_t i = 0; i < v->nfindings; i++) {
		const struct risk_finding *f = &v->findings[i];

		printf("  %u:%u  %-20s %-22s w=%.2f%s%s  %s\n", f->line, f->col,
		    f->rule, risk_category_name(f->category), f->weight,
		    f->in_comment ? " comment" : "",
		    f->deobfuscated ? " deobfuscated" : "", f->excerpt);
	}
}

static int
cmd_assess_print_json(const struct risk_verdict *v)
{
	json_t *root, *arr;
	int rc = -1;

	root = json_object();
	arr = json_array();
	if (root == NULL || arr == NULL) {
		json_decref(arr);
		goto out;
	}
	/* round to 3 decimals so the output is stable across platforms */
	json_object_set_new(root, "score",
	    json_real((double)(long)(v->score * 1000.0 + 0.5) / 1000.0));
	json_object_set_new(root, "level",
	    json_string(risk_level_name(v->level)));
	json_object_set_new(root, "total", json_integer((json_int_t)v->total));
	json_object_set_new(root, "findings", arr);
	for (size_t i = 0; i < v->nfindings; i++) {
		const struct risk_finding *f = &v->findings[i];
		json_t *o = json_pack("{s:s, s:s, s:f, s:i, s:i, s:s, s:b, s:b}",
		    "rule", f->rule, "category", risk_category_name(f->category),
		    "weight", f->weight, "line", (int)f->line, "col", (int)f->col,
		    "excerpt", f->excerpt, "in_comment", f->in_comment,
		    "deobfuscated", f->deobfuscated);

		if (o == NULL || json_array_append_new(arr, o) != 0)
			goto out;
	}
	if (json_dumpf(root, stdout, JSON_COMPACT) != 0)
		goto out;
	printf("\n");
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int
cmd_assess(int argc, char **argv)
{
	const char *file = NULL, *rules = NULL, *config = NULL;
	struct risk_conf conf;
	struct risk_verdict *v = NULL;
	struct risk *r = NULL;
	char why[256], *code = NULL;
	size_t len;
	bool json = false;
	enum err e;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc)
			rules = argv[++i];
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else if ((argv[i][0] != '-' || strcmp(argv[i], "-") == 0) &&
		    file == NULL)
			file = argv[i];
		else {
			cmd_assess_usage();
			return 2;
		}
	}
	if (file == NULL) {
		cmd_assess_usage();
		return 2;
	}
	risk_conf_default(&conf);
	if (config != NULL &&
	    (e = risk_conf_load(config, &conf, why, sizeof(why))) != ERR_OK) {
		fprintf(stderr, "sluice assess: config: %s\n", why);
		return 1;
	}
	r = risk_new(rules, &conf, &e, why, sizeof(why));
	if (r == NULL) {
		fprintf(stderr, "sluice assess: rules: %s (%s)\n", why,
		    err_str(e));
		return 1;
	}
	if (cmd_assess_read(file, &code, &len) != 0)
		goto out;
	v = malloc(sizeof(*v));
	if (v == NULL) {
		fprintf(stderr, "sluice assess: out of memory\n");
		goto out;
	}
	e = risk_assess(r, code, len, v);
	if (e != ERR_OK) {
		fprintf(stderr, "sluice assess: %s\n", err_str(e));
		goto out;
	}
	if (json) {
		if (cmd_assess_print_json(v) != 0) {
			fprintf(stderr, "sluice assess: cannot write JSON\n");
			goto out;
		}
	} else
		cmd_assess_print_text(v);
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	free(v);
	free(code);
	risk_destroy(&r);
	return rc;
}
