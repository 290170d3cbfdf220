/*
 * client — the client side of the front protocol, shared by the CLI
 * commands and sluice-mcp: one DEALER socket to the broker, requests matched
 * to replies by their `req` id.
 */
#ifndef SLUICE_CLIENT_H
#define SLUICE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/msg.h"

struct client;

/* How many BUSY replies client_run (and the front binary) retry before giving up. */
#define CLIENT_BUSY_RETRIES 50

/* Resolves the endpoint: `ep`, else $SLUICE_BROKER, else tcp://127.0.0.1:5555. */
const char *client_endpoint(const char *ep);

/* Connects (lazily, as ZeroMQ does): with CURVE when $SLUICE_CURVE_KEY and
 * $SLUICE_BROKER_KEY name our key and the broker's (the CLI's --curve-key and
 * --broker-key set them), else in plaintext (warned about when `endpoint`
 * leaves the host).  NULL on failure (bad key files: the reason is logged). */
struct client *client_new(const char *endpoint);

/* client_new without CURVE, for local control sockets (ipc://) that are not
 * the broker's. */
struct client *client_new_local(const char *endpoint);

/* True, with the reason in `why`, when the broker refused our handshake
 * (key not enrolled, wrong broker key). */
bool client_refused(struct client *c, char *why, size_t whysz);
void client_destroy(struct client **cp);

/* Sets a fresh `req` on `m` when it has none, then sends it.  The req used is
 * copied into `req_out` (size >= 33) when not NULL.  ERR_DENIED when the
 * broker refused our handshake; ERR_IO when it cannot be queued in 2 s. */
enum err client_send(struct client *c, struct msg *m, char *req_out);

/* Receives the next reply within `timeout_ms` (-1 waits forever).  Fresh
 * message in *out; ERR_TIMEOUT when nothing came; ERR_DENIED when the broker
 * refused our CURVE handshake (said once on stderr); ERR_PROTO on a
 * malformed reply (logged). */
enum err client_recv(struct client *c, int timeout_ms, struct msg **out);

/* Submits a SUBMIT and waits for its RESULT: retries BUSY replies (honouring
 * retry_ms, up to CLIENT_BUSY_RETRIES times), fails when no ACCEPTED arrives in
 * `accept_ms`.  Returns ERR_OK with a fresh RESULT in *result, or an error
 * with a reason in `why` (an ERROR reply's text included). */
enum err client_run(struct client *c, struct msg *submit, int accept_ms, int result_ms,
    struct msg **result, char *why, size_t whysz);

#endif
