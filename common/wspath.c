/*
 * wspath — input file paths and data classes (see wspath.h).
 *
 * Pure functions, no I/O.  Used by the broker at submission and by the worker
 * before it writes anything into a workspace; trusts nothing in the `files`
 * bytes (read with the bounded mpread cursor, never allocated by a count the
 * sender chose beyond the configured file limit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mpread.h"
#include "common/wspath.h"

const struct wspath_limits wspath_limits_default = { 64, 32u << 20, false };

static const char *const class_names[WSPATH_CLASS_COUNT] = {
	"public", "internal", "confidential", "restricted"
};

const char *
wspath_class_name(enum wspath_class c)
{
	return (unsigned)c < WSPATH_CLASS_COUNT ? class_names[c] : "?";
}

enum err
wspath_class_parse(const char *s, size_t len, enum wspath_class *out)
{
	for (unsigned i = 0; i < WSPATH_CLASS_COUNT; i++)
		if (strlen(class_names[i]) == len && memcmp(class_names[i], s, len) == 0) {
			*out = (enum wspath_class)i;
			return ERR_OK;
		}
	return ERR_INVAL;
}

enum err
wspath_withhold_parse(const char *s, int *out)
{
	enum wspath_class c;

	if (strcmp(s, "never") == 0) {
		*out = WSPATH_CLASS_COUNT;
		return ERR_OK;
	}
	if (wspath_class_parse(s, strlen(s), &c) != ERR_OK)
		return ERR_INVAL;
	*out = (int)c;
	return ERR_OK;
}

/* See wspath.h.  Components are copied one by one: empty and "." ones
 * vanish, ".." is refused (even where it would stay inside: a path either
 * says where it goes or is rejected). */
enum err
wspath_normalize(const void *in, size_t len, char out[WSPATH_MAX + 1], char *why, size_t whysz)
{
	const unsigned char *p = in, *end = p + len;
	size_t olen = 0;
	unsigned depth = 0;

	out[0] = '\0';
	if (len == 0) {
		snprintf(why, whysz, "empty path");
		return ERR_INVAL;
	}
	if (p[0] == '/') {
		snprintf(why, whysz, "absolute path (paths are relative to /work)");
		return ERR_INVAL;
	}
	for (size_t i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(why, whysz, "NUL or control character at byte %zu", i);
			return ERR_INVAL;
		}
	while (p < end) {
		const unsigned char *slash = memchr(p, '/', (size_t)(end - p));
		size_t n = (size_t)((slash ? slash : end) - p);

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			snprintf(why, whysz, "\"..\" component (no escaping /work)");
			return ERR_INVAL;
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (++depth > WSPATH_MAX_DEPTH) {
				snprintf(why, whysz, "deeper than %d directories", WSPATH_MAX_DEPTH);
				return ERR_TOOBIG;
			}
			if (olen + (olen > 0) + n > WSPATH_MAX) {
				snprintf(why, whysz, "longer than %d bytes", WSPATH_MAX);
				return ERR_TOOBIG;
			}
			if (olen > 0)
				out[olen++] = '/';
			memcpy(out + olen, p, n);
			olen += n;
			out[olen] = '\0';
		}
		p += n + (slash != NULL);
	}
	if (olen == 0) {
		snprintf(why, whysz, "path names /work itself");
		return ERR_INVAL;
	}
	if (((const unsigned char *)in)[len - 1] == '/') {
		snprintf(why, whysz, "path names a directory");
		return ERR_INVAL;
	}
	return ERR_OK;
}

static bool
has_prefix_dir(const char *norm, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(norm, dir, n) == 0 && (norm[n] == '\0' || norm[n] == '/');
}

bool
wspath_is_reserved(const char *norm)
{
	return strcmp(norm, "main.ts") == 0 || strcmp(norm, "main.js") == 0 ||
	    strcmp(norm, "sluice-prelude.ts") == 0 || has_prefix_dir(norm, ".deno") ||
	    has_prefix_dir(norm, "session");
}

/* "file 3 (a/b.txt)" when the raw path is printable, else "file 3". */
static void
name_file(char *buf, size_t sz, size_t idx, const unsigned char *path, uint32_t plen)
{
	bool printable = path != NULL && plen > 0 && plen <= 80;

	for (uint32_t i = 0; printable && i < plen; i++)
		printable = path[i] >= 0x20 && path[i] < 0x7f;
	if (printable)
		snprintf(buf, sz, "file %zu (%.*s)", idx, (int)plen, (const char *)path);
	else
		snprintf(buf, sz, "file %zu", idx);
}

/* Reads one {"path", "data", "class"} map into *f. */
static enum err
parse_one(struct mpread *r, size_t idx, enum wspath_class dflt, bool any_name,
    struct wspath_input *f, char *why, size_t whysz)
{
	struct mpread_item it;
	const unsigned char *path = NULL, *cls = NULL;
	uint32_t plen = 0, clen = 0;
	bool have_data = false;
	char name[112], reason[96];
	enum err e;

