/*
 * approver — sluice-approver's event loop (see approver.h, schemas/PROTOCOL.md,
 * docs/APPROVALS.md).
 *
 * One thread polls two sockets:
 *   broker   DEALER to the broker's approvals ROUTER: APPROVAL_REQUEST in,
 *            APPROVAL_HELD / DECISION out, DECISION_ACK in, HEARTBEAT both ways
 *   control  ROUTER bound on ipc://DATA/control for the CLI: AP_LIST, AP_SHOW,
 *            AP_DECIDE
 * Every frame on either socket is untrusted: it is decoded strictly, a bad
 * one gets an ERROR reply where a sender is known and one rate-limited log
 * line, and the loop goes on.
 *
 * Durability rules (the store is approver/pending.c):
 *   - an item is written (synced) before APPROVAL_HELD is sent;
 *   - a decision is written (synced) before DECISION is sent, and DECISION is
 *     sent again after every (re)connect and every few heartbeats until the
 *     broker answers DECISION_ACK, which moves the item to the history.
 * The approver never decides anything itself: at a deadline the broker fails
 * closed, and the approver only refuses late decisions and, after
 * expired_keep_ms, files the expired item in the history.
 */
#include <czmq.h>
#include <errno.h>
#include <limits.h>
#include <msgpack.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "approver/approver.h"
#include "approver/pending.h"
#include "common/log.h"
#include "common/mpread.h"
#include "common/msg.h"
#include "common/paths.h"
#include "common/util.h"
#include "common/wire.h"

/* AP_LIST answers with at most this many items (the `items` field is 16 MiB). */
#define LIST_MAX_ITEMS 10000
#define LIST_MAX_BYTES (15u * 1024 * 1024)

struct approver {
	const struct approver_conf *conf;
	struct pending *store;
	zsock_t *broker;
	zsock_t *control;
	int64_t next_heartbeat_ms;
	int64_t broker_seen_ms;
	int64_t next_resend_ms;
	int64_t next_expire_ms;
	struct log_limit bad_broker, bad_control, db;
};

static volatile sig_atomic_t approver_stop;

static void
on_signal(int sig)
{
	(void)sig;
	approver_stop = 1;
}

void
approver_conf_default(struct approver_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->broker = "tcp://127.0.0.1:5558";
	c->data = "sluice-data/approver";
	c->control = NULL;
	c->host = "approver";
	c->heartbeat_ms = 1000;
	c->expired_keep_ms = 24ull * 3600 * 1000;
}

static uint64_t
wall_ms(void)
{
	return (uint64_t)(util_wall_ns() / 1000000);
}

static bool
broker_is_live(const struct approver *a)
{
	return util_now_ms() - a->broker_seen_ms <= 3 * (int64_t)a->conf->heartbeat_ms;
}

/* --- talking to the broker ------------------------------------------------ */

static void
send_broker(struct approver *a, const struct msg *m)
{
	if (m != NULL && wire_send(a->broker, NULL, m) != ERR_OK)
		log_limited(&a->bad_broker, 10, "could not send %s to the broker (queue full?)",
		    msg_cmd_name(msg_cmd(m)));
}

static void
send_decision(struct approver *a, const struct pending_item *it)
{
	struct msg *m = msg_new(MSG_DECISION);

	if (m == NULL)
		return;
	msg_set_str(m, MSG_F_ID, it->id);
	msg_set_str(m, MSG_F_VERDICT, it->verdict);
	msg_set_str(m, MSG_F_ACTOR, it->actor);
	msg_set_str(m, MSG_F_REASON, it->reason);
	msg_set_u64(m, MSG_F_TIME_MS, it->decided_ms);
	send_broker(a, m);
	msg_destroy(&m);
}

static bool
resend_one(const struct pending_item *it, void *arg)
{
	if (it->state == PENDING_DECIDED)
		send_decision(arg, it);
	return true;
}

/* Sends every recorded, unacknowledged decision again. */
static void
resend_decisions(struct approver *a)
{
	size_t corrupt = 0;

	a->next_resend_ms = util_now_ms() + 5 * (int64_t)a->conf->heartbeat_ms;
	if (pending_foreach(a->store, false, resend_one, a, &corrupt) != ERR_OK)
		log_limited(&a->db, 10, "store: cannot iterate pending items");
	if (corrupt > 0)
		log_limited(&a->db, 60, "store: %zu corrupt pending item(s) skipped", corrupt);
}

