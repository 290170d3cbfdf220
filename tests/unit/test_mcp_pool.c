/*
 * Unit tests for worker/mcp_pool against the real MCP servers in
 * node_modules (@modelcontextprotocol/server-memory and server-everything),
 * run by node.  $SLUICE_ROOT (set by tests/run.sh) locates node_modules;
 * without it the current directory is used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "worker/mcp_pool.h"

static char tmpdir[64];

static const char *
root(void)
{
	const char *r = getenv("SLUICE_ROOT");
	return r && r[0] ? r : ".";
}

/* A pool over the two real servers, with the given "sluice" settings. */
static struct mcp_pool *
real_pool(const char *sluice_opts)
{
	char text[4096], why[256];
	json_error_t je;
	json_t *doc;
	enum err e;
	struct mcp_pool *p;

	snprintf(text, sizeof(text),
	    "{\"mcpServers\": {"
	    " \"memory\": {\"command\": \"node\", \"args\": [\"%s/node_modules/@modelcontextprotocol/server-memory/dist/index.js\"],"
	    "   \"env\": {\"MEMORY_FILE_PATH\": \"%s/memory.jsonl\"}, \"sluice\": %s},"
	    " \"everything\": {\"command\": \"node\", \"args\": [\"%s/node_modules/@modelcontextprotocol/server-everything/dist/index.js\", \"stdio\"],"
	    "   \"env\": {\"SLUICE_TEST_SECRET\": \"only-for-the-server\"}, \"sluice\": %s}}}",
	    root(), tmpdir, sluice_opts, root(), sluice_opts);
	doc = json_loads(text, 0, &je);
	assert_non_null(doc);
	p = mcp_pool_new(doc, &e, why, sizeof(why));
	json_decref(doc);
	if (p == NULL)
		fail_msg("pool: %s", why);
	return p;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-mcp-pool.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char path[128];
	(void)state;
	snprintf(path, sizeof(path), "%s/memory.jsonl", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

static bool
has_tool(const json_t *tools, const char *name)
{
	size_t i;
	json_t *t;
	json_array_foreach(tools, i, t)
		if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
			return true;
	return false;
}

/* The text of the first content item of a tools/call result. */
static const char *
first_text(const json_t *res)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(res, "content"), 0),
	    "text"));
}

static void
expect_config_error(const char *text, const char *needle)
{
	char why[256] = "";
	enum err e = ERR_OK;
	json_t *doc = json_loads(text, 0, NULL);
	struct mcp_pool *p;

	assert_non_null(doc);
	p = mcp_pool_new(doc, &e, why, sizeof(why));
	json_decref(doc);
	assert_null(p);
	assert_int_equal(e, ERR_CONFIG);
	if (strstr(why, needle) == NULL)
		fail_msg("error '%s' does not mention '%s'", why, needle);
}

static void
test_config_errors(void **state)
{
	(void)state;
	expect_config_error("[]", "mcpServers");
	expect_config_error("{\"servers\": {}}", "mcpServers");
	expect_config_error("{\"mcpServers\": {\"a\": {}}}", "mcpServers.a.command");
	expect_config_error("{\"mcpServers\": {\"a\": {\"command\": \"\"}}}", "mcpServers.a.command");
	expect_config_error("{\"mcpServers\": {\"a\": {\"command\": \"x\", \"args\": \"-v\"}}}",
	    "mcpServers.a.args");
	expect_config_error("{\"mcpServers\": {\"a\": {\"command\": \"x\", \"args\": [\"ok\", 3]}}}",
	    "mcpServers.a.args[1]");
	expect_config_error("{\"mcpServers\": {\"a\": {\"command\": \"x\", \"env\": {\"K\": 1}}}}",
	    "mcpServers.a.env");
	expect_config_error("{\"mcpServers\": {\"a\": {\"command\": \"x\", \"env\": {\"K=V\": \"1\"}}}}",
	    "mcpServers.a.env");
	expect_config_error("{\"mcpServers\": {\"web\": {\"url\": \"http://x\"}}}",
	    "mcpServers.web: only stdio");
	expect_config_error("{\"mcpServers\": {\"a b\": {\"command\": \"x\"}}}", "server name");
	expect_config_error("{\"mcpServers\": {\"a\": {\"command\": \"x\", \"sluice\": {\"maxx\": 1}}}}",
	    "mcpServers.a.sluice: unknown key");
	expect_config_error("{\"mcpServers\": {\"a\": {\"command\": \"x\", \"sluice\": {\"max\": 0}}}}",
	    "mcpServers.a.sluice.max");
	expect_config_error("{\"mcpServers\": {\"a\": {\"command\": \"x\", \"sluice\": {\"max\": 1, \"warm\": 2}}}}",
	    "mcpServers.a.sluice.warm");
	expect_config_error("{\"mcpServers\": {\"a\": {\"command\": \"x\", \"sluice\": {\"idle_ms\": \"1\"}}}}",
	    "mcpServers.a.sluice.idle_ms");
}

