/*
 * front — one job's round trip without ZeroMQ (front.h).  Runs in the
 * `sluice` front binary.  Replies come from the broker over a socket: the
 * framing is checked by zmtp.c, every message by msg_decode, exactly as the
 * full CLI checks them.
 *
 * This mirrors client_run (client/client.c) step by step; a change to one
 * belongs in the other, and tests/integ/test_front.sh diffs the two
 * programs' output for the same jobs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/client.h"
#include "client/front.h"
#include "client/runjob.h"
#include "client/zmtp.h"
#include "common/util.h"

#define RECONNECT_MS	100	/* ZeroMQ's default reconnect interval */
#define SEND_MS		2000	/* as the CLI's ZMQ_SNDTIMEO */
#define FRAME_MAX	((size_t)MSG_BODY_MAX + 4096)	/* as wire_tune's ZMQ_MAXMSGSIZE */

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Connects and shakes hands by `deadline`, retrying while nobody listens
 * or the connection drops during the handshake (a broker starting up). */
static enum err
open_conn(const struct endpoint_addr *addr, int64_t deadline, struct zmtp **out, char *why,
    size_t whysz)
{
	enum err e;

	*out = NULL;
	for (;;) {
		int fd = zmtp_connect(addr, deadline);

		if (fd >= 0) {
			if ((*out = zmtp_new(fd, FRAME_MAX)) == NULL) {
				snprintf(why, whysz, "out of memory");
				return ERR_NOMEM;
			}
			if ((e = zmtp_handshake(*out, deadline, why, whysz)) == ERR_OK)
				return ERR_OK;
			zmtp_destroy(out);
			if (e != ERR_IO)
				return e;
		}
		if (util_now_ms() + RECONNECT_MS >= deadline)
			return ERR_TIMEOUT;
		sleep_ms(RECONNECT_MS);
	}
}

static enum err
send_submit(struct zmtp *z, const unsigned char *hdr, const unsigned char *body, size_t len,
    char *why, size_t whysz)
{
	struct zmtp_part parts[2] = { { hdr, MSG_HEADER_LEN }, { body, len } };
	enum err e = zmtp_send(z, parts, 2, util_now_ms() + SEND_MS);

	if (e != ERR_OK)
		snprintf(why, whysz, "cannot send: %s", err_str(e));
	return e;
}

enum err
front_submit(const struct endpoint_addr *addr, struct msg *submit, int accept_ms, int result_ms,
    struct msg **result, char *why, size_t whysz)
{
	unsigned char hdr[MSG_HEADER_LEN], *body = NULL;
	struct zmtp_msg zm = { 0 };
	struct zmtp *z = NULL;
	char req[33], zwhy[256];
	struct runjob_wait w;
	int64_t sleep_for;
	size_t len;
	enum err e;

	*result = NULL;
	if ((e = util_random_hex(req, 16)) != ERR_OK || (e = msg_set_str(submit, MSG_F_REQ, req)) != ERR_OK ||
	    (e = msg_encode(submit, hdr, &body, &len)) != ERR_OK) {
		snprintf(why, whysz, "cannot send: %s", err_str(e));
		return e;
	}
	runjob_wait_init(&w, req, accept_ms, result_ms, CLIENT_BUSY_RETRIES);
	if ((e = open_conn(addr, w.deadline, &z, zwhy, sizeof(zwhy))) != ERR_OK) {
		if (e == ERR_TIMEOUT)
			runjob_timeout_why(&w, "", why, whysz);
		else
			snprintf(why, whysz, "%s", zwhy);
		goto out;
	}
	if ((e = send_submit(z, hdr, body, len, why, whysz)) != ERR_OK)
		goto out;
	for (;;) {
		struct msg *m;

		e = zmtp_recv(z, &zm, w.deadline, zwhy, sizeof(zwhy));
		if (e == ERR_TIMEOUT) {
			runjob_timeout_why(&w, "", why, whysz);
			goto out;
		}
		if (e != ERR_OK) {
			snprintf(why, whysz, "%s", zwhy);
			goto out;
		}
		if (zm.nframes != 2) {
			fprintf(stderr, "sluice: malformed reply from broker: %zu frames, expected 2\n",
			    zm.nframes);
			continue;
		}
		e = msg_decode(zm.part[0], zm.len[0], zm.part[1], zm.len[1], &m, zwhy, sizeof(zwhy));
		zmtp_msg_clear(&zm);
		if (e != ERR_OK) {
			fprintf(stderr, "sluice: malformed reply from broker: %s\n", zwhy);
			continue;	/* keep waiting for a good reply */
		}
		switch (runjob_reply(&w, m, &sleep_for, &e, why, whysz)) {
		case RUNJOB_RESULT:
			*result = m;
			e = ERR_OK;
			goto out;
		case RUNJOB_FAIL:
			goto out;
		case RUNJOB_RESEND:
			sleep_ms(sleep_for);
			if ((e = send_submit(z, hdr, body, len, why, whysz)) != ERR_OK)
				goto out;
			break;
		case RUNJOB_WAIT:
			break;
		}
	}
out:
	zmtp_msg_clear(&zm);
	zmtp_destroy(&z);
	free(body);
	return e;
}