static void
send_ready(struct approver *a)
{
	struct msg *m = msg_new(MSG_APPROVER_READY);

	if (m == NULL)
		return;
	msg_set_str(m, MSG_F_HOST, a->conf->host);
	send_broker(a, m);
	msg_destroy(&m);
	resend_decisions(a);
}

static bool
connect_broker(struct approver *a)
{
	if (a->broker != NULL)
		zsock_set_linger(a->broker, 0);	/* queued messages are durable here anyway */
	zsock_destroy(&a->broker);
	if ((a->broker = zsock_new(ZMQ_DEALER)) == NULL)
		return false;
	wire_tune(a->broker);
	zsock_set_sndtimeo(a->broker, 0);
	curve_client_apply(a->conf->curve, a->broker, a->conf->broker, "sluice-approver");
	if (zsock_connect(a->broker, "%s", a->conf->broker) < 0) {
		log_warn("cannot connect to %s", a->conf->broker);
		return false;
	}
	a->broker_seen_ms = util_now_ms();
	send_ready(a);
	return true;
}

/* Copies a string field into a fixed buffer; the codec has bounded it. */
static void
copy_field(char *out, size_t outsz, const struct msg *m, enum msg_field f, const char *dflt)
{
	snprintf(out, outsz, "%s", msg_str(m, f, dflt));
}

static void
on_request(struct approver *a, const struct msg *m)
{
	struct pending_item it;
	const char *id = msg_str(m, MSG_F_ID, "");
	bool duplicate = false;
	char why[256];
	size_t len;
	enum err e;

	memset(&it, 0, sizeof(it));
	if (!pending_is_valid_id(id)) {
		log_limited(&a->bad_broker, 10, "APPROVAL_REQUEST with an invalid id refused");
		wire_send_error(a->broker, NULL, ERR_INVAL, NULL, "invalid id");
		return;
	}
	it.code = (unsigned char *)msg_bin(m, MSG_F_CODE, &it.code_len);
	if (it.code_len == 0) {
		log_limited(&a->bad_broker, 10, "APPROVAL_REQUEST %s with empty code refused", id);
		wire_send_error(a->broker, NULL, ERR_INVAL, NULL, "code is empty");
		return;
	}
	copy_field(it.id, sizeof(it.id), m, MSG_F_ID, "");
	copy_field(it.session, sizeof(it.session), m, MSG_F_SESSION, "");
	copy_field(it.tenant, sizeof(it.tenant), m, MSG_F_TENANT, "");
	copy_field(it.level, sizeof(it.level), m, MSG_F_LEVEL, "L3");
	copy_field(it.lang, sizeof(it.lang), m, MSG_F_LANG, "ts");
	copy_field(it.tool, sizeof(it.tool), m, MSG_F_TOOL, "");
	it.risk = (unsigned char *)msg_bin(m, MSG_F_RISK, &len);
	it.risk_len = it.risk != NULL ? len : 0;
	it.deadline_ms = msg_u64(m, MSG_F_DEADLINE_MS, 0);
	it.time_ms = wall_ms();
	/* Durable first, then acknowledged: the broker resends until HELD. */
	if ((e = pending_put(a->store, &it, &duplicate, why, sizeof(why))) != ERR_OK) {
		log_limited(&a->db, 10, "store: cannot hold %s: %s", id, why);
		return;
	}
	if (duplicate)
		log_debug("approval request %s again: already held", id);
	else
		log_info("holding %s for approval (level %s, deadline in %lld s)", id, it.level,
		    (long long)((int64_t)it.deadline_ms - (int64_t)it.time_ms) / 1000);

	struct msg *held = msg_new(MSG_APPROVAL_HELD);
	if (held != NULL) {
		msg_set_str(held, MSG_F_ID, id);
		send_broker(a, held);
		msg_destroy(&held);
	}
}

