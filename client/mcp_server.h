/*
 * mcp_server — sluice-mcp: the farm as an MCP server over stdio.
 *
 * JSON-RPC 2.0, one message per line on stdin/stdout (the MCP stdio
 * transport).  Methods: initialize, notifications/initialized, ping,
 * tools/list, tools/call.  Tools:
 *
 *   execute_code  {code, language?, session?, timeout_ms?}: runs the program
 *                 on the farm (client_run) and returns its stdout as text,
 *                 then a status line (status, exit code, job id, wall ms,
 *                 reason, stderr); isError when the status is not ok.
 *   search_tools  {query, detail?, limit?}: runs a tiny farm job that calls
 *                 the prelude's tools.search, so the answer is the catalogue
 *                 of the workers (what execute_code programs can reach);
 *                 a test may inject a catalogue callback instead.
 *
 * Input is untrusted: a line that is not JSON gets -32700, a message that is
 * not a request -32600, an unknown method -32601, bad params -32602; lines
 * are bounded (MCP_SERVER_LINE_MAX) and the process goes on.  Requests are
 * served one at a time, in order.
 */
#ifndef SLUICE_MCP_SERVER_H
#define SLUICE_MCP_SERVER_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

#define MCP_SERVER_LINE_MAX	(4u << 20)

/* A tool search with gateway_search's contract: a fresh array of "name"
 * strings or {name, description, ...} objects, or NULL with `why`. */
typedef json_t *(*mcp_server_search_fn)(void *ctx, const char *query, const char *detail,
    int limit, char *why, size_t whysz);

struct mcp_server_conf {
	const char *broker;		/* endpoint (client_endpoint rules) */
	int default_timeout_ms;		/* execute_code without timeout_ms */
	mcp_server_search_fn search;	/* NULL (sluice-mcp): ask the farm */
	void *search_ctx;
};

struct mcp_server;

/* A fresh server (the broker socket connects lazily).  NULL with *err and
 * `why` on out-of-memory. */
struct mcp_server *mcp_server_new(const struct mcp_server_conf *conf, enum err *err, char *why,
    size_t whysz);
void mcp_server_destroy(struct mcp_server **sp);

/* Handles one input line (without its '\n').  Returns the response line as a
 * fresh NUL-terminated string without '\n', or NULL when none is due (a
 * notification or a response sent to us). */
char *mcp_server_handle(struct mcp_server *s, const char *line, size_t len);

/* Reads lines from in_fd and writes responses to out_fd until EOF.  Returns
 * 0 at EOF, 1 when the output could not be written. */
int mcp_server_run(struct mcp_server *s, int in_fd, int out_fd);

#endif