static void
test_config_file(void **state)
{
	char path[128], why[256];
	enum err e;
	FILE *f;
	struct mcp_pool *p;
	(void)state;

	p = mcp_pool_load("/nonexistent/mcp.json", &e, why, sizeof(why));
	assert_null(p);
	assert_int_equal(e, ERR_CONFIG);
	assert_non_null(strstr(why, "/nonexistent/mcp.json"));

	snprintf(path, sizeof(path), "%s/bad.json", tmpdir);
	f = fopen(path, "w");
	fputs("{\"mcpServers\": {\n  \"a\": {\"command\": \"x\",}\n}}", f);
	fclose(f);
	p = mcp_pool_load(path, &e, why, sizeof(why));
	assert_null(p);
	assert_int_equal(e, ERR_CONFIG);
	assert_non_null(strstr(why, "bad.json:2:"));

	f = fopen(path, "w");
	fputs("{\"mcpServers\": {\"a\": {\"command\": \"x\", \"type\": \"stdio\"}, \"b\": {\"command\": \"y\"}}}", f);
	fclose(f);
	p = mcp_pool_load(path, &e, why, sizeof(why));
	assert_non_null(p);
	assert_int_equal(mcp_pool_count(p), 2);
	assert_string_equal(mcp_pool_name(p, 0), "a");
	assert_string_equal(mcp_pool_name(p, 1), "b");
	assert_null(mcp_pool_name(p, 2));
	assert_int_equal(mcp_pool_open_count(p, "a"), 0);
	mcp_pool_destroy(&p);
	assert_null(p);
	mcp_pool_destroy(&p);
	unlink(path);
}

static void
test_command_not_found(void **state)
{
	char why[256];
	enum err e;
	json_t *doc = json_loads("{\"mcpServers\": {\"ghost\": {\"command\": \"/nonexistent/ghost-server\"}}}",
	    0, NULL), *res = NULL;
	struct mcp_pool *p = mcp_pool_new(doc, &e, why, sizeof(why));
	(void)state;

	json_decref(doc);
	assert_non_null(p);
	e = mcp_pool_call(p, "ghost", "x", NULL, 2000, &res, why, sizeof(why));
	assert_int_not_equal(e, ERR_OK);
	assert_null(res);
	assert_non_null(strstr(why, "ghost"));
	assert_int_equal(mcp_pool_open_count(p, "ghost"), 0);
	assert_int_equal(mcp_pool_call(p, "nobody", "x", NULL, 100, &res, why, sizeof(why)),
	    ERR_NOTFOUND);
	mcp_pool_destroy(&p);
}

