/*
 * inputs — input files of one job (see inputs.h).
 *
 * Runs in sluice-worker.  Trusts nothing in the JOB's `files` bytes beyond
 * what common/wspath.c accepts: paths are normalised and checked again here,
 * because the worker may face a broker it cannot vouch for.  The data is
 * written and forgotten; only paths and classes stay.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "worker/inputs.h"

struct inputs {
	struct wspath_input *v;	/* data pointers cleared once written */
	size_t n;
};

/* The session folder: /work/session/skills/ always exists for a job with a
 * session; the files the broker kept for it (JOB `sfiles`) are written below
 * /work/session/ and join the inputs with their classes. */
static enum err
inputs_session(struct inputs *in, struct workspace *ws, const struct msg *job, char *why,
    size_t whysz)
{
	static const struct wspath_limits lim = { 1024, 64u << 20, true };
	struct wspath_input *sv, *all;
	size_t n, len;
	const void *raw = msg_bin(job, MSG_F_SFILES, &len);
	char reason[200];
	enum err e;

	if ((e = workspace_mkdir(ws, "session/skills")) != ERR_OK) {
		snprintf(why, whysz, "cannot create /work/session");
		return e;
	}
	if (raw == NULL)
		return ERR_OK;
	if ((e = wspath_inputs_parse(raw, len, &lim, WSPATH_INTERNAL, &sv, &n, reason,
	    sizeof(reason))) != ERR_OK) {
		snprintf(why, whysz, "session files: %s", reason);
		return e;
	}
	if ((all = realloc(in->v, (in->n + n + 1) * sizeof(*all))) == NULL) {
		free(sv);
		snprintf(why, whysz, "out of memory");
		return ERR_NOMEM;
	}
	in->v = all;
	for (size_t i = 0; i < n; i++) {
		struct wspath_input *f = &in->v[in->n];
		if ((size_t)snprintf(f->path, sizeof(f->path), "session/%s", sv[i].path) >= sizeof(f->path)) {
			e = ERR_TOOBIG;
			snprintf(why, whysz, "session file %s: path too long", sv[i].path);
			break;
		}
		if ((e = workspace_put(ws, f->path, sv[i].data, sv[i].len)) != ERR_OK) {
			snprintf(why, whysz, "session file %s: %s", sv[i].path,
			    e == ERR_TOOBIG ? "the workspace is full" : "cannot be written");
			break;
		}
		f->cls = sv[i].cls;
		f->data = NULL;
		f->len = 0;
		in->n++;
	}
	free(sv);
	return e;
}

/* See inputs.h. */
struct inputs *
inputs_write(struct workspace *ws, const struct msg *job, enum wspath_class dflt, enum err *err,
    char *why, size_t whysz)
{
	struct inputs *in;
	size_t len;
	const void *raw = msg_bin(job, MSG_F_FILES, &len);

	if ((in = calloc(1, sizeof(*in))) == NULL) {
		*err = ERR_NOMEM;
		snprintf(why, whysz, "out of memory");
		return NULL;
	}
	*err = ERR_OK;
	if (raw == NULL)
		goto session;
	if ((*err = wspath_inputs_parse(raw, len, &wspath_limits_default, dflt, &in->v, &in->n, why,
	    whysz)) != ERR_OK)
		goto fail;
	for (size_t i = 0; i < in->n; i++) {
		if ((*err = workspace_put(ws, in->v[i].path, in->v[i].data, in->v[i].len)) != ERR_OK) {
			snprintf(why, whysz, "input file %zu (%s): %s", i, in->v[i].path,
			    *err == ERR_TOOBIG ? "the workspace is full" : "cannot be written");
			goto fail;
		}
		in->v[i].data = NULL;
	}
session:
	if (msg_str(job, MSG_F_SESSION, "")[0] != '\0' &&
	    (*err = inputs_session(in, ws, job, why, whysz)) != ERR_OK)
		goto fail;
	return in;
fail:
	inputs_destroy(&in);
	return NULL;
}

