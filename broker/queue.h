/*
 * queue — the broker's run queue: per-tenant, priority-ordered, fair.
 *
 * Each tenant has ten FIFOs (priority 0..9, higher first).  Dispatch takes
 * tenants in round-robin order, skipping those at their concurrency limit, so
 * one tenant's 10,000 queued jobs cannot starve another's single job.  The
 * queue holds borrowed pointers; the broker owns the jobs.
 */
#ifndef SLUICE_QUEUE_H
#define SLUICE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUEUE_PRIORITIES 10

struct queue;

/* `tenant_running_max` 0 means unlimited. */
struct queue *queue_new(uint32_t tenant_running_max);
void queue_destroy(struct queue **qp);

/* Adds `item` for `tenant` at `priority` (clamped to 0..9); at the front of
 * its FIFO when `front` (a requeue).  ERR-free: false only on out-of-memory. */
bool queue_push(struct queue *q, const char *tenant, unsigned priority, void *item, bool front);

/* Removes and returns the next item to run (NULL when none is eligible) and
 * counts it as running for its tenant; the tenant name is copied to `tenant`. */
void *queue_pop(struct queue *q, char *tenant, size_t tenantsz);

/* Removes a specific queued item (cancellation); false when not queued. */
bool queue_remove(struct queue *q, const char *tenant, unsigned priority, void *item);

/* A job of `tenant` stopped running (finished, or requeued). */
void queue_done(struct queue *q, const char *tenant);

size_t queue_size(const struct queue *q);
size_t queue_tenant_size(const struct queue *q, const char *tenant);
/* Calls fn(arg, tenant, queued, running) for each known tenant. */
void queue_each_tenant(const struct queue *q,
    void (*fn)(void *arg, const char *tenant, size_t queued, size_t running), void *arg);

#endif
