/*
 * inputs — a job's input files in the worker: checked again (the broker
 * already did), written into the workspace before the jail starts, and
 * remembered by path and data class so that output files can be labelled
 * (taint) and withheld.
 */
#ifndef SLUICE_INPUTS_H
#define SLUICE_INPUTS_H

#include <stddef.h>

#include "common/err.h"
#include "common/msg.h"
#include "common/wspath.h"
#include "worker/denoaudit.h"
#include "worker/filewatch.h"
#include "worker/workspace.h"

struct inputs;

/* Writes the JOB's `files` (borrowed) into ws; a missing class becomes
 * `dflt`.  Returns a fresh record (possibly of no files), or NULL with *err
 * and a reason naming the bad file in why. */
struct inputs *inputs_write(struct workspace *ws, const struct msg *job, enum wspath_class dflt,
    enum err *err, char *why, size_t whysz);

/* The taint of the job's outputs: the highest class among the inputs the
 * watcher saw the job read (all inputs when there is no watcher or it lost
 * events); public when it read none. */
enum wspath_class inputs_taint(const struct inputs *in, const struct filewatch *fw);

/* The class of workspace file `rel`: its input class or the taint,
 * whichever is higher. */
enum wspath_class inputs_class_of(const struct inputs *in, const char *rel, enum wspath_class taint);

/* True when `rel` is an input file the job provably left alone (the
 * watcher lost no events and saw no write): it need not go back. */
bool inputs_is_untouched(const struct inputs *in, const struct filewatch *fw, const char *rel);

/* Hands one file_access audit record per (path, op) the watcher saw to fn
 * (job id, "file_access", compact JSON {path, class, op, bytes, allowed,
 * layer: "fanotify", deno: whether Deno's audit saw it too}); the runtime's
 * own files (the program, the prelude) are left out.  Then one record per
 * check Deno's audit shows denied: file_access {path, op, allowed: false,
 * layer: "deno"} for files outside /work, network_access {dest, allowed:
 * false, layer: "deno"} for the network. */
void inputs_report(const struct inputs *in, const struct filewatch *fw,
    const struct denoaudit *da, const char *id,
    void (*fn)(void *arg, const char *id, const char *type, const char *details), void *arg);

/* Accepts NULL; clears *inp. */
void inputs_destroy(struct inputs **inp);

#endif