enum wspath_class
inputs_taint(const struct inputs *in, const struct filewatch *fw)
{
	enum wspath_class t = WSPATH_PUBLIC;
	bool all = fw == NULL || filewatch_overflowed(fw);

	for (size_t i = 0; in != NULL && i < in->n; i++)
		if (in->v[i].cls > t && (all || filewatch_was_read(fw, in->v[i].path)))
			t = in->v[i].cls;
	return t;
}

enum wspath_class
inputs_class_of(const struct inputs *in, const char *rel, enum wspath_class taint)
{
	return in == NULL ? taint : wspath_output_class(in->v, in->n, rel, taint);
}

bool
inputs_is_untouched(const struct inputs *in, const struct filewatch *fw, const char *rel)
{
	if (in == NULL || fw == NULL || filewatch_overflowed(fw) || filewatch_was_written(fw, rel))
		return false;
	for (size_t i = 0; i < in->n; i++)
		if (strcmp(in->v[i].path, rel) == 0)
			return true;
	return false;
}

struct report;
static void report_send(struct report *rp, const char *type, json_t *d);

struct report {
	const struct inputs *in;
	enum wspath_class taint;
	const struct denoaudit *da;
	const char *id;
	void (*fn)(void *, const char *, const char *, const char *);
	void *arg;
};

/* Hands one record to the caller's function; takes d. */
static void
report_send(struct report *rp, const char *type, json_t *d)
{
	char *txt;

	if (d != NULL && (txt = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS)) != NULL) {
		rp->fn(rp->arg, rp->id, type, txt);
		free(txt);
	}
	json_decref(d);
}

static void
report_one(void *arg, const char *rel, const char *op, uint64_t bytes)
{
	struct report *rp = arg;
	json_t *d, *probe = json_string(rel);
	bool utf8 = probe != NULL;

	json_decref(probe);
	if (strcmp(rel, "main.ts") == 0 || strcmp(rel, "main.js") == 0 ||
	    strcmp(rel, "sluice-prelude.ts") == 0 || strncmp(rel, ".deno/", 6) == 0)
		return;
	/* a name that is not UTF-8 is still recorded, as such */
	d = json_pack("{s:s, s:s, s:s, s:I, s:b, s:s, s:b}", "path",
	    utf8 ? rel : "(name not UTF-8)", "class",
	    wspath_class_name(inputs_class_of(rp->in, rel, rp->taint)), "op", op,
	    "bytes", (json_int_t)bytes, "allowed", 1, "layer", "fanotify",
	    "deno", denoaudit_saw(rp->da, rel));
	report_send(rp, "file_access", d);
}

static void
report_denied(void *arg, const char *kind, const char *value)
{
	struct report *rp = arg;
	json_t *probe = json_string(value);
	const char *v = probe != NULL ? value : "(not UTF-8)";

	if (strcmp(kind, "net") == 0)
		report_send(rp, "network_access", json_pack("{s:s, s:b, s:s, s:s}", "dest", v,
		    "allowed", 0, "layer", "deno", "proto", "tcp"));
	else
		report_send(rp, "file_access", json_pack("{s:s, s:s, s:b, s:s}", "path", v,
		    "op", kind, "allowed", 0, "layer", "deno"));
	json_decref(probe);
}

void
inputs_report(const struct inputs *in, const struct filewatch *fw, const struct denoaudit *da,
    const char *id, void (*fn)(void *, const char *, const char *, const char *), void *arg)
{
	struct report rp = { in, inputs_taint(in, fw), da, id, fn, arg };

	filewatch_each(fw, report_one, &rp);
	denoaudit_each_denied(da, report_denied, &rp);
}

void
inputs_destroy(struct inputs **inp)
{
	if (inp == NULL || *inp == NULL)
		return;
	free((*inp)->v);
	free(*inp);
	*inp = NULL;
}