static void
test_memory_roundtrip(void **state)
{
	struct mcp_pool *p = real_pool("{\"max\": 1}");
	char why[256];
	json_t *tools = NULL, *res = NULL, *args;
	(void)state;

	assert_int_equal(mcp_pool_tools(p, "memory", &tools, why, sizeof(why)), ERR_OK);
	assert_true(has_tool(tools, "create_entities"));
	assert_true(has_tool(tools, "read_graph"));
	assert_true(has_tool(tools, "delete_entities"));
	json_decref(tools);
	assert_int_equal(mcp_pool_open_count(p, "memory"), 1);

	args = json_loads("{\"entities\": [{\"name\": \"sluice_test_entity\", \"entityType\": \"probe\","
	    " \"observations\": [\"created by test_mcp_pool\"]}]}", 0, NULL);
	assert_int_equal(mcp_pool_call(p, "memory", "create_entities", args, 0, &res, why,
	    sizeof(why)), ERR_OK);
	json_decref(args);
	assert_false(json_is_true(json_object_get(res, "isError")));
	json_decref(res);

	assert_int_equal(mcp_pool_call(p, "memory", "read_graph", NULL, 0, &res, why, sizeof(why)),
	    ERR_OK);
	assert_non_null(first_text(res));
	assert_non_null(strstr(first_text(res), "sluice_test_entity"));
	json_decref(res);
	/* One connection served everything. */
	assert_int_equal(mcp_pool_open_count(p, "memory"), 1);
	mcp_pool_destroy(&p);
}

static void
test_unknown_tool_is_an_error(void **state)
{
	struct mcp_pool *p = real_pool("{}");
	char why[256];
	json_t *res = NULL;
	enum err e;
	(void)state;

	e = mcp_pool_call(p, "everything", "no-such-tool", NULL, 0, &res, why, sizeof(why));
	/* Either a JSON-RPC error or an isError result; the connection stays. */
	assert_true(e == ERR_INVAL || (e == ERR_OK && json_is_true(json_object_get(res, "isError"))));
	json_decref(res);
	res = NULL;
	assert_int_equal(mcp_pool_open_count(p, "everything"), 1);
	mcp_pool_destroy(&p);
}

static void
test_env_reaches_the_server_only(void **state)
{
	struct mcp_pool *p = real_pool("{}");
	char why[256];
	json_t *res = NULL;
	const char *text;
	(void)state;

	setenv("SLUICE_WORKER_ONLY", "worker-secret", 1);
	assert_int_equal(mcp_pool_call(p, "everything", "get-env", NULL, 0, &res, why, sizeof(why)),
	    ERR_OK);
	text = first_text(res);
	assert_non_null(text);
	assert_non_null(strstr(text, "only-for-the-server"));
	assert_null(strstr(text, "worker-secret"));
	assert_null(getenv("SLUICE_TEST_SECRET"));
	json_decref(res);
	unsetenv("SLUICE_WORKER_ONLY");
	mcp_pool_destroy(&p);
}

static void
test_killed_server_is_restarted(void **state)
{
	struct mcp_pool *p = real_pool("{}");
	char why[256];
	json_t *res = NULL, *args = json_pack("{s:s}", "message", "again");
	int pid, pid2;
	enum err e;
	(void)state;

	assert_int_equal(mcp_pool_call(p, "everything", "echo", args, 0, &res, why, sizeof(why)),
	    ERR_OK);
	json_decref(res);
	pid = mcp_pool_debug_pid(p, "everything");
	assert_true(pid > 0);
	kill(pid, SIGKILL);
	usleep(100 * 1000);
	e = mcp_pool_call(p, "everything", "echo", args, 0, &res, why, sizeof(why));
	assert_int_equal(e, ERR_IO);
	assert_null(res);
	assert_non_null(strstr(why, "restarted"));
	assert_int_equal(mcp_pool_open_count(p, "everything"), 0);

	assert_int_equal(mcp_pool_call(p, "everything", "echo", args, 0, &res, why, sizeof(why)),
	    ERR_OK);
	assert_non_null(strstr(first_text(res), "again"));
	json_decref(res);
	pid2 = mcp_pool_debug_pid(p, "everything");
	assert_true(pid2 > 0 && pid2 != pid);
	json_decref(args);
	mcp_pool_destroy(&p);
}

struct killer {
	struct mcp_pool *p;
	int pid;
};

static void *
kill_soon(void *arg)
{
	struct killer *k = arg;
	usleep(300 * 1000);
	kill(k->pid, SIGKILL);
	return NULL;
}

