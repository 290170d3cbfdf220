/*
 * gateway — serves one job's MCP tool requests (sluice-worker).
 *
 * The jailed program (through worker/prelude.ts) asks for tools on its
 * stdout and reads the answers on its stdin:
 *
 *   job stdout:  ...normal output... 0x1E "SLUICE-RPC " {json request} "\n" ...
 *   job stdin:   {json response} "\n"
 *
 *   request   {"id": 1, "method": "tools.call", "params": {"name": "memory.read_graph",
 *              "args": {}}}
 *   response  {"id": 1, "result": ...}  or  {"id": 1, "error": {"code": "denied",
 *              "message": "..."}}
 *
 * Methods: tools.list {server?}, tools.search {query, detail: name|description|
 * signature|full, limit?}, tools.describe {name}, tools.call {name, args}.  Tool names
 * are "server.tool".  Everything else on stdout passes through unchanged,
 * including a 0x1E that does not start a marker.
 *
 * The gateway trusts nothing in a request: the allowlist, the destructive-tool
 * rule and every bound are enforced here, not in the prelude.
 *
 * Not thread-safe: one gateway belongs to one job and is driven by one thread
 * at a time.  gateway_feed_stdout blocks for as long as the tool calls it
 * serves (each bounded by call_timeout_ms).
 */
#ifndef SLUICE_GATEWAY_H
#define SLUICE_GATEWAY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "worker/mcp_pool.h"

#define GATEWAY_MARKER		"\x1eSLUICE-RPC "
#define GATEWAY_REQUEST_MAX	(4u << 20)	/* one request line */
#define GATEWAY_REQUEST_VALUES	100000		/* JSON values in one request: parsed,
						 * each costs the worker ~100-200 bytes */
#define GATEWAY_RESPONSE_MAX	(16u << 20)	/* one response line */
#define GATEWAY_STDIN_MAX	(32u << 20)	/* responses the job has not read yet */
#define GATEWAY_CALLS_MAX	10000		/* requests per job */
#define GATEWAY_SIGNATURE_MAX	2048		/* one tool's signature line */

/* One audit record per tools.call (served, refused or failed).  Strings are
 * borrowed for the duration of the callback. */
struct gateway_audit {
	const char *job;		/* gateway_conf.job */
	const char *server;		/* "" when the name did not parse */
	const char *tool;
	size_t request_bytes;		/* the request line */
	size_t response_bytes;		/* the response line */
	int64_t duration_ms;
	const char *outcome;		/* ok | tool_error | denied | approval_required |
					 * approval_denied | not_found | failed | timeout |
					 * bad_request | too_big (the answer would be
					 * over GATEWAY_RESPONSE_MAX) */
};

/* Returns ERR_OK when the record is stored.  Anything else fails the call:
 * the job gets an "audit" error instead of the tool's result. */
typedef enum err (*gateway_audit_fn)(void *ctx, const struct gateway_audit *rec);

/* The privacy seam.  Called with GATEWAY_FILTER_ARGS on a call's arguments
 * before they go to the server (e.g. restore [EMAIL_1] to the real value) and
 * with GATEWAY_FILTER_RESULT on its result before it goes to the job (e.g.
 * tokenize PII).  *value may be replaced (decref the old, store a new
 * reference).  A non-OK return fails the call with a "filter" error. */
enum gateway_filter_dir { GATEWAY_FILTER_ARGS, GATEWAY_FILTER_RESULT };
typedef enum err (*gateway_filter_fn)(void *ctx, enum gateway_filter_dir dir, const char *server,
    const char *tool, json_t **value);

/* Asks a human whether the possibly destructive tool `name` may run with
 * `args` (borrowed; before token restoration).  Blocks.  ERR_OK: proceed;
 * anything else refuses the call with `why` as the job's error message. */
typedef enum err (*gateway_approve_fn)(void *ctx, const char *name, const json_t *args,
    char *why, size_t whysz);

/* Receives stdout bytes that are ordinary program output. */
typedef void (*gateway_sink_fn)(void *ctx, const void *bytes, size_t len);

struct gateway_conf {
	const char *job;			/* id, for audit records */
	const char *const *allow;		/* NULL-terminated globs over "server.tool"
						 * (fnmatch); NULL or empty allows nothing */
	const char *const *allow_job;		/* the job's own globs: a call must match
						 * both lists; NULL: no extra restriction */
	bool refuse_destructive;		/* refuse tools that may be destructive */
	int call_timeout_ms;			/* <= 0: the server's own */
	gateway_audit_fn audit;			/* required */
	void *audit_ctx;
	gateway_filter_fn filter;		/* optional */
	void *filter_ctx;
	gateway_approve_fn approve;		/* optional: hold destructive tools for
						 * approval (wins over refuse_destructive) */
	void *approve_ctx;
	const volatile int *ended;		/* optional: set once the job is over
						 * (exited, killed, timed out, cancelled):
						 * requests still in its pipe are dropped
						 * unserved, no tool runs for it any more */
};

