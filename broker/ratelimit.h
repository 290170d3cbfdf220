/*
 * ratelimit — per-tenant token buckets for the broker's admission control.
 *
 * Each tenant has a bucket of `burst` tokens that refills at `rate` tokens
 * per second; a submission takes one token or is answered BUSY with the
 * time until the next token.  Tokens are counted in thousandths so that the
 * arithmetic is exact integer arithmetic:
 *
 *   milli = min(burst * 1000, milli + elapsed_ms * rate)
 *   take:  milli >= 1000 ? milli -= 1000 : retry_ms = ceil((1000 - milli) / rate)
 *
 * The clock is the caller's (`now_ms`, monotonic): tests inject time.  The
 * tenant table is bounded: when full, buckets that have refilled completely
 * (idle tenants, indistinguishable from new ones) are dropped; if none can
 * be dropped the submission is refused rather than the table grown.
 */
#ifndef SLUICE_RATELIMIT_H
#define SLUICE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tenants tracked at once (see above). */
#define RATELIMIT_TENANTS_MAX 65536

struct ratelimit_bucket {
	uint64_t milli;		/* tokens x 1000 */
	int64_t last_ms;	/* time of the last refill */
};

/* A full bucket at `now_ms`. */
void ratelimit_bucket_init(struct ratelimit_bucket *b, uint32_t burst, int64_t now_ms);

/* Refills for the time since the last call, then takes one token: true, or
 * false with the milliseconds until one is available in *retry_ms (>= 1).
 * `rate` >= 1 tokens/s, `burst` >= 1. */
bool ratelimit_bucket_take(struct ratelimit_bucket *b, uint32_t rate, uint32_t burst, int64_t now_ms,
    uint32_t *retry_ms);

struct ratelimit;

/* `rate` 0 turns limiting off (every take succeeds); `burst` 0 means `rate`.
 * NULL on out-of-memory. */
struct ratelimit *ratelimit_new(uint32_t rate, uint32_t burst);
void ratelimit_destroy(struct ratelimit **rp);

/* Takes one token from `tenant`'s bucket (created full on first use).  False
 * with *retry_ms when the tenant is over its rate, or when the table is full
 * of active tenants (then *retry_ms is 1000). */
bool ratelimit_take(struct ratelimit *r, const char *tenant, int64_t now_ms, uint32_t *retry_ms);

/* Tenants with a bucket now. */
size_t ratelimit_tenants(const struct ratelimit *r);

#endif
