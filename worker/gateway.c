/*
 * gateway — one job's tool requests over its stdio (see gateway.h).
 *
 * Runs in sluice-worker.  Trusts nothing the job writes: a request is at
 * most GATEWAY_REQUEST_MAX bytes of JSON, its fields are type-checked, the
 * allowlist and the destructive-tool rule are applied to every call, and the
 * responses queued for a job that does not read them are bounded.
 *
 * The stdout splitter is a small state machine, fed any chunking:
 *
 *   PASS --0x1E--> MARK --"SLUICE-RPC " complete--> BODY --'\n'--> serve, PASS
 *                    \--mismatch: held bytes are output--> PASS
 *   BODY --longer than GATEWAY_REQUEST_MAX--> SKIP --'\n'--> error reply, PASS
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "worker/gateway.h"

#define MARKER_LEN	(sizeof(GATEWAY_MARKER) - 1)
#define ONE_LINE_MAX	160	/* description in listings */
#define SEARCH_LIMIT	10
#define SEARCH_LIMIT_MAX 50
#define ALLOW_MAX	64

enum split_state { SPLIT_PASS, SPLIT_MARK, SPLIT_BODY, SPLIT_SKIP };

struct tool_entry {
	char *name;		/* "server.tool" */
	const char *server;	/* into the pool */
	const char *tool;	/* into `def` */
	json_t *def;		/* the tools/list entry */
};

struct gateway {
	struct mcp_pool *pool;
	char *job;
	char **allow;
	char **allow_job;	/* NULL: no per-job restriction */
	bool refuse_destructive;
	int call_timeout_ms;
	gateway_audit_fn audit;
	void *audit_ctx;
	gateway_filter_fn filter;
	void *filter_ctx;
	gateway_approve_fn approve;
	void *approve_ctx;
	const volatile int *ended;

	enum split_state state;
	size_t marked;		/* marker bytes matched (SPLIT_MARK) */
	char *req;		/* request body (SPLIT_BODY) */
	size_t req_len, req_cap;

	char *out;		/* responses for stdin */
	size_t out_off, out_len, out_cap;
	bool stdin_closed;

	struct tool_entry *cat;	/* catalogue of allowed tools, built once */
	size_t ncat;
	json_t *unavailable;	/* servers whose tools could not be listed */
	bool cat_built[MCP_POOL_SERVERS_MAX];	/* per server index */

	struct gateway_stats st;
	struct log_limit noise;
};

/* ---- construction ------------------------------------------------------- */

/* A fresh NULL-terminated copy of at most ALLOW_MAX globs (empty when src
 * is NULL); NULL on out-of-memory. */
