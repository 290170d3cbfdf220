/*
 * committer — the broker's commit thread (pipelined group commit).
 *
 * The loop seals a round (audit_store_seal, jobstore_seal) and hands it to
 * the committer, which makes it durable on its own thread: first the audit
 * batch (synced), then — only if that succeeded — the job store batch
 * (synced); if the audit write failed the job store batch is dropped.  The
 * loop meanwhile goes on receiving and staging the next round; it learns
 * that the round is done from committer_fd (readable), and only then sends
 * the replies that depended on it.  At most one round is in flight.
 *
 *      loop:  stage N+1 ............ seal N+1 ... stage N+2 ...
 *      thread:     write+fsync N ->|   write+fsync N+1 ->| ...
 *                                  `-> loop: ACKs/RESULTs of N
 */
#ifndef SLUICE_COMMITTER_H
#define SLUICE_COMMITTER_H

#include <stdbool.h>

#include "broker/jobstore.h"
#include "common/audit_store.h"
#include "common/err.h"

struct committer;

/* Starts the thread.  Both stores are borrowed and must outlive it; `jobs`
 * may be NULL (audit only, e.g. bench/bench_audit).  NULL on failure (out of
 * memory, no thread or eventfd). */
struct committer *committer_new(struct audit_store *audit, struct jobstore *jobs);

/* Waits for a round in flight, stops the thread.  NULL-safe; clears *cp. */
void committer_destroy(struct committer **cp);

/* Starts writing the sealed batches of both stores.  ERR_BUSY if a round is
 * still in flight (call committer_finish first). */
enum err committer_start(struct committer *c);

/* True while a round is in flight and not yet finished. */
bool committer_is_busy(const struct committer *c);

/* True if the round in flight has been written (committer_finish will not
 * block). */
bool committer_is_done(struct committer *c);

/* Blocks until the round in flight is written, does the stores' bookkeeping
 * (audit_store_sealed_done) and returns the round's result: ERR_OK when both
 * batches are durable, ERR_DB otherwise (then nothing of the job store batch
 * was written, and the audit events staged since the seal were dropped).
 * ERR_OK with nothing in flight. */
enum err committer_finish(struct committer *c);

/* A descriptor readable once the round in flight is written (for zmq_poll). */
int committer_fd(const struct committer *c);

#endif
