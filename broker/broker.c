/*
 * broker — sluice-broker's event loop (see broker.h, schemas/PROTOCOL.md).
 *
 * One thread.  Clients talk to `front`, workers to `back`; both are ROUTER
 * sockets and every frame on them is untrusted: a malformed message gets an
 * ERROR reply (front) or is dropped, always with a rate-limited log line.
 *
 * State:
 *   jobs     id -> struct job            every job not yet answered
 *   queue    FIFO of queued jobs          bounded by conf->queue_max
 *   workers  routing id -> struct worker  slots, in-flight count, last seen
 *
 * A job moves QUEUED -> LEASED (JOB sent) -> RUNNING (STARTED seen) -> gone
 * (RESULT sent).  When a worker goes silent for 3 heartbeats its LEASED jobs
 * go back to the head of the queue and its RUNNING jobs end `worker_lost`:
 * code with side effects is never silently run twice.
 */
#include <czmq.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "broker/broker.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/util.h"
#include "common/wire.h"

enum job_state { JOB_QUEUED, JOB_LEASED, JOB_RUNNING };

struct worker;

struct job {
	char id[33];
	char req[65];
	zframe_t *client;		/* routing id of the submitter */
	struct msg *job;		/* the JOB message to send (owned) */
	enum job_state state;
	struct worker *worker;		/* when LEASED or RUNNING */
	int64_t accepted_ms;
};

struct worker {
	char key[64];			/* hex of the routing id */
	zframe_t *rid;
	char host[256];
	uint32_t slots;
	uint32_t busy;
	int64_t last_seen_ms;
};

struct broker {
	const struct broker_conf *conf;
	zsock_t *front, *back;
	zhashx_t *jobs;			/* id -> struct job */
	zlistx_t *queue;		/* struct job *, not owned */
	zhashx_t *workers;		/* key -> struct worker */
	uint64_t done;
	int64_t next_heartbeat_ms;
	struct log_limit bad_front, bad_back;
};

static volatile sig_atomic_t broker_stop;

static void
on_signal(int sig)
{
	(void)sig;
	broker_stop = 1;
}

void
broker_conf_default(struct broker_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->front = "tcp://127.0.0.1:5555";
	c->back = "tcp://127.0.0.1:5556";
	c->data = "sluice-data/broker";
	c->heartbeat_ms = 1000;
	c->queue_max = 10000;
	c->defaults = job_limits_default;
	c->max = job_limits_max;
}

static void
job_free(void **item)
{
	struct job *j = *item;
	if (j == NULL)
		return;
	zframe_destroy(&j->client);
	msg_destroy(&j->job);
	free(j);
	*item = NULL;
}

static void
worker_free(void **item)
{
	struct worker *w = *item;
	if (w == NULL)
		return;
	zframe_destroy(&w->rid);
	free(w);
	*item = NULL;
}

/* --- answering clients --------------------------------------------------- */

static void
send_front(struct broker *b, zframe_t *client, const struct msg *m)
{
	if (wire_send(b->front, client, m) != ERR_OK)
		log_limited(&b->bad_front, 10, "client gone before its %s could be delivered",
		    msg_cmd_name(msg_cmd(m)));
}

/* Answers a job with a RESULT built from `src` (a DONE, or NULL) and forgets it. */
static void
job_finish(struct broker *b, struct job *j, const struct msg *src, enum job_status st,
    const char *reason)
{
	struct msg *r = msg_new(MSG_RESULT);

	if (r != NULL) {
		if (src != NULL)
			msg_copy_fields(r, src);
		msg_set_str(r, MSG_F_ID, j->id);
		if (src == NULL || !msg_has(src, MSG_F_STATUS))
			msg_set_str(r, MSG_F_STATUS, job_status_name(st));
		if (reason != NULL)
			msg_set_str(r, MSG_F_REASON, reason);
		if (j->req[0])
			msg_set_str(r, MSG_F_REQ, j->req);
		send_front(b, j->client, r);
		msg_destroy(&r);
	}
	b->done++;
	zhashx_delete(b->jobs, j->id);
}

/* --- dispatch ------------------------------------------------------------ */

static struct worker *
pick_worker(struct broker *b)
{
	struct worker *best = NULL;
	for (struct worker *w = zhashx_first(b->workers); w; w = zhashx_next(b->workers))
		if (w->busy < w->slots && (best == NULL || w->slots - w->busy > best->slots - best->busy))
			best = w;
	return best;
}

