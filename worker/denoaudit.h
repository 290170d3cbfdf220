/*
 * denoaudit — Deno's own permission audit, as a second witness.
 *
 * The runner starts Deno with DENO_AUDIT_PERMISSIONS=/dev/stderr: Deno writes
 * one JSON line per permission check, {"v":1,"datetime":..,"permission":..,
 * "value":..}, into the job's stderr pipe.  The job cannot stop the runtime
 * from writing them (the variable is read at start-up, before any job code),
 * but it can flood or forge stderr — so this is the cross-check, never the
 * record of file access inside /work: that is worker/filewatch (fanotify).
 * What it adds is what fanotify cannot see: checks Deno denied, i.e. reads and
 * writes outside /work and network attempts (the job has no other grant).
 */
#ifndef SLUICE_DENOAUDIT_H
#define SLUICE_DENOAUDIT_H

#include <stdbool.h>
#include <stddef.h>

struct denoaudit;

/* Fresh, empty; NULL on out-of-memory. */
struct denoaudit *denoaudit_new(void);

/* Removes every audit line from buf (len bytes; *len shrinks) and records
 * it.  `work` is the job's /work as Deno sees it. */
void denoaudit_take(struct denoaudit *da, char *buf, size_t *len, const char *work);

/* True when Deno's audit reported a check of workspace file `rel`. */
bool denoaudit_saw(const struct denoaudit *da, const char *rel);

/* Calls fn once per distinct denied check: kind "read", "write" or "net",
 * the value Deno was asked about (untrusted text). */
void denoaudit_each_denied(const struct denoaudit *da,
    void (*fn)(void *arg, const char *kind, const char *value), void *arg);

/* Accepts NULL; clears *dap. */
void denoaudit_destroy(struct denoaudit **dap);

#endif
