/*
 * runner — one job's run inside the worker: workspace, jail, Deno, output
 * capture, deadline, outcome.  Non-blocking: the worker's loop polls the
 * runner's pipes and calls runner_step; nothing here waits for the child.
 */
#ifndef SLUICE_RUNNER_H
#define SLUICE_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#include "common/err.h"
#include "common/job.h"
#include "common/msg.h"
#include "common/privacy.h"
#include "worker/approval.h"
#include "worker/mcp_pool.h"

struct warm;

struct runner_conf {
	const char *deno;		/* absolute path of the deno binary */
	const char *state_dir;		/* parent of per-job workspaces */
	bool insecure_no_jail;
	uid_t jail_uid;			/* host uid/gid owning the workspace */
	gid_t jail_gid;
	struct job_limits max;		/* a job asking for more is clamped */
	struct mcp_pool *pool;		/* MCP servers for tool calls; NULL: none */
	const char *const *mcp_allow;	/* NULL-terminated globs over server.tool */
	bool mcp_refuse_destructive;
	struct approval *approvals;	/* non-NULL: hold destructive tools for approval */
	int file_class;			/* enum wspath_class of an unlabelled input */
	int withhold_from;		/* output files of this class and up are withheld;
					 * WSPATH_CLASS_COUNT: none */
	struct warm *warm;		/* pre-built jails, and their teardown; NULL: none */
};

struct runner;

/* Tokenize mode: the job's session token map, guarded by `mu` (the poll
 * thread adds tokens while the job's tool thread restores them).  Tool call
 * arguments get "[EMAIL_1]"-style tokens replaced by the values they stand
 * for, so a later job of the session can act on what an earlier one only saw
 * as a token.  Pass NULL to runner_start to disable. */
struct runner_tokens {
	struct privacy_tokens *map;
	pthread_mutex_t *mu;
};

/* Starts the job described by a JOB message (borrowed).  Returns a fresh
 * runner, or NULL with *err and a reason in `why` (nothing is left behind). */
struct runner *runner_start(const struct runner_conf *rc, const struct msg *job,
    const struct runner_tokens *tokens, enum err *err, char *why, size_t whysz);

const char *runner_id(const struct runner *r);
/* The job's session ("" when none). */
const char *runner_session(const struct runner *r);

/* The runner's open output fds (-1 when closed): [0] stdout, [1] stderr. */
void runner_fds(const struct runner *r, int fds[2]);

/* Reads what is available on `fd` (one of runner_fds). */
void runner_read(struct runner *r, int fd);

/* Advances the runner: enforces the deadline, reaps the child.  Returns true
 * when the job is over and runner_result may be called. */
bool runner_step(struct runner *r, int64_t now_ms);

/* Hands each audit record of the job's tool calls made since the last call
 * to fn (type name, compact JSON details), then forgets them.  Called from
 * the worker's poll thread; the records come from the job's tool thread. */
void runner_take_events(struct runner *r, void (*fn)(void *arg, const char *id, const char *type,
    const char *details), void *arg);

/* Milliseconds until the runner next needs runner_step (deadline or reap). */
int64_t runner_wait_ms(const struct runner *r, int64_t now_ms);

/* Stops the job now; it ends `cancelled`. */
void runner_cancel(struct runner *r);

/* A fresh DONE message for a finished runner; NULL on out-of-memory.
 * stdout and stderr pass the privacy filter `pc` first (never raw: when the
 * filter fails the output is withheld) and the message carries `privacy`
 * {mode, findings: [{type, count}]}. */
struct msg *runner_result(struct runner *r, const struct privacy_config *pc);

/* What runner_result will filter, about: the captured stdout and stderr and
 * the bytes in the job's workspace.  The worker builds a big result off its
 * poll thread, which must keep heartbeats going. */
size_t runner_result_bytes(const struct runner *r);

/* Kills what is left, removes the workspace, frees.  Accepts NULL. */
void runner_destroy(struct runner **rp);

#endif
