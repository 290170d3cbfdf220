/*
 * wire — sluice messages over czmq sockets (see wire.h).
 * Used by every process; frames from the socket are untrusted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/wire.h"

void
wire_tune(zsock_t *s)
{
	zsock_set_sndhwm(s, WIRE_HWM);
	zsock_set_rcvhwm(s, WIRE_HWM);
	zsock_set_maxmsgsize(s, (int64_t)MSG_BODY_MAX + 4096);
	zsock_set_linger(s, 1000);
	/* A send waits for room at most this long, then fails (ERR_IO): a
	 * DEALER whose only connection was refused (CURVE key not enrolled)
	 * has no pipe left and would otherwise block its caller forever. */
	zsock_set_sndtimeo(s, WIRE_SNDTIMEO_MS);
}

/* zmq_msg_init_data's deallocator: the body came from msg_encode (malloc). */
static void
wire_free_body(void *data, void *hint)
{
	(void)hint;
	free(data);
}

/* Frames go straight to libzmq (no czmq zmsg/zframe per message): the
 * routing id and header are copied into the frame, the encoded body is
 * handed over without a copy. */
enum err
wire_send(zsock_t *s, zframe_t *rid, const struct msg *m)
{
	unsigned char hdr[MSG_HEADER_LEN], *body;
	void *h = zsock_resolve(s);
	zmq_msg_t part;
	size_t len;
	enum err e;

	if ((e = msg_encode(m, hdr, &body, &len)) != ERR_OK)
		return e;
	/* The body's frame first: nothing may fail between the first part
	 * sent with SNDMORE and the last, or the next message would be glued
	 * onto this one. */
	if (zmq_msg_init_data(&part, body, len, wire_free_body, NULL) != 0) {
		free(body);
		return ERR_NOMEM;
	}
	if ((rid != NULL && zmq_send(h, zframe_data(rid), zframe_size(rid), ZMQ_SNDMORE) < 0) ||
	    zmq_send(h, hdr, sizeof(hdr), ZMQ_SNDMORE) < 0) {
		zmq_msg_close(&part);	/* frees the body */
		return ERR_IO;
	}
	if (zmq_msg_send(&part, h, 0) < 0) {
		zmq_msg_close(&part);
		return ERR_IO;
	}
	return ERR_OK;
}

#define WIRE_PARTS_MAX 3	/* [routing id] header body */

/* Receives one message; with `peer`, what the ZAP handler said of the
 * sender's connection (User-Id and X-Key, "" when none). */
static enum err
recv_one(zsock_t *s, bool router, bool nowait, zframe_t **rid, struct msg **m,
    struct wire_peer *peer, char *why, size_t whysz)
{
	void *h = zsock_resolve(s);
	zmq_msg_t part[WIRE_PARTS_MAX];
	size_t want = router ? 3 : 2, n = 0, extra = 0;
	enum err e = ERR_OK;
	int more = 1;

	*m = NULL;
	if (rid)
		*rid = NULL;
	if (peer)
		peer->user[0] = peer->key[0] = '\0';
	/* A multipart message arrives whole: after the first part, every
	 * further one is there.  Parts beyond the expected count are counted
	 * and dropped, never stored. */
	while (more) {
		zmq_msg_t scratch, *p = n < WIRE_PARTS_MAX ? &part[n] : &scratch;
		zmq_msg_init(p);
		if (zmq_msg_recv(p, h, nowait && n + extra == 0 ? ZMQ_DONTWAIT : 0) < 0) {
			zmq_msg_close(p);
			if (nowait && n + extra == 0 && errno == EAGAIN)
				return ERR_OK;		/* nothing waiting */
			snprintf(why, whysz, "receive interrupted");
			e = ERR_IO;
			break;
		}
		more = zmq_msg_more(p);
		if (p == &scratch) {
			zmq_msg_close(p);
			extra++;
		} else {
			n++;
		}
	}
	if (e == ERR_OK && router && rid && n > 0)
		*rid = zframe_new(zmq_msg_data(&part[0]), zmq_msg_size(&part[0]));
	if (e == ERR_OK && n + extra != want) {
		snprintf(why, whysz, "%zu frames, expected %zu", n + extra, want);
		e = ERR_PROTO;
	}
	if (e == ERR_OK && peer) {
		const char *u = zmq_msg_gets(&part[want - 2], "User-Id");
		const char *k = zmq_msg_gets(&part[want - 2], WIRE_KEY_PROPERTY);
		util_strlcpy(peer->user, u ? u : "", sizeof(peer->user));
		util_strlcpy(peer->key, k ? k : "", sizeof(peer->key));
	}
	if (e == ERR_OK) {
		zmq_msg_t *hdr = &part[want - 2], *body = &part[want - 1];
		e = msg_decode(zmq_msg_data(hdr), zmq_msg_size(hdr), zmq_msg_data(body),
		    zmq_msg_size(body), m, why, whysz);
	}
	for (size_t i = 0; i < n; i++)
		zmq_msg_close(&part[i]);
	return e;
}

enum err
wire_recv(zsock_t *s, bool router, zframe_t **rid, struct msg **m, char *why, size_t whysz)
{
	return recv_one(s, router, false, rid, m, NULL, why, whysz);
}

enum err
wire_try_recv(zsock_t *s, bool router, zframe_t **rid, struct msg **m, struct wire_peer *peer,
    char *why, size_t whysz)
{
	return recv_one(s, router, true, rid, m, peer, why, whysz);
}

enum err
wire_recv_peer(zsock_t *s, zframe_t **rid, struct msg **m, struct wire_peer *peer, char *why,
    size_t whysz)
{
	return recv_one(s, true, false, rid, m, peer, why, whysz);
}

bool
wire_is_not_registered(const struct msg *m)
{
	return msg_cmd(m) == MSG_ERROR && msg_u64(m, MSG_F_ERRCODE, 0) == ERR_PROTO &&
	    strcmp(msg_str(m, MSG_F_MESSAGE, ""), WIRE_NOT_REGISTERED) == 0;
}

void
wire_send_error(zsock_t *s, zframe_t *rid, enum err code, const char *req, const char *text)
{
	struct msg *m = msg_new(MSG_ERROR);

	if (m == NULL)
		return;
	msg_set_u64(m, MSG_F_ERRCODE, (uint64_t)code);
	msg_set_str(m, MSG_F_MESSAGE, text);
	if (req != NULL && *req != '\0')
		msg_set_str(m, MSG_F_REQ, req);
	if (wire_send(s, rid, m) != ERR_OK)
		log_debug("error reply not delivered");
	msg_destroy(&m);
}
