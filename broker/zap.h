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
 * made is not cut here (the broker drops workers whose key name is gone,
 * zap_name_enrolled).  On any bad file nothing changes: ERR_INVAL with `why`
 * (the sets in use stay).  Logs what changed per role. */
enum err zap_reload(struct zap *z, char *why, size_t whysz);

/* Is a key with this User-Id (the name the handler gave) still enrolled
 * for `d`?  Revocation is by name: another enrolled key of the same name
 * keeps it. */
bool zap_name_enrolled(struct zap *z, enum zap_domain d, const char *user);

/* Stops the handler and wipes the broker's secret key.  Accepts NULL. */
void zap_destroy(struct zap **zp);

/* Makes `s` (not yet bound) a CURVE server admitting only domain `d`'s keys. */
void zap_apply(const struct zap *z, zsock_t *s, enum zap_domain d);

/* Number of keys enrolled for domain `d`. */
size_t zap_enrolled(const struct zap *z, enum zap_domain d);

#endif