static void
dispatch(struct broker *b)
{
	struct job *j;
	struct worker *w;

	while ((j = zlistx_first(b->queue)) != NULL && (w = pick_worker(b)) != NULL) {
		zlistx_delete(b->queue, zlistx_cursor(b->queue));
		if (wire_send(b->back, w->rid, j->job) != ERR_OK) {
			log_warnx("worker %s unreachable; dropping it", w->host);
			zlistx_add_start(b->queue, j);
			w->slots = 0;	/* expires at the next heartbeat check */
			continue;
		}
		j->state = JOB_LEASED;
		j->worker = w;
		w->busy++;
		log_debug("job %s leased to %s", j->id, w->host);
	}
}

/* --- the front socket ---------------------------------------------------- */

/* Resolves one limit: absent -> default; above max -> rejection. */
static bool
limit(const struct msg *in, struct msg *out, enum msg_field f, uint64_t dflt, uint64_t max,
    char *why, size_t whysz)
{
	uint64_t v = msg_u64(in, f, dflt);
	if (v == 0 || v > max) {
		snprintf(why, whysz, "%s %llu is outside 1..%llu", msg_field_key(f),
		    (unsigned long long)v, (unsigned long long)max);
		return false;
	}
	msg_set_u64(out, f, v);
	return true;
}

static void
on_submit(struct broker *b, zframe_t *client, const struct msg *in)
{
	const struct broker_conf *c = b->conf;
	const char *req = msg_str(in, MSG_F_REQ, "");
	const char *lang = msg_str(in, MSG_F_LANG, "ts");
	char why[256];
	size_t codelen;
	struct job *j;
	struct msg *jm;

	msg_bin(in, MSG_F_CODE, &codelen);
	if (codelen == 0) {
		wire_send_error(b->front, client, ERR_INVAL, req, "code is empty");
		return;
	}
	if (strcmp(lang, "ts") != 0 && strcmp(lang, "js") != 0) {
		wire_send_error(b->front, client, ERR_INVAL, req, "lang must be \"ts\" or \"js\"");
		return;
	}
	if (zlistx_size(b->queue) >= c->queue_max) {
		struct msg *busy = msg_new(MSG_BUSY);
		if (busy != NULL) {
			msg_set_str(busy, MSG_F_REQ, req);
			msg_set_u64(busy, MSG_F_RETRY_MS, 100 + zlistx_size(b->queue) / 10);
			send_front(b, client, busy);
			msg_destroy(&busy);
		}
		return;
	}
	if ((jm = msg_new(MSG_JOB)) == NULL || (j = calloc(1, sizeof(*j))) == NULL) {
		msg_destroy(&jm);
		wire_send_error(b->front, client, ERR_NOMEM, req, "out of memory");
		return;
	}
	j->job = jm;
	if (!limit(in, jm, MSG_F_TIMEOUT_MS, c->defaults.timeout_ms, c->max.timeout_ms, why, sizeof(why)) ||
	    !limit(in, jm, MSG_F_MEMORY_MB, c->defaults.memory_mb, c->max.memory_mb, why, sizeof(why)) ||
	    !limit(in, jm, MSG_F_PIDS, c->defaults.pids, c->max.pids, why, sizeof(why)) ||
	    !limit(in, jm, MSG_F_WORKSPACE_MB, c->defaults.workspace_mb, c->max.workspace_mb, why, sizeof(why)) ||
	    !limit(in, jm, MSG_F_OUTPUT_BYTES, c->defaults.output_bytes, c->max.output_bytes, why, sizeof(why))) {
		job_free((void **)&j);
		wire_send_error(b->front, client, ERR_INVAL, req, why);
		return;
	}
	if (util_random_hex(j->id, 16) != ERR_OK ||
	    msg_copy_fields(jm, in) != ERR_OK ||	/* code, lang, session, files */
	    msg_set_str(jm, MSG_F_ID, j->id) != ERR_OK ||
	    msg_set_str(jm, MSG_F_LANG, lang) != ERR_OK) {
		job_free((void **)&j);
		wire_send_error(b->front, client, ERR_NOMEM, req, "could not create job");
		return;
	}
	snprintf(j->req, sizeof(j->req), "%s", req);
	j->client = zframe_dup(client);
	j->state = JOB_QUEUED;
	j->accepted_ms = util_now_ms();
	zhashx_insert(b->jobs, j->id, j);

	struct msg *ack = msg_new(MSG_ACCEPTED);
	if (ack != NULL) {
		msg_set_str(ack, MSG_F_REQ, req);
		msg_set_str(ack, MSG_F_ID, j->id);
		send_front(b, client, ack);
		msg_destroy(&ack);
	}
	zlistx_add_end(b->queue, j);
	dispatch(b);
}

