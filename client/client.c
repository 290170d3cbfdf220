/*
 * client — front-protocol client used by the CLI and sluice-mcp (client.h).
 * Replies from the broker are decoded strictly like any socket input.
 */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "client/runjob.h"
#include "common/curve.h"
#include "common/endpoint.h"
#include "common/log.h"
#include "common/util.h"
#include "common/wire.h"

struct client {
	zsock_t *sock;
	struct curve_watch *watch;	/* explains a broker that refuses us */
	bool refusal_told;
};

const char *
client_endpoint(const char *ep)
{
	return endpoint_resolve(ep);
}

static struct client *
open_client(const char *endpoint, bool curve)
{
	struct client *c = calloc(1, sizeof(*c));
	char why[512];

	if (c == NULL)
		return NULL;
	zsys_handler_set(NULL);
	if ((c->sock = zsock_new(ZMQ_DEALER)) == NULL)
		goto fail;
	wire_tune(c->sock);
	zsock_set_linger(c->sock, 0);
	/* A DEALER whose every connection failed its handshake has nowhere to
	 * queue a message: never block on it. */
	zsock_set_sndtimeo(c->sock, 2000);
	if (curve && !curve_client_setup_env(c->sock, endpoint, "sluice", why, sizeof(why))) {
		log_warnx("%s", why);
		goto fail;
	}
	c->watch = curve_watch_new(c->sock);
	if (zsock_connect(c->sock, "%s", endpoint) < 0)
		goto fail;
	return c;
fail:
	client_destroy(&c);
	return NULL;
}

struct client *
client_new(const char *endpoint)
{
	return open_client(endpoint, true);
}

struct client *
client_new_local(const char *endpoint)
{
	return open_client(endpoint, false);
}

bool
client_refused(struct client *c, char *why, size_t whysz)
{
	return curve_watch_failed(c->watch, why, whysz);
}

void
client_destroy(struct client **cp)
{
	if (cp == NULL || *cp == NULL)
		return;
	curve_watch_destroy(&(*cp)->watch);
	zsock_destroy(&(*cp)->sock);
	free(*cp);
	*cp = NULL;
}

/* True when the broker refused our handshake; says why once. */
static bool
refused(struct client *c)
{
	char why[256];

	if (!client_refused(c, why, sizeof(why)))
		return false;
	if (!c->refusal_told)
		log_warnx("%s", why);
	c->refusal_told = true;
	return true;
}

enum err
client_send(struct client *c, struct msg *m, char *req_out)
{
	char req[33];
	enum err e;

	if (!msg_has(m, MSG_F_REQ)) {
		if ((e = util_random_hex(req, 16)) != ERR_OK ||
		    (e = msg_set_str(m, MSG_F_REQ, req)) != ERR_OK)
			return e;
	}
	if (req_out != NULL)
		util_strlcpy(req_out, msg_str(m, MSG_F_REQ, ""), 33);
	if (refused(c))
		return ERR_DENIED;
	return wire_send(c->sock, NULL, m);
}

enum err
client_recv(struct client *c, int timeout_ms, struct msg **out)
{
	char why[256];
	enum err e;

	*out = NULL;
	/* What is already there, without asking for ZMQ_EVENTS first. */
	e = wire_try_recv(c->sock, false, NULL, out, NULL, why, sizeof(why));
	if (e != ERR_OK || *out != NULL) {
		if (e != ERR_OK)
			log_warnx("malformed reply from broker: %s", why);
		return e;
	}
	zsock_set_rcvtimeo(c->sock, timeout_ms);
	if (!(zsock_events(c->sock) & ZMQ_POLLIN)) {
		zpoller_t *p = zpoller_new(c->sock, NULL);
		void *ready = p ? zpoller_wait(p, timeout_ms) : NULL;
		zpoller_destroy(&p);
		if (ready == NULL)
			return refused(c) ? ERR_DENIED : ERR_TIMEOUT;
	}
	e = wire_recv(c->sock, false, NULL, out, why, sizeof(why));
	if (e != ERR_OK)
		log_warnx("malformed reply from broker: %s", why);
	return e;
}

enum err
client_run(struct client *c, struct msg *submit, int accept_ms, int result_ms, struct msg **result,
    char *why, size_t whysz)
{
	char req[33];
	struct runjob_wait w;
	int64_t sleep_ms;
	enum err e;

	*result = NULL;
	if ((e = client_send(c, submit, req)) != ERR_OK) {
		if (!client_refused(c, why, whysz))
			snprintf(why, whysz, "cannot send: %s", err_str(e));
		return e;
	}
	runjob_wait_init(&w, req, accept_ms, result_ms, CLIENT_BUSY_RETRIES);
	for (;;) {
		struct msg *m;
		int64_t left = w.deadline - util_now_ms();

		if (left <= 0) {
			runjob_timeout_why(&w, getenv(CURVE_ENV_KEY) ?
			    " Under CURVE: is --broker-key the broker's key?" : "", why, whysz);
			return ERR_TIMEOUT;
		}
		if ((e = client_recv(c, left > 1000 ? 1000 : (int)left, &m)) == ERR_TIMEOUT)
			continue;
		if (e == ERR_DENIED) {
			client_refused(c, why, whysz);
			return e;
		}
		if (e != ERR_OK)
			continue;	/* logged; keep waiting for a good reply */
		switch (runjob_reply(&w, m, &sleep_ms, &e, why, whysz)) {
		case RUNJOB_RESULT:
			*result = m;
			return ERR_OK;
		case RUNJOB_FAIL:
			return e;
		case RUNJOB_RESEND:
			zclock_sleep((int)sleep_ms);
			if ((e = client_send(c, submit, NULL)) != ERR_OK) {
				snprintf(why, whysz, "cannot send: %s", err_str(e));
				return e;
			}
			break;
		case RUNJOB_WAIT:
			break;
		}
	}
}