static void
test_server_dies_mid_call(void **state)
{
	struct mcp_pool *p = real_pool("{}");
	char why[256];
	json_t *res = NULL, *args = json_pack("{s:i, s:i}", "duration", 5, "steps", 5);
	struct killer k = { p, 0 };
	pthread_t th;
	int64_t t0;
	enum err e;
	(void)state;

	json_t *sum = json_pack("{s:i,s:i}", "a", 1, "b", 2);
	assert_int_equal(mcp_pool_call(p, "everything", "get-sum", sum, 0, &res, why, sizeof(why)),
	    ERR_OK);
	json_decref(sum);
	json_decref(res);
	res = NULL;
	k.pid = mcp_pool_debug_pid(p, "everything");
	pthread_create(&th, NULL, kill_soon, &k);
	t0 = util_now_ms();
	e = mcp_pool_call(p, "everything", "trigger-long-running-operation", args, 20000, &res, why,
	    sizeof(why));
	pthread_join(th, NULL);
	assert_int_equal(e, ERR_IO);
	assert_null(res);
	assert_true(util_now_ms() - t0 < 3000);
	json_decref(args);
	mcp_pool_destroy(&p);
}

static void
test_call_timeout(void **state)
{
	struct mcp_pool *p = real_pool("{}");
	char why[256];
	json_t *res = NULL, *args = json_pack("{s:i, s:i}", "duration", 10, "steps", 2);
	int64_t t0;
	(void)state;

	json_t *warm = json_pack("{s:s}", "message", "warm");
	assert_int_equal(mcp_pool_call(p, "everything", "echo", warm, 0, &res, why, sizeof(why)),
	    ERR_OK);
	json_decref(warm);
	json_decref(res);
	res = NULL;
	t0 = util_now_ms();
	assert_int_equal(mcp_pool_call(p, "everything", "trigger-long-running-operation", args, 400,
	    &res, why, sizeof(why)), ERR_TIMEOUT);
	assert_true(util_now_ms() - t0 < 2000);
	assert_int_equal(mcp_pool_open_count(p, "everything"), 0);
	json_decref(args);
	args = json_pack("{s:s}", "message", "after timeout");
	assert_int_equal(mcp_pool_call(p, "everything", "echo", args, 0, &res, why, sizeof(why)),
	    ERR_OK);
	json_decref(res);
	json_decref(args);
	mcp_pool_destroy(&p);
}

static void
test_warm_and_idle(void **state)
{
	struct mcp_pool *p = real_pool("{\"max\": 2, \"warm\": 1, \"idle_ms\": 0}");
	char why[256];
	json_t *res = NULL;
	(void)state;

	assert_int_equal(mcp_pool_open_count(p, "memory"), 0);
	mcp_pool_tick(p, util_now_ms());
	mcp_pool_tick(p, util_now_ms());
	assert_int_equal(mcp_pool_open_count(p, "memory"), 1);
	assert_int_equal(mcp_pool_open_count(p, "everything"), 1);
	/* The warm connection serves the call: no second one opens. */
	assert_int_equal(mcp_pool_call(p, "memory", "read_graph", NULL, 0, &res, why, sizeof(why)),
	    ERR_OK);
	json_decref(res);
	assert_int_equal(mcp_pool_open_count(p, "memory"), 1);
	/* Idle beyond idle_ms, but warm keeps one. */
	mcp_pool_tick(p, util_now_ms() + 10);
	assert_int_equal(mcp_pool_open_count(p, "memory"), 1);
	mcp_pool_destroy(&p);

	p = real_pool("{\"max\": 2, \"warm\": 0, \"idle_ms\": 50}");
	assert_int_equal(mcp_pool_call(p, "memory", "read_graph", NULL, 0, &res, why, sizeof(why)),
	    ERR_OK);
	json_decref(res);
	assert_int_equal(mcp_pool_open_count(p, "memory"), 1);
	mcp_pool_tick(p, util_now_ms());
	assert_int_equal(mcp_pool_open_count(p, "memory"), 1);
	mcp_pool_tick(p, util_now_ms() + 1000);
	assert_int_equal(mcp_pool_open_count(p, "memory"), 0);
	mcp_pool_destroy(&p);
}