static char **
copy_globs(const char *const *src)
{
	size_t n = 0;
	char **out;

	while (src != NULL && src[n] != NULL && n < ALLOW_MAX)
		n++;
	if ((out = calloc(n + 1, sizeof(char *))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if ((out[i] = strdup(src[i])) == NULL) {
			for (size_t k = 0; k < i; k++)
				free(out[k]);
			free(out);
			return NULL;
		}
	}
	return out;
}

static void
free_globs(char **g)
{
	for (size_t i = 0; g != NULL && g[i] != NULL; i++)
		free(g[i]);
	free(g);
}

struct gateway *
gateway_new(struct mcp_pool *pool, const struct gateway_conf *conf, enum err *err)
{
	struct gateway *gw;

	*err = ERR_INVAL;
	if (pool == NULL || conf == NULL || conf->audit == NULL)
		return NULL;
	*err = ERR_NOMEM;
	if ((gw = calloc(1, sizeof(*gw))) == NULL)
		return NULL;
	gw->pool = pool;
	gw->refuse_destructive = conf->refuse_destructive;
	gw->call_timeout_ms = conf->call_timeout_ms;
	gw->audit = conf->audit;
	gw->audit_ctx = conf->audit_ctx;
	gw->filter = conf->filter;
	gw->filter_ctx = conf->filter_ctx;
	gw->approve = conf->approve;
	gw->approve_ctx = conf->approve_ctx;
	gw->ended = conf->ended;
	if ((gw->job = strdup(conf->job ? conf->job : "")) == NULL)
		goto fail;
	if ((gw->allow = copy_globs(conf->allow)) == NULL ||
	    (conf->allow_job != NULL && (gw->allow_job = copy_globs(conf->allow_job)) == NULL))
		goto fail;
	if ((gw->unavailable = json_array()) == NULL)
		goto fail;
	*err = ERR_OK;
	return gw;
fail:
	gateway_destroy(&gw);
	return NULL;
}

void
gateway_destroy(struct gateway **gwp)
{
	struct gateway *gw;

	if (gwp == NULL || (gw = *gwp) == NULL)
		return;
	free_globs(gw->allow);
	free_globs(gw->allow_job);
	for (size_t i = 0; i < gw->ncat; i++) {
		free(gw->cat[i].name);
		json_decref(gw->cat[i].def);
	}
	free(gw->cat);
	json_decref(gw->unavailable);
	free(gw->job);
	free(gw->req);
	free(gw->out);
	free(gw);
	*gwp = NULL;
}

bool
gateway_is_allowed(const char *const *allow, const char *name)
{
	for (size_t i = 0; allow != NULL && allow[i] != NULL; i++)
		if (fnmatch(allow[i], name, 0) == 0)
			return true;
	return false;
}

/* A tool is callable when the worker's list and the job's list both allow it. */
static bool
allowed(const struct gateway *gw, const char *name)
{
	return gateway_is_allowed((const char *const *)gw->allow, name) &&
	    (gw->allow_job == NULL || gateway_is_allowed((const char *const *)gw->allow_job, name));
}

void
gateway_stats(const struct gateway *gw, struct gateway_stats *out)
{
	*out = gw->st;
}

/* ---- catalogue ---------------------------------------------------------- */

/* False when no glob can match a tool of `server`: a glob whose part before
 * the first '.' has no wildcard names one server exactly.  Such servers are
 * never started for this job. */
static bool
server_may_be_allowed(char *const *allow, const char *server)
{
	for (size_t i = 0; allow[i] != NULL; i++) {
		const char *dot = strchr(allow[i], '.');
		size_t n = dot ? (size_t)(dot - allow[i]) : 0;
		if (dot == NULL || strcspn(allow[i], "*?[\\") < n ||
		    (strlen(server) == n && strncmp(allow[i], server, n) == 0))
			return true;
	}
	return false;
}

/* Lists the tools of server `s` once per job; keeps the allowed ones. */
static void
catalogue_add_server(struct gateway *gw, size_t s)
{
	const char *server = mcp_pool_name(gw->pool, s);
	json_t *tools = NULL, *t;
	char why[256];
	size_t i;

	if (gw->cat_built[s])
		return;
	gw->cat_built[s] = true;
	if (!server_may_be_allowed(gw->allow, server) ||
	    (gw->allow_job != NULL && !server_may_be_allowed(gw->allow_job, server)))
		return;
	if (mcp_pool_tools(gw->pool, server, &tools, why, sizeof(why)) != ERR_OK) {
		json_array_append_new(gw->unavailable, json_string(server));
		log_limited(&gw->noise, 10, "gateway: tools of '%s' unavailable: %s", server, why);
		return;
	}
	json_array_foreach(tools, i, t) {
		const char *tool = json_string_value(json_object_get(t, "name"));
		struct tool_entry *grown, *e;
		char *full;

		if (tool == NULL || asprintf(&full, "%s.%s", server, tool) < 0)
			continue;
		if (!allowed(gw, full) ||
		    (grown = realloc(gw->cat, (gw->ncat + 1) * sizeof(*gw->cat))) == NULL) {
			free(full);
			continue;
		}
		gw->cat = grown;
		e = &gw->cat[gw->ncat++];
		e->name = full;
		e->server = server;
		e->def = json_incref(t);
		e->tool = json_string_value(json_object_get(t, "name"));
	}
	json_decref(tools);
}

static void
catalogue_build(struct gateway *gw)
{
	for (size_t s = 0; s < mcp_pool_count(gw->pool); s++)
		catalogue_add_server(gw, s);
}

/* The entry for "server.tool"; lists only that server. */
static const struct tool_entry *
catalogue_find(struct gateway *gw, const char *name)
{
	const char *dot = strchr(name, '.');

	for (size_t s = 0; dot != NULL && s < mcp_pool_count(gw->pool); s++) {
		const char *server = mcp_pool_name(gw->pool, s);
		if (strlen(server) == (size_t)(dot - name) && strncmp(server, name, strlen(server)) == 0)
			catalogue_add_server(gw, s);
	}
	for (size_t i = 0; i < gw->ncat; i++)
		if (strcmp(gw->cat[i].name, name) == 0)
			return &gw->cat[i];
	return NULL;
}

/* The first line of a description, at most ONE_LINE_MAX bytes (fresh). */
static json_t *
one_line(const json_t *def)
{
	const char *d = json_string_value(json_object_get(def, "description"));
	size_t n;

	if (d == NULL)
		d = json_string_value(json_object_get(def, "title"));
	if (d == NULL)
		return json_string("");
	n = strcspn(d, "\r\n");
	util_utf8_prefix(d, &n, ONE_LINE_MAX);
	return json_stringn(d, n);
}

/* MCP's annotation defaults: destructiveHint is true unless said otherwise,
 * and means nothing for a read-only tool. */
static bool
is_destructive(const json_t *def)
{
	const json_t *a = json_object_get(def, "annotations");
	const json_t *ro = json_object_get(a, "readOnlyHint"), *de = json_object_get(a, "destructiveHint");

	if (json_is_true(ro))
		return false;
	return de == NULL || json_is_true(de);
}

/* True when `title` only restates `name` ("Read Text File" for
 * "read_text_file"): letters and digits compared, case folded. */
static bool
title_restates(const char *title, const char *name)
{
	for (;;) {
		while (*title != '\0' && !isalnum((unsigned char)*title))
			title++;
		while (*name != '\0' && !isalnum((unsigned char)*name))
			name++;
		if (*title == '\0' || *name == '\0')
			return *title == *name;
		if (tolower((unsigned char)*title++) != tolower((unsigned char)*name++))
			return false;
	}
}

/*
 * A JSON Schema without what a model does not need to call the tool: every
 * "$schema" and every "additionalProperties": false (the server checks its
 * arguments anyway).  Keys of "properties" and "$defs"-like maps are names,
 * never dropped; "const", "default", "enum" and "examples" hold values, kept
 * as they are.  Past LEAN_DEPTH the rest is kept as it is.  Fresh.
 */
#define LEAN_DEPTH	32

static json_t *
lean_schema(json_t *v, bool names, int depth)
{
	const char *k;
	json_t *out, *x;
	size_t i;

	if (depth >= LEAN_DEPTH || (!json_is_object(v) && !json_is_array(v)))
		return json_incref(v);
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, x)
			json_array_append_new(out, lean_schema(x, false, depth + 1));
		return out;
	}
	out = json_object();
	json_object_foreach(v, k, x) {
		if (!names && (strcmp(k, "$schema") == 0 ||
		    (strcmp(k, "additionalProperties") == 0 && json_is_false(x))))
			continue;
		if (!names && (strcmp(k, "const") == 0 || strcmp(k, "default") == 0 ||
		    strcmp(k, "enum") == 0 || strcmp(k, "examples") == 0)) {
			json_object_set(out, k, x);	/* values, not schemas */
			continue;
		}
		json_object_set_new(out, k, lean_schema(x, !names && (strcmp(k, "properties") == 0 ||
		    strcmp(k, "patternProperties") == 0 || strcmp(k, "$defs") == 0 ||
		    strcmp(k, "definitions") == 0), depth + 1));
	}
	return out;
}

json_t *
gateway_lean_schema(json_t *schema)
{
	return schema ? lean_schema(schema, false, 0) : NULL;
}

/* The annotations that differ from MCP's defaults (readOnlyHint false,
 * destructiveHint true — moot for a read-only tool —, idempotentHint false,
 * openWorldHint true), so nothing an agent could infer is lost; NULL when
 * none do.  Fresh. */
static json_t *
lean_annotations(const json_t *a, const char *name)
{
	const char *title = json_string_value(json_object_get(a, "title"));
	bool ro = json_is_true(json_object_get(a, "readOnlyHint"));
	json_t *out = json_object();

	if (out == NULL)
		return NULL;
	if (title != NULL && !title_restates(title, name))
		json_object_set_new(out, "title", json_string(title));
	if (ro)
		json_object_set_new(out, "readOnlyHint", json_true());
	if (!ro && json_is_false(json_object_get(a, "destructiveHint")))
		json_object_set_new(out, "destructiveHint", json_false());
	if (json_is_true(json_object_get(a, "idempotentHint")))
		json_object_set_new(out, "idempotentHint", json_true());
	if (json_is_false(json_object_get(a, "openWorldHint")))
		json_object_set_new(out, "openWorldHint", json_false());
	if (json_object_size(out) == 0) {
		json_decref(out);
		out = NULL;
	}
	return out;
}

