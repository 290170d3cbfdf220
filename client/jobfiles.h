/*
 * jobfiles — the input files of a job as the CLI attaches them
 * (`sluice run --file [WORKPATH=]LOCAL[:CLASS]`), packed into the SUBMIT
 * `files` field: [{path, data, class}].  The CLI does not judge the paths;
 * the broker does (common/wspath.c) and names a bad file in its error.
 */
#ifndef SLUICE_JOBFILES_H
#define SLUICE_JOBFILES_H

#include <stddef.h>

#include "common/err.h"
#include "common/msg.h"

struct jobfiles;

/* Fresh, empty; NULL on out-of-memory. */
struct jobfiles *jobfiles_new(void);

/* Reads LOCAL and remembers it at WORKPATH (default: LOCAL's base name) with
 * CLASS (default: none, the farm's default applies).  Returns ERR_OK, or
 * ERR_IO / ERR_TOOBIG / ERR_NOMEM / ERR_INVAL with a reason in why. */
enum err jobfiles_add(struct jobfiles *jf, const char *arg, char *why, size_t whysz);

/* Sets the `files` field of m when any file was added. */
enum err jobfiles_set(const struct jobfiles *jf, struct msg *m);

/* Accepts NULL; clears *jfp. */
void jobfiles_destroy(struct jobfiles **jfp);

#endif
