/*
 * wire — sluice messages over czmq sockets (see wire.h).
 * Used by every process; frames from the socket are untrusted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/wire.h"

void
wire_tune(zsock_t *s)
{
	zsock_set_sndhwm(s, WIRE_HWM);
	zsock_set_rcvhwm(s, WIRE_HWM);
	zsock_set_maxmsgsize(s, (int64_t)MSG_BODY_MAX + 4096);
	zsock_set_linger(s, 1000);
}

enum err
wire_send(zsock_t *s, zframe_t *rid, const struct msg *m)
{
	unsigned char hdr[MSG_HEADER_LEN], *body;
	size_t len;
	zmsg_t *zm;
	enum err e;

	if ((e = msg_encode(m, hdr, &body, &len)) != ERR_OK)
		return e;
	if ((zm = zmsg_new()) == NULL) {
		free(body);
		return ERR_NOMEM;
	}
	if (rid != NULL)
		zmsg_append(zm, &(zframe_t *){ zframe_dup(rid) });
	zmsg_addmem(zm, hdr, sizeof(hdr));
	zmsg_addmem(zm, body, len);
	free(body);
	if (zmsg_send(&zm, s) != 0) {
		zmsg_destroy(&zm);
		return ERR_IO;
	}
	return ERR_OK;
}

/* Receives one message; with `user`, the User-Id the ZAP handler gave the
 * sender's connection ("" when none). */
static enum err
recv_one(zsock_t *s, bool router, zframe_t **rid, struct msg **m, char *user, size_t usersz,
    char *why, size_t whysz)
{
	zmsg_t *zm = zmsg_recv(s);
	zframe_t *hdr, *body;
	size_t want = router ? 3 : 2;
	enum err e;

	*m = NULL;
	if (rid)
		*rid = NULL;
	if (user)
		*user = '\0';
	if (zm == NULL) {
		snprintf(why, whysz, "receive interrupted");
		return ERR_IO;
	}
	if (router && rid)
		*rid = zmsg_pop(zm);
	else if (router)
		zframe_destroy(&(zframe_t *){ zmsg_pop(zm) });
	if (zmsg_size(zm) + (router ? 1 : 0) != want) {
		snprintf(why, whysz, "%zu frames, expected %zu", zmsg_size(zm) + (router ? 1 : 0), want);
		zmsg_destroy(&zm);
		return ERR_PROTO;
	}
	hdr = zmsg_first(zm);
	body = zmsg_next(zm);
	if (user) {
		const char *u = zframe_meta(hdr, "User-Id");
		snprintf(user, usersz, "%s", u ? u : "");
	}
	e = msg_decode(zframe_data(hdr), zframe_size(hdr), zframe_data(body), zframe_size(body), m,
	    why, whysz);
	zmsg_destroy(&zm);
	return e;
}

enum err
wire_recv(zsock_t *s, bool router, zframe_t **rid, struct msg **m, char *why, size_t whysz)
{
	return recv_one(s, router, rid, m, NULL, 0, why, whysz);
}

enum err
wire_recv_user(zsock_t *s, zframe_t **rid, struct msg **m, char *user, size_t usersz, char *why,
    size_t whysz)
{
	return recv_one(s, true, rid, m, user, usersz, why, whysz);
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