static void
on_status(struct broker *b, zframe_t *client, const struct msg *in)
{
	struct msg *r = msg_new(MSG_STATUS_REPLY);
	uint64_t free_slots = 0;

	if (r == NULL)
		return;
	for (struct worker *w = zhashx_first(b->workers); w; w = zhashx_next(b->workers))
		free_slots += w->slots - w->busy;
	msg_set_str(r, MSG_F_REQ, msg_str(in, MSG_F_REQ, ""));
	msg_set_u64(r, MSG_F_QUEUED, zlistx_size(b->queue));
	msg_set_u64(r, MSG_F_RUNNING, zhashx_size(b->jobs) - zlistx_size(b->queue));
	msg_set_u64(r, MSG_F_WORKERS, zhashx_size(b->workers));
	msg_set_u64(r, MSG_F_FREE, free_slots > 1024 ? 1024 : free_slots);
	msg_set_u64(r, MSG_F_DONE_COUNT, b->done);
	send_front(b, client, r);
	msg_destroy(&r);
}

static void
on_front(struct broker *b)
{
	zframe_t *client = NULL;
	struct msg *m = NULL;
	char why[256];
	enum err e = wire_recv(b->front, true, &client, &m, why, sizeof(why));

	if (e != ERR_OK) {
		log_limited(&b->bad_front, 10, "front: rejected message: %s", why);
		if (client != NULL)
			wire_send_error(b->front, client, e, NULL, why);
		zframe_destroy(&client);
		return;
	}
	switch (msg_cmd(m)) {
	case MSG_SUBMIT:
		on_submit(b, client, m);
		break;
	case MSG_STATUS:
		on_status(b, client, m);
		break;
	default:
		log_limited(&b->bad_front, 10, "front: %s is not a client command",
		    msg_cmd_name(msg_cmd(m)));
		wire_send_error(b->front, client, ERR_PROTO, msg_str(m, MSG_F_REQ, NULL),
		    "not a client command");
	}
	msg_destroy(&m);
	zframe_destroy(&client);
}

/* --- the back socket ----------------------------------------------------- */

static void
rid_key(zframe_t *rid, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = zframe_data(rid);
	size_t n = zframe_size(rid), o = 0;

	for (size_t i = 0; i < n && o + 3 <= outsz; i++) {
		out[o++] = hex[p[i] >> 4];
		out[o++] = hex[p[i] & 15];
	}
	out[o] = '\0';
}

/* Resolves a lost worker's jobs (see the top of this file) and forgets it. */
static void
worker_lost(struct broker *b, struct worker *w, const char *why)
{
	zlistx_t *lost = zlistx_new();
	struct job *j;

	log_warnx("worker %s lost (%s)", w->host, why);
	for (j = zhashx_first(b->jobs); j; j = zhashx_next(b->jobs))
		if (j->worker == w && lost)
			zlistx_add_end(lost, j);
	for (j = lost ? zlistx_first(lost) : NULL; j; j = zlistx_next(lost)) {
		if (j->state == JOB_LEASED) {
			j->state = JOB_QUEUED;
			j->worker = NULL;
			zlistx_add_start(b->queue, j);
			log_info("job %s requeued: its worker had not started it", j->id);
		} else {
			job_finish(b, j, NULL, JOB_WORKER_LOST, "the worker running the job was lost");
		}
	}
	zlistx_destroy(&lost);
	zhashx_delete(b->workers, w->key);
	dispatch(b);
}

static struct job *
worker_job(struct broker *b, struct worker *w, const struct msg *m)
{
	struct job *j = zhashx_lookup(b->jobs, msg_str(m, MSG_F_ID, ""));
	return j != NULL && j->worker == w ? j : NULL;
}

static void
on_back(struct broker *b)
{
	zframe_t *rid = NULL;
	struct msg *m = NULL;
	struct worker *w;
	struct job *j;
	char why[256], key[64];
	enum err e = wire_recv(b->back, true, &rid, &m, why, sizeof(why));

	if (e != ERR_OK) {
		log_limited(&b->bad_back, 10, "back: rejected message: %s", why);
		if (rid != NULL)
			wire_send_error(b->back, rid, e, NULL, why);
		zframe_destroy(&rid);
		return;
	}
	rid_key(rid, key, sizeof(key));
	w = zhashx_lookup(b->workers, key);
	if (msg_cmd(m) == MSG_READY) {
		if (w != NULL)
			worker_lost(b, w, "it registered again");
		if ((w = calloc(1, sizeof(*w))) != NULL) {
			snprintf(w->key, sizeof(w->key), "%s", key);
			snprintf(w->host, sizeof(w->host), "%s", msg_str(m, MSG_F_HOST, "?"));
			w->rid = zframe_dup(rid);
			w->slots = (uint32_t)msg_u64(m, MSG_F_SLOTS, 0);
			w->last_seen_ms = util_now_ms();
			zhashx_insert(b->workers, w->key, w);
			log_info("worker %s ready with %u slots", w->host, w->slots);
			dispatch(b);
		}
		goto out;
	}
	if (w == NULL) {
		/* Not registered (e.g. the broker restarted): ask it to say READY. */
		wire_send_error(b->back, rid, ERR_PROTO, NULL, "not registered");
		goto out;
	}
	w->last_seen_ms = util_now_ms();
	switch (msg_cmd(m)) {
	case MSG_HEARTBEAT:
		break;
	case MSG_STARTED:
		if ((j = worker_job(b, w, m)) != NULL)
			j->state = JOB_RUNNING;
		break;
	case MSG_DONE:
		if ((j = worker_job(b, w, m)) == NULL) {
			log_limited(&b->bad_back, 10, "back: DONE for a job this worker does not hold");
			break;
		}
		w->busy--;
		job_finish(b, j, m, JOB_ERROR, NULL);
		dispatch(b);
		break;
	case MSG_EVENT:
		break;	/* audit events: stored by the audit module */
	default:
		log_limited(&b->bad_back, 10, "back: %s is not a worker command",
		    msg_cmd_name(msg_cmd(m)));
		wire_send_error(b->back, rid, ERR_PROTO, NULL, "not a worker command");
	}
out:
	msg_destroy(&m);
	zframe_destroy(&rid);
}

