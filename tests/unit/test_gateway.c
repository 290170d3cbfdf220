/*
 * Unit tests for worker/gateway: the stdout splitter under every chunking,
 * the allowlist, the destructive-tool rule, audit records, the privacy seam
 * and bad requests.  Tool calls go to the real
 * @modelcontextprotocol/server-memory through worker/mcp_pool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker/gateway.h"
#include "worker/mcp_pool.h"

static char tmpdir[64];
static struct mcp_pool *pool;

struct sink {
	char buf[65536];
	size_t len;
};

static void
to_sink(void *ctx, const void *bytes, size_t len)
{
	struct sink *s = ctx;
	assert_true(s->len + len <= sizeof(s->buf));
	memcpy(s->buf + s->len, bytes, len);
	s->len += len;
}

struct audit_log {
	int n;
	struct gateway_audit last;
	char server[64], tool[64], outcome[32];
	bool names_utf8;		/* server and tool were valid UTF-8 */
	size_t server_len, tool_len;
	enum err answer;
};

static enum err
record(void *ctx, const struct gateway_audit *rec)
{
	struct audit_log *a = ctx;
	a->n++;
	a->last = *rec;
	snprintf(a->server, sizeof(a->server), "%s", rec->server);
	snprintf(a->tool, sizeof(a->tool), "%s", rec->tool);
	snprintf(a->outcome, sizeof(a->outcome), "%s", rec->outcome);
	json_t *j = json_pack("{s:s, s:s}", "server", rec->server, "tool", rec->tool);
	a->names_utf8 = j != NULL;	/* jansson refuses invalid UTF-8 */
	json_decref(j);
	a->server_len = strlen(rec->server);
	a->tool_len = strlen(rec->tool);
	return a->answer;
}

/* A pool with the real memory server (its file in tmpdir), after `before`
 * (more servers, each ending with a comma). */
static struct mcp_pool *
memory_pool(const char *before, const char *file)
{
	const char *root = getenv("SLUICE_ROOT");
	char text[2048], why[256];
	json_t *doc;
	enum err e;
	struct mcp_pool *p;

	snprintf(text, sizeof(text),
	    "{\"mcpServers\": {%s \"memory\": {\"command\": \"node\", \"args\": "
	    "[\"%s/node_modules/@modelcontextprotocol/server-memory/dist/index.js\"],"
	    " \"env\": {\"MEMORY_FILE_PATH\": \"%s/%s\"}}}}",
	    before, root && root[0] ? root : ".", tmpdir, file);
	doc = json_loads(text, 0, NULL);
	p = mcp_pool_new(doc, &e, why, sizeof(why));
	json_decref(doc);
	return p;
}

