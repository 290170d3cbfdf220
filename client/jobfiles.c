/*
 * jobfiles — input files attached by the CLI (see jobfiles.h).
 *
 * Runs in the `sluice` CLI; trusts the user's arguments (local files it may
 * read anyway) but bounds what it holds: at most JOBFILES_MAX files, each no
 * larger than the `files` field allows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "client/jobfiles.h"
#include "common/util.h"
#include "common/wspath.h"

#define JOBFILES_MAX 256

struct jobfile {
	char *path;		/* in /work, as given (the broker checks it) */
	char *data;
	size_t len;
	const char *cls;	/* static class name, or NULL */
};

struct jobfiles {
	struct jobfile f[JOBFILES_MAX];
	size_t n;
};

struct jobfiles *
jobfiles_new(void)
{
	return calloc(1, sizeof(struct jobfiles));
}

/* See jobfiles.h.  ":CLASS" is split off only when it names a class, so a
 * local name with a colon still works. */
enum err
jobfiles_add(struct jobfiles *jf, const char *arg, char *why, size_t whysz)
{
	struct jobfile *f;
	enum wspath_class c;
	const char *colon = strrchr(arg, ':'), *eq = strchr(arg, '='), *local, *base;
	char *spec;
	enum err e;

	if (jf->n == JOBFILES_MAX) {
		snprintf(why, whysz, "more than %d files", JOBFILES_MAX);
		return ERR_TOOBIG;
	}
	if ((spec = strdup(arg)) == NULL)
		return ERR_NOMEM;
	f = &jf->f[jf->n];
	if (colon != NULL && wspath_class_parse(colon + 1, strlen(colon + 1), &c) == ERR_OK) {
		spec[colon - arg] = '\0';
		f->cls = wspath_class_name(c);
	}
	local = eq != NULL && eq < (colon ? colon : arg + strlen(arg)) ? spec + (eq - arg) + 1 : spec;
	if (local != spec)
		spec[eq - arg] = '\0';
	base = strrchr(local, '/') ? strrchr(local, '/') + 1 : local;
	if (*local == '\0' || (f->path = strdup(local != spec ? spec : base)) == NULL) {
		snprintf(why, whysz, "%s: want [WORKPATH=]LOCAL[:CLASS]", arg);
		free(spec);
		return *local == '\0' ? ERR_INVAL : ERR_NOMEM;
	}
	e = util_read_file(local, 32u << 20, &f->data, &f->len);
	if (e != ERR_OK) {
		snprintf(why, whysz, "%s: %s", local, e == ERR_TOOBIG ? "larger than 32 MiB" : "cannot read");
		free(f->path);
		f->path = NULL;
		free(spec);
		return e;
	}
	free(spec);
	jf->n++;
	return ERR_OK;
}

static void
pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

enum err
jobfiles_set(const struct jobfiles *jf, struct msg *m)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	enum err e;

	if (jf->n == 0)
		return ERR_OK;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, jf->n);
	for (size_t i = 0; i < jf->n; i++) {
		msgpack_pack_map(&pk, jf->f[i].cls ? 3 : 2);
		pack_str(&pk, "path");
		pack_str(&pk, jf->f[i].path);
		pack_str(&pk, "data");
		msgpack_pack_bin(&pk, jf->f[i].len);
		msgpack_pack_bin_body(&pk, jf->f[i].data, jf->f[i].len);
		if (jf->f[i].cls) {
			pack_str(&pk, "class");
			pack_str(&pk, jf->f[i].cls);
		}
	}
	e = sb.data ? msg_set_raw(m, MSG_F_FILES, sb.data, sb.size) : ERR_NOMEM;
	msgpack_sbuffer_destroy(&sb);
	return e;
}

void
jobfiles_destroy(struct jobfiles **jfp)
{
	struct jobfiles *jf;

	if (jfp == NULL || (jf = *jfp) == NULL)
		return;
	for (size_t i = 0; i < jf->n; i++) {
		free(jf->f[i].path);
		free(jf->f[i].data);
	}
	free(jf);
	*jfp = NULL;
}
