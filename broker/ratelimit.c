/*
 * ratelimit — per-tenant token buckets (see ratelimit.h).
 *
 * Runs in the broker's loop thread.  Tenant names come from a client (or,
 * under CURVE, from its enrolled key) and are only used as table keys.
 */
#include <czmq.h>
#include <stdlib.h>

#include "broker/ratelimit.h"

struct ratelimit {
	uint32_t rate, burst;
	zhashx_t *buckets;		/* tenant -> struct ratelimit_bucket (owned) */
};

void
ratelimit_bucket_init(struct ratelimit_bucket *b, uint32_t burst, int64_t now_ms)
{
	b->milli = (uint64_t)burst * 1000;
	b->last_ms = now_ms;
}

bool
ratelimit_bucket_take(struct ratelimit_bucket *b, uint32_t rate, uint32_t burst, int64_t now_ms,
    uint32_t *retry_ms)
{
	uint64_t cap = (uint64_t)burst * 1000;

	if (now_ms > b->last_ms) {
		uint64_t elapsed = (uint64_t)(now_ms - b->last_ms);
		/* Cap elapsed first: elapsed * rate must not overflow. */
		uint64_t add = elapsed > cap ? cap : elapsed * rate;
		b->milli = b->milli + add > cap ? cap : b->milli + add;
		b->last_ms = now_ms;
	}
	if (b->milli >= 1000) {
		b->milli -= 1000;
		return true;
	}
	*retry_ms = (uint32_t)((1000 - b->milli + rate - 1) / rate);
	if (*retry_ms == 0)
		*retry_ms = 1;
	return false;
}

struct ratelimit *
ratelimit_new(uint32_t rate, uint32_t burst)
{
	struct ratelimit *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->rate = rate;
	r->burst = burst ? burst : rate;
	if ((r->buckets = zhashx_new()) == NULL) {
		free(r);
		return NULL;
	}
	zhashx_set_destructor(r->buckets, (zhashx_destructor_fn *)zstr_free);
	return r;
}

void
ratelimit_destroy(struct ratelimit **rp)
{
	if (rp == NULL || *rp == NULL)
		return;
	zhashx_destroy(&(*rp)->buckets);
	free(*rp);
	*rp = NULL;
}

/* Drops the buckets that are full at `now_ms`: those tenants start afresh
 * exactly as if they had been kept. */
static void
prune(struct ratelimit *r, int64_t now_ms)
{
	zlistx_t *idle = zlistx_new();

	if (idle == NULL)
		return;
	for (struct ratelimit_bucket *b = zhashx_first(r->buckets); b; b = zhashx_next(r->buckets)) {
		uint32_t unused;
		struct ratelimit_bucket probe = *b;
		/* Full after the refill: taking one leaves burst - 1 tokens. */
		if (ratelimit_bucket_take(&probe, r->rate, r->burst, now_ms, &unused) &&
		    probe.milli + 1000 >= (uint64_t)r->burst * 1000)
			zlistx_add_end(idle, (void *)zhashx_cursor(r->buckets));
	}
	for (const char *t = zlistx_first(idle); t; t = zlistx_next(idle))
		zhashx_delete(r->buckets, t);
	zlistx_destroy(&idle);
}

bool
ratelimit_take(struct ratelimit *r, const char *tenant, int64_t now_ms, uint32_t *retry_ms)
{
	struct ratelimit_bucket *b;

	if (r->rate == 0)
		return true;
	if ((b = zhashx_lookup(r->buckets, tenant)) == NULL) {
		if (zhashx_size(r->buckets) >= RATELIMIT_TENANTS_MAX)
			prune(r, now_ms);
		if (zhashx_size(r->buckets) >= RATELIMIT_TENANTS_MAX ||
		    (b = malloc(sizeof(*b))) == NULL) {
			*retry_ms = 1000;
			return false;
		}
		ratelimit_bucket_init(b, r->burst, now_ms);
		zhashx_insert(r->buckets, tenant, b);
	}
	return ratelimit_bucket_take(b, r->rate, r->burst, now_ms, retry_ms);
}

size_t
ratelimit_tenants(const struct ratelimit *r)
{
	return zhashx_size(r->buckets);
}
