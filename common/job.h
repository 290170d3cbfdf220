/*
 * job — job statuses and option limits shared by broker, worker and client.
 */
#ifndef SLUICE_JOB_H
#define SLUICE_JOB_H

#include <stdbool.h>
#include <stdint.h>

enum job_status {
	JOB_OK, JOB_ERROR, JOB_TIMEOUT, JOB_MEMORY, JOB_VIOLATION, JOB_DENIED,
	JOB_BLOCKED, JOB_CANCELLED, JOB_WORKER_LOST, JOB_REJECTED, JOB__COUNT
};

/* "ok", "timeout", ...; "?" for an unknown value. */
const char *job_status_name(enum job_status s);
/* Parses a status name; false when unknown. */
bool job_status_parse(const char *s, enum job_status *out);

/* Per-job resource options; every one has a default and a maximum that the
 * worker's configuration sets and a job cannot exceed. */
struct job_limits {
	uint64_t timeout_ms;
	uint64_t memory_mb;
	uint64_t pids;
	uint64_t workspace_mb;
	uint64_t output_bytes;
};

/* The documented defaults (docs/ARCHITECTURE.md, README). */
extern const struct job_limits job_limits_default;
extern const struct job_limits job_limits_max;

#endif
