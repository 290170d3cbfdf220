/*
 * rdb — what the RocksDB stores (audit trail, job store, session files)
 * share about closing.
 */
#ifndef SLUICE_RDB_H
#define SLUICE_RDB_H

#include <stdbool.h>
#include <rocksdb/c.h>

/* Closes `db`, unless a write to it failed (`write_failed`): RocksDB's log
 * writer is then in error and closing it aborts the process (an assertion
 * in Debian's librocksdb).  Every acknowledged write was synced, so the
 * next open replays the log; the handle is left to the process exit and
 * the skip is logged with `what` (e.g. "job store").  Accepts NULL db. */
void rdb_close(rocksdb_t *db, bool write_failed, const char *what);

#endif
