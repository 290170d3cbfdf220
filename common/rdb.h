/*
 * rdb — what the RocksDB stores (audit trail, job store, session files,
 * the approver's queue) share: their base options, and closing.
 */
#ifndef SLUICE_RDB_H
#define SLUICE_RDB_H

#include <stdbool.h>
#include <rocksdb/c.h>

#include "common/err.h"

/* Closes `db`, unless a write to it failed (`write_failed`): RocksDB's log
 * writer is then in error and closing it aborts the process (an assertion
 * in Debian's librocksdb).  Every acknowledged write was synced, so the
 * next open replays the log; the handle is left to the process exit and
 * the skip is logged with `what` (e.g. "job store").  Accepts NULL db. */
void rdb_close(rocksdb_t *db, bool write_failed, const char *what);

/* One write of `wb` to `db`, unless a write to it was refused before
 * (*failed): RocksDB's log writer is then in error, and its next write or
 * sync can abort the process (an assertion in Debian's librocksdb), so the
 * store writes nothing more until a restart replays the synced log.  A
 * refused write sets *failed.  ERR_OK, or ERR_DB with the reason in `why`
 * ("not writing: ..." or RocksDB's message).  Stores that share a DB share
 * the flag. */
enum err rdb_write(rocksdb_t *db, const rocksdb_writeoptions_t *wo, rocksdb_writebatch_t *wb,
    bool *failed, char *why, size_t whysz);

/* Options every store starts from: RocksDB's own info LOG (in the DB dir)
 * takes fatal messages only.  On a full disk its writer fails, and the
 * next line it logs -- e.g. from the SstFileManager thread that polls for
 * free space after a "no space" error -- trips an assertion in Debian's
 * librocksdb and aborts the process (seen in test_diskfull: a core's
 * backtrace ends in EnvLogger::Logv from SstFileManagerImpl::ClearError).
 * The stores report their own errors through our log. */
rocksdb_options_t *rdb_options(void);

/* A fresh batch holding `a`'s operations, then `b`'s, for one atomic write
 * of two stores that share a DB.  RocksDB's C API has no append, so the
 * batches' representations are joined (WriteBatch::rep_: an 8-byte sequence,
 * a 4-byte little-endian count, then the records; db/write_batch.cc).
 * NULL when either is malformed or out of memory. */
rocksdb_writebatch_t *rdb_batch_concat(rocksdb_writebatch_t *a, rocksdb_writebatch_t *b);

#endif
