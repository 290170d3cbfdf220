/*
 * mcp_server — sluice-mcp's MCP server over stdio (see mcp_server.h).
 *
 * Runs in sluice-mcp, started by an MCP client (an agent).  Trusts nothing on
 * stdin: every line is parsed and checked; bad input gets a JSON-RPC error
 * and the loop goes on.  Programs go to the broker through client_run; the
 * result comes back as MCP content.
 *
 *   stdin  {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":
 *           "execute_code","arguments":{"code":"console.log(1)"}}}\n
 *   stdout {"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text",
 *           "text":"1\n"},{"type":"text","text":"status: ok ..."}],"isError":false}}\n
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "client/client.h"
#include "client/mcp_server.h"
#include "common/log.h"
#include "common/mpjson.h"
#include "common/msg.h"
#include "common/util.h"

#define RPC_PARSE_ERROR		-32700
#define RPC_INVALID_REQUEST	-32600
#define RPC_METHOD_NOT_FOUND	-32601
#define RPC_INVALID_PARAMS	-32602
#define RPC_INTERNAL_ERROR	-32603
#define STDERR_SHOWN_MAX	16384

static const char *const versions[] = { "2025-06-18", "2025-03-26", "2024-11-05" };

struct mcp_server {
	char *broker;
	int default_timeout_ms;
	struct client *client;		/* lazily */
	mcp_server_search_fn search;
	void *search_ctx;
	struct log_limit noise;
};

struct mcp_server *
mcp_server_new(const struct mcp_server_conf *conf, enum err *err, char *why, size_t whysz)
{
	struct mcp_server *s;

	*err = ERR_NOMEM;
	snprintf(why, whysz, "out of memory");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->default_timeout_ms = conf->default_timeout_ms > 0 ? conf->default_timeout_ms : 30000;
	if ((s->broker = strdup(client_endpoint(conf->broker))) == NULL)
		goto fail;
	s->search = conf->search;
	s->search_ctx = conf->search_ctx;
	*err = ERR_OK;
	return s;
fail:
	mcp_server_destroy(&s);
	return NULL;
}

void
mcp_server_destroy(struct mcp_server **sp)
{
	struct mcp_server *s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	client_destroy(&s->client);
	free(s->broker);
	free(s);
	*sp = NULL;
}

/* ---- replies ------------------------------------------------------------ */

static char *
dump(json_t *msg)
{
	char *line = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	return line;
}

static char *
rpc_error(const json_t *id, int code, const char *message)
{
	return dump(json_pack("{s:s, s:O?, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id, "error",
	    "code", code, "message", message));
}

/* `result` is stolen. */
static char *
rpc_result(const json_t *id, json_t *result)
{
	if (result == NULL)
		return rpc_error(id, RPC_INTERNAL_ERROR, "out of memory");
	return dump(json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result));
}

/* A tools/call result: `content` is stolen. */
static json_t *
tool_result(json_t *content, bool is_error)
{
	return content ? json_pack("{s:o, s:b}", "content", content, "isError", is_error) : NULL;
}

static json_t *
text_item(const char *text, size_t len)
{
	size_t clean_len;
	char *clean = util_utf8_clean(text, len, &clean_len);
	json_t *item = clean ? json_pack("{s:s, s:s%}", "type", "text", "text", clean, clean_len) : NULL;
	free(clean);
	return item;
}

/* ---- tools -------------------------------------------------------------- */

/*
 * The two tools as tools/list shows them.  Every word here is in the model's
 * context on every turn, so it is terse: what the tool does, what a program
 * can call, what the arguments mean (docs/BENCHMARKS.md counts it).
 */
