/*
 * zmtp — a minimal ZMTP 3.x client (rfc.zeromq.org/spec/23 and /37) over a
 * plain stream socket, libc only: enough to talk to the broker's ROUTER
 * front as a DEALER with the NULL mechanism, without loading libzmq.  Used
 * by the `sluice` front binary (client/front.c).  Everything the peer sends
 * is untrusted: every length is checked against a bound before it is used,
 * every read has a deadline, a frame's memory grows only as its bytes
 * arrive.
 *
 * On the wire, after the connect:
 *
 *   greeting (64 bytes, both ways)
 *   +------+----------+------+-------+-------+-------------+--------+--------+
 *   | 0xFF | 8 bytes  | 0x7F | major | minor | mechanism   | as-    | filler |
 *   |      | padding  |      |   3   | 0 / 1 | "NULL" + 0s | server | 31 x 0 |
 *   +------+----------+------+-------+-------+-------------+--------+--------+
 *    0      1..8       9      10      11      12..31        32       33..63
 *
 *   frame: flags, size (1 byte, or 8 bytes big-endian when LONG), body
 *   +-------------------------------+----------------+------------------+
 *   | 0 0 0 0 0 COMMAND LONG MORE   | size           | body (size bytes)|
 *   +-------------------------------+----------------+------------------+
 *
 *   command body: name-length (1 byte), name, then for READY the
 *   properties: name-length (1), name, value-length (4, big-endian), value.
 *
 * Both sides send READY (Socket-Type, Identity) after the greetings; a
 * server that refuses us sends ERROR (reason-length, reason).  ZMTP 3.1
 * adds PING/PONG heartbeats: a PING is answered with a PONG.
 */
#ifndef SLUICE_ZMTP_H
#define SLUICE_ZMTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/endpoint.h"
#include "common/err.h"

#define ZMTP_GREETING_LEN	64
/* Frames kept per message; further frames are read, counted and dropped. */
#define ZMTP_PARTS_MAX		2
/* Largest command (READY, ERROR, PING) accepted from the peer. */
#define ZMTP_COMMAND_MAX	8192
/* Deadlines are util_now_ms() values; ZMTP_FOREVER waits without one. */
#define ZMTP_FOREVER		INT64_MAX

struct zmtp;

/* One message received: up to ZMTP_PARTS_MAX frames (fresh buffers owned by
 * the message: zmtp_msg_clear frees them), `nframes` frames in all. */
struct zmtp_msg {
	size_t nframes;
	unsigned char *part[ZMTP_PARTS_MAX];
	size_t len[ZMTP_PARTS_MAX];
};

/* One frame to send, borrowed. */
struct zmtp_part {
	const void *data;
	size_t len;
};

/* Connects a non-blocking stream socket to `a` by the deadline (TCP_NODELAY
 * on TCP).  Returns the descriptor, or -1 with errno (ETIMEDOUT when the
 * deadline passed). */
int zmtp_connect(const struct endpoint_addr *a, int64_t deadline);

/* A fresh connection over the connected stream socket `fd` (ownership taken:
 * zmtp_destroy closes it; also on failure, when NULL is returned).  Frames
 * larger than `frame_max` bytes are an error. */
struct zmtp *zmtp_new(int fd, size_t frame_max);
void zmtp_destroy(struct zmtp **zp);

/* Greetings and READY as a DEALER with the NULL mechanism.  ERR_OK; or
 * ERR_TIMEOUT, ERR_IO (connection lost, errno), ERR_VERSION (not a ZMTP 3
 * peer), ERR_DENIED (the peer wants another mechanism, or sent ERROR),
 * ERR_PROTO (malformed, or a socket type a DEALER cannot talk to), with a
 * reason in `why`. */
enum err zmtp_handshake(struct zmtp *z, int64_t deadline, char *why, size_t whysz);

/* Sends one message of `n` frames (n >= 1).  ERR_OK, ERR_TIMEOUT or ERR_IO. */
enum err zmtp_send(struct zmtp *z, const struct zmtp_part *parts, size_t n, int64_t deadline);

/* Receives the next message into `m` (cleared first), answering PINGs on
 * the way.  ERR_OK; ERR_TIMEOUT; ERR_IO (connection closed or lost);
 * ERR_TOOBIG (a frame over frame_max); ERR_PROTO (malformed framing);
 * ERR_DENIED (the peer sent ERROR).  After any error (ERR_TIMEOUT too: a
 * frame may have been half read) the connection is unusable.  `why` says
 * what happened. */
enum err zmtp_recv(struct zmtp *z, struct zmtp_msg *m, int64_t deadline, char *why,
    size_t whysz);

/* Frees the frames of `m` and empties it. */
void zmtp_msg_clear(struct zmtp_msg *m);

#endif