static int
setup(void **state)
{
	(void)state;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-gateway.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	pool = memory_pool("", "memory.jsonl");
	return pool == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char path[128];
	(void)state;
	mcp_pool_destroy(&pool);
	snprintf(path, sizeof(path), "%s/memory.jsonl", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

static struct gateway *
new_gw(const char *const *allow, bool refuse_destructive, struct audit_log *a)
{
	struct gateway_conf c = {
		.job = "job1", .allow = allow, .refuse_destructive = refuse_destructive,
		.audit = record, .audit_ctx = a,
	};
	enum err e;
	struct gateway *gw = gateway_new(pool, &c, &e);
	assert_non_null(gw);
	return gw;
}

/* Drains the responses queued for stdin through a pipe; returns them. */
static char *
drain(struct gateway *gw)
{
	int p[2];
	static char buf[1 << 20];
	ssize_t n;

	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	assert_int_equal(gateway_write_stdin(gw, p[1]), ERR_OK);
	assert_int_equal(gateway_stdin_pending(gw), 0);
	n = read(p[0], buf, sizeof(buf) - 1);
	buf[n < 0 ? 0 : n] = '\0';
	close(p[0]);
	close(p[1]);
	return buf;
}

/* The i-th response line (0-based) of `all`, parsed. */
static json_t *
response(const char *all, int i)
{
	const char *p = all;
	while (i-- > 0) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	return json_loadb(p, strcspn(p, "\n"), 0, NULL);
}

static void
test_passthrough_without_requests(void **state)
{
	static const char out[] = "plain line\n\x1e lone record separator\n"
	    "\x1eSLUICE-RP almost a marker\n\x1e\x1eSLUICE-RPX\nend";
	static const char *const all[] = { "*", NULL };
	struct audit_log a = { 0 };
	(void)state;

	for (size_t cut = 0; cut <= sizeof(out) - 1; cut++) {
		struct gateway *gw = new_gw(all, false, &a);
		struct sink s = { .len = 0 };
		assert_int_equal(gateway_feed_stdout(gw, out, cut, to_sink, &s), ERR_OK);
		assert_int_equal(gateway_feed_stdout(gw, out + cut, sizeof(out) - 1 - cut, to_sink, &s),
		    ERR_OK);
		gateway_finish(gw, to_sink, &s);
		assert_int_equal(s.len, sizeof(out) - 1);
		assert_memory_equal(s.buf, out, s.len);
		assert_int_equal(gateway_stdin_pending(gw), 0);
		gateway_destroy(&gw);
	}
	/* A marker prefix held at the end comes out at finish. */
	struct gateway *gw = new_gw(all, false, &a);
	struct sink s = { .len = 0 };
	gateway_feed_stdout(gw, "x\x1eSLUICE", 8, to_sink, &s);
	assert_int_equal(s.len, 1);
	gateway_finish(gw, to_sink, &s);
	assert_int_equal(s.len, 8);
	assert_memory_equal(s.buf, "x\x1eSLUICE", 8);
	gateway_destroy(&gw);
}

/* Output made of marker fragments, fed in random chunks, comes out intact. */
static void
test_passthrough_torture(void **state)
{
	static const char alphabet[] = "\x1e\x1eSLUICE-RPC x\n";
	static const char *const all[] = { "*", NULL };
	struct audit_log a = { 0 };
	size_t n = 60000;
	char *in = malloc(n);
	unsigned seed = 12345;
	(void)state;

	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		in[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
	}
	/* Break every whole marker that chance produced. */
	for (char *m; (m = memmem(in, n, GATEWAY_MARKER, sizeof(GATEWAY_MARKER) - 1)) != NULL;)
		m[5] = 'y';
	for (int round = 0; round < 20; round++) {
		struct gateway *gw = new_gw(all, false, &a);
		struct sink *s = calloc(1, sizeof(*s));
		size_t off = 0;
		while (off < n) {
			size_t chunk;
			seed = seed * 1103515245u + 12345u;
			chunk = 1 + (seed >> 16) % (round < 10 ? 16 : 4096);
			if (chunk > n - off)
				chunk = n - off;
			assert_int_equal(gateway_feed_stdout(gw, in + off, chunk, to_sink, s), ERR_OK);
			off += chunk;
		}
		gateway_finish(gw, to_sink, s);
		assert_int_equal(s->len, n);
		assert_memory_equal(s->buf, in, n);
		assert_int_equal(gateway_stdin_pending(gw), 0);
		free(s);
		gateway_destroy(&gw);
	}
	free(in);
}

static void
test_requests_split_at_every_offset(void **state)
{
	static const char out[] =
	    "before\n"
	    GATEWAY_MARKER "{\"id\":1,\"method\":\"tools.describe\",\"params\":{\"name\":\"memory.read_graph\"}}\n"
	    "middle \x1e\n"
	    GATEWAY_MARKER "{\"id\":\"two\",\"method\":\"tools.search\",\"params\":{\"query\":\"entities create\",\"detail\":\"name\"}}\n"
	    "after";
	static const char passthrough[] = "before\nmiddle \x1e\nafter";
	static const char *const all[] = { "memory.*", NULL };
	struct audit_log a = { 0 };
	(void)state;

	for (size_t cut = 0; cut <= sizeof(out) - 1; cut++) {
		struct gateway *gw = new_gw(all, false, &a);
		struct sink s = { .len = 0 };
		json_t *r;
		char *lines;

		assert_int_equal(gateway_feed_stdout(gw, out, cut, to_sink, &s), ERR_OK);
		assert_int_equal(gateway_feed_stdout(gw, out + cut, sizeof(out) - 1 - cut, to_sink, &s),
		    ERR_OK);
		gateway_finish(gw, to_sink, &s);
		assert_int_equal(s.len, sizeof(passthrough) - 1);
		assert_memory_equal(s.buf, passthrough, s.len);
		lines = drain(gw);
		r = response(lines, 0);
		assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
		assert_string_equal(json_string_value(json_object_get(json_object_get(r, "result"),
		    "name")), "memory.read_graph");
		assert_non_null(json_object_get(json_object_get(r, "result"), "inputSchema"));
		json_decref(r);
		r = response(lines, 1);
		assert_string_equal(json_string_value(json_object_get(r, "id")), "two");
		assert_string_equal(json_string_value(json_array_get(json_object_get(
		    json_object_get(r, "result"), "tools"), 0)), "memory.create_entities");
		json_decref(r);
		gateway_destroy(&gw);
	}
	/* Byte by byte too. */
	struct gateway *gw = new_gw(all, false, &a);
	struct sink s = { .len = 0 };
	for (size_t i = 0; i < sizeof(out) - 1; i++)
		assert_int_equal(gateway_feed_stdout(gw, out + i, 1, to_sink, &s), ERR_OK);
	assert_int_equal(s.len, sizeof(passthrough) - 1);
	assert_non_null(strstr(drain(gw), "\"id\":\"two\""));
	gateway_destroy(&gw);
}

static void
feed_str(struct gateway *gw, const char *req)
{
	struct sink s = { .len = 0 };
	char line[8192];
	int n = snprintf(line, sizeof(line), GATEWAY_MARKER "%s\n", req);
	assert_int_equal(gateway_feed_stdout(gw, line, (size_t)n, to_sink, &s), ERR_OK);
	assert_int_equal(s.len, 0);
}

static const char *
err_code(const json_t *r)
{
	return json_string_value(json_object_get(json_object_get(r, "error"), "code"));
}

static void
test_allowlist(void **state)
{
	static const char *const some[] = { "memory.read_*", "memory.search_*", NULL };
	struct audit_log a = { .answer = ERR_OK };
	struct gateway *gw = new_gw(some, false, &a);
	json_t *r, *tools;
	(void)state;

	feed_str(gw, "{\"id\":1,\"method\":\"tools.call\",\"params\":{\"name\":\"memory.create_entities\","
	    "\"args\":{\"entities\":[]}}}");
	r = response(drain(gw), 0);
	assert_string_equal(err_code(r), "denied");
	json_decref(r);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.outcome, "denied");
	assert_string_equal(a.server, "memory");
	assert_string_equal(a.tool, "create_entities");

	feed_str(gw, "{\"id\":2,\"method\":\"tools.list\",\"params\":{}}");
	r = response(drain(gw), 0);
	tools = json_object_get(json_object_get(r, "result"), "tools");
	assert_int_equal(json_array_size(tools), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(tools, 0), "name")),
	    "memory.read_graph");
	json_decref(r);

	feed_str(gw, "{\"id\":3,\"method\":\"tools.describe\",\"params\":{\"name\":\"memory.delete_entities\"}}");
	r = response(drain(gw), 0);
	assert_string_equal(err_code(r), "not_found");
	json_decref(r);
	gateway_destroy(&gw);

	/* No allowlist: nothing. */
	gw = new_gw(NULL, false, &a);
	feed_str(gw, "{\"id\":4,\"method\":\"tools.call\",\"params\":{\"name\":\"memory.read_graph\"}}");
	r = response(drain(gw), 0);
	assert_string_equal(err_code(r), "denied");
	json_decref(r);
	gateway_destroy(&gw);
	assert_true(gateway_is_allowed((const char *const[]){ "*", NULL }, "a.b"));
	assert_false(gateway_is_allowed((const char *const[]){ "memory.*", NULL }, "memoryx.b"));
}

/* True when `key` appears anywhere in `v` (as an object key). */
static bool
has_key(const json_t *v, const char *key)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (has_key(x, key))
				return true;
		return false;
	}
	json_object_foreach((json_t *)v, k, x)
		if (strcmp(k, key) == 0 || has_key(x, key))
			return true;
	return false;
}

/* detail "full" is lean: no "$schema", no "additionalProperties": false, no
 * title restating the name, only non-default annotations — but every
 * property, description, type and required list the real server sent; and an
 * exact "server.tool" query ranks that tool first. */
