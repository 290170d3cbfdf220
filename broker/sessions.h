/*
 * sessions — session workspaces: the files a job keeps under
 * /work/session/ (skills/ included), stored by the broker so that the next
 * job of the same tenant and session, on any worker, starts with them.
 *
 * Disk layout (RocksDB in DATA/sessions, every write synced):
 *
 *   "f" tenant \0 session \0 path  ->  class (1 byte) | data
 *   "m" tenant \0 session          ->  last use, ms since the epoch (8 bytes LE)
 *
 * A session is keyed by tenant and name together, so another tenant's
 * session of the same name is another session.  Each session has a byte
 * quota (a job whose session folder outgrows it ends `error` and nothing is
 * stored) and expires after `ttl_ms` without use.
 */
#ifndef SLUICE_SESSIONS_H
#define SLUICE_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct sessions;

/* Opens (creating) DATA/sessions.  NULL with *err and a reason on failure. */
struct sessions *sessions_open(const char *datadir, uint64_t quota_bytes, uint64_t ttl_ms,
    enum err *err, char *why, size_t whysz);
void sessions_close(struct sessions **sp);

/* Called once per file changed or listed: path (relative to session/),
 * op ("write", "delete", "list"), bytes, class name. */
typedef void sessions_fn(void *arg, const char *path, const char *op, uint64_t bytes,
    const char *cls);

/* Packs the session's files into a fresh msgpack array [{path, class, size,
 * data? | withheld?}] in *buf (free with free()): a file's data is packed
 * when its class is below `data_below` (an enum wspath_class; 0: no data,
 * WSPATH_CLASS_COUNT: every file's), otherwise it is marked withheld (only
 * when data_below > 0).  An
 * expired session is removed first (fn sees each "delete").  *buf is NULL
 * and *len 0 when the session holds nothing. */
enum err sessions_pack(struct sessions *s, const char *tenant, const char *session, int64_t now_ms,
    int data_below, char **buf, size_t *len, sessions_fn *fn, void *arg);

/* Replaces the session's files with `raw` (the worker's snapshot of
 * /work/session, msgpack [{path, data, class}]).  ERR_TOOBIG with a reason
 * when it exceeds the quota (nothing changes), ERR_INVAL on a bad snapshot,
 * ERR_DB.  fn sees every write and delete. */
enum err sessions_replace(struct sessions *s, const char *tenant, const char *session,
    const void *raw, size_t len, int64_t now_ms, sessions_fn *fn, void *arg, char *why,
    size_t whysz);

/* Removes every file of the session; fn sees each "delete". */
enum err sessions_remove(struct sessions *s, const char *tenant, const char *session,
    sessions_fn *fn, void *arg);

#endif
