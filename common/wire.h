/*
 * wire — sending and receiving sluice messages on ZeroMQ sockets (czmq).
 *
 * ROUTER sockets see [routing id][header][body]; DEALER sockets see
 * [header][body].  Anything else is malformed.  Socket options every sluice
 * socket gets (bounded high-water marks, ZMQ_MAXMSGSIZE, linger) live here too.
 */
#ifndef SLUICE_WIRE_H
#define SLUICE_WIRE_H

#include <czmq.h>
#include <stdbool.h>

#include "common/err.h"
#include "common/msg.h"

/* High-water mark for every sluice socket: bounded, never 0 (unbounded). */
#define WIRE_HWM 10000
#define WIRE_SNDTIMEO_MS 2000	/* longest a send waits for room (wire_tune) */
#define WIRE_KEY_PROPERTY "X-Key"	/* ZAP metadata: the peer's Z85 public key */

/* Applies the common options (HWM, max message size, linger). */
void wire_tune(zsock_t *s);

/* Sends `m` (borrowed).  `rid` (borrowed) is the routing id on a ROUTER
 * socket, NULL on a DEALER.  Returns ERR_OK, or ERR_IO when the socket
 * refused (peer gone, HWM reached on a non-blocking send). */
enum err wire_send(zsock_t *s, zframe_t *rid, const struct msg *m);

/* Receives one message.  With `router`, the first frame is the routing id,
 * returned fresh in *rid even when decoding fails (so the caller can answer).
 * On success *m is fresh; on failure *m is NULL and `why` says what was wrong. */
enum err wire_recv(zsock_t *s, bool router, zframe_t **rid, struct msg **m, char *why,
    size_t whysz);

/* Who sent a message, as the broker's ZAP handler vouched for the
 * connection under CURVE (both "" on plaintext). */
struct wire_peer {
	char user[128];		/* User-Id: a client key's tenant, otherwise the key's name */
	char key[41];		/* metadata X-Key: the Z85 public key the connection used */
};

/* wire_recv on a ROUTER that also fills `peer` from the message's
 * connection metadata. */
enum err wire_recv_peer(zsock_t *s, zframe_t **rid, struct msg **m, struct wire_peer *peer,
    char *why, size_t whysz);

/* wire_recv (filling `peer` as wire_recv_peer when non-NULL, on a ROUTER) that
 * does not wait: when no message is waiting it returns ERR_OK with *m and
 * *rid NULL.  For draining a socket after zmq_poll: libzmq looks at its
 * command pipe (a poll(2), and a getpid(2) for its fork check) only when the
 * socket is empty, where asking for ZMQ_EVENTS before every message (czmq's
 * zsock_events) pays both each time. */
enum err wire_try_recv(zsock_t *s, bool router, zframe_t **rid, struct msg **m,
    struct wire_peer *peer, char *why, size_t whysz);

/* The ERROR text a ROUTER sends to a peer it does not know (it restarted, or
 * dropped the peer): the peer answers by registering again. */
#define WIRE_NOT_REGISTERED "not registered"

/* True when `m` is that ERROR. */
bool wire_is_not_registered(const struct msg *m);

/* Sends an ERROR reply with `code` and `text`, echoing `req` when non-NULL. */
void wire_send_error(zsock_t *s, zframe_t *rid, enum err code, const char *req,
    const char *text);

#endif
