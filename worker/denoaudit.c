/*
 * denoaudit — Deno permission-audit lines out of the job's stderr (see
 * denoaudit.h).
 *
 * Runs in sluice-worker on the poll thread, over a capture buffer the job
 * filled: every byte is untrusted.  Lines are found by their fixed opening
 * `{"v":1,"datetime":"` (also mid-line: the job may have left a partial
 * line before one), parsed with jansson, bounded (DENOAUDIT_MAX distinct
 * records), and cut out so the client sees the job's own stderr.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "worker/denoaudit.h"

#define DENOAUDIT_MAX	256
#define DENOAUDIT_VALUE	256

struct da_record {
	char kind[8];			/* read, write, net */
	char value[DENOAUDIT_VALUE];	/* a path relative to /work when inside */
	bool inside;			/* a /work path (allowed) */
};

/* Records grow on demand: most jobs log a few lines, and zeroing the
 * ~66 KB of a full table cost each job ~70 us on its path. */
struct denoaudit {
	struct da_record *rec;
	size_t n, cap;
};

static const char da_open[] = "{\"v\":1,\"datetime\":\"";

struct denoaudit *
denoaudit_new(void)
{
	return calloc(1, sizeof(struct denoaudit));
}

/* Records one parsed line (kind, value) unless already known. */
static void
da_note(struct denoaudit *da, const char *kind, const char *value, const char *work)
{
	size_t wl = strlen(work);
	bool inside = false;
	struct da_record *r;

	if (strcmp(kind, "read") != 0 && strcmp(kind, "write") != 0 && strcmp(kind, "net") != 0)
		return;
	if (strcmp(kind, "net") != 0) {
		if (strncmp(value, work, wl) == 0 && (value[wl] == '/' || value[wl] == '\0')) {
			value += wl + (value[wl] == '/');
			inside = true;
		} else if (value[0] != '/') {	/* relative: the cwd is /work */
			while (value[0] == '.' && value[1] == '/')
				value += 2;
			inside = true;
		}
	}
	for (size_t i = 0; i < da->n; i++)
		if (strcmp(da->rec[i].kind, kind) == 0 &&
		    strncmp(da->rec[i].value, value, DENOAUDIT_VALUE - 1) == 0)
			return;
	if (da->n == DENOAUDIT_MAX)
		return;
	if (da->n == da->cap) {
		size_t cap = da->cap == 0 ? 8 : da->cap * 2;
		struct da_record *grown = realloc(da->rec, (cap > DENOAUDIT_MAX ? DENOAUDIT_MAX : cap) *
		    sizeof(*grown));
		if (grown == NULL)
			return;		/* out of memory: as if the table were full */
		da->rec = grown;
		da->cap = cap > DENOAUDIT_MAX ? DENOAUDIT_MAX : cap;
	}
	r = &da->rec[da->n++];
	snprintf(r->kind, sizeof(r->kind), "%s", kind);
	snprintf(r->value, sizeof(r->value), "%s", value);
	r->inside = inside;
}

void
denoaudit_take(struct denoaudit *da, char *buf, size_t *len, const char *work)
{
	size_t at = 0;

	while (at < *len) {
		char *p = memmem(buf + at, *len - at, da_open, sizeof(da_open) - 1);
		char *nl;
		json_t *o;

		if (p == NULL)
			return;
		nl = memchr(p, '\n', (size_t)(buf + *len - p));
		if (nl == NULL)
			return;		/* cut off by the output cap: leave it */
		o = json_loadb(p, (size_t)(nl - p), 0, NULL);
		if (json_is_string(json_object_get(o, "permission")) &&
		    json_is_string(json_object_get(o, "value")))
			da_note(da, json_string_value(json_object_get(o, "permission")),
			    json_string_value(json_object_get(o, "value")), work);
		json_decref(o);
		memmove(p, nl + 1, (size_t)(buf + *len - (nl + 1)));
		*len -= (size_t)(nl + 1 - p);
		at = (size_t)(p - buf);
	}
}

bool
denoaudit_saw(const struct denoaudit *da, const char *rel)
{
	for (size_t i = 0; da != NULL && i < da->n; i++)
		if (da->rec[i].inside && strcmp(da->rec[i].value, rel) == 0)
			return true;
	return false;
}

void
denoaudit_each_denied(const struct denoaudit *da,
    void (*fn)(void *arg, const char *kind, const char *value), void *arg)
{
	for (size_t i = 0; da != NULL && i < da->n; i++)
		if (!da->rec[i].inside)
			fn(arg, da->rec[i].kind, da->rec[i].value);
}

void
denoaudit_destroy(struct denoaudit **dap)
{
	if (dap == NULL || *dap == NULL)
		return;
	free((*dap)->rec);
	free(*dap);
	*dap = NULL;
}