static void
test_full_is_lean(void **state)
{
	static const char *const all[] = { "memory.*", NULL };
	struct audit_log a = { 0 };
	struct gateway *gw = new_gw(all, false, &a);
	json_t *r, *t, *in, *ent, *ann, *found;
	char why[256];
	(void)state;

	feed_str(gw, "{\"id\":1,\"method\":\"tools.describe\",\"params\":{\"name\":\"memory.create_entities\"}}");
	r = response(drain(gw), 0);
	t = json_object_get(r, "result");
	assert_string_equal(json_string_value(json_object_get(t, "name")), "memory.create_entities");
	assert_false(has_key(t, "$schema"));
	assert_false(has_key(t, "additionalProperties"));
	assert_null(json_object_get(t, "title"));		/* "Create Entities" */
	assert_null(json_object_get(t, "execution"));
	assert_non_null(json_object_get(t, "description"));
	in = json_object_get(t, "inputSchema");
	assert_string_equal(json_string_value(json_object_get(in, "type")), "object");
	assert_string_equal(json_string_value(json_array_get(json_object_get(in, "required"), 0)),
	    "entities");
	ent = json_object_get(json_object_get(json_object_get(json_object_get(in, "properties"),
	    "entities"), "items"), "properties");
	assert_int_equal(json_object_size(ent), 3);
	assert_non_null(json_object_get(json_object_get(ent, "observations"), "description"));
	assert_non_null(json_object_get(t, "outputSchema"));
	/* readOnlyHint false, idempotentHint false are defaults; these are not */
	ann = json_object_get(t, "annotations");
	assert_true(json_is_false(json_object_get(ann, "destructiveHint")));
	assert_true(json_is_false(json_object_get(ann, "openWorldHint")));
	assert_null(json_object_get(ann, "readOnlyHint"));
	assert_null(json_object_get(ann, "idempotentHint"));
	json_decref(r);

	/* read-only: destructiveHint is moot and dropped */
	feed_str(gw, "{\"id\":2,\"method\":\"tools.describe\",\"params\":{\"name\":\"memory.search_nodes\"}}");
	r = response(drain(gw), 0);
	ann = json_object_get(json_object_get(r, "result"), "annotations");
	assert_true(json_is_true(json_object_get(ann, "readOnlyHint")));
	assert_true(json_is_true(json_object_get(ann, "idempotentHint")));
	assert_null(json_object_get(ann, "destructiveHint"));
	json_decref(r);

	found = gateway_search(gw, "memory.search_nodes memory.open_nodes", "full", 2, why, sizeof(why));
	assert_non_null(found);
	assert_int_equal(json_array_size(found), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(found, 0), "name")),
	    "memory.search_nodes");
	assert_string_equal(json_string_value(json_object_get(json_array_get(found, 1), "name")),
	    "memory.open_nodes");
	json_decref(found);
	gateway_destroy(&gw);
}

/* The lean schema drops noise, never names or values. */
static void
test_lean_schema(void **state)
{
	json_t *in = json_loads("{\"$schema\":\"x\",\"type\":\"object\",\"additionalProperties\":false,"
	    "\"properties\":{\"$schema\":{\"type\":\"string\",\"$schema\":\"y\"},"
	    "\"additionalProperties\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
	    "\"mode\":{\"enum\":[{\"additionalProperties\":false}],\"default\":{\"$schema\":1}}},"
	    "\"$defs\":{\"additionalProperties\":{\"additionalProperties\":false}}}", 0, NULL);
	json_t *want = json_loads("{\"type\":\"object\","
	    "\"properties\":{\"$schema\":{\"type\":\"string\"},"
	    "\"additionalProperties\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
	    "\"mode\":{\"enum\":[{\"additionalProperties\":false}],\"default\":{\"$schema\":1}}},"
	    "\"$defs\":{\"additionalProperties\":{}}}", 0, NULL);
	json_t *got = gateway_lean_schema(in);
	(void)state;

	assert_non_null(in);
	assert_non_null(want);
	assert_true(json_equal(got, want));
	assert_null(gateway_lean_schema(NULL));
	json_decref(in);
	json_decref(want);
	json_decref(got);
}

static void
test_destructive_refused(void **state)
{
	static const char *const all[] = { "*", NULL };
	struct audit_log a = { .answer = ERR_OK };
	struct gateway *gw = new_gw(all, true, &a);
	json_t *r;
	(void)state;

	feed_str(gw, "{\"id\":1,\"method\":\"tools.call\",\"params\":{\"name\":\"memory.delete_entities\","
	    "\"args\":{\"entityNames\":[\"x\"]}}}");
	r = response(drain(gw), 0);
	assert_string_equal(err_code(r), "approval_required");
	json_decref(r);
	assert_string_equal(a.outcome, "approval_required");

	/* create_entities says destructiveHint: false; read_graph is read-only. */
	feed_str(gw, "{\"id\":2,\"method\":\"tools.call\",\"params\":{\"name\":\"memory.create_entities\","
	    "\"args\":{\"entities\":[{\"name\":\"gw_probe\",\"entityType\":\"t\",\"observations\":[]}]}}}");
	r = response(drain(gw), 0);
	assert_null(err_code(r));
	json_decref(r);
	assert_string_equal(a.outcome, "ok");
	struct gateway_stats st;
	gateway_stats(gw, &st);
	assert_int_equal(st.calls, 2);
	assert_int_equal(st.refused, 1);
	gateway_destroy(&gw);
}

struct approver_log {
	int asked;
	char name[64], args[256];
	enum err answer;
};

static enum err
approver(void *ctx, const char *name, const json_t *args, char *why, size_t whysz)
{
	struct approver_log *l = ctx;
	char *text = json_dumps(args, JSON_COMPACT);
	l->asked++;
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->args, sizeof(l->args), "%s", text ? text : "");
	free(text);
	snprintf(why, whysz, "denied by tester: keep it");
	return l->answer;
}

static void
test_destructive_approval(void **state)
{
	static const char *const all[] = { "*", NULL };
	struct audit_log a = { .answer = ERR_OK };
	struct approver_log l = { .answer = ERR_DENIED };
	struct gateway_conf c = {
		.job = "job8", .allow = all, .refuse_destructive = true, /* approval wins */
		.audit = record, .audit_ctx = &a, .approve = approver, .approve_ctx = &l,
	};
	enum err e;
	struct gateway *gw = gateway_new(pool, &c, &e);
	struct gateway_stats st;
	json_t *r;
	(void)state;

	feed_str(gw, "{\"id\":1,\"method\":\"tools.call\",\"params\":{\"name\":\"memory.create_entities\","
	    "\"args\":{\"entities\":[{\"name\":\"ap_probe\",\"entityType\":\"t\",\"observations\":[]}]}}}");
	r = response(drain(gw), 0);
	assert_null(err_code(r));
	json_decref(r);
	assert_int_equal(l.asked, 0);	/* destructiveHint: false: nobody is asked */

	feed_str(gw, "{\"id\":2,\"method\":\"tools.call\",\"params\":{\"name\":\"memory.delete_entities\","
	    "\"args\":{\"entityNames\":[\"ap_probe\"]}}}");
	r = response(drain(gw), 0);
	assert_string_equal(err_code(r), "approval_denied");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r, "error"), "message")),
	    "was not approved: denied by tester: keep it"));
	json_decref(r);
	assert_int_equal(l.asked, 1);
	assert_string_equal(l.name, "memory.delete_entities");
	assert_string_equal(l.args, "{\"entityNames\":[\"ap_probe\"]}");
	assert_string_equal(a.outcome, "approval_denied");

	/* Still there: the denied call never reached the server. */
	feed_str(gw, "{\"id\":3,\"method\":\"tools.call\",\"params\":{\"name\":\"memory.open_nodes\","
	    "\"args\":{\"names\":[\"ap_probe\"]}}}");
	r = response(drain(gw), 0);
	char *dump = json_dumps(r, 0);
	assert_non_null(strstr(dump, "\"name\": \"ap_probe\""));
	free(dump);
	json_decref(r);

	l.answer = ERR_OK;
	feed_str(gw, "{\"id\":4,\"method\":\"tools.call\",\"params\":{\"name\":\"memory.delete_entities\","
	    "\"args\":{\"entityNames\":[\"ap_probe\"]}}}");
	r = response(drain(gw), 0);
	assert_null(err_code(r));
	json_decref(r);
	assert_int_equal(l.asked, 2);
	assert_string_equal(a.outcome, "ok");
	gateway_stats(gw, &st);
	assert_int_equal(st.refused, 1);
	gateway_destroy(&gw);
}

