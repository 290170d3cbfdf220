/*
 * jobstore — the broker's durable record of jobs and results (RocksDB).
 *
 * Where: the column family "jobs" of the audit trail's RocksDB (DATA/audit),
 * so that a round's audit events and job records go through one log with
 * one fdatasync (jobstore_attach).  A DATA/jobs DB of an older broker is
 * copied in at the first start and renamed DATA/jobs.migrated-<time>.
 * jobstore_open still opens such a standalone DB (the old layout: the
 * default family of DIR/jobs), for the migration and for tests.
 *
 * Keys and values:
 *
 *   "j/" id            -> +-------+----------------+----------------------+
 *                         | state | accepted_ms BE | JOB message          |
 *                         | 1 B   | 8 B            | header 4 B + body    |
 *                         +-------+----------------+----------------------+
 *   "r/" id            -> +----------------+----------------------------+
 *                         | finished_ms BE | RESULT message (hdr + body)|
 *                         +----------------+----------------------------+
 *   "s/" id            -> state (1 B): a later state of the job, so that a
 *                         transition does not rewrite the whole record
 *   "k/" tenant NUL key -> id                       (idempotency keys)
 *
 * Writes are staged into one batch and made durable together by
 * jobstore_commit (one synced write: group commit).  The broker commits
 * before it sends any reply that depends on what it staged.
 */
#ifndef SLUICE_JOBSTORE_H
#define SLUICE_JOBSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rocksdb/c.h>

#include "common/audit_store.h"
#include "common/err.h"
#include "common/msg.h"

enum jobstore_state { JOBSTORE_QUEUED = 1, JOBSTORE_RUNNING = 2, JOBSTORE_HELD = 3 };

struct jobstore;

/* The job store's column family options (prefix-hashed memtable), fresh:
 * for audit_store_options.extra_cf_opts. */
rocksdb_options_t *jobstore_cf_options(void);

/* The job store in `audit`'s DB, whose extra column family (opened with
 * jobstore_cf_options) it uses; `audit` must outlive it.  Moves a legacy
 * DIR/jobs in first (see above).  NULL with *err and `why` on failure. */
struct jobstore *jobstore_attach(struct audit_store *audit, const char *dir, enum err *err,
    char *why, size_t whysz);

/* Opens or creates the standalone DIR/jobs.  NULL with *err and `why`. */
struct jobstore *jobstore_open(const char *dir, enum err *err, char *why, size_t whysz);
void jobstore_close(struct jobstore **sp);

/* True when attached: its writes go to the audit store's log. */
bool jobstore_shares_log(const struct jobstore *s);
/* Operations in the sealed batch (0: nothing to write), and the batch
 * itself, for a write joined to the audit store's (committer.c). */
size_t jobstore_sealed_count(const struct jobstore *s);
rocksdb_writebatch_t *jobstore_sealed_batch(struct jobstore *s);

/* Stage a job record (state + JOB message), its idempotency key (may be
 * NULL), a finished result (deleting the job record), or a deletion. */
enum err jobstore_put_job(struct jobstore *s, const char *id, enum jobstore_state st,
    int64_t accepted_ms, const struct msg *job);
/* Stages a state change of a stored job (the small "s/" record). */
enum err jobstore_put_state(struct jobstore *s, const char *id, enum jobstore_state st);
enum err jobstore_put_key(struct jobstore *s, const char *tenant, const char *key, const char *id);
/* Stages the result (its own r/ record) and deletes the job record; with
 * `drop_state` also its s/ record.  The caller passes false only when it
 * knows no s/ record of the job was ever staged (the broker defers a
 * RUNNING state to the end of its round and drops it when the job finished
 * in the same round: no put and delete of one key in one batch). */
enum err jobstore_put_result(struct jobstore *s, const char *id, const struct msg *result,
    bool drop_state);
enum err jobstore_delete_result(struct jobstore *s, const char *id);

/* Number of staged operations not yet committed. */
size_t jobstore_pending(const struct jobstore *s);

/* Makes every staged write durable (one synced WriteBatch).  On failure
 * nothing staged is kept and the caller must fail the operations. */
enum err jobstore_commit(struct jobstore *s, char *why, size_t whysz);

/*
 * The same commit in two steps, so that the synced write can run on another
 * thread while the loop stages the next round:
 *   jobstore_seal         (loop) moves the staged writes aside, staging
 *                         starts afresh; ERR_BUSY if a sealed batch is still
 *                         unwritten.
 *   jobstore_write_sealed (any one thread) makes the sealed writes durable
 *                         (one synced write) and forgets them; ERR_DB (why)
 *                         if the write failed: nothing of it is kept.
 *   jobstore_drop_sealed  forgets the sealed writes unwritten (their round
 *                         failed elsewhere).
 * Between seal and write/drop the loop must not seal again; it may stage,
 * read and expire freely (RocksDB is thread-safe).
 */
enum err jobstore_seal(struct jobstore *s);
enum err jobstore_write_sealed(struct jobstore *s, char *why, size_t whysz);
void jobstore_drop_sealed(struct jobstore *s);

/* Drops every staged write (the round they belong to was failed). */
void jobstore_discard(struct jobstore *s);

/* Looks up an idempotency key: ERR_OK and the id, or ERR_NOTFOUND. */
enum err jobstore_get_key(struct jobstore *s, const char *tenant, const char *key, char *id,
    size_t idsz);

/* A fresh RESULT message for a finished job, or ERR_NOTFOUND. */
enum err jobstore_get_result(struct jobstore *s, const char *id, struct msg **out,
    int64_t *finished_ms);

/* Calls fn for every stored (unfinished) job, in id order.  The message is
 * borrowed for the duration of the call.  Stops at the first non-OK return. */
enum err jobstore_each_job(struct jobstore *s,
    enum err (*fn)(void *arg, const char *id, enum jobstore_state st, int64_t accepted_ms,
        const struct msg *job),
    void *arg);

/* Stages deletion of results finished before `before_ms` and of keys whose
 * job is gone, at most half a batch per call (the rest at the next call);
 * returns how many results were dropped. */
size_t jobstore_expire(struct jobstore *s, int64_t before_ms);

#endif
