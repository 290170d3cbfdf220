/*
 * broker — the sluice-broker process: binds the client (front) and worker
 * (back) ROUTER sockets, queues jobs, leases them to workers with free slots,
 * tracks heartbeats and answers clients.
 */
#ifndef SLUICE_BROKER_H
#define SLUICE_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/job.h"
#include "common/privacy.h"

struct broker_conf {
	const char *front;		/* client endpoint, e.g. tcp://127.0.0.1:5555 */
	const char *back;		/* worker endpoint */
	const char *data;		/* data directory */
	const char *approvals;		/* approver endpoint (ROUTER) */
	const char *alerts;		/* alert endpoint (PUB) */
	const char *metrics;		/* Prometheus text endpoint (tcp), NULL: none */
	const char *risk_rules;		/* NULL: the embedded default rules */
	const char *risk_config;	/* NULL: default thresholds and weights */
	uint32_t approval_timeout_ms;	/* L3 jobs not decided by then are denied */
	uint32_t heartbeat_ms;		/* interval; a worker silent 3x this is lost */
	uint32_t queue_max;		/* queued jobs beyond this get BUSY */
	uint32_t tenant_queue_max;	/* queued jobs of one tenant beyond this get BUSY */
	uint32_t tenant_running_max;	/* jobs of one tenant running at once (0: no limit) */
	uint32_t tenant_rate;		/* submissions per second per tenant (0: no limit) */
	uint32_t tenant_burst;		/* token bucket size (0: tenant_rate) */
	const char *curve_secret;	/* broker NAME.key: CURVE on every socket; NULL: plaintext */
	const char *clients_dir;	/* enrolled client keys (*.pub with tenant metadata) */
	const char *workers_dir;	/* enrolled worker keys */
	const char *approvers_dir;	/* enrolled approver/operator keys (approvals, alerts) */
	bool insecure_plaintext;	/* allow plaintext on non-loopback tcp (logged loudly) */
	uint32_t drain_ms;		/* SIGTERM: wait this long for running jobs */
	uint32_t result_ttl_s;		/* finished results are kept this long */
	struct job_limits defaults;	/* applied when a job does not ask */
	struct job_limits max;		/* a job asking for more is rejected */
	unsigned privacy_modes;		/* PRIVACY_MODE_BIT set a session may pick */
	enum privacy_mode privacy_default;	/* a session that does not ask */
	uint32_t privacy_sessions_max;	/* sessions whose mode is remembered */
	uint64_t session_quota_bytes;	/* per session workspace (broker/sessions.c) */
	uint64_t session_ttl_ms;	/* a session unused this long is removed */
	int session_withhold_from;	/* `session get` lists, not returns, files of this
					 * class and up (enum wspath_class; WSPATH_CLASS_COUNT: none) */
	uint32_t test_lose_acks;	/* fault injection: drop the DONE_ACKs of the
					 * first N jobs to end (not of repeated DONEs) */
};

/* Fills `c` with the documented defaults. */
void broker_conf_default(struct broker_conf *c);

/* Runs until SIGINT/SIGTERM, then drains: no new jobs, running jobs get up
 * to drain_ms to finish, queued jobs stay in the store for the next start.
 * Returns 0 on a clean stop, 1 when the store could not be opened or the
 * sockets could not be bound (reason logged). */
int broker_run(const struct broker_conf *c);

#endif