struct filter_log {
	int args, results;
};

static enum err
tokenize(void *ctx, enum gateway_filter_dir dir, const char *server, const char *tool,
    json_t **value)
{
	struct filter_log *f = ctx;
	assert_string_equal(server, "memory");
	assert_string_equal(tool, "read_graph");
	if (dir == GATEWAY_FILTER_ARGS) {
		f->args++;
		return ERR_OK;
	}
	f->results++;
	json_decref(*value);
	*value = json_pack("{s:[{s:s, s:s}]}", "content", "type", "text", "text", "[EMAIL_1]");
	return ERR_OK;
}

static void
test_call_audit_and_filter_seam(void **state)
{
	static const char *const all[] = { "memory.*", NULL };
	struct audit_log a = { .answer = ERR_OK };
	struct filter_log f = { 0 };
	struct gateway_conf c = {
		.job = "job7", .allow = all, .audit = record, .audit_ctx = &a,
		.filter = tokenize, .filter_ctx = &f,
	};
	enum err e;
	struct gateway *gw = gateway_new(pool, &c, &e);
	json_t *r;
	(void)state;

	feed_str(gw, "{\"id\":9,\"method\":\"tools.call\",\"params\":{\"name\":\"memory.read_graph\",\"args\":{}}}");
	r = response(drain(gw), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 9);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
	    json_object_get(r, "result"), "content"), 0), "text")), "[EMAIL_1]");
	json_decref(r);
	assert_int_equal(f.args, 1);
	assert_int_equal(f.results, 1);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.outcome, "ok");
	assert_string_equal(a.last.job, "job7");
	assert_true(a.last.request_bytes > 50);
	assert_true(a.last.response_bytes > 10);
	assert_true(a.last.duration_ms >= 0);

	/* A failed audit write fails the call. */
	a.answer = ERR_DB;
	feed_str(gw, "{\"id\":10,\"method\":\"tools.call\",\"params\":{\"name\":\"memory.read_graph\"}}");
	r = response(drain(gw), 0);
	assert_string_equal(err_code(r), "audit");
	json_decref(r);
	gateway_destroy(&gw);
}

static void
test_bad_requests(void **state)
{
	static const char *const all[] = { "*", NULL };
	static const char *bad[] = {
		"not json", "[]", "{\"id\":1}", "{\"id\":1,\"method\":7}",
		"{\"id\":1,\"method\":\"tools.nope\"}", "{\"id\":1,\"method\":\"tools.call\",\"params\":[]}",
		"{\"id\":1,\"method\":\"tools.call\",\"params\":{\"args\":{}}}",
		"{\"id\":1,\"method\":\"tools.call\",\"params\":{\"name\":\"memory.read_graph\",\"args\":3}}",
		"{\"id\":1,\"method\":\"tools.call\",\"params\":{\"name\":\"nodot\"}}",
		"{\"id\":1,\"method\":\"tools.search\",\"params\":{}}",
		"{\"id\":1,\"method\":\"tools.search\",\"params\":{\"query\":\"x\",\"detail\":\"all\"}}",
		"{\"id\":{\"x\":1},\"method\":\"tools.describe\",\"params\":{}}",
	};
	struct audit_log a = { .answer = ERR_OK };
	struct gateway *gw = new_gw(all, false, &a);
	struct sink s = { .len = 0 };
	char *big;
	json_t *r;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		feed_str(gw, bad[i]);
		r = response(drain(gw), 0);
		if (err_code(r) == NULL)
			fail_msg("no error for %s", bad[i]);
		json_decref(r);
	}
	/* An oversized request is skipped with one error, output goes on. */
	big = malloc(GATEWAY_REQUEST_MAX + 64);
	memcpy(big, GATEWAY_MARKER, 12);
	memset(big + 12, 'x', GATEWAY_REQUEST_MAX + 10);
	memcpy(big + 12 + GATEWAY_REQUEST_MAX + 10, "\nok", 3);
	assert_int_equal(gateway_feed_stdout(gw, big, 12 + GATEWAY_REQUEST_MAX + 13, to_sink, &s),
	    ERR_OK);
	free(big);
	assert_int_equal(s.len, 2);
	assert_memory_equal(s.buf, "ok", 2);
	r = response(drain(gw), 0);
	assert_string_equal(err_code(r), "too_big");
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	gateway_destroy(&gw);
}

/* A request of more JSON values than GATEWAY_REQUEST_VALUES is refused
 * before it is parsed (a 4 MiB line of empty objects parsed to ~300 MB);
 * string contents do not count. */
static void
test_request_values_capped(void **state)
{
	static const char *const all[] = { "*", NULL };
	struct audit_log a = { .answer = ERR_OK };
	struct gateway *gw = new_gw(all, false, &a);
	size_t n = GATEWAY_REQUEST_VALUES + 10, len = 0;
	size_t cap = 64 + 3 * n;
	char *req = malloc(cap);
	json_t *r;
	(void)state;

	assert_non_null(req);
	len += (size_t)snprintf(req, cap, "%s{\"id\":1,\"method\":\"nope\",\"params\":{\"x\":[",
	    GATEWAY_MARKER);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(req + len, cap - len, "%s{}", i ? "," : "");
	len += (size_t)snprintf(req + len, cap - len, "]}}\n");
	assert_int_equal(gateway_feed_stdout(gw, req, len, to_sink, &(struct sink){ .len = 0 }),
	    ERR_OK);
	r = response(drain(gw), 0);
	assert_string_equal(err_code(r), "too_big");
	json_decref(r);
	/* commas inside a string are not values: this one is parsed and served */
	len = (size_t)snprintf(req, cap, "%s{\"id\":2,\"method\":\"nope\",\"params\":{\"s\":\"",
	    GATEWAY_MARKER);
	memset(req + len, ',', n);
	len += n;
	len += (size_t)snprintf(req + len, cap - len, "\\\",\"}}\n");
	assert_int_equal(gateway_feed_stdout(gw, req, len, to_sink, &(struct sink){ .len = 0 }),
	    ERR_OK);
	r = response(drain(gw), 0);
	assert_string_equal(err_code(r), "bad_request");	/* unknown method: it was parsed */
	json_decref(r);
	free(req);
	gateway_destroy(&gw);
}

/* Once the job is over (conf.ended set), requests still in its pipe are
 * dropped: no tool runs, nothing is answered or audited, they are counted. */