static void
on_decision_ack(struct approver *a, const struct msg *m)
{
	const char *id = msg_str(m, MSG_F_ID, "");
	const char *status = msg_str(m, MSG_F_STATUS, "");
	const char *message = msg_str(m, MSG_F_MESSAGE, "");
	char why[256], esc[160];
	enum err e = pending_acked(a->store, id, status, message, wall_ms(), why, sizeof(why));

	if (e == ERR_NOTFOUND) {
		log_debug("DECISION_ACK for an item not awaiting one (already acknowledged?)");
		return;
	}
	if (e != ERR_OK) {
		log_limited(&a->db, 10, "store: cannot file the acknowledged decision on %s: %s", id, why);
		return;
	}
	log_info("decision on %s acknowledged by the broker%s%s", id, message[0] ? ": " : "",
	    message[0] ? log_escape(esc, sizeof(esc), message, strlen(message)) : "");
}

static void
on_broker(struct approver *a)
{
	struct msg *m = NULL;
	char why[256];

	if (wire_recv(a->broker, false, NULL, &m, why, sizeof(why)) != ERR_OK) {
		log_limited(&a->bad_broker, 10, "rejected message from the broker: %s", why);
		return;
	}
	a->broker_seen_ms = util_now_ms();
	switch (msg_cmd(m)) {
	case MSG_APPROVAL_REQUEST:
		on_request(a, m);
		break;
	case MSG_DECISION_ACK:
		on_decision_ack(a, m);
		break;
	case MSG_HEARTBEAT:
		break;
	case MSG_ERROR:
		if (wire_is_not_registered(m)) {
			log_info("broker does not know us; registering again");
			send_ready(a);
		} else {
			log_limited(&a->bad_broker, 10, "broker error: %s: %s",
			    err_str((int)msg_u64(m, MSG_F_ERRCODE, 0)), msg_str(m, MSG_F_MESSAGE, ""));
		}
		break;
	default:
		log_limited(&a->bad_broker, 10, "unexpected %s from the broker",
		    msg_cmd_name(msg_cmd(m)));
	}
	msg_destroy(&m);
}

/* --- the control socket (CLI) --------------------------------------------- */

/* Reads `score` from a risk verdict map {score, level, findings}; false when
 * it is absent or not a number. */
static bool
risk_score(const unsigned char *risk, size_t len, double *score)
{
	struct mpread r;
	struct mpread_item head, key, val;

	if (risk == NULL)
		return false;
	mpread_init(&r, risk, len);
	if (mpread_next(&r, &head) != ERR_OK || head.kind != MPREAD_MAP)
		return false;
	for (uint32_t i = 0; i < head.len; i++) {
		if (mpread_next(&r, &key) != ERR_OK || key.kind != MPREAD_STR)
			return false;
		if (key.len == 5 && memcmp(key.ptr, "score", 5) == 0) {
			if (mpread_next(&r, &val) != ERR_OK)
				return false;
			if (val.kind == MPREAD_FLOAT)
				*score = val.f;
			else if (val.kind == MPREAD_UINT)
				*score = (double)val.u;
			else
				return false;
			return true;
		}
		if (mpread_skip(&r, 8) != ERR_OK)
			return false;
	}
	return false;
}

struct list_walk {
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t n;
	uint64_t now_ms;
	bool cut;
};

static void
pack_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
	msgpack_pack_str_with_body(pk, k, strlen(k));
	msgpack_pack_str_with_body(pk, v, strlen(v));
}

static void
pack_kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
	msgpack_pack_str_with_body(pk, k, strlen(k));
	msgpack_pack_uint64(pk, v);
}