static const char tool_defs_json[] =
    "[{\"name\":\"execute_code\","
    "\"description\":\"Run a TypeScript/JavaScript program (Deno) in a fresh sandbox; returns "
    "its stdout. In it, `await mcp.<server>.<tool>(args)` calls an MCP tool (see search_tools) "
    "and returns its structured result; also tools.search(query), tools.describe(name). "
    "Filter data in code; print only what you need.\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
    "\"code\":{\"type\":\"string\"},"
    "\"language\":{\"type\":\"string\",\"enum\":[\"typescript\",\"javascript\"],"
    "\"default\":\"typescript\"},"
    "\"session\":{\"type\":\"string\",\"description\":\"agent session id\"},"
    "\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":86400000,"
    "\"default\":30000},"
    "\"privacy_mode\":{\"type\":\"string\",\"enum\":[\"redact\",\"tokenize\",\"hash\",\"report\"],"
    "\"description\":\"PII/secret hiding in output\"}},"
    "\"required\":[\"code\"]},"
    "\"annotations\":{\"readOnlyHint\":false,\"openWorldHint\":true}},"
    "{\"name\":\"search_tools\","
    "\"description\":\"Find the MCP tools execute_code programs can call; detail signature "
    "gives TS types, full JSON schemas.\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{"
    "\"query\":{\"type\":\"string\",\"description\":\"words; \\\"\\\" lists all; "
    "server.tool names rank first\"},"
    "\"detail\":{\"type\":\"string\",\"enum\":[\"name\",\"description\",\"signature\","
    "\"full\"]},"
    "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":50,\"default\":10}},"
    "\"required\":[\"query\"]},"
    "\"annotations\":{\"readOnlyHint\":true}}]";

/* The definitions, with this server's own default timeout (--timeout). */
static json_t *
tool_defs(const struct mcp_server *s)
{
	json_t *defs = json_loads(tool_defs_json, 0, NULL);
	json_t *tmo = json_object_get(json_object_get(json_object_get(json_object_get(
	    json_array_get(defs, 0), "inputSchema"), "properties"), "timeout_ms"), "default");

	if (tmo != NULL)
		json_integer_set(tmo, s->default_timeout_ms);
	return defs;
}

/* Runs one program on the farm: ERR_OK with a fresh RESULT in *res, or an
 * error with the reason in `why` ("the farm did not run the program: ..."). */
static enum err
farm_run(struct mcp_server *s, const char *code, size_t len, const char *lang, const char *session,
    const char *pmode, json_int_t timeout, struct msg **res, char *why, size_t whysz)
{
	struct msg *sub = msg_new(MSG_SUBMIT);
	char reason[512];
	enum err e;

	if (sub == NULL || msg_set_bin(sub, MSG_F_CODE, code, len) != ERR_OK ||
	    msg_set_str(sub, MSG_F_LANG, lang) != ERR_OK ||
	    msg_set_u64(sub, MSG_F_TIMEOUT_MS, (uint64_t)timeout) != ERR_OK ||
	    (session != NULL && msg_set_str(sub, MSG_F_SESSION, session) != ERR_OK) ||
	    (pmode != NULL && msg_set_str(sub, MSG_F_PRIVACY_MODE, pmode) != ERR_OK)) {
		msg_destroy(&sub);
		return ERR_NOMEM;
	}
	if (s->client == NULL && (s->client = client_new(s->broker)) == NULL) {
		msg_destroy(&sub);
		snprintf(why, whysz, "the farm is unavailable: cannot open a socket to the broker");
		return ERR_IO;
	}
	e = client_run(s->client, sub, 10000, (int)timeout + 60000, res, reason, sizeof(reason));
	msg_destroy(&sub);
	if (e != ERR_OK) {
		/* A reply may still come for this request; start afresh. */
		client_destroy(&s->client);
		snprintf(why, whysz, "the farm did not run the program: %.400s", reason);
	}
	return e;
}

/* search_tools without an injected catalogue: a tiny farm job calls the
 * prelude's tools.search, so the answer is the catalogue of the workers
 * (their --mcp-config and --mcp-allow), exactly what execute_code programs
 * can reach.  A fresh array, or NULL with `why`. */
