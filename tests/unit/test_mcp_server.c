/*
 * Unit tests for client/mcp_server: the JSON-RPC surface without a farm
 * (execute_code against a real farm is tests/integ/test_mcp.sh), and the
 * search_tools path over a real gateway + mcp_pool + server-everything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/mcp_server.h"
#include "worker/gateway.h"
#include "worker/mcp_pool.h"

static json_t *
ask(struct mcp_server *s, const char *line)
{
	char *reply = mcp_server_handle(s, line, strlen(line));
	json_t *j = reply ? json_loads(reply, 0, NULL) : NULL;
	if (reply != NULL)
		assert_non_null(j);	/* every reply is valid JSON */
	free(reply);
	return j;
}

/* The first text item of a tools/call result. */
static const char *
result_text(const json_t *r)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(r,
	    "result"), "content"), 0), "text"));
}

static int
error_code(const json_t *r)
{
	return (int)json_integer_value(json_object_get(json_object_get(r, "error"), "code"));
}

static struct mcp_server *
plain(void)
{
	struct mcp_server_conf c = { .broker = "ipc:///nonexistent/sluice-front" };
	char why[128];
	enum err e;
	struct mcp_server *s = mcp_server_new(&c, &e, why, sizeof(why));
	assert_non_null(s);
	return s;
}

static void
test_lifecycle(void **state)
{
	struct mcp_server *s = plain();
	json_t *r, *tools;
	(void)state;

	r = ask(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
	    "{\"protocolVersion\":\"2025-03-26\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "result"),
	    "protocolVersion")), "2025-03-26");
	assert_non_null(json_object_get(json_object_get(json_object_get(r, "result"), "capabilities"),
	    "tools"));
	json_decref(r);
	r = ask(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
	    "{\"protocolVersion\":\"1999-01-01\",\"capabilities\":{}}}");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "result"),
	    "protocolVersion")), "2025-06-18");
	json_decref(r);
	assert_null(ask(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));
	assert_null(ask(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\",\"params\":{}}"));
	r = ask(s, "{\"jsonrpc\":\"2.0\",\"id\":\"p\",\"method\":\"ping\"}");
	assert_string_equal(json_string_value(json_object_get(r, "id")), "p");
	assert_true(json_is_object(json_object_get(r, "result")));
	json_decref(r);
	r = ask(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"logging/setLevel\",\"params\":{\"level\":\"warning\"}}");
	assert_true(json_is_object(json_object_get(r, "result")));
	json_decref(r);
	r = ask(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"logging/setLevel\",\"params\":{\"level\":\"loud\"}}");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "error"), "code")), -32602);
	json_decref(r);
	r = ask(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
	tools = json_object_get(json_object_get(r, "result"), "tools");
	assert_int_equal(json_array_size(tools), 2);
	/* every tool's inputSchema is a valid object schema with its required keys */
	for (size_t i = 0; i < 2; i++) {
		json_t *in = json_object_get(json_array_get(tools, i), "inputSchema");
		assert_string_equal(json_string_value(json_object_get(in, "type")), "object");
		assert_non_null(json_object_get(json_object_get(in, "properties"),
		    json_string_value(json_array_get(json_object_get(in, "required"), 0))));
	}
	/* the timeout default shown is this server's (30000 when not configured) */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(
	    json_object_get(json_array_get(tools, 0), "inputSchema"), "properties"),
	    "timeout_ms"), "default")), 30000);
	assert_string_equal(json_string_value(json_object_get(json_array_get(tools, 0), "name")),
	    "execute_code");
	assert_string_equal(json_string_value(json_object_get(json_array_get(tools, 1), "name")),
	    "search_tools");
	assert_non_null(json_object_get(json_array_get(tools, 0), "inputSchema"));
	json_decref(r);
	mcp_server_destroy(&s);
	assert_null(s);
	mcp_server_destroy(&s);
}

static void
test_bad_input(void **state)
{
	static const struct { const char *in; int code; } cases[] = {
		{ "garbage", -32700 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,", -32700 },
		{ "{\"a\":1,\"a\":2}", -32700 },
		{ "[]", -32600 },
		{ "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", -32600 },
		{ "42", -32600 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1}", -32600 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", -32600 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", -32600 },
		{ "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", -32600 },
		{ "{\"id\":1,\"method\":\"ping\"}", -32600 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/list\"}", -32601 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":[]}", -32602 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{}}", -32602 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"rm_rf\"}}", -32602 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"execute_code\",\"arguments\":{}}}", -32602 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"execute_code\",\"arguments\":{\"code\":\"\"}}}", -32602 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"execute_code\",\"arguments\":{\"code\":\"1\",\"language\":\"cobol\"}}}", -32602 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"execute_code\",\"arguments\":{\"code\":\"1\",\"timeout_ms\":0}}}", -32602 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"execute_code\",\"arguments\":{\"code\":\"1\",\"timeout_ms\":\"5\"}}}", -32602 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"execute_code\",\"arguments\":\"x\"}}", -32602 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"search_tools\",\"arguments\":{}}}", -32602 },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}", -32602 },
	};
	struct mcp_server *s = plain();
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *r = ask(s, cases[i].in);
		if (r == NULL || error_code(r) != cases[i].code)
			fail_msg("%s: expected %d, got %d", cases[i].in, cases[i].code,
			    r ? error_code(r) : 0);
		json_decref(r);
	}
	/* A response sent to us is dropped silently. */
	assert_null(ask(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}"));
	/* search_tools without a catalogue: a tool error, not a crash. */
	json_t *r = ask(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"search_tools\",\"arguments\":{\"query\":\"x\"}}}");
	assert_true(json_is_true(json_object_get(json_object_get(r, "result"), "isError")));
	json_decref(r);
	mcp_server_destroy(&s);
}

