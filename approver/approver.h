/*
 * approver — the sluice-approver process: holds every L3 job the broker
 * sends for human approval in a durable store (approver/pending.c), serves
 * the CLI on a local control socket, and carries each human decision back to
 * the broker until the broker acknowledges it.  See docs/APPROVALS.md.
 */
#ifndef SLUICE_APPROVER_H
#define SLUICE_APPROVER_H

#include <stdint.h>

#include "common/curve.h"

struct approver_conf {
	const char *broker;		/* broker approvals endpoint (we connect a DEALER) */
	const struct curve_client *curve;	/* CURVE keys; NULL: plaintext */
	const char *data;		/* data directory: DATA/db, DATA/control */
	const char *control;		/* control endpoint to bind; NULL: ipc://DATA/control */
	const char *host;		/* name reported in APPROVER_READY */
	uint32_t heartbeat_ms;
	uint64_t expired_keep_ms;	/* expired items stay listed this long, then go to history */
};

void approver_conf_default(struct approver_conf *c);

/* Runs until SIGINT/SIGTERM.  Returns 0 on a clean stop, 1 on a setup
 * failure (logged): the store cannot be opened or the control socket bound. */
int approver_run(const struct approver_conf *c);

#endif