static void
heartbeat(struct broker *b)
{
	int64_t now = util_now_ms();
	struct msg *hb;
	zlistx_t *dead;

	if (now < b->next_heartbeat_ms)
		return;
	b->next_heartbeat_ms = now + b->conf->heartbeat_ms;
	if ((dead = zlistx_new()) == NULL || (hb = msg_new(MSG_HEARTBEAT)) == NULL) {
		zlistx_destroy(&dead);
		return;
	}
	for (struct worker *w = zhashx_first(b->workers); w; w = zhashx_next(b->workers)) {
		if (now - w->last_seen_ms > 3 * (int64_t)b->conf->heartbeat_ms || w->slots == 0)
			zlistx_add_end(dead, w);
		else
			wire_send(b->back, w->rid, hb);
	}
	for (struct worker *w = zlistx_first(dead); w; w = zlistx_next(dead))
		worker_lost(b, w, "no heartbeat");
	zlistx_destroy(&dead);
	msg_destroy(&hb);
}

/* --- setup and loop ------------------------------------------------------ */

static zsock_t *
bind_router(const char *ep)
{
	zsock_t *s = zsock_new(ZMQ_ROUTER);
	if (s == NULL)
		return NULL;
	wire_tune(s);
	zsock_set_router_mandatory(s, 1);
	if (zsock_bind(s, "%s", ep) < 0) {
		log_warn("cannot bind %s", ep);
		zsock_destroy(&s);
	}
	return s;
}

int
broker_run(const struct broker_conf *conf)
{
	struct broker b = { .conf = conf };
	struct sigaction sa = { .sa_handler = on_signal };
	int rc = 1;

	zsys_handler_set(NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	broker_stop = 0;

	b.jobs = zhashx_new();
	b.queue = zlistx_new();
	b.workers = zhashx_new();
	if (b.jobs == NULL || b.queue == NULL || b.workers == NULL)
		goto out;
	zhashx_set_destructor(b.jobs, job_free);
	zhashx_set_destructor(b.workers, worker_free);
	if ((b.front = bind_router(conf->front)) == NULL || (b.back = bind_router(conf->back)) == NULL)
		goto out;
	log_info("listening: front %s, back %s", conf->front, conf->back);

	while (!broker_stop) {
		zmq_pollitem_t items[] = {
			{ zsock_resolve(b.front), 0, ZMQ_POLLIN, 0 },
			{ zsock_resolve(b.back), 0, ZMQ_POLLIN, 0 },
		};
		int64_t wait = b.next_heartbeat_ms - util_now_ms();
		int n = zmq_poll(items, 2, wait < 0 ? 0 : (long)wait);

		if (n < 0 && errno != EINTR) {
			log_warn("poll");
			break;
		}
		/* Bounded bursts keep one busy socket from starving the other. */
		for (int k = 0; k < 256 && n > 0 && (zsock_events(b.back) & ZMQ_POLLIN); k++)
			on_back(&b);
		for (int k = 0; k < 256 && n > 0 && (zsock_events(b.front) & ZMQ_POLLIN); k++)
			on_front(&b);
		heartbeat(&b);
	}
	log_info("stopping: %zu jobs unanswered", zhashx_size(b.jobs));
	rc = 0;
out:
	zsock_destroy(&b.front);
	zsock_destroy(&b.back);
	zlistx_destroy(&b.queue);
	zhashx_destroy(&b.jobs);
	zhashx_destroy(&b.workers);
	return rc;
}