static bool
list_one(const struct pending_item *it, void *arg)
{
	struct list_walk *w = arg;
	double score = 0;
	bool has_score = risk_score(it->risk, it->risk_len, &score);
	bool decided = it->state == PENDING_DECIDED;
	const char *state = decided ? "decided" :
	    pending_is_expired(it, w->now_ms) ? "expired" : "waiting";

	if (w->n >= LIST_MAX_ITEMS || w->sb.size > LIST_MAX_BYTES) {
		w->cut = true;
		return false;
	}
	msgpack_pack_map(&w->pk, 7 + has_score + (decided ? 2 : 0) + (it->tool[0] != '\0'));
	pack_kv_str(&w->pk, "id", it->id);
	if (it->tool[0] != '\0')
		pack_kv_str(&w->pk, "tool", it->tool);
	pack_kv_str(&w->pk, "session", it->session);
	pack_kv_str(&w->pk, "tenant", it->tenant);
	pack_kv_str(&w->pk, "level", it->level);
	if (has_score) {
		msgpack_pack_str_with_body(&w->pk, "score", 5);
		msgpack_pack_double(&w->pk, score);
	}
	pack_kv_u64(&w->pk, "deadline_ms", it->deadline_ms);
	pack_kv_u64(&w->pk, "time_ms", it->time_ms);
	pack_kv_str(&w->pk, "state", state);
	if (decided) {
		pack_kv_str(&w->pk, "verdict", it->verdict);
		pack_kv_str(&w->pk, "actor", it->actor);
	}
	w->n++;
	return true;
}

static void
on_list(struct approver *a, zframe_t *rid, const struct msg *in)
{
	const char *req = msg_str(in, MSG_F_REQ, "");
	struct list_walk w = { .now_ms = wall_ms() };
	msgpack_sbuffer out;
	msgpack_packer opk;
	size_t corrupt = 0;
	struct msg *r = NULL;
	enum err e;

	msgpack_sbuffer_init(&w.sb);
	msgpack_packer_init(&w.pk, &w.sb, msgpack_sbuffer_write);
	msgpack_sbuffer_init(&out);
	msgpack_packer_init(&opk, &out, msgpack_sbuffer_write);
	if (pending_foreach(a->store, false, list_one, &w, &corrupt) != ERR_OK) {
		wire_send_error(a->control, rid, ERR_DB, req, "cannot read the pending store");
		goto out;
	}
	if (corrupt > 0)
		log_limited(&a->db, 60, "store: %zu corrupt pending item(s) not listed", corrupt);
	if (w.cut)
		log_limited(&a->bad_control, 60, "AP_LIST: list cut at %u items", w.n);
	/* The array header needs the count, known only now. */
	if (msgpack_pack_array(&opk, w.n) != 0 ||
	    (w.sb.size > 0 && msgpack_sbuffer_write(&out, w.sb.data, w.sb.size) != 0)) {
		wire_send_error(a->control, rid, ERR_NOMEM, req, "out of memory");
		goto out;
	}
	if ((r = msg_new(MSG_AP_LIST_REPLY)) == NULL ||
	    msg_set_str(r, MSG_F_REQ, req) != ERR_OK ||
	    (e = msg_set_raw(r, MSG_F_ITEMS, out.data, out.size)) != ERR_OK) {
		wire_send_error(a->control, rid, ERR_INTERNAL, req, "cannot build the list");
		goto out;
	}
	wire_send(a->control, rid, r);
out:
	msg_destroy(&r);
	msgpack_sbuffer_destroy(&w.sb);
	msgpack_sbuffer_destroy(&out);
}

/* Loads a pending item for a control request, answering ERROR when there is
 * none.  Fresh item or NULL. */
static struct pending_item *
control_item(struct approver *a, zframe_t *rid, const struct msg *in)
{
	const char *req = msg_str(in, MSG_F_REQ, "");
	const char *id = msg_str(in, MSG_F_ID, "");
	struct pending_item *it = NULL;
	char why[256], text[1024];
	enum err e = pending_get(a->store, id, &it, why, sizeof(why));

	if (e == ERR_NOTFOUND) {
		wire_send_error(a->control, rid, ERR_NOTFOUND, req, "no such approval item");
		return NULL;
	}
	if (e != ERR_OK) {
		log_limited(&a->db, 10, "store: cannot read %s: %s", id, why);
		snprintf(text, sizeof(text), "the stored item is unreadable: %s", why);
		wire_send_error(a->control, rid, e, req, text);
		return NULL;
	}
	return it;
}

