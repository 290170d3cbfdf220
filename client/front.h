/*
 * front — `sluice run` without ZeroMQ: the job's round trip for the `sluice`
 * front binary (client/front_main.c) over a plain socket speaking ZMTP 3
 * (client/zmtp.c) to the broker's front, with client_run's behaviour
 * (client/client.c): the same BUSY retries, deadlines, "held" notice and
 * error texts.
 */
#ifndef SLUICE_FRONT_H
#define SLUICE_FRONT_H

#include <stddef.h>

#include "common/endpoint.h"
#include "common/err.h"
#include "common/msg.h"

/* Submits the SUBMIT `submit` (a fresh `req` is set on it) to the broker at
 * `addr` and waits for its RESULT: connects (retrying a refused connect
 * every 100 ms, as ZeroMQ reconnects) and waits for ACCEPTED within
 * `accept_ms`, then for the RESULT within `result_ms` of the last ACCEPTED
 * (no deadline while the job is held for approval); retries BUSY replies.
 * Returns ERR_OK with a fresh RESULT in *result, or an error with a reason
 * in `why`. */
enum err front_submit(const struct endpoint_addr *addr, struct msg *submit, int accept_ms,
    int result_ms, struct msg **result, char *why, size_t whysz);

#endif
