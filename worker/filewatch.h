/*
 * filewatch — every file the job reads or writes in its /work, seen by the
 * kernel (fanotify), not by the job.
 *
 * One fanotify group per job, marked on the workspace's own tmpfs (the whole
 * file system, so the jail's bind mount at /work is covered) before the jail
 * starts.  The job cannot switch it off: the group lives in the worker, the
 * jail has no capability to touch it, and Deno's permission flags play no
 * part.  Events are aggregated per (path, op): `read` (the file was read or
 * opened for reading; bytes = its size), `write` (modified or closed after
 * writing; bytes = its size at the last close).  Accesses by the worker
 * itself (writing inputs, harvesting outputs) are not counted.
 */
#ifndef SLUICE_FILEWATCH_H
#define SLUICE_FILEWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct filewatch;

/* Watches the workspace at host path `root`; `whole_fs` marks the file
 * system `root` is the root of (a per-job tmpfs), otherwise only `root`'s
 * direct children are seen.  Returns a fresh watcher, or NULL with *err
 * (ERR_DENIED: no fanotify here, ERR_IO, ERR_NOMEM) and a reason. */
struct filewatch *filewatch_new(const char *root, bool whole_fs, enum err *err, char *why,
    size_t whysz);

/* Reads every queued event without blocking and folds it into the totals. */
void filewatch_drain(struct filewatch *fw);

/* Drains the queue and forgets everything seen so far: a warm jail's watch
 * is armed when the jail is built and counts from the job's handover. */
void filewatch_reset(struct filewatch *fw);

/* True when the job read `rel` (a path relative to the workspace). */
bool filewatch_was_read(const struct filewatch *fw, const char *rel);

/* True when the job wrote `rel`. */
bool filewatch_was_written(const struct filewatch *fw, const char *rel);

/* True when the kernel's queue overflowed (some events were lost). */
bool filewatch_overflowed(const struct filewatch *fw);

/* Calls fn once per (path, op) seen, in first-seen order. */
void filewatch_each(const struct filewatch *fw,
    void (*fn)(void *arg, const char *rel, const char *op, uint64_t bytes), void *arg);

/* Accepts NULL; clears *fwp. */
void filewatch_destroy(struct filewatch **fwp);

#endif