struct gateway_stats {
	uint64_t requests;		/* every framed request */
	uint64_t calls;			/* tools.call requests */
	uint64_t refused;		/* denied or approval_required */
	uint64_t request_bytes, response_bytes;
	uint64_t dropped;		/* requests read after the job ended: unserved */
};

struct gateway;

/* A fresh gateway over `pool` (borrowed; must outlive it).  `conf` is copied
 * (its strings too).  NULL with *err on out-of-memory or a conf without an
 * audit callback (ERR_INVAL). */
struct gateway *gateway_new(struct mcp_pool *pool, const struct gateway_conf *conf,
    enum err *err);
void gateway_destroy(struct gateway **gwp);

/* Consumes `len` bytes the job wrote to stdout: program output goes to
 * `sink` (in order, possibly in several pieces; a marker split across calls
 * is held until it is decided), each complete request is served and its
 * response queued for the job's stdin.  Returns ERR_OK, or ERR_TOOBIG when
 * the job stopped reading responses (GATEWAY_STDIN_MAX) or sent more than
 * GATEWAY_CALLS_MAX requests: the job should then be killed. */
enum err gateway_feed_stdout(struct gateway *gw, const void *bytes, size_t len,
    gateway_sink_fn sink, void *sink_ctx);

/* At the job's end: bytes held as a possible marker go to `sink`; an
 * unterminated request is dropped. */
void gateway_finish(struct gateway *gw, gateway_sink_fn sink, void *sink_ctx);

/* Bytes of responses waiting for the job's stdin. */
size_t gateway_stdin_pending(const struct gateway *gw);

/* Writes pending responses to `fd` (the write end of the job's stdin pipe,
 * O_NONBLOCK) as far as it takes them.  ERR_OK (some may remain: poll for
 * POLLOUT), ERR_IO when the job closed its stdin (responses are dropped). */
enum err gateway_write_stdin(struct gateway *gw, int fd);

/* The whole channel of one job, for a thread of its own: reads the job's
 * stdout from `out_fd` (the read end; blocking or not), feeds the gateway
 * (program output to `sink`, called from this thread), writes responses to
 * `in_fd` (the write end of the job's stdin, made O_NONBLOCK here), until
 * stdout reaches EOF or *stop becomes non-zero (checked every 100 ms; may be
 * NULL), then calls gateway_finish.  Closes neither fd.  Returns ERR_OK at
 * EOF or stop, ERR_TOOBIG when the job abused the channel (kill it), ERR_IO
 * when reading failed. */
enum err gateway_pump(struct gateway *gw, int out_fd, int in_fd, gateway_sink_fn sink,
    void *sink_ctx, const volatile int *stop);

/* Copies the counters out. */
void gateway_stats(const struct gateway *gw, struct gateway_stats *out);

/* The allowed tools best matching `query` (words against name, title and
 * description), at most `limit` (<= 0: 10; at most 50), rendered by
 * `detail`: "name" -> "server.tool" strings, "description" -> {name,
 * description (first line)}, "signature" -> gateway_signature strings,
 * "full" -> the lean definition with inputSchema.
 * A word equal to a tool's name ranks that tool first.
 * A fresh array, or NULL with a reason in `why` on a bad query/detail. */
json_t *gateway_search(struct gateway *gw, const char *query, const char *detail, int limit,
    char *why, size_t whysz);

/* A JSON Schema as detail "full" shows it: without "$schema" and
 * "additionalProperties": false; property names and const/default/enum/
 * examples values untouched.  Fresh (NULL for NULL). */
json_t *gateway_lean_schema(json_t *schema);

/* Tool `def` (a tools/list entry, borrowed) named `name` ("server.tool") as
 * detail "signature" shows it: one line, TypeScript-like,
 *   name(args: {path: string; head?: number}): {content: string} [destructive] // First sentence.
 * Types from inputSchema / outputSchema ("text" without one), property
 * descriptions left out, "[destructive]" when the gateway counts the tool as
 * possibly destructive.  Any schema renders (unknown shapes as "unknown" or
 * "object"); depth, fan-out and length are bounded, at most
 * GATEWAY_SIGNATURE_MAX bytes, no control characters.  Fresh (free it); NULL
 * on out-of-memory or a NULL name. */
char *gateway_signature(const char *name, const json_t *def);

/* True when `name` ("server.tool") matches one of the globs. */
bool gateway_is_allowed(const char *const *allow, const char *name);

#endif
