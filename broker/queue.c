/*
 * queue — per-tenant fair, priority run queue (see queue.h).
 * Runs in sluice-broker; holds no input from outside beyond tenant names the
 * broker already validated.
 */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/queue.h"
#include "common/util.h"

struct tenant_q {
	char name[65];
	zlistx_t *fifo[QUEUE_PRIORITIES];
	size_t queued;
	size_t running;
};

struct queue {
	zhashx_t *tenants;	/* name -> struct tenant_q (owned) */
	zlistx_t *ring;		/* round-robin order of tenants (borrowed) */
	size_t size;
	uint32_t running_max;
};

/* Items are compared by identity (zlistx_find on a job pointer). */
static int
same_item(const void *a, const void *b)
{
	return a == b ? 0 : a < b ? -1 : 1;
}

static void
tenant_free(void **p)
{
	struct tenant_q *t = *p;
	if (t == NULL)
		return;
	for (int i = 0; i < QUEUE_PRIORITIES; i++)
		zlistx_destroy(&t->fifo[i]);
	free(t);
	*p = NULL;
}

struct queue *
queue_new(uint32_t tenant_running_max)
{
	struct queue *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->tenants = zhashx_new();
	q->ring = zlistx_new();
	if (q->tenants == NULL || q->ring == NULL) {
		queue_destroy(&q);
		return NULL;
	}
	zhashx_set_destructor(q->tenants, tenant_free);
	q->running_max = tenant_running_max;
	return q;
}

void
queue_destroy(struct queue **qp)
{
	if (qp == NULL || *qp == NULL)
		return;
	zlistx_destroy(&(*qp)->ring);
	zhashx_destroy(&(*qp)->tenants);
	free(*qp);
	*qp = NULL;
}

static struct tenant_q *
tenant_get(struct queue *q, const char *name)
{
	struct tenant_q *t = zhashx_lookup(q->tenants, name);

	if (t != NULL)
		return t;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	snprintf(t->name, sizeof(t->name), "%s", name);
	for (int i = 0; i < QUEUE_PRIORITIES; i++) {
		if ((t->fifo[i] = zlistx_new()) == NULL) {
			tenant_free((void **)&t);
			return NULL;
		}
		zlistx_set_comparator(t->fifo[i], same_item);
	}
	zhashx_insert(q->tenants, t->name, t);
	zlistx_add_end(q->ring, t);
	return t;
}

bool
queue_push(struct queue *q, const char *tenant, unsigned priority, void *item, bool front)
{
	struct tenant_q *t = tenant_get(q, tenant);

	if (t == NULL)
		return false;
	if (priority >= QUEUE_PRIORITIES)
		priority = QUEUE_PRIORITIES - 1;
	if ((front ? zlistx_add_start(t->fifo[priority], item) :
	    zlistx_add_end(t->fifo[priority], item)) == NULL)
		return false;
	t->queued++;
	q->size++;
	return true;
}

void *
queue_pop(struct queue *q, char *tenant, size_t tenantsz)
{
	size_t n = zlistx_size(q->ring);

	/* The ring's head is the next tenant to serve; a served tenant moves to
	 * the tail. */
	for (size_t k = 0; k < n; k++) {
		struct tenant_q *t = zlistx_first(q->ring);
		void *item = NULL;

		zlistx_move_end(q->ring, zlistx_cursor(q->ring));
		if (t->queued == 0 || (q->running_max && t->running >= q->running_max))
			continue;
		for (int p = QUEUE_PRIORITIES - 1; p >= 0 && item == NULL; p--) {
			if ((item = zlistx_first(t->fifo[p])) != NULL)
				zlistx_delete(t->fifo[p], zlistx_cursor(t->fifo[p]));
		}
		t->queued--;
		t->running++;
		q->size--;
		util_strlcpy(tenant, t->name, tenantsz);
		return item;
	}
	return NULL;
}

bool
queue_remove(struct queue *q, const char *tenant, unsigned priority, void *item)
{
	struct tenant_q *t = zhashx_lookup(q->tenants, tenant);
	void *h;

	if (t == NULL || priority >= QUEUE_PRIORITIES)
		return false;
	if ((h = zlistx_find(t->fifo[priority], item)) == NULL)
		return false;
	zlistx_delete(t->fifo[priority], h);
	t->queued--;
	q->size--;
	return true;
}

void
queue_done(struct queue *q, const char *tenant)
{
	struct tenant_q *t = zhashx_lookup(q->tenants, tenant);
	if (t != NULL && t->running > 0)
		t->running--;
}

size_t
queue_size(const struct queue *q)
{
	return q->size;
}

size_t
queue_tenant_size(const struct queue *q, const char *tenant)
{
	struct tenant_q *t = zhashx_lookup(q->tenants, tenant);
	return t ? t->queued : 0;
}

void
queue_each_tenant(const struct queue *q, void (*fn)(void *, const char *, size_t, size_t), void *arg)
{
	for (struct tenant_q *t = zlistx_first(q->ring); t; t = zlistx_next(q->ring))
		fn(arg, t->name, t->queued, t->running);
}