/*
 * ---- signatures (detail "signature") -------------------------------------
 *
 * A tool as a TypeScript-like declaration, one line, the form a model writes
 * code from:
 *
 *   filesystem.read_text_file(args: {path: string; tail?: number; head?: number}): {content: string} // Read the complete contents of a file from the file system as text.
 *
 *   name "(" ["args" ["?"] ": " TYPE] "): " RETURN [" [destructive]"] [" // " first sentence]
 *
 * TYPE is rendered from the JSON Schema: string; number and integer as
 * number; boolean; null; `T[]`; objects inline as `{a: string; b?: number}`
 * (`?`: not in "required"; ` = v`: its "default"); enum and const as
 * literal unions; anyOf/oneOf as unions, allOf as `A & B`; local "$ref"s
 * ("#/$defs/X") resolved; `Record<string, T>` for additionalProperties
 * schemas; anything else `unknown` (or `object`).  Property descriptions are
 * left out (detail "full" has them).  RETURN is the outputSchema, `text`
 * when the server declares none (the prelude's mcp.* then returns the text
 * content, JSON-parsed when it parses).  `[destructive]`: the gateway's own
 * rule (is_destructive), so the model knows which calls may need approval.
 *
 * The schema comes from an MCP server and is not trusted: nesting past
 * SIG_DEPTH, more than SIG_PROPS properties, SIG_UNION union members or
 * SIG_ENUM enum values, and literals or names longer than SIG_LITERAL bytes
 * are cut (with "…"), and the whole line is at most GATEWAY_SIGNATURE_MAX
 * bytes.  Work is bounded by the output: rendering stops when the line is
 * full.  Control characters never reach the line (one line per tool).
 */
#define SIG_DEPTH	8
#define SIG_PROPS	32
#define SIG_UNION	8
#define SIG_ENUM	12
#define SIG_LITERAL	40
#define SIG_REQUIRED	256	/* "required" entries looked at */
#define SIG_KEY_MAX	256	/* longer property names are never "required" */
#define SIG_REF_MAX	512	/* longer "$ref"s are not followed */
#define SIG_ELLIPSIS	"\xe2\x80\xa6"	/* U+2026 */

struct sig {
	char buf[GATEWAY_SIGNATURE_MAX + 1];
	size_t len;
	size_t cap;		/* at most GATEWAY_SIGNATURE_MAX */
	bool cut;		/* something did not fit */
	const json_t *root;	/* the schema "$ref"s point into */
};

/* Appends n bytes, control characters as spaces; on overflow appends what
 * fits (never half a UTF-8 sequence) and marks the line cut. */
static void
sig_put(struct sig *s, const char *p, size_t n)
{
	if (s->cut)
		return;
	if (n > s->cap - s->len && n <= 8) {
		s->cut = true;	/* a short piece (a character, an escape) whole or not at all */
		return;
	}
	if (util_utf8_prefix(p, &n, s->cap - s->len))
		s->cut = true;
	for (size_t i = 0; i < n; i++)
		s->buf[s->len++] = (unsigned char)p[i] < 0x20 || p[i] == 0x7f ? ' ' : p[i];
	s->buf[s->len] = '\0';
}

static void
sig_str(struct sig *s, const char *p)
{
	sig_put(s, p, strlen(p));
}

/* `p` as a JSON string literal of at most SIG_LITERAL bytes of content. */
static void
sig_quote(struct sig *s, const char *p, size_t n)
{
	bool shortened = util_utf8_prefix(p, &n, SIG_LITERAL);
	char esc[8];

	sig_put(s, "\"", 1);
	for (size_t i = 0; i < n && !s->cut; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sig_put(s, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			sig_put(s, esc, 6);
		} else {
			/* a whole UTF-8 sequence at a time, so a cut never splits one */
			size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
			if (k > n - i)
				k = n - i;
			sig_put(s, (const char *)&p[i], k);
			i += k - 1;
		}
	}
	if (shortened)
		sig_str(s, SIG_ELLIPSIS);
	sig_put(s, "\"", 1);
}

/* A value as a literal: strings quoted, numbers, true, false, null; an
 * array of at most SIG_UNION scalars element by element; other arrays and
 * objects "[…]" / "{…}" (never serialised whole: a default may be huge). */
static void
sig_literal(struct sig *s, const json_t *v)
{
	char num[64];
	const json_t *x;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		sig_quote(s, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.15g", json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL:
		snprintf(num, sizeof(num), "%s", json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null");
		break;
	case JSON_ARRAY:
		json_array_foreach((json_t *)v, i, x)
			if (i == SIG_UNION || json_is_array(x) || json_is_object(x))
				break;
		if (i < json_array_size(v)) {
			sig_str(s, "[" SIG_ELLIPSIS "]");
			return;
		}
		sig_str(s, "[");
		json_array_foreach((json_t *)v, i, x) {
			if (i > 0)
				sig_str(s, ", ");
			sig_literal(s, x);
		}
		sig_str(s, "]");
		return;
	default:
		sig_str(s, json_object_size(v) == 0 ? "{}" : "{" SIG_ELLIPSIS "}");
		return;
	}
	sig_str(s, num);
}

/* A property name: bare when it is an identifier, else quoted. */
static void
sig_key(struct sig *s, const char *k)
{
	size_t n = strlen(k);
	bool ident = n > 0 && n <= SIG_LITERAL && !isdigit((unsigned char)k[0]);

	for (size_t i = 0; ident && i < n; i++)
		ident = isalnum((unsigned char)k[i]) || k[i] == '_' || k[i] == '$';
	if (ident)
		sig_put(s, k, n);
	else
		sig_quote(s, k, n);
}

/* The schema a local "$ref" ("#/$defs/Entity", JSON Pointer with ~0 ~1)
 * points to in s->root, or NULL. */
static const json_t *
sig_ref(const struct sig *s, const char *ref)
{
	const json_t *at = s->root;
	char seg[256];

	if (ref[0] != '#' || strlen(ref) > SIG_REF_MAX)
		return NULL;	/* not local, or absurdly long: "unknown" */
	ref++;
	while (*ref == '/' && at != NULL) {
		size_t n = 0;
		ref++;
		while (*ref != '\0' && *ref != '/' && n < sizeof(seg) - 1) {
			if (ref[0] == '~' && (ref[1] == '0' || ref[1] == '1')) {
				seg[n++] = ref[1] == '0' ? '~' : '/';
				ref += 2;
			} else {
				seg[n++] = *ref++;
			}
		}
		if (*ref != '\0' && *ref != '/')
			return NULL;	/* segment too long */
		seg[n] = '\0';
		at = json_object_get(at, seg);
	}
	return *ref == '\0' ? at : NULL;
}

/* True when the text from `start` has a '|' or '&' outside brackets and
 * quotes: as an array's element it needs parentheses. */
static bool
sig_is_compound(const struct sig *s, size_t start)
{
	int depth = 0;
	bool quoted = false;

	for (size_t i = start; i < s->len; i++) {
		char c = s->buf[i];
		if (quoted) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quoted = false;
		} else if (c == '"') {
			quoted = true;
		} else if (c == '{' || c == '(' || c == '[' || c == '<') {
			depth++;
		} else if (c == '}' || c == ')' || c == ']' || c == '>') {
			depth--;
		} else if ((c == '|' || c == '&') && depth == 0) {
			return true;
		}
	}
	return false;
}