static void
test_run_loop(void **state)
{
	struct mcp_server *s = plain();
	int in[2], out[2];
	char *big, buf[8192];
	size_t biglen = MCP_SERVER_LINE_MAX + 100;
	ssize_t n;
	size_t got = 0;
	(void)state;

	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	fcntl(in[1], F_SETPIPE_SZ, 1 << 20);
	if (fork() == 0) {
		/* Writer: a huge line, blank lines, CRLF, then a ping. */
		close(in[0]);
		big = malloc(biglen);
		memset(big, 'x', biglen);
		(void)!write(in[1], big, biglen);
		static const char tail[] = "\n\n  \r\n{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}\r\n";
		(void)!write(in[1], tail, sizeof(tail) - 1);
		_exit(0);
	}
	close(in[1]);
	assert_int_equal(mcp_server_run(s, in[0], out[1]), 0);
	close(out[1]);
	while ((n = read(out[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	assert_non_null(strstr(buf, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700"));
	assert_non_null(strstr(buf, "\"id\":7,\"result\":{}}\n"));
	assert_int_equal(strchr(strchr(buf, '\n') + 1, '\n') - buf + 1, (long)got);	/* 2 lines */
	close(in[0]);
	close(out[0]);
	mcp_server_destroy(&s);
}

static enum err
no_audit(void *ctx, const struct gateway_audit *rec)
{
	(void)ctx;
	(void)rec;
	return ERR_OK;
}

static json_t *
search(void *ctx, const char *query, const char *detail, int limit, char *why, size_t whysz)
{
	return gateway_search(ctx, query, detail, limit, why, whysz);
}

static void
test_search_tools_real_catalogue(void **state)
{
	static const char *const allow[] = { "everything.get-*", "everything.echo", NULL };
	const char *root = getenv("SLUICE_ROOT");
	char cfg[1024], why[256];
	json_t *doc, *r;
	const char *text;
	enum err e;
	struct mcp_pool *pool;
	struct gateway *gw;
	(void)state;

	snprintf(cfg, sizeof(cfg), "{\"mcpServers\": {\"everything\": {\"command\": \"node\", \"args\": "
	    "[\"%s/node_modules/@modelcontextprotocol/server-everything/dist/index.js\", \"stdio\"]}}}",
	    root && root[0] ? root : ".");
	doc = json_loads(cfg, 0, NULL);
	pool = mcp_pool_new(doc, &e, why, sizeof(why));
	json_decref(doc);
	assert_non_null(pool);
	struct gateway_conf gc = { .job = "t", .allow = allow, .audit = no_audit };
	gw = gateway_new(pool, &gc, &e);
	assert_non_null(gw);
	struct mcp_server_conf c = { .broker = "ipc:///nonexistent/x", .search = search, .search_ctx = gw };
	struct mcp_server *s = mcp_server_new(&c, &e, why, sizeof(why));
	assert_non_null(s);

	r = ask(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"search_tools\",\"arguments\":{\"query\":\"sum of two numbers\"}}}");
	text = result_text(r);
	assert_non_null(text);
	assert_memory_equal(text, "everything.get-sum: ", 20);
	json_decref(r);

	r = ask(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"search_tools\",\"arguments\":{\"query\":\"sum\",\"detail\":\"full\",\"limit\":1}}}");
	text = result_text(r);
	assert_non_null(strstr(text, "\"inputSchema\""));
	json_decref(r);

	/* Not allowed, so never found. */
	r = ask(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"search_tools\",\"arguments\":{\"query\":\"long running operation\",\"detail\":\"name\"}}}");
	text = result_text(r);
	assert_null(strstr(text, "trigger-long-running-operation"));
	json_decref(r);

	/* detail "signature": the declaration as one text line, nothing else. */
	r = ask(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"search_tools\",\"arguments\":{\"query\":\"everything.get-sum\","
	    "\"detail\":\"signature\",\"limit\":1}}}");
	text = result_text(r);
	assert_non_null(text);
	assert_string_equal(text, "everything.get-sum(args: {a: number; b: number}): text "
	    "// Returns the sum of two numbers\n");
	json_decref(r);

	r = ask(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":"
	    "{\"name\":\"search_tools\",\"arguments\":{\"query\":\"x\",\"detail\":\"everything\"}}}");
	assert_int_equal(error_code(r), -32602);
	json_decref(r);
	mcp_server_destroy(&s);
	gateway_destroy(&gw);
	mcp_pool_destroy(&pool);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_run_loop),
		cmocka_unit_test(test_search_tools_real_catalogue),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