static void
on_show(struct approver *a, zframe_t *rid, const struct msg *in)
{
	const char *req = msg_str(in, MSG_F_REQ, "");
	struct pending_item *it = control_item(a, rid, in);
	struct msg *r;
	char text[1024];

	if (it == NULL)
		return;
	if (it->state == PENDING_DONE || it->state == PENDING_EXPIRED) {
		if (it->state == PENDING_EXPIRED)
			snprintf(text, sizeof(text), "%s is no longer pending: it expired undecided", it->id);
		else
			snprintf(text, sizeof(text), "%s is no longer pending: %s by %s (broker: %.400s)",
			    it->id, it->verdict, it->actor, it->ack_message[0] ? it->ack_message :
			    it->ack_status[0] ? it->ack_status : "acknowledged");
		wire_send_error(a->control, rid, ERR_NOTFOUND, req, text);
		pending_item_free(&it);
		return;
	}
	if ((r = msg_new(MSG_AP_SHOW_REPLY)) != NULL) {
		msg_set_str(r, MSG_F_REQ, req);
		msg_set_str(r, MSG_F_ID, it->id);
		msg_set_bin(r, MSG_F_CODE, it->code, it->code_len);
		msg_set_u64(r, MSG_F_DEADLINE_MS, it->deadline_ms);
		msg_set_u64(r, MSG_F_TIME_MS, it->time_ms);
		msg_set_str(r, MSG_F_LEVEL, it->level);
		msg_set_str(r, MSG_F_LANG, it->lang);
		if (it->session[0])
			msg_set_str(r, MSG_F_SESSION, it->session);
		if (it->tenant[0])
			msg_set_str(r, MSG_F_TENANT, it->tenant);
		if (it->tool[0])
			msg_set_str(r, MSG_F_TOOL, it->tool);
		if (it->risk != NULL && msg_set_raw(r, MSG_F_RISK, it->risk, it->risk_len) != ERR_OK)
			log_limited(&a->db, 60, "store: %s has a malformed risk verdict", it->id);
		wire_send(a->control, rid, r);
		msg_destroy(&r);
	}
	pending_item_free(&it);
}

static void
on_decide(struct approver *a, zframe_t *rid, const struct msg *in)
{
	const char *req = msg_str(in, MSG_F_REQ, "");
	const char *id = msg_str(in, MSG_F_ID, "");
	const char *actor = msg_str(in, MSG_F_ACTOR, "");
	struct pending_item *it = NULL;
	char why[1024], esc[160];
	struct msg *r;
	enum err e;

	e = pending_decide(a->store, id, msg_str(in, MSG_F_VERDICT, ""), actor,
	    msg_str(in, MSG_F_REASON, ""), wall_ms(), why, sizeof(why));
	if (e != ERR_OK) {
		wire_send_error(a->control, rid, e, req, why);
		if (e == ERR_DB)
			log_limited(&a->db, 10, "store: decision on %s not recorded: %s",
			    pending_is_valid_id(id) ? id : "?", why);
		return;
	}
	if (pending_get(a->store, id, &it, why, sizeof(why)) == ERR_OK) {
		log_info("%s: %s by %s", id, it->verdict, log_escape(esc, sizeof(esc), actor, strlen(actor)));
		send_decision(a, it);
		pending_item_free(&it);
	}
	if ((r = msg_new(MSG_AP_DECIDE_REPLY)) != NULL) {
		msg_set_str(r, MSG_F_REQ, req);
		msg_set_str(r, MSG_F_ID, id);
		msg_set_str(r, MSG_F_STATUS, "sent");
		if (!broker_is_live(a))
			msg_set_str(r, MSG_F_MESSAGE, "the broker is not connected: the decision is "
			    "stored and will be sent when it is");
		wire_send(a->control, rid, r);
		msg_destroy(&r);
	}
}

static void
on_control(struct approver *a)
{
	zframe_t *rid = NULL;
	struct msg *m = NULL;
	char why[256];
	enum err e = wire_recv(a->control, true, &rid, &m, why, sizeof(why));

	if (e != ERR_OK) {
		log_limited(&a->bad_control, 10, "control: rejected message: %s", why);
		if (rid != NULL)
			wire_send_error(a->control, rid, e, NULL, why);
		zframe_destroy(&rid);
		return;
	}
	switch (msg_cmd(m)) {
	case MSG_AP_LIST:
		on_list(a, rid, m);
		break;
	case MSG_AP_SHOW:
		on_show(a, rid, m);
		break;
	case MSG_AP_DECIDE:
		on_decide(a, rid, m);
		break;
	default:
		log_limited(&a->bad_control, 10, "control: %s is not a control command",
		    msg_cmd_name(msg_cmd(m)));
		wire_send_error(a->control, rid, ERR_PROTO, msg_str(m, MSG_F_REQ, NULL),
		    "not an approver control command");
	}
	msg_destroy(&m);
	zframe_destroy(&rid);
}