static void sig_type(struct sig *s, const json_t *schema, int depth);

/* `(T)[]`, or `T[]`. */
static void
sig_array(struct sig *s, const json_t *items, int depth)
{
	size_t start = s->len;

	if (!json_is_object(items)) {
		sig_str(s, "unknown[]");
		return;
	}
	sig_type(s, items, depth + 1);
	if (!s->cut && sig_is_compound(s, start)) {
		if (s->len + 2 > s->cap) {
			s->cut = true;
			return;
		}
		memmove(s->buf + start + 1, s->buf + start, s->len - start);
		s->buf[start] = '(';
		s->len++;
		s->buf[s->len] = '\0';
		sig_put(s, ")", 1);
	}
	sig_str(s, "[]");
}

/* Notes how many members were left out (a "+N more" comment after `lead`);
 * returns true: the caller stops there. */
static bool
sig_more(struct sig *s, const char *lead, size_t left)
{
	char note[48];

	snprintf(note, sizeof(note), "%s /* +%zu more */", lead, left);
	sig_str(s, note);
	return true;
}

static bool
sig_is_required(const json_t *required, const char *k)
{
	size_t kn = strlen(k);

	if (kn > SIG_KEY_MAX)
		return false;	/* bounded work per property, whatever a server sends */
	for (size_t i = 0; i < json_array_size(required) && i < SIG_REQUIRED; i++) {
		const json_t *r = json_array_get(required, i);
		if (json_is_string(r) && json_string_length(r) == kn &&
		    memcmp(json_string_value(r), k, kn) == 0)
			return true;
	}
	return false;
}

/* `{a: T; b?: U = 1}`, `Record<string, T>` or `object`. */
static void
sig_object(struct sig *s, const json_t *schema, int depth)
{
	const json_t *props = json_object_get(schema, "properties");
	const json_t *required = json_object_get(schema, "required");
	const json_t *more = json_object_get(schema, "additionalProperties"), *p;
	const char *k;
	size_t i = 0;

	if (json_object_size(props) == 0) {
		if (json_is_object(more) && json_object_size(more) > 0) {
			sig_str(s, "Record<string, ");
			sig_type(s, more, depth + 1);
			sig_str(s, ">");
		} else {
			sig_str(s, "object");
		}
		return;
	}
	sig_str(s, "{");
	json_object_foreach((json_t *)props, k, p) {
		if (s->cut || (i == SIG_PROPS && sig_more(s, ";", json_object_size(props) - i)))
			break;
		if (i++ > 0)
			sig_str(s, "; ");
		sig_key(s, k);
		sig_str(s, sig_is_required(required, k) ? ": " : "?: ");
		sig_type(s, p, depth + 1);
		if (json_is_object(p) && json_object_get(p, "default") != NULL) {
			sig_str(s, " = ");
			sig_literal(s, json_object_get(p, "default"));
		}
	}
	sig_str(s, "}");
}

/* `A | B | C` (sep " | ") or `A & B` (" & ") over schemas or literals. */
static void
sig_union(struct sig *s, const json_t *members, const char *sep, bool literals, int depth)
{
	size_t max = literals ? SIG_ENUM : SIG_UNION, i;
	const json_t *m;

	if (json_array_size(members) == 0) {
		sig_str(s, literals ? "never" : "unknown");
		return;
	}
	json_array_foreach((json_t *)members, i, m) {
		if (s->cut || (i == max && sig_more(s, "", json_array_size(members) - i)))
			break;
		if (i > 0)
			sig_str(s, sep);
		if (literals)
			sig_literal(s, m);
		else
			sig_type(s, m, depth + 1);
	}
}

/* One JSON Schema type name applied to `schema`. */
static void
sig_named(struct sig *s, const json_t *schema, const char *type, int depth)
{
	if (strcmp(type, "string") == 0 || strcmp(type, "boolean") == 0 || strcmp(type, "null") == 0)
		sig_str(s, type);
	else if (strcmp(type, "number") == 0 || strcmp(type, "integer") == 0)
		sig_str(s, "number");
	else if (strcmp(type, "array") == 0)
		sig_array(s, json_object_get(schema, "items"), depth);
	else if (strcmp(type, "object") == 0)
		sig_object(s, schema, depth);
	else
		sig_str(s, "unknown");
}

/* Past SIG_DEPTH: a scalar type's name, else `unknown[]`, `object` or
 * `unknown`; nothing below it. */
static void
sig_shallow(struct sig *s, const json_t *schema)
{
	const char *type = json_string_value(json_object_get(schema, "type"));

	if (type == NULL)
		sig_str(s, json_object_get(schema, "properties") ? "object" : "unknown");
	else if (strcmp(type, "array") == 0)
		sig_str(s, "unknown[]");
	else if (strcmp(type, "object") == 0)
		sig_str(s, "object");
	else
		sig_named(s, schema, type, SIG_DEPTH);
}

