/*
 * worker — the sluice-worker process: connects to a broker, advertises its
 * job slots, runs each job in a fresh jail (worker/runner.c) and streams the
 * result back.
 */
#ifndef SLUICE_WORKER_H
#define SLUICE_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/curve.h"
#include "common/job.h"
#include "common/privacy.h"

struct worker_conf {
	const char *broker;		/* broker back endpoint */
	const char *deno;		/* deno binary (absolute) */
	const char *state_dir;		/* per-job workspaces live here */
	const char *host;		/* name reported to the broker */
	uint32_t slots;
	uint32_t heartbeat_ms;
	bool insecure_no_jail;
	enum privacy_mode privacy_mode;	/* filter on every output (default redact) */
	const char *mcp_config;		/* mcpServers JSON; NULL: no tool calls */
	const char *mcp_allow;		/* comma-separated globs over server.tool */
	bool mcp_refuse_destructive;
	bool mcp_approve_destructive;	/* hold them for approval (wins over refuse) */
	struct job_limits max;		/* maxima a job cannot exceed */
	int file_class;			/* class of an unlabelled input file (wspath) */
	int withhold_from;		/* output files of this class and up are withheld */
	const struct curve_client *curve;	/* CURVE keys; NULL: plaintext */
	uint32_t warm;			/* warm jails kept ready (WORKER_WARM_SLOTS: = slots) */
	uint32_t warm_idle_ms;		/* idle this long: the pool shrinks by one */
	uint32_t warm_prime;		/* warm_prime_parse mask (--warm-prime) */
};

#define WORKER_WARM_SLOTS UINT32_MAX

void worker_conf_default(struct worker_conf *c);

/* Warm jails to keep: --warm, by default one per slot; none without a jail
 * (the pool prepares jails; a plain process has nothing to prepare). */
uint32_t worker_warm_size(const struct worker_conf *c);

/* Runs until SIGINT/SIGTERM (in-flight jobs are finished first, up to their
 * deadlines).  Returns 0 on a clean stop, 1 on a setup failure (logged). */
int worker_run(const struct worker_conf *c);

#endif
