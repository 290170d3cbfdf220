/*
 * gate — the broker's risk gate and alert publisher.
 *
 * gate_verdict_pack turns a risk verdict into the nested msgpack of the
 * `risk` wire field:
 *   {"score": float, "level": "L1".."L4", "total": uint,
 *    "findings": [{"rule", "category", "weight", "line", "col", "excerpt"}]}
 * Excerpts come from common/risk.c with secrets already masked.
 *
 * The alert publisher owns the PUB socket: each alert is
 *   [topic][header][body of an ALERT message], with one sequence counter
 * for all topics so a subscriber can see that it missed one.
 */
#ifndef SLUICE_GATE_H
#define SLUICE_GATE_H

#include <stddef.h>

#include "common/err.h"
#include "common/risk.h"

/* Fresh msgpack bytes in *out (caller frees); ERR_NOMEM on failure. */
enum err gate_verdict_pack(const struct risk_verdict *v, unsigned char **out, size_t *len);

struct alerts;

struct zap;

/* Binds a PUB socket on `ep` (a CURVE server admitting approver keys when
 * `zap` is not NULL); NULL (logged) on failure. */
struct alerts *alerts_new(const char *ep, const struct zap *zap);
void alerts_destroy(struct alerts **ap);

/* Publishes one alert.  Any of id, level, reason, session, tenant, host may
 * be NULL; risk (msgpack bytes) may be NULL. */
void alerts_publish(struct alerts *a, const char *topic, const char *id, const char *level,
    const char *reason, const char *session, const char *tenant, const char *host,
    const void *risk, size_t risklen);

#endif
