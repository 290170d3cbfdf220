/*
 * session_mode — which privacy mode each session's output is filtered in.
 *
 * The deployment allows a set of modes (broker --privacy-modes; report, which
 * lets raw data out, only when listed) and names a default
 * (--privacy-default).  A job may ask for a mode (SUBMIT `privacy_mode`); the
 * first job of a session fixes the session's mode and a later job asking for
 * another is refused, so one session never mixes tokenized and raw output.
 *
 * The memory is an in-memory map (tenant, session) -> (mode, last use),
 * bounded in entries; an entry not used for `ttl_ms` is forgotten, and so is
 * everything on a broker restart (documented in docs/PRIVACY.md).  Jobs
 * without a session are not pinned: each gets the mode it asks for.
 */
#ifndef SLUICE_SESSION_MODE_H
#define SLUICE_SESSION_MODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/privacy.h"

struct session_mode;

/* Creates the map.  `allowed` is a set of PRIVACY_MODE_BIT()s that must
 * contain `deflt`; `max` (>= 1) bounds the sessions remembered at once.
 * Returns NULL on a bad argument or out of memory. */
struct session_mode *session_mode_new(unsigned allowed, enum privacy_mode deflt, size_t max,
    int64_t ttl_ms);
/* Destroys the map and clears the pointer; NULL is fine. */
void session_mode_destroy(struct session_mode **sp);

/* Decides the mode of a job of (tenant, session) that asks for `asked`
 * (NULL or "": no preference).  Remembers nothing: call session_mode_pin
 * once the job is accepted.  Returns ERR_OK with the mode in *out;
 * ERR_INVAL for an unknown mode name, ERR_DENIED for a mode the deployment
 * does not allow or one that differs from the session's pinned mode, with a
 * one-line reason for the client in `why`. */
int session_mode_resolve(struct session_mode *sm, const char *tenant, const char *session,
    const char *asked, int64_t now_ms, enum privacy_mode *out, char *why, size_t whysz);

/* Pins (tenant, session) to `mode` (or refreshes its last use).  A NULL or
 * empty session is not pinned.  Returns ERR_OK; ERR_BUSY when `max`
 * sessions are remembered and none has expired; ERR_NOMEM. */
int session_mode_pin(struct session_mode *sm, const char *tenant, const char *session,
    enum privacy_mode mode, int64_t now_ms);

/* Number of sessions remembered (expired ones included until swept). */
size_t session_mode_count(const struct session_mode *sm);

#endif