static void
test_ended_job_served_nothing(void **state)
{
	static const char *const all[] = { "*", NULL };
	struct audit_log a = { .answer = ERR_OK };
	volatile int ended = 0;
	struct gateway_conf c = {
		.job = "job1", .allow = all, .audit = record, .audit_ctx = &a, .ended = &ended,
	};
	struct gateway_stats st;
	enum err e;
	struct gateway *gw = gateway_new(pool, &c, &e);
	(void)state;

	assert_non_null(gw);
	feed_str(gw, "{\"id\":1,\"method\":\"tools.call\",\"params\":{\"name\":\"memory.read_graph\"}}");
	json_decref(response(drain(gw), 0));
	assert_int_equal(a.n, 1);
	ended = 1;
	feed_str(gw, "{\"id\":2,\"method\":\"tools.call\",\"params\":{\"name\":\"memory.read_graph\"}}");
	feed_str(gw, "{\"id\":3,\"method\":\"tools.list\"}");
	assert_int_equal(gateway_stdin_pending(gw), 0);
	assert_int_equal(a.n, 1);
	gateway_stats(gw, &st);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.calls, 1);
	gateway_destroy(&gw);
}

/* A denied name the job chose, cut to the audit record's bounds, stays
 * valid UTF-8 (a cut mid-character made the record fail, and the call
 * went unaudited). */
static void
test_audit_names_cut_whole(void **state)
{
	static const char *const none[] = { "nothing.*", NULL };
	struct audit_log a = { .answer = ERR_OK };
	struct gateway *gw = new_gw(none, false, &a);
	char req[4096], name[1024];
	size_t n = 0;
	(void)state;

	for (int i = 0; i < 200; i++)	/* 400 bytes of "é" */
		n += (size_t)snprintf(name + n, sizeof(name) - n, "\xc3\xa9");
	snprintf(req, sizeof(req), "{\"id\":1,\"method\":\"tools.call\",\"params\":"
	    "{\"name\":\"x%s.xy%s\"}}", name, name);
	feed_str(gw, req);
	json_decref(response(drain(gw), 0));
	assert_int_equal(a.n, 1);
	assert_string_equal(a.outcome, "denied");
	assert_true(a.names_utf8);
	/* both bounds fell inside a character: cut before it */
	assert_int_equal(a.server_len, MCP_POOL_NAME_MAX - 1);
	assert_int_equal(a.tool_len, 254);
	gateway_destroy(&gw);
}

static void
test_stdin_closed_and_unread(void **state)
{
	static const char *const all[] = { "*", NULL };
	struct audit_log a = { .answer = ERR_OK };
	struct gateway *gw = new_gw(all, false, &a);
	int p[2];
	(void)state;

	feed_str(gw, "{\"id\":1,\"method\":\"tools.list\"}");
	assert_true(gateway_stdin_pending(gw) > 0);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	assert_int_equal(gateway_write_stdin(gw, p[1]), ERR_IO);	/* SIGPIPE ignored in main */
	close(p[1]);
	assert_int_equal(gateway_stdin_pending(gw), 0);
	gateway_destroy(&gw);

	/* A job that never reads gets ERR_TOOBIG once the queue is full. */
	gw = new_gw(all, false, &a);
	enum err e = ERR_OK;
	for (int i = 0; i < GATEWAY_CALLS_MAX + 1 && e == ERR_OK; i++) {
		static const char req[] = GATEWAY_MARKER "{\"id\":1,\"method\":\"tools.list\"}\n";
		struct sink s = { .len = 0 };
		e = gateway_feed_stdout(gw, req, sizeof(req) - 1, to_sink, &s);
	}
	assert_int_equal(e, ERR_TOOBIG);
	gateway_destroy(&gw);
}

/* The real thing end to end: Deno runs a program with worker/prelude.ts
 * preloaded; its stdout feeds the gateway, the gateway's answers go to its
 * stdin, the memory server serves the calls. */
static void
test_prelude_end_to_end(void **state)
{
	static const char program[] =
	    "console.log('start');\n"
	    "const list = await tools.list();\n"
	    "console.log('listed', list.some((t) => t.name === 'memory.read_graph'));\n"
	    "await mcp.memory.create_entities({ entities: [{ name: 'e2e_a', entityType: 't', observations: ['o'] }] });\n"
	    "const g = await mcp.memory.read_graph();\n"
	    "console.log('graph', g.entities.some((e) => e.name === 'e2e_a'));\n"
	    "const found = await tools.search('knowledge graph read', { detail: 'name' });\n"
	    "console.log('search', found[0]);\n"
	    "try { await mcp.memory.delete_entities({ entityNames: ['e2e_a'] }); console.log('deleted'); }\n"
	    "catch (e) { console.log('refused', e.code); }\n"
	    "const [a, b] = await Promise.all([tools.describe('memory.read_graph'), tools.describe('memory.search_nodes')]);\n"
	    "console.log('parallel', a.name, b.name, typeof b.inputSchema);\n"
	    "try { await mcp.nothere.tool(); } catch (e) { console.log('missing', e.code); }\n";
	static const char expect[] = "start\nlisted true\ngraph true\nsearch memory.read_graph\n"
	    "refused approval_required\nparallel memory.read_graph memory.search_nodes object\n"
	    "missing denied\n";
	static const char *const allow[] = { "memory.*", NULL };
	const char *root = getenv("SLUICE_ROOT");
	char deno[512], prelude[600], main_ts[128], denodir[128], envdir[160];
	struct audit_log a = { .answer = ERR_OK };
	struct gateway *gw = new_gw(allow, true, &a);
	struct sink s = { .len = 0 };
	int in[2], out[2], st;
	pid_t pid;
	FILE *f;
	(void)state;

	root = root && root[0] ? root : ".";
	if (getenv("SLUICE_DENO") != NULL && getenv("SLUICE_DENO")[0] != '\0')
		snprintf(deno, sizeof(deno), "%s", getenv("SLUICE_DENO"));
	else	/* where common/paths.c looks */
		snprintf(deno, sizeof(deno), "%s/node_modules/.bin/deno", root);
	snprintf(prelude, sizeof(prelude), "--preload=%s/worker/prelude.ts", root);
	snprintf(main_ts, sizeof(main_ts), "%s/main.ts", tmpdir);
	snprintf(denodir, sizeof(denodir), "%s/deno", tmpdir);
	snprintf(envdir, sizeof(envdir), "DENO_DIR=%s", denodir);
	f = fopen(main_ts, "w");
	fputs(program, f);
	fclose(f);
	char allow_r[128], allow_w[128];
	snprintf(allow_r, sizeof(allow_r), "--allow-read=%s", tmpdir);
	snprintf(allow_w, sizeof(allow_w), "--allow-write=%s", tmpdir);
	/* The runner's flags (worker/runner.c), plus the preload. */
	char *argv[] = { "deno", "run", "--quiet", "--no-remote", "--no-npm", "--cached-only",
	    "--no-config", "--no-lock", "--no-prompt", allow_r, allow_w, prelude, main_ts, NULL };
	char *envp[] = { envdir, "NO_COLOR=1", "DENO_NO_UPDATE_CHECK=1", NULL };
	posix_spawn_file_actions_t fa;
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	assert_int_equal(posix_spawn(&pid, deno, &fa, NULL, argv, envp), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	assert_int_equal(gateway_pump(gw, out[0], in[1], to_sink, &s, NULL), ERR_OK);
	close(out[0]);
	close(in[1]);
	waitpid(pid, &st, 0);
	s.buf[s.len] = '\0';
	assert_string_equal(s.buf, expect);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(a.n, 4);	/* create, read, delete (refused), nothere (denied) */
	gateway_destroy(&gw);
	unlink(main_ts);
	int rc = posix_spawnp(&pid, "rm", NULL, NULL, (char *[]){ "rm", "-rf", denodir, NULL }, envp);
	if (rc == 0)
		waitpid(pid, &st, 0);
}

/* A broken server costs only the jobs that can use it. */
static void
test_broken_server_isolated(void **state)
{
	char text[256];
	struct audit_log a = { .answer = ERR_OK };
	enum err e;
	json_t *r;
	struct mcp_pool *mixed;
	(void)state;

	mixed = memory_pool("\"ghost\": {\"command\": \"/nonexistent/ghost\"},", "memory2.jsonl");
	assert_non_null(mixed);

	static const char *const only_memory[] = { "memory.*", NULL };
	struct gateway_conf c = { .job = "j", .allow = only_memory, .audit = record, .audit_ctx = &a };
	struct gateway *gw = gateway_new(mixed, &c, &e);
	feed_str(gw, "{\"id\":1,\"method\":\"tools.list\"}");
	r = response(drain(gw), 0);
	assert_int_equal(json_array_size(json_object_get(json_object_get(r, "result"), "unavailable")), 0);
	assert_true(json_array_size(json_object_get(json_object_get(r, "result"), "tools")) > 5);
	json_decref(r);
	gateway_destroy(&gw);

	static const char *const everything[] = { "*", NULL };
	c.allow = everything;
	gw = gateway_new(mixed, &c, &e);
	/* A call lists only its own server... */
	feed_str(gw, "{\"id\":2,\"method\":\"tools.call\",\"params\":{\"name\":\"memory.read_graph\"}}");
	r = response(drain(gw), 0);
	assert_non_null(json_object_get(r, "result"));
	json_decref(r);
	/* ...and the listing names the broken one. */
	feed_str(gw, "{\"id\":3,\"method\":\"tools.list\"}");
	r = response(drain(gw), 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(r,
	    "result"), "unavailable"), 0)), "ghost");
	json_decref(r);
	gateway_destroy(&gw);
	mcp_pool_destroy(&mixed);
	snprintf(text, sizeof(text), "%s/memory2.jsonl", tmpdir);
	unlink(text);
}