static void
sig_type(struct sig *s, const json_t *schema, int depth)
{
	const json_t *t, *v;
	const char *ref;
	size_t i;

	if (s->cut)
		return;
	if (!json_is_object(schema)) {
		sig_str(s, json_is_false(schema) ? "never" : "unknown");
		return;
	}
	if (depth >= SIG_DEPTH) {
		sig_shallow(s, schema);
		return;
	}
	if ((ref = json_string_value(json_object_get(schema, "$ref"))) != NULL) {
		const json_t *target = sig_ref(s, ref);
		if (target != NULL && target != schema)
			sig_type(s, target, depth + 1);
		else
			sig_str(s, "unknown");
		return;
	}
	if ((v = json_object_get(schema, "const")) != NULL) {
		sig_literal(s, v);
		return;
	}
	if (json_is_array(v = json_object_get(schema, "enum"))) {
		sig_union(s, v, " | ", true, depth);
		return;
	}
	if (json_is_array(v = json_object_get(schema, "anyOf")) ||
	    json_is_array(v = json_object_get(schema, "oneOf"))) {
		sig_union(s, v, " | ", false, depth);
		return;
	}
	if (json_is_array(v = json_object_get(schema, "allOf"))) {
		sig_union(s, v, " & ", false, depth);
		return;
	}
	t = json_object_get(schema, "type");
	if (json_is_string(t)) {
		sig_named(s, schema, json_string_value(t), depth);
	} else if (json_is_array(t) && json_array_size(t) > 0) {
		json_array_foreach((json_t *)t, i, v) {
			if (s->cut || i == SIG_UNION)
				break;
			if (i > 0)
				sig_str(s, " | ");
			sig_named(s, schema, json_is_string(v) ? json_string_value(v) : "", depth);
		}
	} else if (json_object_get(schema, "properties") != NULL) {
		sig_object(s, schema, depth);
	} else if (json_object_get(schema, "items") != NULL) {
		sig_array(s, json_object_get(schema, "items"), depth);
	} else {
		sig_str(s, "unknown");
	}
}

/* The first sentence of the description (else the title), on one line, at
 * most ONE_LINE_MAX bytes: up to ". " (or "!", "?"), not after an
 * abbreviation's inner dot ("e.g. "). */
static void
first_sentence(const json_t *def, const char **p, size_t *n)
{
	const char *d = json_string_value(json_object_get(def, "description"));
	size_t end;

	if (d == NULL || d[0] == '\0')
		d = json_string_value(json_object_get(def, "title"));
	*p = d ? d : "";
	end = strcspn(*p, "\r\n");
	for (size_t i = 1; i < end; i++) {
		char c = (*p)[i];
		if ((c == '.' || c == '!' || c == '?') && (i + 1 == end || (*p)[i + 1] == ' ') &&
		    !(c == '.' && i >= 2 && (*p)[i - 2] == '.')) {
			end = i + 1;
			break;
		}
	}
	util_utf8_prefix(*p, &end, ONE_LINE_MAX);
	*n = end;
}

/* True for an input schema that allows only an empty object: "()". */
static bool
sig_takes_nothing(const json_t *in)
{
	static const char *const shaping[] = { "$ref", "anyOf", "oneOf", "allOf", "items", "enum",
	    "const", NULL };
	const char *type = json_string_value(json_object_get(in, "type"));
	const json_t *more = json_object_get(in, "additionalProperties");

	if (!json_is_object(in) || (json_object_get(in, "type") != NULL &&
	    (type == NULL || strcmp(type, "object") != 0)) ||
	    json_object_size(json_object_get(in, "properties")) > 0 || (more != NULL && !json_is_false(more)))
		return false;
	for (size_t i = 0; shaping[i] != NULL; i++)
		if (json_object_get(in, shaping[i]) != NULL)
			return false;
	return true;
}