/* --- timers ---------------------------------------------------------------- */

static void
heartbeat(struct approver *a)
{
	int64_t now = util_now_ms();
	size_t moved = 0;
	char why[256];
	struct msg *m;

	if (now < a->next_heartbeat_ms)
		return;
	a->next_heartbeat_ms = now + a->conf->heartbeat_ms;
	if (!broker_is_live(a)) {
		log_warnx("broker silent for %lld ms; reconnecting", (long long)(now - a->broker_seen_ms));
		connect_broker(a);
		return;
	}
	if ((m = msg_new(MSG_HEARTBEAT)) != NULL) {
		send_broker(a, m);
		msg_destroy(&m);
	}
	if (now >= a->next_resend_ms)
		resend_decisions(a);
	if (now < a->next_expire_ms)
		return;
	/* a full scan of the store: once a minute is plenty for a day-long keep */
	a->next_expire_ms = now + (a->conf->expired_keep_ms < 60000 ?
	    (int64_t)a->conf->expired_keep_ms + a->conf->heartbeat_ms : 60000);
	if (pending_expire(a->store, wall_ms(), a->conf->expired_keep_ms, &moved, why,
	    sizeof(why)) != ERR_OK)
		log_limited(&a->db, 60, "store: cannot file expired items: %s", why);
	else if (moved > 0)
		log_info("%zu expired item(s) moved to the history", moved);
}

/* --- setup and loop -------------------------------------------------------- */

int
approver_run(const struct approver_conf *conf)
{
	struct approver a = { .conf = conf };
	struct sigaction sa = { .sa_handler = on_signal };
	char path[PATH_MAX], control[PATH_MAX + 16], why[512];
	int rc = 1;

	zsys_handler_set(NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	approver_stop = 0;

	if (!paths_mkdirs(conf->data)) {
		log_warn("cannot create data dir %s", conf->data);
		return 1;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/db", conf->data) >= sizeof(path) ||
	    (size_t)snprintf(control, sizeof(control), "ipc://%s/control", conf->data) >= sizeof(control)) {
		log_error("data dir path too long");
		return 1;
	}
	if ((a.store = pending_open(path, why, sizeof(why))) == NULL) {
		log_error("store: %s", why);
		return 1;
	}
	if ((a.control = zsock_new(ZMQ_ROUTER)) == NULL)
		goto out;
	wire_tune(a.control);
	zsock_set_linger(a.control, 0);
	if (zsock_bind(a.control, "%s", conf->control != NULL ? conf->control : control) < 0) {
		log_warn("cannot bind control socket %s", conf->control != NULL ? conf->control : control);
		goto out;
	}
	if (!connect_broker(&a))
		goto out;
	log_info("approver %s: broker %s, control %s, store %s", conf->host, conf->broker,
	    conf->control != NULL ? conf->control : control, path);

	while (!approver_stop) {
		zmq_pollitem_t items[] = {
			{ zsock_resolve(a.broker), 0, ZMQ_POLLIN, 0 },
			{ zsock_resolve(a.control), 0, ZMQ_POLLIN, 0 },
		};
		int64_t wait = a.next_heartbeat_ms - util_now_ms();

		if (zmq_poll(items, 2, wait < 0 ? 0 : (long)wait) < 0 && errno != EINTR) {
			log_warn("poll");
			break;
		}
		for (int k = 0; k < 64 && (zsock_events(a.broker) & ZMQ_POLLIN); k++)
			on_broker(&a);
		for (int k = 0; k < 64 && (zsock_events(a.control) & ZMQ_POLLIN); k++)
			on_control(&a);
		heartbeat(&a);
	}
	log_info("stopping");
	rc = 0;
out:
	if (a.broker != NULL)
		zsock_set_linger(a.broker, 0);
	zsock_destroy(&a.broker);
	zsock_destroy(&a.control);
	pending_close(&a.store);
	return rc;
}