/* detail "signature" over the real servers' tools: nested arrays of objects
 * (server-memory), optional and defaulted arguments, unions inside arrays
 * (server-filesystem), enums, defaults and tools without an output schema
 * (server-everything); through tools.search on the wire as well. */
static void
test_signature_real_servers(void **state)
{
	static const char *const all[] = { "*", NULL };
	static const struct { const char *name, *want; } cases[] = {
		{ "memory.create_entities", "memory.create_entities(args: {entities: {name: string; "
		    "entityType: string; observations: string[]}[]}): {entities: {name: string; entityType: "
		    "string; observations: string[]}[]} // Create multiple new entities in the knowledge graph" },
		{ "memory.delete_entities", "memory.delete_entities(args: {entityNames: string[]}): "
		    "{success: boolean; message: string} [destructive] // Delete multiple entities and their "
		    "associated relations from the knowledge graph" },
		{ "memory.read_graph", "memory.read_graph(): {entities: {name: string; entityType: string; "
		    "observations: string[]}[]; relations: {from: string; to: string; relationType: string}[]} "
		    "// Read the entire knowledge graph" },
		{ "filesystem.read_text_file", "filesystem.read_text_file(args: {path: string; tail?: number; "
		    "head?: number}): {content: string} // Read the complete contents of a file from the file "
		    "system as text." },
		{ "filesystem.edit_file", "filesystem.edit_file(args: {path: string; edits: {oldText: string; "
		    "newText: string}[]; dryRun?: boolean = false}): {content: string} [destructive] // Make "
		    "line-based edits to a text file." },
		{ "filesystem.list_directory_with_sizes", "filesystem.list_directory_with_sizes(args: {path: "
		    "string; sortBy?: \"name\" | \"size\" = \"name\"}): {content: string} // Get a detailed listing "
		    "of all files and directories in a specified path, including sizes." },
		{ "filesystem.read_media_file", "filesystem.read_media_file(args: {path: string}): {content: "
		    "({type: \"image\" | \"audio\"; data: string; mimeType: string} | {type: \"resource\"; "
		    "resource: {uri: string; mimeType?: string; blob: string}})[]} // Read a file and return it "
		    "as a base64-encoded content block with its MIME type." },
		{ "everything.get-annotated-message", "everything.get-annotated-message(args: {messageType: "
		    "\"error\" | \"success\" | \"debug\"; includeImage?: boolean = false}): text // Demonstrates "
		    "how annotations can be used to provide metadata about content." },
		{ "everything.trigger-long-running-operation", "everything.trigger-long-running-operation("
		    "args?: {duration?: number = 10; steps?: number = 5}): text // Demonstrates a long running "
		    "operation with progress updates." },
		{ "everything.get-structured-content", "everything.get-structured-content(args: {location: "
		    "\"New York\" | \"Chicago\" | \"Los Angeles\"}): {temperature: number; conditions: string; "
		    "humidity: number} // Returns structured content along with an output schema for client "
		    "data validation" },
		{ "everything.gzip-file-as-resource", "everything.gzip-file-as-resource(args?: {name?: string "
		    "= \"README.md.gz\"; data?: string = \"https://raw.githubusercontent.com/modelc\xe2\x80\xa6\"; "
		    "outputType?: \"resourceLink\" | \"resource\" = \"resourceLink\"}): text // Compresses a single "
		    "file using gzip compression." },
	};
	const char *root = getenv("SLUICE_ROOT");
	char before[1024], why[256];
	struct audit_log a = { .answer = ERR_OK };
	struct mcp_pool *three;
	struct gateway *gw;
	enum err e;
	json_t *found, *r;
	(void)state;

	snprintf(before, sizeof(before), "\"filesystem\": {\"command\": \"node\", \"args\": "
	    "[\"%s/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js\", \"%s\"]}, "
	    "\"everything\": {\"command\": \"node\", \"args\": "
	    "[\"%s/node_modules/@modelcontextprotocol/server-everything/dist/index.js\", \"stdio\"]},",
	    root && root[0] ? root : ".", tmpdir, root && root[0] ? root : ".");
	three = memory_pool(before, "memory3.jsonl");
	assert_non_null(three);
	struct gateway_conf c = { .job = "j", .allow = all, .audit = record, .audit_ctx = &a };
	gw = gateway_new(three, &c, &e);
	assert_non_null(gw);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		found = gateway_search(gw, cases[i].name, "signature", 1, why, sizeof(why));
		assert_non_null(found);
		assert_int_equal(json_array_size(found), 1);
		assert_string_equal(json_string_value(json_array_get(found, 0)), cases[i].want);
		json_decref(found);
	}
	/* Every tool of the three renders, shorter than its lean definition. */
	found = gateway_search(gw, "", "signature", 50, why, sizeof(why));
	assert_true(json_array_size(found) > 30);
	for (size_t i = 0; i < json_array_size(found); i++) {
		const char *sig = json_string_value(json_array_get(found, i));
		char name[128];
		assert_non_null(sig);
		sig = sig ? sig : "";	/* (for the compiler: assert does not return) */
		assert_null(strchr(sig, '\n'));
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(sig, "("), sig);
		json_t *full = gateway_search(gw, name, "full", 1, why, sizeof(why));
		char *text = json_dumps(json_array_get(full, 0), JSON_COMPACT);
		assert_true(strlen(sig) < strlen(text));
		free(text);
		json_decref(full);
	}
	json_decref(found);
	/* On the wire: strings, like detail "name". */
	feed_str(gw, "{\"id\":1,\"method\":\"tools.search\",\"params\":{\"query\":\"memory.search_nodes\","
	    "\"detail\":\"signature\",\"limit\":1}}");
	r = response(drain(gw), 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(r, "result"),
	    "tools"), 0)), "memory.search_nodes(args: {query: string}): {entities: {name: string; entityType: "
	    "string; observations: string[]}[]; relations: {from: string; to: string; relationType: "
	    "string}[]} // Search for nodes in the knowledge graph based on a query");
	json_decref(r);
	/* tools.describe stays "full". */
	feed_str(gw, "{\"id\":2,\"method\":\"tools.describe\",\"params\":{\"name\":\"memory.search_nodes\"}}");
	r = response(drain(gw), 0);
	assert_non_null(json_object_get(json_object_get(r, "result"), "inputSchema"));
	json_decref(r);
	gateway_destroy(&gw);
	mcp_pool_destroy(&three);
	snprintf(before, sizeof(before), "%s/memory3.jsonl", tmpdir);
	unlink(before);
}

