/*
 * approval — tool calls held for a human decision (see approval.h).
 * Runs in sluice-worker: tool threads ask, the poll thread talks to the
 * broker.  Decisions come from the broker (trusted to be well-formed, still
 * matched strictly by id); summaries come from the jailed program's
 * arguments and have already passed the privacy filter.
 *
 * Table: a fixed array of APPROVAL_PENDING_MAX slots; a slot is used from
 * approval_ask until its asker has read the decision.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "worker/approval.h"

enum slot_state { SLOT_FREE, SLOT_NEW, SLOT_SENT, SLOT_DECIDED };

struct slot {
	enum slot_state state;
	char id[65];
	char tool[201];
	char session[129];
	char summary[APPROVAL_SUMMARY_MAX + 1];
	int64_t deadline_ms;
	bool approved;
	char reason[400];
};

struct approval {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct slot slot[APPROVAL_PENDING_MAX];
	uint64_t seq;
	bool closing;
};

struct approval *
approval_new(void)
{
	struct approval *a = calloc(1, sizeof(*a));
	pthread_condattr_t ca;

	if (a == NULL)
		return NULL;
	pthread_mutex_init(&a->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_REALTIME);
	pthread_cond_init(&a->cv, &ca);
	pthread_condattr_destroy(&ca);
	return a;
}

void
approval_destroy(struct approval **ap)
{
	struct approval *a;

	if (ap == NULL || (a = *ap) == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	a->closing = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->mu);
	free(a);
	*ap = NULL;
}

enum err
approval_ask(struct approval *a, const char *job, const char *session, const char *tool,
    const char *summary, int64_t deadline_ms, const volatile int *stop, char *why, size_t whysz)
{
	struct slot *s = NULL;
	enum err e;

	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < APPROVAL_PENDING_MAX && s == NULL; i++)
		if (a->slot[i].state == SLOT_FREE)
			s = &a->slot[i];
	if (s == NULL || a->closing) {
		pthread_mutex_unlock(&a->mu);
		snprintf(why, whysz, "too many tool calls are waiting for approval");
		return ERR_BUSY;
	}
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%.32s.t%llu", job, (unsigned long long)++a->seq);
	snprintf(s->tool, sizeof(s->tool), "%s", tool);
	snprintf(s->session, sizeof(s->session), "%s", session ? session : "");
	snprintf(s->summary, sizeof(s->summary), "%s", summary);
	s->deadline_ms = deadline_ms;
	s->state = SLOT_NEW;
	for (;;) {
		int64_t now = util_wall_ns() / 1000000, until = now + 100;
		if (s->state == SLOT_DECIDED || a->closing || (stop != NULL && *stop) ||
		    now >= deadline_ms)
			break;
		if (until > deadline_ms)
			until = deadline_ms;
		struct timespec ts = { .tv_sec = until / 1000, .tv_nsec = (until % 1000) * 1000000 };
		pthread_cond_timedwait(&a->cv, &a->mu, &ts);
	}
	if (s->state == SLOT_DECIDED && s->approved) {
		e = ERR_OK;
	} else if (s->state == SLOT_DECIDED) {
		snprintf(why, whysz, "%s", s->reason);
		e = ERR_DENIED;
	} else if (a->closing || (stop != NULL && *stop)) {
		snprintf(why, whysz, "the job is stopping");
		e = ERR_SHUTDOWN;
	} else {
		snprintf(why, whysz, "no approval decision before the deadline (fail closed)");
		e = ERR_TIMEOUT;
	}
	s->state = SLOT_FREE;
	pthread_mutex_unlock(&a->mu);
	return e;
}

void
approval_take_new(struct approval *a, bool (*fn)(void *, const struct approval_question *),
    void *arg)
{
	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < APPROVAL_PENDING_MAX; i++) {
		struct slot *s = &a->slot[i];
		if (s->state != SLOT_NEW)
			continue;
		struct approval_question q = { s->id, s->tool, s->session, s->summary, s->deadline_ms };
		if (fn(arg, &q))
			s->state = SLOT_SENT;
	}
	pthread_mutex_unlock(&a->mu);
}

void
approval_resend_all(struct approval *a)
{
	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < APPROVAL_PENDING_MAX; i++)
		if (a->slot[i].state == SLOT_SENT)
			a->slot[i].state = SLOT_NEW;
	pthread_mutex_unlock(&a->mu);
}

bool
approval_decide(struct approval *a, const char *id, const char *verdict, const char *actor,
    const char *reason)
{
	bool found = false;

	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < APPROVAL_PENDING_MAX && !found; i++) {
		struct slot *s = &a->slot[i];
		if ((s->state != SLOT_SENT && s->state != SLOT_NEW) || strcmp(s->id, id) != 0)
			continue;
		s->approved = strcmp(verdict, "approve") == 0;
		snprintf(s->reason, sizeof(s->reason), "denied by %.128s: %.250s",
		    actor && actor[0] ? actor : "the broker", reason && reason[0] ? reason : "no reason given");
		s->state = SLOT_DECIDED;
		found = true;
	}
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	return found;
}

size_t
approval_waiting(struct approval *a)
{
	size_t n = 0;

	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < APPROVAL_PENDING_MAX; i++)
		n += a->slot[i].state == SLOT_NEW || a->slot[i].state == SLOT_SENT;
	pthread_mutex_unlock(&a->mu);
	return n;
}