char *
gateway_signature(const char *name, const json_t *def)
{
	const json_t *in = json_object_get(def, "inputSchema"), *out = json_object_get(def, "outputSchema");
	struct sig *s;
	char suffix[ONE_LINE_MAX + 32], *line;
	const char *d;
	size_t dn, sn;

	if (name == NULL || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	/* The suffix is written first, so that a huge schema cuts the types and
	 * never the safety note or the description. */
	first_sentence(def, &d, &dn);
	sn = (size_t)snprintf(suffix, sizeof(suffix), "%s%s%.*s", is_destructive(def) ? " [destructive]" : "",
	    dn ? " // " : "", (int)dn, d);
	s->cap = GATEWAY_SIGNATURE_MAX - sn - sizeof(SIG_ELLIPSIS);
	sig_str(s, name);
	sig_str(s, "(");
	if (!sig_takes_nothing(in)) {
		s->root = in;
		sig_str(s, json_array_size(json_object_get(in, "required")) > 0 ? "args: " : "args?: ");
		sig_type(s, in, 0);
	}
	sig_str(s, "): ");
	s->root = out;
	if (out != NULL)
		sig_type(s, out, 0);
	else
		sig_str(s, "text");
	if (s->cut) {
		s->cut = false;
		s->cap = GATEWAY_SIGNATURE_MAX - sn;
		sig_str(s, SIG_ELLIPSIS);
	}
	s->cap = GATEWAY_SIGNATURE_MAX;
	sig_put(s, suffix, sn);
	line = strdup(s->buf);
	free(s);
	return line;
}

/*
 * One catalogue entry at a detail level: "name" is "server.tool";
 * "description" adds the first line of the description; "signature" is the
 * one-line declaration above (a string, like "name"); "full" is what is
 * needed to call the tool and use its result — description, input and output
 * schema without JSON Schema noise, the title when it says more than the
 * name, the annotations that differ from the defaults.
 */
static json_t *
render(const struct tool_entry *e, const char *detail)
{
	const char *title = json_string_value(json_object_get(e->def, "title"));
	json_t *o, *v;

	if (strcmp(detail, "name") == 0)
		return json_string(e->name);
	if (strcmp(detail, "description") == 0)
		return json_pack("{s:s, s:o}", "name", e->name, "description", one_line(e->def));
	if (strcmp(detail, "signature") == 0) {
		char *line = gateway_signature(e->name, e->def);
		o = line ? json_string(line) : NULL;
		free(line);
		return o;
	}
	if ((o = json_pack("{s:s}", "name", e->name)) == NULL)
		return NULL;
	if (title != NULL && !title_restates(title, e->tool))
		json_object_set_new(o, "title", json_string(title));
	if ((v = json_object_get(e->def, "description")) != NULL)
		json_object_set(o, "description", v);
	if ((v = json_object_get(e->def, "inputSchema")) != NULL)
		json_object_set_new(o, "inputSchema", gateway_lean_schema(v));
	if ((v = json_object_get(e->def, "outputSchema")) != NULL)
		json_object_set_new(o, "outputSchema", gateway_lean_schema(v));
	if ((v = lean_annotations(json_object_get(e->def, "annotations"), e->tool)) != NULL)
		json_object_set_new(o, "annotations", v);
	return o;
}

/* ---- methods ------------------------------------------------------------ */

struct reply {
	json_t *result;		/* or */
	const char *code;	/* error code */
	char message[512];
};

static void
fail(struct reply *r, const char *code, const char *fmt, const char *arg)
{
	r->code = code;
	snprintf(r->message, sizeof(r->message), fmt, arg);
	util_utf8_repair(r->message);	/* a "%.200s" of a name may cut a character */
}

static void
do_list(struct gateway *gw, const json_t *params, struct reply *r)
{
	const char *server = json_string_value(json_object_get(params, "server"));
	json_t *tools = json_array();

	catalogue_build(gw);
	for (size_t i = 0; tools != NULL && i < gw->ncat; i++)
		if (server == NULL || strcmp(server, gw->cat[i].server) == 0)
			json_array_append_new(tools, render(&gw->cat[i], "description"));
	r->result = json_pack("{s:o, s:O}", "tools", tools, "unavailable", gw->unavailable);
}

static int
score(const struct tool_entry *e, char words[][64], size_t nwords)
{
	const char *d = json_string_value(json_object_get(e->def, "description"));
	const char *t = json_string_value(json_object_get(e->def, "title"));
	int s = 0;

	for (size_t i = 0; i < nwords; i++) {
		if (strcasecmp(e->tool, words[i]) == 0)
			s += 5;	/* the exact tool name: "server.tool" finds it first */
		if (strcasestr(e->name, words[i]) != NULL)
			s += 3;
		if (t != NULL && strcasestr(t, words[i]) != NULL)
			s += 2;
		if (d != NULL && strcasestr(d, words[i]) != NULL)
			s += 1;
	}
	return s;
}

json_t *
gateway_search(struct gateway *gw, const char *q, const char *detail, int limit, char *why,
    size_t whysz)
{
	static const char wordch[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
	char words[16][64];
	size_t nwords = 0;
	int *scores;
	json_t *out;

	if (q == NULL || strlen(q) > 1024) {
		snprintf(why, whysz, "a query string (at most 1 KiB) is needed");
		return NULL;
	}
	if (detail == NULL)
		detail = "description";
	if (strcmp(detail, "name") && strcmp(detail, "description") && strcmp(detail, "signature") &&
	    strcmp(detail, "full")) {
		snprintf(why, whysz, "detail must be name, description, signature or full");
		return NULL;
	}
	if (limit <= 0)
		limit = SEARCH_LIMIT;
	if (limit > SEARCH_LIMIT_MAX)
		limit = SEARCH_LIMIT_MAX;
	/* Words of the query: runs of letters, digits, '_' and '-'. */
	for (const char *p = q; *p != '\0' && nwords < 16;) {
		size_t n = strspn(p, wordch), keep = n;
		if (n == 0) {
			p++;
			continue;
		}
		if (keep >= sizeof(words[0]))
			keep = sizeof(words[0]) - 1;
		memcpy(words[nwords], p, keep);
		words[nwords++][keep] = '\0';
		p += n;
	}
	catalogue_build(gw);
	if ((scores = calloc(gw->ncat + 1, sizeof(int))) == NULL || (out = json_array()) == NULL) {
		free(scores);
		snprintf(why, whysz, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < gw->ncat; i++)
		scores[i] = nwords == 0 ? 1 : score(&gw->cat[i], words, nwords);
	/* Best first; ties keep catalogue order.  Small n: selection. */
	while (json_array_size(out) < (size_t)limit) {
		size_t best = gw->ncat;
		for (size_t i = 0; i < gw->ncat; i++)
			if (scores[i] > 0 && (best == gw->ncat || scores[i] > scores[best]))
				best = i;
		if (best == gw->ncat)
			break;
		json_array_append_new(out, render(&gw->cat[best], detail));
		scores[best] = 0;
	}
	free(scores);
	return out;
}

static void
do_search(struct gateway *gw, const json_t *params, struct reply *r)
{
	json_int_t limit = json_integer_value(json_object_get(params, "limit"));
	json_t *found = gateway_search(gw, json_string_value(json_object_get(params, "query")),
	    json_string_value(json_object_get(params, "detail")),
	    limit > 0 && limit < 1000 ? (int)limit : 0, r->message, sizeof(r->message));

	if (found == NULL) {
		r->code = "bad_request";
		return;
	}
	r->result = json_pack("{s:o}", "tools", found);
}

static void
do_describe(struct gateway *gw, const json_t *params, struct reply *r)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	const struct tool_entry *e;

	if (name == NULL) {
		fail(r, "bad_request", "tools.describe needs a name%s", "");
		return;
	}
	if ((e = catalogue_find(gw, name)) == NULL) {
		fail(r, "not_found", "no allowed tool named '%.200s'", name);
		return;
	}
	r->result = render(e, "full");
}

static const char *
outcome_of(enum err e)
{
	switch (e) {
	case ERR_TIMEOUT: return "timeout";
	case ERR_NOTFOUND: return "not_found";
	default: return "failed";
	}
}

/* Copies s into out (outsz bytes with the NUL), cut at a UTF-8 boundary:
 * names the job chose go into audit records, which must stay valid UTF-8. */
static void
copy_utf8(char *out, size_t outsz, const char *s, size_t n)
{
	util_utf8_prefix(s, &n, outsz - 1);
	memcpy(out, s, n);
	out[n] = '\0';
}

/* Serves tools.call; returns the audit outcome. */
static const char *
do_call(struct gateway *gw, const json_t *params, struct reply *r, char *server, size_t serversz,
    char *tool, size_t toolsz)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	json_t *args = json_object_get(params, "args"), *res = NULL;
	const struct tool_entry *e;
	const char *dot;
	char why[384];
	enum err err;

	if (name == NULL || (args != NULL && !json_is_object(args) && !json_is_null(args))) {
		fail(r, "bad_request", "tools.call needs a name and an args object%s", "");
		return "bad_request";
	}
	if ((dot = strchr(name, '.')) != NULL) {
		copy_utf8(server, serversz, name, (size_t)(dot - name));
		copy_utf8(tool, toolsz, dot + 1, strlen(dot + 1));
	} else {
		copy_utf8(tool, toolsz, name, strlen(name));
	}
	if (!allowed(gw, name)) {
		fail(r, "denied", "tool '%.200s' is not allowed for this job", name);
		return "denied";
	}
	if ((e = catalogue_find(gw, name)) == NULL) {
		fail(r, "not_found", "no tool named '%.200s'", name);
		return "not_found";
	}
	if (gw->approve != NULL && is_destructive(e->def)) {
		json_t *shown = json_is_object(args) ? json_incref(args) : json_object();
		err = gw->approve(gw->approve_ctx, name, shown, why, sizeof(why));
		json_decref(shown);
		if (err != ERR_OK) {
			char msg[512];
			snprintf(msg, sizeof(msg), "tool '%.100s' was not approved: %.380s", name, why);
			fail(r, "approval_denied", "%s", msg);
			return "approval_denied";
		}
	} else if (gw->refuse_destructive && is_destructive(e->def)) {
		fail(r, "approval_required", "tool '%.200s' may be destructive and requires approval",
		    name);
		return "approval_required";
	}
	args = json_is_object(args) ? json_incref(args) : json_object();
	if (gw->filter != NULL && gw->filter(gw->filter_ctx, GATEWAY_FILTER_ARGS, e->server, e->tool,
	    &args) != ERR_OK) {
		json_decref(args);
		fail(r, "filter", "the privacy filter refused the arguments of '%.200s'", name);
		return "failed";
	}
	err = mcp_pool_call(gw->pool, e->server, e->tool, args, gw->call_timeout_ms, &res, why,
	    sizeof(why));
	json_decref(args);
	if (err != ERR_OK) {
		fail(r, err == ERR_TIMEOUT ? "timeout" : err == ERR_BUSY ? "busy" : "failed", "%s", why);
		return outcome_of(err);
	}
	if (gw->filter != NULL && gw->filter(gw->filter_ctx, GATEWAY_FILTER_RESULT, e->server,
	    e->tool, &res) != ERR_OK) {
		json_decref(res);
		fail(r, "filter", "the privacy filter refused the result of '%.200s'", name);
		return "failed";
	}
	r->result = res;
	return json_is_true(json_object_get(res, "isError")) ? "tool_error" : "ok";
}

/* ---- framing ------------------------------------------------------------ */

static enum err
queue_stdin(struct gateway *gw, const char *line, size_t len)
{
	if (gw->stdin_closed)
		return ERR_OK;
	if (gw->out_len - gw->out_off + len + 1 > GATEWAY_STDIN_MAX)
		return ERR_TOOBIG;
	if (gw->out_off > 0 && gw->out_len + len + 1 > gw->out_cap) {
		memmove(gw->out, gw->out + gw->out_off, gw->out_len - gw->out_off);
		gw->out_len -= gw->out_off;
		gw->out_off = 0;
	}
	if (gw->out_len + len + 1 > gw->out_cap) {
		size_t ncap = gw->out_cap ? gw->out_cap : 4096;
		char *nb;
		while (ncap < gw->out_len + len + 1)
			ncap *= 2;
		if ((nb = realloc(gw->out, ncap)) == NULL)
			return ERR_NOMEM;
		gw->out = nb;
		gw->out_cap = ncap;
	}
	memcpy(gw->out + gw->out_len, line, len);
	gw->out[gw->out_len + len] = '\n';
	gw->out_len += len + 1;
	return ERR_OK;
}

/* Builds, sizes and queues the response line; returns its length. */
static size_t
respond(struct gateway *gw, const json_t *id, struct reply *r, enum err *qerr)
{
	json_t *msg;
	char *s = NULL;
	size_t len = 0;

	if (r->result != NULL)
		msg = json_pack("{s:O?, s:O}", "id", id, "result", r->result);
	else
		msg = json_pack("{s:O?, s:{s:s, s:s}}", "id", id, "error", "code", r->code,
		    "message", r->message);
	if (msg != NULL)
		s = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(msg);
	if (s != NULL && strlen(s) > GATEWAY_RESPONSE_MAX) {
		free(s);
		s = NULL;
		json_decref(r->result);
		r->result = NULL;
		fail(r, "too_big", "the result is larger than %s", "16 MiB");
		msg = json_pack("{s:O?, s:{s:s, s:s}}", "id", id, "error", "code", r->code,
		    "message", r->message);
		s = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
		json_decref(msg);
	}
	if (s == NULL) {
		*qerr = ERR_NOMEM;
		return 0;
	}
	len = strlen(s);
	*qerr = queue_stdin(gw, s, len);
	free(s);
	return len + 1;
}

/* How many JSON values a request line holds, about (objects, arrays and
 * the commas between items; string contents skipped): counted before the
 * parse, which costs the worker ~100-200 bytes a value.  Stops counting
 * past the bound. */
_Static_assert(GATEWAY_REQUEST_VALUES == 100000, "serve's too_big message names it");

static size_t
json_values(const char *p, size_t len)
{
	size_t n = 0;
	bool in_str = false;

	for (size_t i = 0; i < len && n <= GATEWAY_REQUEST_VALUES; i++) {
		char c = p[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[' || c == ',') {
			n++;
		}
	}
	return n;
}

static enum err
serve(struct gateway *gw, const char *line, size_t len)
{
	int64_t t0 = util_now_ms();
	json_t *req = NULL, *id, *params;
	const char *method, *outcome = NULL;
	char server[MCP_POOL_NAME_MAX + 1] = "", tool[256] = "";
	struct reply r = { 0 };
	enum err qerr;
	size_t rlen;

	if (gw->ended != NULL && *gw->ended) {
		gw->st.dropped++;	/* the job is over: no tool runs for it */
		return ERR_OK;
	}
	gw->st.requests++;
	gw->st.request_bytes += len + MARKER_LEN + 1;
	if (gw->st.requests > GATEWAY_CALLS_MAX)
		return ERR_TOOBIG;
	if (json_values(line, len) > GATEWAY_REQUEST_VALUES) {
		fail(&r, "too_big", "request has more than %s JSON values", "100000");
		respond(gw, NULL, &r, &qerr);
		return qerr;
	}
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	id = json_object_get(req, "id");
	if (id != NULL && !json_is_integer(id) && !json_is_string(id))
		id = NULL;
	method = json_string_value(json_object_get(req, "method"));
	params = json_object_get(req, "params");
	if (!json_is_object(req) || method == NULL || (params != NULL && !json_is_object(params))) {
		fail(&r, "bad_request", "expected {id, method, params}%s", "");
		outcome = "bad_request";
	} else if (strcmp(method, "tools.list") == 0) {
		do_list(gw, params, &r);
	} else if (strcmp(method, "tools.search") == 0) {
		do_search(gw, params, &r);
	} else if (strcmp(method, "tools.describe") == 0) {
		do_describe(gw, params, &r);
	} else if (strcmp(method, "tools.call") == 0) {
		gw->st.calls++;
		outcome = do_call(gw, params, &r, server, sizeof(server), tool, sizeof(tool));
		if (strcmp(outcome, "denied") == 0 || strcmp(outcome, "approval_required") == 0 ||
		    strcmp(outcome, "approval_denied") == 0)
			gw->st.refused++;
	} else {
		fail(&r, "bad_request", "unknown method '%.100s'", method);
	}
	if (r.result == NULL && r.code == NULL)
		fail(&r, "failed", "out of memory%s", "");
	if (outcome != NULL) {
		/* The audit record comes before the answer: a failed audit write
		 * fails the call. */
		char *probe = r.result ? json_dumps(r.result, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
		if (probe != NULL && strlen(probe) > GATEWAY_RESPONSE_MAX - 256) {
			/* too big to answer (respond would say so): audited as such */
			free(probe);
			probe = NULL;
			json_decref(r.result);
			r.result = NULL;
			fail(&r, "too_big", "the result is larger than %s", "16 MiB");
			outcome = "too_big";
		}
		struct gateway_audit rec = {
			.job = gw->job, .server = server, .tool = tool,
			.request_bytes = len + MARKER_LEN + 1,
			.response_bytes = probe ? strlen(probe) : strlen(r.message),
			.duration_ms = util_now_ms() - t0, .outcome = outcome,
		};
		free(probe);
		if (gw->audit(gw->audit_ctx, &rec) != ERR_OK) {
			json_decref(r.result);
			r.result = NULL;
			fail(&r, "audit", "the audit record could not be written%s", "");
		}
	}
	rlen = respond(gw, id, &r, &qerr);
	gw->st.response_bytes += rlen;
	json_decref(r.result);
	json_decref(req);
	return qerr;
}

enum err
gateway_feed_stdout(struct gateway *gw, const void *bytes, size_t len, gateway_sink_fn sink,
    void *sink_ctx)
{
	const char *p = bytes, *end = p + len;
	enum err e;

	while (p < end) {
		switch (gw->state) {
		case SPLIT_PASS: {
			const char *rs = memchr(p, GATEWAY_MARKER[0], (size_t)(end - p));
			size_t n = rs ? (size_t)(rs - p) : (size_t)(end - p);
			if (n > 0)
				sink(sink_ctx, p, n);
			p += n;
			if (rs != NULL) {
				gw->state = SPLIT_MARK;
				gw->marked = 1;
				p++;
			}
			break;
		}
		case SPLIT_MARK:
			if (*p == GATEWAY_MARKER[gw->marked]) {
				p++;
				if (++gw->marked == MARKER_LEN) {
					gw->state = SPLIT_BODY;
					gw->req_len = 0;
				}
			} else {
				/* Not a marker: what was held is output; the current
				 * byte is looked at again in PASS (it may be 0x1E). */
				sink(sink_ctx, GATEWAY_MARKER, gw->marked);
				gw->state = SPLIT_PASS;
			}
			break;
		case SPLIT_BODY: {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			if (gw->req_len + n > GATEWAY_REQUEST_MAX) {
				gw->state = SPLIT_SKIP;
				break;
			}
			if (gw->req_len + n > gw->req_cap) {
				size_t ncap = gw->req_cap ? gw->req_cap : 1024;
				char *nb;
				while (ncap < gw->req_len + n)
					ncap *= 2;
				if ((nb = realloc(gw->req, ncap)) == NULL)
					return ERR_NOMEM;
				gw->req = nb;
				gw->req_cap = ncap;
			}
			if (n > 0)	/* an empty request may meet a NULL buffer */
				memcpy(gw->req + gw->req_len, p, n);
			gw->req_len += n;
			p += n;
			if (nl != NULL) {
				p++;
				gw->state = SPLIT_PASS;
				if ((e = serve(gw, gw->req, gw->req_len)) != ERR_OK)
					return e;
			}
			break;
		}
		case SPLIT_SKIP: {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (nl == NULL) {
				p = end;
				break;
			}
			p = nl + 1;
			gw->state = SPLIT_PASS;
			struct reply r = { 0 };
			fail(&r, "too_big", "request larger than %s", "4 MiB");
			gw->st.requests++;
			if (respond(gw, NULL, &r, &e) == 0 || e != ERR_OK)
				return e;
			break;
		}
		}
	}
	return ERR_OK;
}

void
gateway_finish(struct gateway *gw, gateway_sink_fn sink, void *sink_ctx)
{
	if (gw->state == SPLIT_MARK)
		sink(sink_ctx, GATEWAY_MARKER, gw->marked);
	gw->state = SPLIT_PASS;
	gw->req_len = 0;
}

size_t
gateway_stdin_pending(const struct gateway *gw)
{
	return gw->out_len - gw->out_off;
}

enum err
gateway_write_stdin(struct gateway *gw, int fd)
{
	while (gw->out_off < gw->out_len && !gw->stdin_closed) {
		ssize_t n = write(fd, gw->out + gw->out_off, gw->out_len - gw->out_off);
		if (n > 0) {
			gw->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return ERR_OK;
		gw->stdin_closed = true;
	}
	if (gw->out_off == gw->out_len)
		gw->out_off = gw->out_len = 0;
	if (gw->stdin_closed) {
		gw->out_off = gw->out_len = 0;
		return ERR_IO;
	}
	return ERR_OK;
}

enum err
gateway_pump(struct gateway *gw, int out_fd, int in_fd, gateway_sink_fn sink, void *sink_ctx,
    const volatile int *stop)
{
	char buf[65536];
	bool in_open = in_fd >= 0;
	enum err e = ERR_OK;

	if (in_open)
		fcntl(in_fd, F_SETFL, fcntl(in_fd, F_GETFL) | O_NONBLOCK);
	while (stop == NULL || !*stop) {
		struct pollfd p[2] = { { out_fd, POLLIN, 0 },
		    { in_open ? in_fd : -1, gateway_stdin_pending(gw) ? POLLOUT : 0, 0 } };
		ssize_t n;

		if (poll(p, 2, 100) < 0 && errno != EINTR) {
			e = ERR_IO;
			break;
		}
		if (in_open && (p[1].revents & (POLLOUT | POLLERR | POLLHUP)) &&
		    gateway_write_stdin(gw, in_fd) == ERR_IO)
			in_open = false;
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
			continue;
		n = read(out_fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			e = ERR_IO;
		if (n <= 0)
			break;
		if ((e = gateway_feed_stdout(gw, buf, (size_t)n, sink, sink_ctx)) != ERR_OK)
			break;
		/* Answer at once: the job is usually waiting for it. */
		if (in_open && gateway_stdin_pending(gw) && gateway_write_stdin(gw, in_fd) == ERR_IO)
			in_open = false;
	}
	gateway_finish(gw, sink, sink_ctx);
	return e;
}