/* The signature of a definition given as JSON text; checks the invariants
 * every signature keeps (bounded, one line, valid UTF-8). */
static char *
sig_of(const char *def_json)
{
	json_t *def = json_loads(def_json, 0, NULL);
	char *sig;

	assert_non_null(def);
	sig = gateway_signature("s.t", def);
	json_decref(def);
	assert_non_null(sig);
	assert_true(strlen(sig) <= GATEWAY_SIGNATURE_MAX);
	for (const char *p = sig; *p != '\0'; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	json_t *valid = json_string(sig);	/* NULL unless valid UTF-8 */
	assert_non_null(valid);
	json_decref(valid);
	return sig;
}

static void
expect_sig(const char *def_json, const char *want)
{
	char *sig = sig_of(def_json);
	if (strcmp(sig, want) != 0)
		fail_msg("signature of %s\n  got  %s\n  want %s", def_json, sig, want);
	free(sig);
}

/* The signature of a definition whose inputSchema is n nested levels of
 * `open`, a core, n of `close`; fresh. */
static char *
nested_sig(const char *open, const char *core, const char *close, int n)
{
	size_t lo = strlen(open), lc = strlen(close), len = 0;
	char *t = malloc((size_t)n * (lo + lc) + strlen(core) + 32), *sig;

	assert_non_null(t);
	len = (size_t)snprintf(t, 32, "{\"inputSchema\":");
	for (int i = 0; i < n; i++, len += lo)
		memcpy(t + len, open, lo);
	memcpy(t + len, core, strlen(core));
	len += strlen(core);
	for (int i = 0; i < n; i++, len += lc)
		memcpy(t + len, close, lc);
	memcpy(t + len, "}", 2);
	sig = sig_of(t);
	free(t);
	return sig;
}

/* Shapes the real servers do not send, and hostile ones: never a crash,
 * always bounded, unknown shapes as unknown/object. */
static void
test_signature_shapes(void **state)
{
	char *big, *sig;
	size_t len;
	(void)state;

	/* the type keywords */
	expect_sig("{\"inputSchema\":{\"type\":\"object\",\"properties\":{\"i\":{\"type\":\"integer\"},"
	    "\"n\":{\"type\":[\"string\",\"null\"]},\"c\":{\"const\":\"x\"},\"u\":{\"anyOf\":[{\"type\":"
	    "\"number\"},{\"type\":\"array\",\"items\":{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}}]},"
	    "\"a\":{\"allOf\":[{\"$ref\":\"#/$defs/P\"},{\"type\":\"object\",\"properties\":{\"z\":{}}}]},"
	    "\"m\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"boolean\"}},\"o\":{\"type\":\"object\"},"
	    "\"t\":{\"type\":\"array\"},\"w\":{\"type\":\"weird\"},\"f\":false,\"e\":{\"enum\":[1,2.5,true,null,"
	    "[1,\"a\"],{\"k\":1}]}},\"required\":[\"i\",7,\"c\"],"
	    "\"$defs\":{\"P\":{\"properties\":{\"p\":{\"type\":\"string\"}},\"required\":[\"p\"]}}},"
	    "\"annotations\":{\"readOnlyHint\":true},\"description\":\"Does things, e.g. this. And more.\"}",
	    "s.t(args: {i: number; n?: string | null; c: \"x\"; u?: number | (string | null)[]; "
	    "a?: {p: string} & {z?: unknown}; m?: Record<string, boolean>; o?: object; t?: unknown[]; "
	    "w?: unknown; f?: never; e?: 1 | 2.5 | true | null | [1, \"a\"] | {\xe2\x80\xa6}}): text "
	    "// Does things, e.g. this.");
	/* unannotated tools may be destructive (MCP's default); no description */
	expect_sig("{\"inputSchema\":{\"type\":\"object\"}}", "s.t(): text [destructive]");
	/* input schemas that are not objects, output schemas that are odd */
	expect_sig("{\"inputSchema\":5,\"outputSchema\":\"x\"}", "s.t(args?: unknown): unknown [destructive]");
	expect_sig("{\"inputSchema\":{\"anyOf\":[{\"type\":\"object\",\"properties\":{\"a\":{\"type\":"
	    "\"string\"}},\"required\":[\"a\"]},{\"type\":\"null\"}]},\"outputSchema\":true}",
	    "s.t(args?: {a: string} | null): unknown [destructive]");
	expect_sig("{}", "s.t(args?: unknown): text [destructive]");
	/* names that are not identifiers are quoted, escapes and all */
	expect_sig("{\"inputSchema\":{\"properties\":{\"a b\":{},\"\":{},\"9x\":{},\"q\\\"\\\\\":{},"
	    "\"nl\\n\\u0001\":{\"default\":\"tab\\there\"}}},\"title\":\"Title\\u0007only\"}",
	    "s.t(args?: {\"a b\"?: unknown; \"\"?: unknown; \"9x\"?: unknown; \"q\\\"\\\\\"?: unknown; "
	    "\"nl\\u000a\\u0001\"?: unknown = \"tab\\u0009here\"}): text [destructive] // Title only");
	/* local $refs, including cycles: resolved up to the depth bound (a
	 * $ref past it is unknown) */
	expect_sig("{\"inputSchema\":{\"$ref\":\"#/$defs/N\",\"$defs\":{\"N\":{\"type\":\"object\","
	    "\"properties\":{\"next\":{\"$ref\":\"#/$defs/N\"},\"v\":{\"$ref\":\"#/nope\"},"
	    "\"r\":{\"$ref\":\"http://x\"},\"s\":{\"$ref\":\"#/$defs/a~1b~0\"}}},\"a/b~\":{\"type\":\"string\"}}},"
	    "\"annotations\":{\"destructiveHint\":false}}",
	    "s.t(args?: {next?: {next?: {next?: {next?: unknown; v?: unknown; r?: unknown; s?: unknown}; "
	    "v?: unknown; r?: unknown; s?: string}; v?: unknown; r?: unknown; s?: string}; v?: unknown; "
	    "r?: unknown; s?: string}): text");

	/* deep nesting: objects and arrays past the bound end in object / unknown[] */
	sig = nested_sig("{\"type\":\"object\",\"properties\":{\"a\":", "{\"type\":\"string\"}", "}}", 500);
	assert_non_null(strstr(sig, "{a?: {a?: object}}}"));
	assert_null(strstr(sig, "string"));
	free(sig);
	sig = nested_sig("{\"type\":\"array\",\"items\":", "{\"type\":\"string\"}", "}", 1000);
	assert_string_equal(sig, "s.t(args?: unknown[][][][][][][][][]): text [destructive]");
	free(sig);

	/* huge enums and property lists are cut, with a count */
	len = 20000 * 12 + 256;
	big = malloc(len);
	size_t n = (size_t)snprintf(big, len, "{\"inputSchema\":{\"properties\":{\"e\":{\"enum\":[");
	for (int i = 0; i < 20000; i++)
		n += (size_t)snprintf(big + n, len - n, "%s\"v%d\"", i ? "," : "", i);
	snprintf(big + n, len - n, "]}}}}");
	sig = sig_of(big);
	assert_string_equal(sig, "s.t(args?: {e?: \"v0\" | \"v1\" | \"v2\" | \"v3\" | \"v4\" | \"v5\" | "
	    "\"v6\" | \"v7\" | \"v8\" | \"v9\" | \"v10\" | \"v11\" /* +19988 more */}): text [destructive]");
	free(sig);
	n = (size_t)snprintf(big, len, "{\"inputSchema\":{\"properties\":{");
	for (int i = 0; i < 20000; i++)
		n += (size_t)snprintf(big + n, len - n, "%s\"p%d\":{}", i ? "," : "", i);
	snprintf(big + n, len - n, "}}}");
	sig = sig_of(big);
	assert_non_null(strstr(sig, "p31?: unknown; /* +19968 more */}): text"));
	free(sig);

	/* an exponential schema (every branch back to the root) stops at the
	 * length bound, and the cut keeps the safety note and the description */
	expect_sig("{\"inputSchema\":{\"type\":\"object\",\"properties\":{\"x\":{\"$ref\":\"#\"}}}}",
	    "s.t(args?: {x?: {x?: {x?: {x?: object}}}}): text [destructive]");
	n = (size_t)snprintf(big, len, "{\"inputSchema\":{\"anyOf\":[");
	for (int i = 0; i < 8; i++)
		n += (size_t)snprintf(big + n, len - n, "%s{\"type\":\"object\",\"properties\":{\"long_property_"
		    "name_%d\":{\"$ref\":\"#\"}}}", i ? "," : "", i);
	snprintf(big + n, len - n, "]},\"description\":\"%0200d\"}", 0);
	sig = sig_of(big);
	assert_true(strlen(sig) >= GATEWAY_SIGNATURE_MAX - 8);
	assert_non_null(strstr(sig, "\xe2\x80\xa6 [destructive] // 0000"));
	free(sig);
	free(big);

	/* huge literals are cut; a NULL name is refused */
	big = malloc(1 << 20);
	memset(big, 'a', 1 << 20);
	memcpy(big, "{\"inputSchema\":{\"properties\":{\"d\":{\"default\":\"", 46);
	memcpy(big + (1 << 20) - 6, "\"}}}}", 6);
	sig = sig_of(big);
	assert_string_equal(sig, "s.t(args?: {d?: unknown = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xe2\x80\xa6\"}): "
	    "text [destructive]");
	free(sig);
	free(big);
	assert_null(gateway_signature(NULL, NULL));

	/* A cut inside non-ASCII literals never splits a character: for every
	 * offset of the cap in a run of 3-byte characters the line stays valid
	 * UTF-8 (jansson takes it as a string, which search results need). */
	big = malloc(1 << 16);
	for (int shift = 0; shift < 3; shift++) {
		size_t m = (size_t)snprintf(big, 1 << 16, "{\"inputSchema\":{\"properties\":{");
		for (int p = 0; p < 12; p++) {
			m += (size_t)snprintf(big + m, (1 << 16) - m, "%s\"%.*sp%d\":{\"enum\":[", p ? "," : "",
			    shift, "xx", p);
			for (int e = 0; e < 12; e++)
				m += (size_t)snprintf(big + m, (1 << 16) - m, "%s\"%s\"", e ? "," : "",
				    "\u3042\u3042\u3042\u3042\u3042\u3042\u3042\u3042\u3042\u3042\u3042\u3042");
			m += (size_t)snprintf(big + m, (1 << 16) - m, "]}");
		}
		snprintf(big + m, (1 << 16) - m, "}}}");
		sig = sig_of(big);
		json_t *as_json = json_string(sig);
		assert_non_null(as_json);
		json_decref(as_json);
		assert_non_null(strstr(sig, "\xe2\x80\xa6"));	/* it was cut */
		free(sig);
	}
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passthrough_without_requests),
		cmocka_unit_test(test_passthrough_torture),
		cmocka_unit_test(test_requests_split_at_every_offset),
		cmocka_unit_test(test_allowlist),
		cmocka_unit_test(test_full_is_lean),
		cmocka_unit_test(test_lean_schema),
		cmocka_unit_test(test_signature_real_servers),
		cmocka_unit_test(test_signature_shapes),
		cmocka_unit_test(test_destructive_refused),
		cmocka_unit_test(test_destructive_approval),
		cmocka_unit_test(test_call_audit_and_filter_seam),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_request_values_capped),
		cmocka_unit_test(test_ended_job_served_nothing),
		cmocka_unit_test(test_audit_names_cut_whole),
		cmocka_unit_test(test_stdin_closed_and_unread),
		cmocka_unit_test(test_prelude_end_to_end),
		cmocka_unit_test(test_broken_server_isolated),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
