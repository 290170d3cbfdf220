/*
 * mcp_pool — pooled MCP client connections to stdio servers (sluice-worker).
 *
 * Servers are declared in the usual mcpServers format, plus an optional
 * "sluice" object per server for the pool's own settings:
 *
 *   {"mcpServers": {"memory": {"command": "node", "args": ["server.js"],
 *                              "env": {"MEMORY_FILE_PATH": "/var/lib/m.jsonl"},
 *                              "sluice": {"max": 2, "warm": 1, "idle_ms": 60000,
 *                                         "call_timeout_ms": 30000,
 *                                         "init_timeout_ms": 10000}}}}
 *
 * Each connection is one child process speaking JSON-RPC 2.0 over its
 * stdin/stdout, one JSON message per line (the MCP stdio transport).  The
 * `env` of a server reaches that child only; the child gets PATH, HOME, LANG
 * and TMPDIR from the worker and nothing else of the worker's environment.
 *
 * Thread-safe: every function may be called from any thread.  Calls block the
 * calling thread (never longer than their deadline); a connection serves one
 * call at a time, so up to `max` calls per server run in parallel.
 */
#ifndef SLUICE_MCP_POOL_H
#define SLUICE_MCP_POOL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define MCP_POOL_LINE_MAX	(16u << 20)	/* longest JSON-RPC line read or written */
#define MCP_POOL_SERVERS_MAX	64
#define MCP_POOL_CONNS_MAX	16		/* per server */
#define MCP_POOL_NAME_MAX	64		/* server names: [A-Za-z0-9_-] */

struct mcp_pool;

/* Parses an mcpServers document (borrowed).  Returns a fresh pool (no
 * process started yet), or NULL with ERR_CONFIG/ERR_NOMEM in *err and a
 * reason naming the server and key in `why`. */
struct mcp_pool *mcp_pool_new(const json_t *config, enum err *err, char *why, size_t whysz);

/* mcp_pool_new on a JSON file of at most 1 MiB. */
struct mcp_pool *mcp_pool_load(const char *path, enum err *err, char *why, size_t whysz);

/* Stops every server (stdin closed, SIGTERM, then SIGKILL after 500 ms),
 * frees.  Accepts NULL.  No call may be in progress. */
void mcp_pool_destroy(struct mcp_pool **pp);

/* Number of servers and the name of the i-th (borrowed, stable). */
size_t mcp_pool_count(const struct mcp_pool *p);
const char *mcp_pool_name(const struct mcp_pool *p, size_t i);

/* The server's tools (the `tools` array of tools/list, every page merged),
 * fetched once and cached until the server says list_changed.  A new
 * reference in *tools: the caller decrefs it and must not modify it.
 * ERR_NOTFOUND for an unknown server; ERR_IO / ERR_TIMEOUT / ERR_PROTO
 * when the server failed (reason in `why`). */
enum err mcp_pool_tools(struct mcp_pool *p, const char *server, json_t **tools, char *why,
    size_t whysz);

/* Calls tools/call on `server` with `tool` and `args` (borrowed; NULL means
 * {}).  timeout_ms <= 0 uses the server's call_timeout_ms.  On ERR_OK a
 * fresh result object (the JSON-RPC `result`: content, isError, ...) in
 * *result.  A JSON-RPC error from the server is ERR_INVAL with its message
 * in `why`.  A server that dies or times out during the call is killed; the
 * call fails with ERR_IO or ERR_TIMEOUT and the next call starts a new one.
 * ERR_BUSY when no connection became free before the deadline. */
enum err mcp_pool_call(struct mcp_pool *p, const char *server, const char *tool,
    const json_t *args, int timeout_ms, json_t **result, char *why, size_t whysz);

/* Housekeeping, at most every second or so: closes connections idle longer
 * than idle_ms beyond the `warm` count and starts connections up to `warm`.
 * Starting a server blocks up to its init_timeout_ms: call it from the
 * thread that makes the calls, not from a latency-sensitive loop. */
void mcp_pool_tick(struct mcp_pool *p, int64_t now_ms);

/* Connections currently open for `server` (tests, status). -1 if unknown. */
int mcp_pool_open_count(struct mcp_pool *p, const char *server);

/* The pid of one open idle connection of `server`, or -1 (tests use it to
 * kill a server behind the pool's back). */
int mcp_pool_debug_pid(struct mcp_pool *p, const char *server);

#endif