	if ((e = mpread_next(r, &it)) != ERR_OK || it.kind != MPREAD_MAP) {
		snprintf(why, whysz, "file %zu: not a map {path, data, class}", idx);
		return e != ERR_OK ? e : ERR_TYPE;
	}
	for (uint32_t k = 0, nk = it.len; k < nk; k++) {
		const unsigned char *key, *val;
		uint32_t klen, vlen;
		uint64_t size;
		if ((e = mpread_bytes(r, &key, &klen)) == ERR_OK && klen == 4 &&
		    memcmp(key, "size", 4) == 0 && (e = mpread_u64(r, &size)) == ERR_OK)
			continue;	/* a worker's snapshot lists sizes too */
		if (e != ERR_OK || (e = mpread_bytes(r, &val, &vlen)) != ERR_OK) {
			snprintf(why, whysz, "file %zu: keys and values must be strings or bytes", idx);
			return e;
		}
		if (klen == 4 && memcmp(key, "path", 4) == 0) {
			path = val;
			plen = vlen;
		} else if (klen == 4 && memcmp(key, "data", 4) == 0) {
			f->data = val;
			f->len = vlen;
			have_data = true;
		} else if (klen == 5 && memcmp(key, "class", 5) == 0) {
			cls = val;
			clen = vlen;
		} else {
			snprintf(why, whysz, "file %zu: unknown key", idx);
			return ERR_INVAL;
		}
	}
	name_file(name, sizeof(name), idx, path, plen);
	if (path == NULL || !have_data) {
		snprintf(why, whysz, "%s: needs path and data", name);
		return ERR_MISSING;
	}
	if ((e = wspath_normalize(path, plen, f->path, reason, sizeof(reason))) != ERR_OK) {
		snprintf(why, whysz, "%s: %s", name, reason);
		return e;
	}
	if (!any_name && wspath_is_reserved(f->path)) {
		snprintf(why, whysz, "%s: reserved name in /work", name);
		return ERR_INVAL;
	}
	f->cls = dflt;
	if (cls != NULL && wspath_class_parse((const char *)cls, clen, &f->cls) != ERR_OK) {
		snprintf(why, whysz, "%s: class must be public, internal, confidential or restricted",
		    name);
		return ERR_INVAL;
	}
	return ERR_OK;
}

/* True when one of a and b is a directory prefix of the other ("a" and
 * "a/b" cannot both be files). */
static bool
paths_clash(const char *a, const char *b)
{
	return has_prefix_dir(a, b) || has_prefix_dir(b, a);
}

/* See wspath.h. */
enum err
wspath_inputs_parse(const void *raw, size_t len, const struct wspath_limits *lim,
    enum wspath_class dflt, struct wspath_input **out, size_t *n, char *why, size_t whysz)
{
	struct mpread r;
	struct mpread_item it;
	struct wspath_input *v = NULL;
	uint64_t total = 0;
	enum err e;

	*out = NULL;
	*n = 0;
	mpread_init(&r, raw, len);
	if ((e = mpread_next(&r, &it)) != ERR_OK || it.kind != MPREAD_ARRAY) {
		snprintf(why, whysz, "files must be an array of {path, data, class}");
		return e != ERR_OK ? e : ERR_TYPE;
	}
	if (it.len > lim->max_files) {
		snprintf(why, whysz, "%u files: at most %u per job", it.len, lim->max_files);
		return ERR_TOOBIG;
	}
	if (it.len > 0 && (v = calloc(it.len, sizeof(*v))) == NULL) {
		snprintf(why, whysz, "out of memory");
		return ERR_NOMEM;
	}
	for (size_t i = 0; i < it.len; i++) {
		if ((e = parse_one(&r, i, dflt, lim->any_name, &v[i], why, whysz)) != ERR_OK)
			goto fail;
		total += v[i].len;
		if (total > lim->max_bytes) {
			snprintf(why, whysz, "file %zu (%s): input files exceed %llu bytes in total", i,
			    v[i].path, (unsigned long long)lim->max_bytes);
			e = ERR_TOOBIG;
			goto fail;
		}
		for (size_t k = 0; k < i; k++)
			if (paths_clash(v[k].path, v[i].path)) {
				snprintf(why, whysz, "file %zu (%s): duplicate of file %zu (%s)", i,
				    v[i].path, k, v[k].path);
				e = ERR_DUPLICATE;
				goto fail;
			}
	}
	if (r.left != 0) {
		snprintf(why, whysz, "files: trailing bytes");
		e = ERR_TRAILING;
		goto fail;
	}
	*out = v;
	*n = it.len;
	return ERR_OK;
fail:
	free(v);
	return e;
}

enum wspath_class
wspath_output_class(const struct wspath_input *in, size_t n, const char *path,
    enum wspath_class taint)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(in[i].path, path) == 0 && in[i].cls > taint)
			return in[i].cls;
	return taint;
}
