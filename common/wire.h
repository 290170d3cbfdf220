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

/* wire_recv on a ROUTER that also copies the sender's User-Id (set by the
 * broker's ZAP handler under CURVE; "" on plaintext) into `user`. */
enum err wire_recv_user(zsock_t *s, zframe_t **rid, struct msg **m, char *user, size_t usersz,
    char *why, size_t whysz);

/* wire_recv (with `user` as wire_recv_user when non-NULL, on a ROUTER) that
 * does not wait: when no message is waiting it returns ERR_OK with *m and
 * *rid NULL.  For draining a socket after zmq_poll: libzmq looks at its
 * command pipe (a poll(2), and a getpid(2) for its fork check) only when the
 * socket is empty, where asking for ZMQ_EVENTS before every message (czmq's
 * zsock_events) pays both each time. */
enum err wire_try_recv(zsock_t *s, bool router, zframe_t **rid, struct msg **m, char *user,
    size_t usersz, char *why, size_t whysz);

/* The ERROR text a ROUTER sends to a peer it does not know (it restarted, or
 * dropped the peer): the peer answers by registering again. */
#define WIRE_NOT_REGISTERED "not registered"

/* True when `m` is that ERROR. */
bool wire_is_not_registered(const struct msg *m);

/* Sends an ERROR reply with `code` and `text`, echoing `req` when non-NULL. */
void wire_send_error(zsock_t *s, zframe_t *rid, enum err code, const char *req,
    const char *text);

#endif
