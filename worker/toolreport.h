/*
 * toolreport — the per-job tally of MCP tool calls (sluice-worker).
 *
 * The gateway's audit records of one job, summed per "server.tool": calls,
 * errors (any outcome but ok), request and response bytes, milliseconds.
 * The job's result carries it as `tool_calls` so the agent sees what its
 * program did at a small token cost.  Bounded: at most TOOLREPORT_TOOLS
 * distinct names; further names are counted under "(other)".
 * Not thread-safe: the caller serialises (the runner holds its mutex).
 */
#ifndef SLUICE_TOOLREPORT_H
#define SLUICE_TOOLREPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define TOOLREPORT_TOOLS	32
#define TOOLREPORT_NAME_MAX	128

struct toolreport;

/* A fresh, empty report; NULL on out-of-memory. */
struct toolreport *toolreport_new(void);
void toolreport_destroy(struct toolreport **trp);

/* Adds one call of server.tool (strings borrowed; names are cut to
 * TOOLREPORT_NAME_MAX bytes).  `ok` false counts an error. */
void toolreport_add(struct toolreport *tr, const char *server, const char *tool, bool ok,
    uint64_t bytes_in, uint64_t bytes_out, int64_t ms);

/* Number of distinct entries. */
size_t toolreport_count(const struct toolreport *tr);

/* The report as one msgpack array of maps {tool, calls, errors, bytes_in,
 * bytes_out, ms}, in first-call order: fresh bytes in *out (free them), or
 * ERR_NOMEM. */
enum err toolreport_pack(const struct toolreport *tr, unsigned char **out, size_t *len);

#endif
