/*
 * approval — tool calls waiting for a human (sluice-worker,
 * --mcp-approve-destructive).
 *
 * A job's tool thread asks (approval_ask) and blocks; the worker's poll
 * thread sends each new question to the broker as TOOL_APPROVAL
 * (approval_take_new) and hands the broker's TOOL_DECISION back
 * (approval_decide).  The broker queues the question with the approver like
 * an L3 job.  A question nobody answers by its deadline is denied (fail
 * closed), here as well as in the broker.
 *
 * Thread-safe: one mutex and one condition variable for all jobs.
 */
#ifndef SLUICE_APPROVAL_H
#define SLUICE_APPROVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define APPROVAL_PENDING_MAX	256	/* questions in flight, all jobs together */
#define APPROVAL_SUMMARY_MAX	2048	/* bytes of argument summary */

struct approval;

/* One question, as the poll thread sends it (strings owned by the table,
 * valid until the next approval_* call of the poll thread). */
struct approval_question {
	const char *id;			/* "<job>.t<n>" */
	const char *tool;		/* "server.tool" */
	const char *session;		/* "" when none */
	const char *summary;		/* privacy-filtered arguments, cut */
	int64_t deadline_ms;		/* wall clock, ms since the epoch */
};

/* A fresh table; NULL on out-of-memory. */
struct approval *approval_new(void);
/* Denies whatever still waits (its askers return ERR_SHUTDOWN), frees.  The
 * caller has joined every asking thread first.  Accepts NULL. */
void approval_destroy(struct approval **ap);

/* Tool thread: asks whether `job` may call `tool` with arguments described
 * by `summary` (copied, cut to APPROVAL_SUMMARY_MAX), and waits until the
 * decision, `deadline_ms` (wall clock) or *stop.  Returns ERR_OK when
 * approved; ERR_DENIED (reason in `why`: "denied by ACTOR: REASON");
 * ERR_TIMEOUT; ERR_SHUTDOWN when stopped; ERR_BUSY when too many wait. */
enum err approval_ask(struct approval *a, const char *job, const char *session, const char *tool,
    const char *summary, int64_t deadline_ms, const volatile int *stop, char *why, size_t whysz);

/* Poll thread: calls fn for each question not sent yet and marks it sent
 * (fn returns false to keep it unsent, e.g. when the send failed). */
void approval_take_new(struct approval *a,
    bool (*fn)(void *arg, const struct approval_question *q), void *arg);

/* Poll thread: after a reconnect to the broker, every waiting question is
 * sent again. */
void approval_resend_all(struct approval *a);

/* Poll thread: the broker's answer for question `id` (verdict "approve" or
 * anything else = deny).  Unknown ids (answered already, timed out) are
 * ignored; returns whether it matched a waiting question. */
bool approval_decide(struct approval *a, const char *id, const char *verdict, const char *actor,
    const char *reason);

/* Questions waiting (for tests and logs). */
size_t approval_waiting(struct approval *a);

#endif