/* Protocol corners, against tests/mcp/edge_server.mjs. */
static void
test_protocol_corners(void **state)
{
	char text[1024], why[256];
	json_t *doc, *tools = NULL, *res = NULL;
	enum err e;
	struct mcp_pool *p;
	const char *t;
	(void)state;

	snprintf(text, sizeof(text), "{\"mcpServers\": {\"edge\": {\"command\": \"node\", \"args\": "
	    "[\"%s/tests/mcp/edge_server.mjs\"], \"sluice\": {\"call_timeout_ms\": 5000}}}}", root());
	doc = json_loads(text, 0, NULL);
	p = mcp_pool_new(doc, &e, why, sizeof(why));
	json_decref(doc);
	assert_non_null(p);

	/* Three pages merged, noise skipped, the server's requests answered. */
	assert_int_equal(mcp_pool_tools(p, "edge", &tools, why, sizeof(why)), ERR_OK);
	assert_int_equal(json_array_size(tools), 4);
	assert_true(has_tool(tools, "alpha") && has_tool(tools, "gamma") && has_tool(tools, "delta"));
	json_decref(tools);
	assert_int_equal(mcp_pool_call(p, "edge", "answers", NULL, 0, &res, why, sizeof(why)), ERR_OK);
	t = first_text(res);
	assert_non_null(strstr(t, "\"s1\":{\"jsonrpc\":\"2.0\",\"id\":\"s1\",\"result\":{}}"));
	assert_non_null(strstr(t, "\"s2\":{\"jsonrpc\":\"2.0\",\"id\":\"s2\",\"error\":{\"code\":-32601"));
	json_decref(res);

	/* list_changed drops the cache. */
	assert_int_equal(mcp_pool_call(p, "edge", "change", NULL, 0, &res, why, sizeof(why)), ERR_OK);
	json_decref(res);
	assert_int_equal(mcp_pool_tools(p, "edge", &tools, why, sizeof(why)), ERR_OK);
	assert_int_equal(json_array_size(tools), 5);
	assert_true(has_tool(tools, "epsilon"));
	json_decref(tools);

	/* A JSON-RPC error keeps the connection. */
	int pid = mcp_pool_debug_pid(p, "edge");
	assert_int_equal(mcp_pool_call(p, "edge", "nope", NULL, 0, &res, why, sizeof(why)), ERR_INVAL);
	assert_non_null(strstr(why, "unknown tool nope"));
	assert_int_equal(mcp_pool_debug_pid(p, "edge"), pid);

	/* Death in the middle of a reply line: a clean error, then a new process. */
	assert_int_equal(mcp_pool_call(p, "edge", "die_mid_line", NULL, 0, &res, why, sizeof(why)),
	    ERR_IO);
	assert_non_null(strstr(why, "exited with code 3"));
	assert_int_equal(mcp_pool_open_count(p, "edge"), 0);

	/* A line over 16 MiB is refused and the server killed. */
	assert_int_equal(mcp_pool_call(p, "edge", "huge", NULL, 0, &res, why, sizeof(why)), ERR_TOOBIG);
	assert_null(res);
	assert_int_equal(mcp_pool_open_count(p, "edge"), 0);
	assert_int_equal(mcp_pool_call(p, "edge", "answers", NULL, 0, &res, why, sizeof(why)), ERR_OK);
	json_decref(res);
	mcp_pool_destroy(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_command_not_found),
		cmocka_unit_test(test_memory_roundtrip),
		cmocka_unit_test(test_unknown_tool_is_an_error),
		cmocka_unit_test(test_env_reaches_the_server_only),
		cmocka_unit_test(test_killed_server_is_restarted),
		cmocka_unit_test(test_server_dies_mid_call),
		cmocka_unit_test(test_call_timeout),
		cmocka_unit_test(test_warm_and_idle),
		cmocka_unit_test(test_protocol_corners),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
