/*
 * zap — the broker's CURVE server side: its key pair, the enrolled keys of
 * each role, and the ZAP handler (RFC 27) that admits a connection only when
 * its key is enrolled for the socket it reaches.
 *
 *   socket      ZAP domain   admits keys from   User-Id of its messages
 *   front       "front"      --clients DIR      the key's tenant (metadata)
 *   back        "back"       --workers DIR      the key's name
 *   approvals   "approvals"  --approvers DIR    the key's name
 *   alerts      "alerts"     --approvers DIR    the key's name
 *
 * Every admitted connection's messages also carry the key itself
 * (metadata WIRE_KEY_PROPERTY, Z85), which the broker checks against the
 * current sets with zap_key_enrolled: a key removed by a reload stops being
 * served on connections it already made (front, back, approvals; the alerts
 * PUB socket cannot tell its subscribers apart).
 *
 * The handler is one REP socket on inproc://zeromq.zap.01 in its own thread
 * (a zactor); the key sets are loaded before it starts and replaced whole by
 * zap_reload (SIGHUP), under a mutex the handler takes for each lookup.  Every refused handshake is logged
 * (rate-limited) with the peer's address and public key.
 */
#ifndef SLUICE_ZAP_H
#define SLUICE_ZAP_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

enum zap_domain { ZAP_FRONT, ZAP_BACK, ZAP_APPROVALS, ZAP_ALERTS, ZAP__COUNT };

struct zap_conf {
	const char *secret;		/* the broker's NAME.key */
	const char *clients;		/* directory of enrolled client *.pub (with tenant) */
	const char *workers;		/* directory of enrolled worker *.pub */
	const char *approvers;		/* directory of enrolled approver/operator *.pub */
};

struct zap;

/* Loads the broker's key and every enrolled key, then starts the handler.
 * A missing directory enrols nobody for that role (logged); a client key
 * without a valid tenant, an unreadable key file, or a second ZAP handler in
 * the process is an error.  Fresh handle or NULL with `why`. */
struct zap *zap_new(const struct zap_conf *c, char *why, size_t whysz);

/* Loads the key directories again (SIGHUP): new keys are admitted and
 * removed ones refused from the next handshake on; a connection already
 * made is not cut here (the broker refuses its requests and drops its
 * worker, zap_key_enrolled).  On any bad file nothing changes: ERR_INVAL
 * with `why` (the sets in use stay).  Logs what changed per role. */
enum err zap_reload(struct zap *z, char *why, size_t whysz);

/* Is this public key (Z85, a message's WIRE_KEY_PROPERTY) still enrolled
 * for `d`?  Revocation is by key: removing NAME.pub revokes exactly the
 * key in it. */
bool zap_key_enrolled(struct zap *z, enum zap_domain d, const char *z85);

/* Stops the handler and wipes the broker's secret key.  Accepts NULL. */
void zap_destroy(struct zap **zp);

/* Makes `s` (not yet bound) a CURVE server admitting only domain `d`'s keys. */
void zap_apply(const struct zap *z, zsock_t *s, enum zap_domain d);

/* Number of keys enrolled for domain `d`. */
size_t zap_enrolled(const struct zap *z, enum zap_domain d);

#endif
