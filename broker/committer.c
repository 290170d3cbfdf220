/*
 * committer — the broker's commit thread (see committer.h).
 *
 * Runs in sluice-broker.  Trusts only its caller: the loop seals both stores
 * before committer_start and does not seal again before committer_finish.
 * The thread touches only the sealed batches (through audit_store_write_sealed
 * and jobstore_write_sealed); everything else stays on the loop's thread.
 * Hand-over: a mutex and condition variable to start a round, an eventfd to
 * tell the loop that it is written.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "broker/committer.h"
#include "common/log.h"
#include "common/trace.h"

struct committer {
	struct audit_store *audit;
	struct jobstore *jobs;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* loop -> thread: a round to write, or stop */
	int donefd;			/* thread -> loop: eventfd */
	bool pending;			/* a round handed over, not yet written */
	bool written;			/* the round is written; result in `rc` */
	bool busy;			/* loop's view: between start and finish */
	bool stop;
	int audit_rc;
	enum err rc;
	struct log_limit fail_log;	/* the thread's: a refusing store fails every round */
};

static void *
committer_main(void *arg)
{
	struct committer *c = arg;
	char why[256];
	uint64_t one = 1;

	pthread_setname_np(pthread_self(), "sluice-commit");
	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->pending && !c->stop)
			pthread_cond_wait(&c->wake, &c->lock);
		if (!c->pending)
			break;
		pthread_mutex_unlock(&c->lock);
		TRACE_MARK("K1_thread");

		/* Sharing one DB, the round is one synced write: the audit
		 * events and the job store records joined, atomic (one
		 * fdatasync; a failure leaves neither).  Else the audit trail
		 * first: job store writes become durable only after the
		 * events that record them. */
		bool joined = c->jobs != NULL && jobstore_shares_log(c->jobs) &&
		    jobstore_sealed_count(c->jobs) > 0 && audit_store_sealed_count(c->audit) > 0;
		int arc = audit_store_write_sealed(c->audit,
		    joined ? jobstore_sealed_batch(c->jobs) : NULL);
		enum err e = arc == ERR_OK ? ERR_OK : ERR_DB;
		if (joined) {
			jobstore_drop_sealed(c->jobs);	/* written with the events, or not at all */
			if (e != ERR_OK)
				log_limited(&c->fail_log, 10, "audit store commit failed (with the "
				    "job store's records): failing this round's acknowledgements");
		} else if (e == ERR_OK) {
			if (c->jobs != NULL &&
			    (e = jobstore_write_sealed(c->jobs, why, sizeof(why))) != ERR_OK)
				log_limited(&c->fail_log, 10, "%s", why);
		} else {
			log_limited(&c->fail_log, 10, "audit store commit failed: failing this round's "
			    "acknowledgements");
			if (c->jobs != NULL)
				jobstore_drop_sealed(c->jobs);
		}

		TRACE_MARK("K2_written");
		pthread_mutex_lock(&c->lock);
		c->audit_rc = arc;
		c->rc = e;
		c->pending = false;
		c->written = true;
		while (write(c->donefd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
		pthread_cond_broadcast(&c->wake);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

struct committer *
committer_new(struct audit_store *audit, struct jobstore *jobs)
{
	struct committer *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->audit = audit;
	c->jobs = jobs;
	if ((c->donefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		goto fail_alloc;
	if (pthread_mutex_init(&c->lock, NULL) != 0)
		goto fail_fd;
	if (pthread_cond_init(&c->wake, NULL) != 0)
		goto fail_mutex;
	if (pthread_create(&c->thread, NULL, committer_main, c) != 0)
		goto fail_cond;
	return c;
fail_cond:
	pthread_cond_destroy(&c->wake);
fail_mutex:
	pthread_mutex_destroy(&c->lock);
fail_fd:
	close(c->donefd);
fail_alloc:
	free(c);
	return NULL;
}

void
committer_destroy(struct committer **cp)
{
	struct committer *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	committer_finish(c);
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_broadcast(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	close(c->donefd);
	free(c);
	*cp = NULL;
}

enum err
committer_start(struct committer *c)
{
	if (c->busy)
		return ERR_BUSY;
	pthread_mutex_lock(&c->lock);
	c->pending = true;
	c->written = false;
	pthread_cond_broadcast(&c->wake);
	pthread_mutex_unlock(&c->lock);
	c->busy = true;
	return ERR_OK;
}

bool
committer_is_busy(const struct committer *c)
{
	return c->busy;
}

bool
committer_is_done(struct committer *c)
{
	bool done;

	if (!c->busy)
		return true;
	pthread_mutex_lock(&c->lock);
	done = c->written;
	pthread_mutex_unlock(&c->lock);
	return done;
}

enum err
committer_finish(struct committer *c)
{
	uint64_t n;
	enum err e;
	int arc;

	if (!c->busy)
		return ERR_OK;
	pthread_mutex_lock(&c->lock);
	while (!c->written)
		pthread_cond_wait(&c->wake, &c->lock);
	e = c->rc;
	arc = c->audit_rc;
	c->written = false;
	pthread_mutex_unlock(&c->lock);
	while (read(c->donefd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	c->busy = false;
	audit_store_sealed_done(c->audit, arc);
	return e;
}

int
committer_fd(const struct committer *c)
{
	return c->donefd;
}