static json_t *
farm_search(struct mcp_server *s, const char *query, const char *detail, int limit, char *why,
    size_t whysz)
{
	json_t *q = json_string(query), *d = json_string(detail), *found = NULL;
	char *qs = q ? json_dumps(q, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
	char *ds = d ? json_dumps(d, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL, *code = NULL;
	struct msg *res = NULL;
	size_t olen;
	int n = -1;

	snprintf(why, whysz, "out of memory");
	if (qs != NULL && ds != NULL)
		n = asprintf(&code, "const found = await tools.search(%s, { detail: %s, limit: %d });\n"
		    "console.log(JSON.stringify(found));\n", qs, ds, limit > 0 ? limit : 10);
	json_decref(q);
	json_decref(d);
	free(qs);
	free(ds);
	if (n < 0 || farm_run(s, code, (size_t)n, "js", NULL, NULL, 20000, &res, why, whysz) != ERR_OK)
		goto out;
	const void *out = msg_bin(res, MSG_F_STDOUT, &olen);
	if (strcmp(msg_str(res, MSG_F_STATUS, "?"), "ok") != 0) {
		size_t elen;
		const char *err = msg_bin(res, MSG_F_STDERR, &elen);
		const char *nl = err ? memchr(err, '\n', elen) : NULL;
		snprintf(why, whysz, "the farm's tool search failed (%s%s%s): %.*s",
		    msg_str(res, MSG_F_STATUS, "?"), msg_has(res, MSG_F_REASON) ? ", " : "",
		    msg_str(res, MSG_F_REASON, ""), err ? (int)(nl ? nl - err : (long)elen) : 0,
		    err ? err : "");
		goto out;
	}
	if (out == NULL || (found = json_loadb(out, olen, 0, NULL)) == NULL || !json_is_array(found)) {
		json_decref(found);
		found = NULL;
		snprintf(why, whysz, "the farm's tool search returned no catalogue");
	}
out:
	free(code);
	msg_destroy(&res);
	return found;
}

/* Bytes as a short figure: "812 B", "3.1 KB", "583 KB", "1.2 MB". */
static void
fmt_bytes(char *buf, size_t sz, long long b)
{
	if (b < 1024)
		snprintf(buf, sz, "%lld B", b);
	else if (b < 10 * 1024)
		snprintf(buf, sz, "%.1f KB", (double)b / 1024);
	else if (b < 1024 * 1024)
		snprintf(buf, sz, "%lld KB", (b + 512) / 1024);
	else
		snprintf(buf, sz, "%.1f MB", (double)b / (1024 * 1024));
}

/* The result's per-tool report as one line, "tools: memory.search_nodes 2
 * calls, 96 B in, 5.0 KB out, 31 ms; ...", or NULL when the job called no
 * tool (or on out-of-memory).  Fresh. */
static char *
tool_line(const struct msg *res)
{
	size_t len, i, cap = 4096, n;
	const void *raw = msg_bin(res, MSG_F_TOOL_CALLS, &len);
	json_t *calls = raw ? mpjson_decode(raw, len) : NULL, *t;
	char *line = NULL, in[32], out[32];

	if (json_array_size(calls) == 0 || (line = malloc(cap)) == NULL) {
		json_decref(calls);
		return NULL;
	}
	n = (size_t)snprintf(line, cap, "tools:");
	json_array_foreach(calls, i, t) {
		json_int_t c = json_integer_value(json_object_get(t, "calls"));
		json_int_t e = json_integer_value(json_object_get(t, "errors"));
		fmt_bytes(in, sizeof(in), json_integer_value(json_object_get(t, "bytes_in")));
		fmt_bytes(out, sizeof(out), json_integer_value(json_object_get(t, "bytes_out")));
		if (n < cap)
			n += (size_t)snprintf(line + n, cap - n, "%s %.128s %lld call%s%s%.0lld%s, "
			    "%s in, %s out, %lld ms", i ? ";" : "",
			    json_string_value(json_object_get(t, "tool")), (long long)c, c == 1 ? "" : "s",
			    e ? " (" : "", (long long)e, e ? " failed)" : "", in, out,
			    (long long)json_integer_value(json_object_get(t, "ms")));
	}
	json_decref(calls);
	return line;
}

static char *
execute_code(struct mcp_server *s, const json_t *id, const json_t *args)
{
	const json_t *code = json_object_get(args, "code"), *lang = json_object_get(args, "language");
	const json_t *session = json_object_get(args, "session"), *tmo = json_object_get(args, "timeout_ms");
	const json_t *pmode = json_object_get(args, "privacy_mode");
	const char *l = "ts";
	json_int_t timeout = s->default_timeout_ms;
	struct msg *res = NULL;
	json_t *content;
	char why[512], *status_text = NULL, *reply;
	enum err e;

	if (!json_is_string(code) || json_string_length(code) == 0 ||
	    json_string_length(code) > msg_field_max(MSG_F_CODE))
		return rpc_error(id, RPC_INVALID_PARAMS, "execute_code: code must be a non-empty "
		    "string of at most 1 MiB");
	if (lang != NULL) {
		const char *v = json_string_value(lang);
		if (v != NULL && (strcmp(v, "typescript") == 0 || strcmp(v, "ts") == 0))
			l = "ts";
		else if (v != NULL && (strcmp(v, "javascript") == 0 || strcmp(v, "js") == 0))
			l = "js";
		else
			return rpc_error(id, RPC_INVALID_PARAMS,
			    "execute_code: language must be typescript or javascript");
	}
	if (session != NULL && (!json_is_string(session) ||
	    json_string_length(session) > msg_field_max(MSG_F_SESSION)))
		return rpc_error(id, RPC_INVALID_PARAMS, "execute_code: session must be a string "
		    "of at most 128 bytes");
	if (pmode != NULL && (!json_is_string(pmode) ||
	    json_string_length(pmode) > msg_field_max(MSG_F_PRIVACY_MODE)))
		return rpc_error(id, RPC_INVALID_PARAMS, "execute_code: privacy_mode must be "
		    "redact, tokenize, hash or report");
	if (tmo != NULL) {
		if (!json_is_integer(tmo) || json_integer_value(tmo) < 1 ||
		    json_integer_value(tmo) > (json_int_t)msg_field_max(MSG_F_TIMEOUT_MS))
			return rpc_error(id, RPC_INVALID_PARAMS, "execute_code: timeout_ms must be "
			    "an integer in [1, 86400000]");
		timeout = json_integer_value(tmo);
	}
	e = farm_run(s, json_string_value(code), json_string_length(code), l,
	    session ? json_string_value(session) : NULL, pmode ? json_string_value(pmode) : NULL,
	    timeout, &res, why, sizeof(why));
	if (e == ERR_NOMEM)
		return rpc_error(id, RPC_INTERNAL_ERROR, "out of memory");
	if (e != ERR_OK)
		return rpc_result(id, tool_result(json_pack("[o]", text_item(why, strlen(why))), true));

	const char *status = msg_str(res, MSG_F_STATUS, "?");
	size_t olen, elen;
	const void *out = msg_bin(res, MSG_F_STDOUT, &olen);
	const void *err = msg_bin(res, MSG_F_STDERR, &elen);
	bool ok = strcmp(status, "ok") == 0;
	char *tools = tool_line(res);
	char exit_code[48] = "";
	/* "ok" is exit code 0: said once */
	if (!ok)
		snprintf(exit_code, sizeof(exit_code), " | exit_code: %lld",
		    (long long)msg_i64(res, MSG_F_EXIT_CODE, -1));
	int n = asprintf(&status_text, "status: %s%s | %llu ms | job %s%s%s%s%s%s%s%.*s%s",
	    status, exit_code, (unsigned long long)msg_u64(res, MSG_F_WALL_MS, 0),
	    msg_str(res, MSG_F_ID, "?"),
	    msg_bool(res, MSG_F_TRUNCATED, false) ? " | output truncated" : "",
	    msg_has(res, MSG_F_REASON) ? "\nreason: " : "", msg_str(res, MSG_F_REASON, ""),
	    tools ? "\n" : "", tools ? tools : "",
	    elen ? "\nstderr:\n" : "", (int)(elen > STDERR_SHOWN_MAX ? STDERR_SHOWN_MAX : elen),
	    elen ? (const char *)err : "", elen > STDERR_SHOWN_MAX ? "\n[stderr cut]" : "");
	content = json_array();
	if (content != NULL && olen > 0)
		json_array_append_new(content, text_item(out, olen));
	if (content != NULL && n >= 0)
		json_array_append_new(content, text_item(status_text, (size_t)n));
	free(status_text);
	free(tools);
	reply = rpc_result(id, tool_result(content, !ok));
	msg_destroy(&res);
	return reply;
}

/* A search hit's name and description ("" when absent: a farm's answer is
 * output of a job and checked like any input). */
static const char *
name_of(const json_t *t)
{
	const char *v = json_is_string(t) ? json_string_value(t) :
	    json_string_value(json_object_get(t, "name"));
	return v ? v : "";
}

static const char *
descr_of(const json_t *t)
{
	const char *v = json_string_value(json_object_get(t, "description"));
	return v ? v : "";
}

static char *
search_tools(struct mcp_server *s, const json_t *id, const json_t *args)
{
	const char *q = json_string_value(json_object_get(args, "query"));
	const json_t *detail = json_object_get(args, "detail"), *limit = json_object_get(args, "limit");
	const char *d = detail ? json_string_value(detail) : "description";
	json_t *found, *t;
	char why[512], *text;
	size_t i;
	int n;

	if (q == NULL || d == NULL || (limit != NULL && !json_is_integer(limit)))
		return rpc_error(id, RPC_INVALID_PARAMS, "search_tools: query (string), detail "
		    "(name|description|signature|full) and limit (integer) expected");
	if (strcmp(d, "name") != 0 && strcmp(d, "description") != 0 && strcmp(d, "signature") != 0 &&
	    strcmp(d, "full") != 0)
		return rpc_error(id, RPC_INVALID_PARAMS, "search_tools: detail must be name, "
		    "description, signature or full");
	n = limit ? (int)(json_integer_value(limit) > 50 ? 50 : json_integer_value(limit)) : 0;
	if (n < 0)
		n = 0;
	if (s->search != NULL) {
		if ((found = s->search(s->search_ctx, q, d, n, why, sizeof(why))) == NULL)
			return rpc_error(id, RPC_INVALID_PARAMS, why);
	} else if ((found = farm_search(s, q, d, n, why, sizeof(why))) == NULL) {
		return rpc_result(id, tool_result(json_pack("[o]", text_item(why, strlen(why))), true));
	}
	if (strcmp(d, "full") == 0) {
		text = json_dumps(found, JSON_COMPACT);
	} else {
		/* One line per tool: "server.tool", its signature (both strings)
		 * or "server.tool: description". */
		size_t cap = 1, len = 0;
		json_array_foreach(found, i, t)
			cap += 4 + strlen(name_of(t)) + strlen(descr_of(t));
		if ((text = malloc(cap)) != NULL) {
			text[0] = '\0';
			json_array_foreach(found, i, t) {
				if (json_is_object(t))
					len += (size_t)snprintf(text + len, cap - len, "%s: %s\n",
					    name_of(t), descr_of(t));
				else
					len += (size_t)snprintf(text + len, cap - len, "%s\n", name_of(t));
			}
			if (len == 0)
				snprintf(text, cap, "%s", "");
		}
	}
	json_decref(found);
	if (text == NULL)
		return rpc_error(id, RPC_INTERNAL_ERROR, "out of memory");
	t = text[0] ? text_item(text, strlen(text)) : text_item("(no matching tool)", 18);
	free(text);
	return rpc_result(id, tool_result(json_pack("[o]", t), false));
}

/* ---- dispatch ----------------------------------------------------------- */

static char *
initialize(const json_t *id, const json_t *params)
{
	const char *want = json_string_value(json_object_get(params, "protocolVersion"));
	const char *use = versions[0];

	if (!json_is_object(params) || want == NULL)
		return rpc_error(id, RPC_INVALID_PARAMS, "initialize: protocolVersion expected");
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (strcmp(want, versions[i]) == 0)
			use = versions[i];
	return rpc_result(id, json_pack("{s:s, s:{s:{s:b}, s:{}}, s:{s:s, s:s}, s:s}",
	    "protocolVersion", use, "capabilities", "tools", "listChanged", false, "logging",
	    "serverInfo", "name", "sluice-mcp", "version", "0.1.0",
	    "instructions", "Write one program that does the whole task with execute_code; "
	    "use search_tools to find the MCP tools that program can call."));
}

/* logging/setLevel: a valid RFC 5424 level name is accepted.  sluice-mcp
 * sends no log notifications (its logs go to stderr), so any level holds. */
static char *
set_level(const json_t *id, const json_t *params)
{
	static const char *const levels[] = { "debug", "info", "notice", "warning", "error",
	    "critical", "alert", "emergency" };
	const char *l = json_string_value(json_object_get(params, "level"));

	for (size_t i = 0; l != NULL && i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(l, levels[i]) == 0)
			return rpc_result(id, json_object());
	return rpc_error(id, RPC_INVALID_PARAMS, "logging/setLevel: level must be debug, info, "
	    "notice, warning, error, critical, alert or emergency");
}

char *
mcp_server_handle(struct mcp_server *s, const char *line, size_t len)
{
	json_error_t je;
	json_t *msg = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je), *id, *params;
	const char *method;
	char *reply = NULL;

	if (msg == NULL)
		return rpc_error(NULL, RPC_PARSE_ERROR, "parse error: not a JSON value");
	if (!json_is_object(msg)) {
		reply = rpc_error(NULL, RPC_INVALID_REQUEST, json_is_array(msg) ?
		    "invalid request: batches are not supported" : "invalid request: not an object");
		goto out;
	}
	id = json_object_get(msg, "id");
	method = json_string_value(json_object_get(msg, "method"));
	params = json_object_get(msg, "params");
	if (id != NULL && !json_is_string(id) && !json_is_integer(id)) {
		reply = rpc_error(NULL, RPC_INVALID_REQUEST, "invalid request: id must be a string "
		    "or an integer");
		goto out;
	}
	if (method == NULL) {
		/* A response to us (we send no requests) is dropped; the rest is invalid. */
		if (id == NULL || (json_object_get(msg, "result") == NULL &&
		    json_object_get(msg, "error") == NULL))
			reply = rpc_error(id, RPC_INVALID_REQUEST, "invalid request: no method");
		goto out;
	}
	if (strcmp(json_string_value(json_object_get(msg, "jsonrpc")) ?
	    json_string_value(json_object_get(msg, "jsonrpc")) : "", "2.0") != 0) {
		reply = rpc_error(id, RPC_INVALID_REQUEST, "invalid request: jsonrpc must be \"2.0\"");
		goto out;
	}
	if (params != NULL && !json_is_object(params)) {
		reply = id ? rpc_error(id, RPC_INVALID_PARAMS, "params must be an object") : NULL;
		goto out;
	}
	if (id == NULL)
		goto out;	/* notifications: initialized, cancelled, ... need no answer */
	if (strcmp(method, "initialize") == 0) {
		reply = initialize(id, params);
	} else if (strcmp(method, "ping") == 0) {
		reply = rpc_result(id, json_object());
	} else if (strcmp(method, "logging/setLevel") == 0) {
		reply = set_level(id, params);
	} else if (strcmp(method, "tools/list") == 0) {
		reply = rpc_result(id, json_pack("{s:o}", "tools", tool_defs(s)));
	} else if (strcmp(method, "tools/call") == 0) {
		const char *name = json_string_value(json_object_get(params, "name"));
		json_t *args = json_object_get(params, "arguments");
		if (name == NULL || (args != NULL && !json_is_object(args)))
			reply = rpc_error(id, RPC_INVALID_PARAMS, "tools/call: name and an arguments "
			    "object expected");
		else if (strcmp(name, "execute_code") == 0)
			reply = execute_code(s, id, args);
		else if (strcmp(name, "search_tools") == 0)
			reply = search_tools(s, id, args);
		else
			reply = rpc_error(id, RPC_INVALID_PARAMS, "unknown tool");
	} else {
		reply = rpc_error(id, RPC_METHOD_NOT_FOUND, "method not found");
	}
out:
	json_decref(msg);
	return reply;
}

static int
emit(int fd, char *reply)
{
	size_t n;
	int rc = 0;

	if (reply == NULL)
		return 0;
	n = strlen(reply);
	reply[n] = '\n';	/* the NUL becomes the line end; length passed */
	if (util_write_all(fd, reply, n + 1) != ERR_OK)
		rc = 1;
	free(reply);
	return rc;
}

int
mcp_server_run(struct mcp_server *s, int in_fd, int out_fd)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	bool skipping = false;
	int rc = 0;

	if (buf == NULL)
		return 1;
	for (;;) {
		char *nl;
		if (cap - len < 4096 && cap < MCP_SERVER_LINE_MAX + 65536) {
			char *nb = realloc(buf, cap * 2);
			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(in_fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		while ((nl = memchr(buf, '\n', len)) != NULL) {
			size_t l = (size_t)(nl - buf);
			if (!skipping) {
				size_t t = l;
				while (t > 0 && (buf[t - 1] == '\r' || buf[t - 1] == ' ' || buf[t - 1] == '\t'))
					t--;
				if (t > 0 && (rc = emit(out_fd, mcp_server_handle(s, buf, t))) != 0)
					goto out;
			}
			skipping = false;
			memmove(buf, nl + 1, len - l - 1);
			len -= l + 1;
		}
		if (len > MCP_SERVER_LINE_MAX) {
			if (!skipping) {
				log_limited(&s->noise, 10, "mcp: dropped an input line over %u bytes",
				    MCP_SERVER_LINE_MAX);
				if ((rc = emit(out_fd, rpc_error(NULL, RPC_PARSE_ERROR,
				    "parse error: line too long"))) != 0)
					goto out;
			}
			skipping = true;
			len = 0;
		}
	}
out:
	free(buf);
	return rc;
}
