/*
 * curve — CURVE key files and the one place every sluice process sets up
 * CURVE (or loud plaintext) on its ZeroMQ sockets.
 *
 * Key files are czmq certificates in ZPL text (docs/ARCHITECTURE.md,
 * "Security"):
 *
 *   NAME.pub (0644)                     NAME.key (0600)
 *   metadata                            metadata
 *       name = "NAME"                       name = "NAME"
 *       tenant = "acme"   (clients)         tenant = "acme"
 *   curve                               curve
 *       public-key = "<40 Z85 chars>"       public-key = "<40 Z85 chars>"
 *                                           secret-key = "<40 Z85 chars>"
 *
 * The broker enrols a peer by holding a copy of its NAME.pub in the
 * directory of its role (clients, workers, approvers); a client key's tenant
 * is read from the broker's copy, never from anything the client sends.
 */
#ifndef SLUICE_CURVE_H
#define SLUICE_CURVE_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/endpoint.h"
#include "common/err.h"

/* CURVE_ENV_KEY and CURVE_ENV_BROKER_KEY are in endpoint.h. */

/* Writes DIR/NAME.pub and DIR/NAME.key (mode 0600) for a fresh key pair.
 * `tenant` (may be NULL) is stored as metadata for client keys.  Refuses to
 * overwrite existing files (ERR_DUPLICATE) and bad names (ERR_INVAL); `why`
 * says what went wrong. */
enum err curve_keygen(const char *dir, const char *name, const char *tenant, char *why,
    size_t whysz);

/* True for names usable as a key file's NAME and as a tenant: 1-64 of
 * [A-Za-z0-9._-], not starting with a dot. */
bool curve_is_name(const char *s);

/* True for endpoints that never leave this host: ipc://, inproc://, and
 * tcp:// on 127.0.0.0/8, ::1 or localhost.  A wildcard bind is not local. */
bool curve_endpoint_is_local(const char *ep);

/* Loads a certificate file (NAME.pub or NAME.key).  With `need_secret`, a
 * file without a secret key is an error.  Fresh cert or NULL with `why`. */
zcert_t *curve_cert_load(const char *path, bool need_secret, char *why, size_t whysz);

/* `flag` when set, else the environment variable `env`, else NULL. */
const char *curve_opt(const char *flag, const char *env);

/* The client side of CURVE: our key pair and the broker's public key. */
struct curve_client;

/* Loads the pair of files.  Both NULL: *out is NULL (plaintext) and true.
 * Only one of them, or a bad file: false with `why`.  *out is fresh. */
bool curve_client_load(const char *key_file, const char *broker_key_file,
    struct curve_client **out, char *why, size_t whysz);
void curve_client_destroy(struct curve_client **cp);

/* curve_client_load for a daemon's --curve-key / --broker-key flags (NULL:
 * $SLUICE_CURVE_KEY / $SLUICE_BROKER_KEY); a failure is logged. */
bool curve_client_load_flags(const char *key_flag, const char *broker_key_flag,
    struct curve_client **out);

/* Prepares socket `s` (not yet connected) for `ep`: CURVE when `cc` is set;
 * plaintext otherwise, with a WARNING on stderr/log when `ep` leaves the host.
 * `who` names the program in the warning. */
void curve_client_apply(const struct curve_client *cc, zsock_t *s, const char *ep,
    const char *who);

/* curve_client_load from $SLUICE_CURVE_KEY and $SLUICE_BROKER_KEY, then
 * curve_client_apply: the one-shot form for short-lived CLI sockets.  False
 * with `why` when the key files are bad. */
bool curve_client_setup_env(zsock_t *s, const char *ep, const char *who, char *why, size_t whysz);

/* Watches `s` for failed handshakes so that a silent broker can be
 * explained ("the broker refused our key").  Fresh watch or NULL. */
struct curve_watch;
struct curve_watch *curve_watch_new(zsock_t *s);
void curve_watch_destroy(struct curve_watch **wp);

/* Drains the events seen so far; true with a one-line explanation in `why`
 * when a handshake failed (authentication refused, protocol mismatch). */
bool curve_watch_failed(struct curve_watch *w, char *why, size_t whysz);

#endif
