/*
 * job — status names and default/maximum limits (see job.h).
 */
#include <string.h>

#include "common/job.h"

static const char *const job_status_names[JOB__COUNT] = {
	[JOB_OK] = "ok", [JOB_ERROR] = "error", [JOB_TIMEOUT] = "timeout",
	[JOB_MEMORY] = "memory", [JOB_VIOLATION] = "violation", [JOB_DENIED] = "denied",
	[JOB_BLOCKED] = "blocked", [JOB_CANCELLED] = "cancelled",
	[JOB_WORKER_LOST] = "worker_lost", [JOB_REJECTED] = "rejected",
};

const struct job_limits job_limits_default = {
	.timeout_ms = 30000,
	.memory_mb = 512,
	.pids = 64,
	.workspace_mb = 64,
	.output_bytes = 1048576,
};

const struct job_limits job_limits_max = {
	.timeout_ms = 600000,
	.memory_mb = 4096,
	.pids = 1024,
	.workspace_mb = 1024,
	.output_bytes = 16777216,
};

const char *
job_status_name(enum job_status s)
{
	return (unsigned)s < JOB__COUNT ? job_status_names[s] : "?";
}

bool
job_status_parse(const char *s, enum job_status *out)
{
	for (int i = 0; i < JOB__COUNT; i++) {
		if (strcmp(s, job_status_names[i]) == 0) {
			*out = (enum job_status)i;
			return true;
		}
	}
	return false;
}
