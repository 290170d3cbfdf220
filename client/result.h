/*
 * result — the user-facing form of a job result (RESULT message -> JSON).
 *
 *   {"id", "status", "exit_code", "stdout", "stderr", "truncated",
 *    "reason"?, "metrics": {"wall_ms","cpu_ms","max_rss_kb"}}
 *
 * stdout/stderr are given as text; bytes that are not valid UTF-8 become
 * U+FFFD.
 */
#ifndef SLUICE_RESULT_H
#define SLUICE_RESULT_H

#include <jansson.h>

#include "common/msg.h"

/* A fresh JSON object for a RESULT message (borrowed); NULL on out-of-memory. */
json_t *result_json(const struct msg *r);

#endif
