/*
 * broker — sluice-broker's event loop (see broker.h, schemas/PROTOCOL.md).
 *
 * One thread.  Clients talk to `front`, workers to `back`; both are ROUTER
 * sockets and every frame on them is untrusted: a malformed message gets an
 * ERROR reply and a rate-limited log line.
 *
 * State:
 *   jobs     id -> struct job             every job not yet finished
 *   keys     tenant/key -> struct job     idempotency keys of those jobs
 *   queue    per-tenant fair priority queue (broker/queue.c), bounded
 *   workers  routing id -> struct worker  slots, busy count, last seen
 *   store    RocksDB (broker/jobstore.c): jobs, results, keys
 *
 * Durability (group commit): handlers only *stage* store writes and park the
 * replies that depend on them; once per loop iteration the staged writes of
 * both stores are sealed into one round and handed to the commit thread
 * (broker/committer.c: audit batch synced, then job store batch synced)
 * while the loop goes on staging the next round; when the round is durable
 * its parked replies go out.  So a client sees ACCEPTED only for a job that
 * is on disk, and a job's end is on disk before its RESULT leaves.
 *
 * Job states: QUEUED -> LEASED (JOB sent) -> RUNNING (STARTED seen) -> done.
 * A worker silent for 3 heartbeats is lost: its LEASED jobs go back to the
 * front of their queue, its RUNNING jobs end `worker_lost` — code with side
 * effects is never silently run twice.  After a restart, stored QUEUED jobs
 * are queued again and stored RUNNING jobs become orphans: a DONE from any
 * worker still finishes them; if none arrives within their timeout plus a
 * grace period they end `worker_lost`.
 *
 * DONE acknowledgements: a DONE is answered with DONE_ACK once the job's end
 * (result and audit events) is durable, i.e. when its round succeeded; the
 * worker keeps it until then and sends it again after each READY.  A DONE
 * for a job that ended before is acknowledged and otherwise ignored.  When
 * the round holding a DONE's end fails, no ack leaves and the job, which
 * ran, waits as an orphan for the worker's next copy (on_done).  Slots: only
 * the first copy of a DONE (no `resent`) frees one, and only in the count of
 * the worker that sent it.
 */
#include <czmq.h>
#include <jansson.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "broker/broker.h"
#include "broker/committer.h"
#include "common/audit_filter.h"
#include "broker/gate.h"
#include "broker/jobstore.h"
#include "broker/sessions.h"
#include "broker/queue.h"
#include "broker/session_mode.h"
#include "broker/ratelimit.h"
#include "broker/zap.h"
#include "common/audit.h"
#include "common/audit_store.h"
#include "common/curve.h"
#include "common/log.h"
#include "common/mpjson.h"
#include "common/msg.h"
#include "common/paths.h"
#include "common/privacy.h"
#include "common/risk.h"
#include "common/trace.h"
#include "common/util.h"
#include "common/wire.h"
#include "common/wspath.h"

#define DEFAULT_TENANT "default"
#define ORPHAN_GRACE_MS 10000

enum job_state { JOB_QUEUED, JOB_LEASED, JOB_RUNNING, JOB_ORPHAN, JOB_HELD };

struct worker;

struct job {
	char id[33];
	char req[65];
	char tenant[65];
	char key[129];
	unsigned priority;
	zframe_t *client;		/* routing id of the submitter (NULL after a restart) */
	struct msg *job;		/* the JOB message to send (owned) */
	struct msg *result;		/* the RESULT waiting for its commit (owned) */
	enum job_state state;
	bool cancel_requested;
	bool approval_held;		/* the approver acknowledged the request */
	bool approval_audited;		/* approval_request event written */
	bool accepted;			/* durable and ACCEPTED (false while its round
					 * is staged or being committed) */
	bool state_record;		/* an s/ state record of it may be stored or staged */
	bool start_staged;		/* STARTED this round: its RUNNING record waits
					 * in `starting` until the round is sealed */
	bool started;			/* STARTED: never to be run again */
	int64_t approval_deadline_ms;	/* wall clock, for JOB_HELD */
	char level[4];			/* risk level, "L1".."L4" */
	char code_sha256[65];		/* hex, for audit events */
	struct worker *worker;		/* when LEASED or RUNNING */
	zframe_t *ack_to;		/* the worker whose DONE ended it: DONE_ACK
					 * once the end is durable */
	bool end_failed;		/* its end's round failed: an orphan waiting
					 * for the worker's next copy of its DONE */
	int64_t accepted_ms;		/* wall clock */
	int64_t orphan_deadline_ms;	/* monotonic, for JOB_ORPHAN */
};

struct worker {
	char key[64];			/* hex of the routing id */
	zframe_t *rid;
	char host[256];
	uint32_t slots;
	uint32_t busy;
	uint32_t carried;		/* of busy: jobs its READY counted that no
					 * lease to this connection covers */
	int64_t last_seen_ms;
	char zkey[41];			/* its CURVE public key (Z85); "" in plaintext */
};

struct broker {
	const struct broker_conf *conf;
	zsock_t *front, *back, *approvals;
	zsock_t *metrics;		/* ZMQ_STREAM: plain HTTP for Prometheus */
	struct alerts *alerts;
	struct risk *risk;
	struct session_mode *modes;	/* per-session privacy mode */
	zframe_t *approver;		/* routing id of the connected approver */
	char approver_key[41];		/* its CURVE public key (Z85); "" in plaintext */
	int64_t approver_seen_ms;
	struct jobstore *store;
	struct sessions *sessions;	/* session workspaces */
	struct audit_store *audit;
	struct audit_filter *audit_filter;	/* privacy filter of details, memo */
	char actor[128];		/* "broker@host" */
	bool audit_failed;		/* an audit event or a job store record could not
					 * be staged this round: it must fail */
	zhashx_t *jobs;			/* id -> struct job (owned) */
	zhashx_t *keys;			/* "tenant/key" -> struct job */
	struct queue *queue;
	struct ratelimit *rate;		/* per-tenant submission rate */
	struct zap *zap;		/* CURVE keys and ZAP handler; NULL: plaintext */
	bool curve[ZAP__COUNT];		/* which sockets are CURVE servers (ZAP'd); a CURVE
					 * front takes tenants from keys */
	int64_t next_plaintext_warn_ms;	/* --insecure-plaintext: repeat the warning */
	zhashx_t *workers;		/* key -> struct worker (owned) */
	zhashx_t *tool_holds;		/* approval id -> struct tool_hold (owned) */
	zlistx_t *accepting;		/* jobs staged, ACCEPTED after commit */
	zlistx_t *finishing;		/* jobs with a staged result, RESULT after commit */
	zlistx_t *starting;		/* jobs STARTED this round (start_staged) */
	uint32_t lose_acks;		/* --test-lose-acks: DONE_ACKs still to drop */
	struct committer *committer;	/* the commit thread */
	zlistx_t *acc_flight;		/* `accepting` of the round being committed */
	zlistx_t *fin_flight;		/* `finishing` of the round being committed */
	zlistx_t *replies;		/* struct parked_reply: sent after the commit */
	zlistx_t *rep_flight;		/* `replies` of the round being committed */
	bool flight_written;		/* the round was finished early (flight_rc) */
	enum err flight_rc;
	int64_t records_retry_ms;	/* a round of restaged records only: not before */
	uint64_t done;
	int64_t next_heartbeat_ms;
	int64_t next_expire_ms;
	bool draining;
	double score_memo;		/* real_text: the last score and its text */
	char score_memo_text[40];
	size_t score_memo_len;		/* 0: none yet */
	struct log_limit bad_front, bad_back, bad_approvals, lost_client, foreign;
	struct log_limit revoked[ZAP__COUNT];	/* per domain: a retrying worker hides no client */
};

static volatile sig_atomic_t broker_stop, broker_reload;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		broker_reload = 1;
	else
		broker_stop = 1;
}

void
broker_conf_default(struct broker_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->front = "tcp://127.0.0.1:5555";
	c->back = "tcp://127.0.0.1:5556";
	c->alerts = "tcp://127.0.0.1:5557";
	c->approvals = "tcp://127.0.0.1:5558";
	c->data = "sluice-data/broker";
	c->approval_timeout_ms = 900000;
	c->heartbeat_ms = 1000;
	c->queue_max = 100000;
	c->tenant_queue_max = 50000;
	c->tenant_running_max = 0;
	c->drain_ms = 10000;
	c->result_ttl_s = 86400;
	c->defaults = job_limits_default;
	c->max = job_limits_max;
	c->privacy_modes = PRIVACY_MODES_DEFAULT;
	c->privacy_default = PRIVACY_MODE_REDACT;
	c->privacy_sessions_max = 100000;
	c->session_quota_bytes = 8u << 20;
	c->session_ttl_ms = 7ull * 86400 * 1000;
	c->session_withhold_from = WSPATH_CONFIDENTIAL;
}

/* Jobs in the broker's lists are compared by identity. */
static int
same_job(const void *a, const void *b)
{
	return a == b ? 0 : a < b ? -1 : 1;
}

static void
job_free(void **item)
{
	struct job *j = *item;
	if (j == NULL)
		return;
	zframe_destroy(&j->client);
	zframe_destroy(&j->ack_to);
	msg_destroy(&j->job);
	msg_destroy(&j->result);
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

static void
key_name(char *out, size_t outsz, const char *tenant, const char *key)
{
	snprintf(out, outsz, "%.64s/%s", tenant, key);
}

/* Tenant names become store keys and log text: a safe alphabet only. */
static bool
tenant_ok(const char *t)
{
	return *t != '\0' && strlen(t) <= 64 &&
	    strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == strlen(t);
}

#define SESSION_RULE "session must be 1-64 bytes of printable ASCII"

/* A session (optional on SUBMIT) names audit events and evidence packs:
 * it must fit the audit trail's session field whole, or its events could
 * not be selected by it. */
static bool
session_ok(const char *s)
{
	return *s != '\0' && audit_text_fits("session", s);
}

/* Input files are checked (common/wspath.c) before anything is stored or
 * run; a bad one gets an ERROR naming it.  The worker checks them again. */
static bool
files_ok(const struct msg *in, enum err *e, char *why, size_t whysz)
{
	struct wspath_input *files = NULL;
	size_t n, len;
	const void *raw = msg_bin(in, MSG_F_FILES, &len);
	char reason[256];

	if (raw == NULL)
		return true;
	*e = wspath_inputs_parse(raw, len, &wspath_limits_default, WSPATH_INTERNAL, &files, &n,
	    reason, sizeof(reason));
	free(files);
	snprintf(why, whysz, "input files: %.200s", reason);
	return *e == ERR_OK;
}

/* --- replies ------------------------------------------------------------- */

static void
send_front(struct broker *b, zframe_t *client, const struct msg *m)
{
	if (client == NULL)
		return;
	if (wire_send(b->front, client, m) != ERR_OK)
		log_limited(&b->lost_client, 10, "client gone before its %s could be delivered",
		    msg_cmd_name(msg_cmd(m)));
}

/* A reply that leaves only once the audit events of what it reports are
 * durable (a session op that changed or expired files). */
struct parked_reply {
	zframe_t *client;
	struct msg *m;
};

static void
parked_reply_free(void **item)
{
	struct parked_reply *p = *item;

	if (p == NULL)
		return;
	zframe_destroy(&p->client);
	msg_destroy(&p->m);
	free(p);
	*item = NULL;
}

static void
send_job_state(struct broker *b, zframe_t *client, const char *req, const char *id,
    const char *state)
{
	struct msg *m = msg_new(MSG_JOB_STATE);
	if (m == NULL)
		return;
	msg_set_str(m, MSG_F_REQ, req);
	msg_set_str(m, MSG_F_ID, id);
	msg_set_str(m, MSG_F_STATE, state);
	send_front(b, client, m);
	msg_destroy(&m);
}

/* --- audit ---------------------------------------------------------------- */

/* Waits for the round being committed (if any) without releasing its
 * replies: commit() does that.  A failed round also dropped the audit events
 * staged since: the current round then fails too. */
static void
flight_wait(struct broker *b)
{
	size_t staged = audit_store_pending(b->audit);

	if (!committer_is_busy(b->committer))
		return;
	b->flight_rc = committer_finish(b->committer);
	b->flight_written = true;
	if (b->flight_rc != ERR_OK && staged > 0)
		b->audit_failed = true;
}

/* Stages one audit event about job j (may be NULL).  `txt` (taken, may be
 * NULL) is the canonical details text; it passes the privacy filter before
 * it is stored: no raw PII or secrets reach the store.  A failure marks the
 * round so that the commit fails the operations it would have acknowledged. */
static void
audit_text(struct broker *b, enum audit_type type, const struct job *j, const char *actor,
    char *txt, const struct msg *metrics)
{
	struct audit_event ev;
	int e;

	if (audit_event_init(&ev, type) != ERR_OK) {
		b->audit_failed = true;
		free(txt);
		return;
	}
	/* The actor may be a worker's host or an approver's user name, from
	 * outside: escaped, never a reason to fail the round (job ids and
	 * tenants are the broker's own or checked on SUBMIT). */
	audit_event_set_escaped(&ev, "actor", actor ? actor : b->actor);
	if (j != NULL) {
		audit_event_set(&ev, "job", j->id);
		audit_event_set(&ev, "tenant", j->tenant);
		if (msg_has(j->job, MSG_F_SESSION))
			audit_event_set_escaped(&ev, "session", msg_str(j->job, MSG_F_SESSION, ""));
		if (j->code_sha256[0])
			audit_event_set(&ev, "code_sha256", j->code_sha256);
		msg_bin(j->job, MSG_F_CODE, &ev.in_bytes);
	}
	if (metrics != NULL) {
		size_t o, e2;
		msg_bin(metrics, MSG_F_STDOUT, &o);
		msg_bin(metrics, MSG_F_STDERR, &e2);
		ev.out_bytes = o + e2;
		ev.duration_ms = msg_u64(metrics, MSG_F_WALL_MS, 0);
		ev.cpu_ms = msg_u64(metrics, MSG_F_CPU_MS, 0);
		ev.max_rss_kb = msg_u64(metrics, MSG_F_MAX_RSS_KB, 0);
	}
	if (txt != NULL)
		audit_filter_details(b->audit_filter, &ev, &txt);
	if ((e = audit_store_append(b->audit, &ev)) == ERR_BUSY) {
		flight_wait(b);		/* the store can seal only one round at a time */
		if (audit_store_commit(b->audit) == ERR_OK)
			e = audit_store_append(b->audit, &ev);
	}
	if (e != ERR_OK) {
		log_error("audit event %s not stored: %s", audit_type_name(type), err_str(e));
		b->audit_failed = true;
	}
	audit_event_clear(&ev);
}


/* audit_text with details from object `details` (stolen, may be NULL). */
static void
audit(struct broker *b, enum audit_type type, const struct job *j, const char *actor,
    json_t *details, const struct msg *metrics)
{
	char *txt = details != NULL ? audit_details_canonical(details) : NULL;

	json_decref(details);
	audit_text(b, type, j, actor, txt, metrics);
}

/* audit_text with the flat details kv[0..n-1] (keys in strcmp order): their
 * text built directly, or through jansson when a value needs escaping. */
static void
audit_flat(struct broker *b, enum audit_type type, const struct job *j,
    const struct audit_kv *kv, size_t n, const struct msg *metrics)
{
	char *txt = audit_details_flat(kv, n);
	json_t *obj;

	if (txt != NULL) {
		audit_text(b, type, j, NULL, txt, metrics);
		return;
	}
	obj = json_object();
	for (size_t i = 0; i < n && obj != NULL; i++) {
		json_t *v = kv[i].kind == AUDIT_KV_STR ? json_string(kv[i].s) :
		    kv[i].kind == AUDIT_KV_INT ? json_integer(kv[i].i) :
		    kv[i].kind == AUDIT_KV_JSON ? json_loads(kv[i].s, JSON_DECODE_ANY, NULL) :
		    json_boolean(kv[i].i);
		if (json_object_set_new(obj, kv[i].key, v) != 0 || v == NULL) {
			json_decref(obj);	/* as json_pack: no details at all */
			obj = NULL;
		}
	}
	audit(b, type, j, NULL, obj, metrics);
}

/* Ends a job: builds its RESULT from `src` (a DONE, or NULL), stages it in the
 * store and parks the job until the commit; the RESULT leaves after it. */
static void
job_finish(struct broker *b, struct job *j, const struct msg *src, enum job_status st,
    const char *reason)
{
	struct msg *r = msg_new(MSG_RESULT);
	enum err e;

	if (j->state == JOB_LEASED || j->state == JOB_RUNNING)
		queue_done(b->queue, j->tenant);
	if (j->worker != NULL && j->worker->busy > 0)
		j->worker->busy--;
	j->worker = NULL;
	if (r == NULL) {
		log_error("out of memory finishing job %s", j->id);
		return;
	}
	if (src != NULL)
		msg_copy_fields(r, src);
	size_t risklen;
	const void *risk = msg_bin(j->job, MSG_F_RISK, &risklen);
	if (risk != NULL)
		msg_set_raw(r, MSG_F_RISK, risk, risklen);
	msg_set_str(r, MSG_F_ID, j->id);
	msg_set_str(r, MSG_F_TENANT, j->tenant);	/* who may fetch it later */
	if (src == NULL || !msg_has(src, MSG_F_STATUS))
		msg_set_str(r, MSG_F_STATUS, job_status_name(st));
	if (reason != NULL)
		msg_set_str(r, MSG_F_REASON, reason);
	if ((e = jobstore_put_result(b->store, j->id, r, j->state_record)) != ERR_OK) {
		/* The round fails (result withheld) rather than answering with
		 * a result the store does not hold. */
		log_error("job %s: result not stored: %s", j->id, err_str(e));
		b->audit_failed = true;
	}
	const char *status = msg_str(r, MSG_F_STATUS, "?");
	if (strcmp(status, "violation") == 0)
		audit(b, AUDIT_SANDBOX_VIOLATION, j, NULL,
		    json_pack("{s:s}", "reason", msg_str(r, MSG_F_REASON, "")), NULL);
	const struct audit_kv end[] = {
		{ "exit_code", AUDIT_KV_INT, NULL, msg_i64(r, MSG_F_EXIT_CODE, -1) },
		{ "reason", AUDIT_KV_STR, msg_str(r, MSG_F_REASON, ""), 0 },
		{ "status", AUDIT_KV_STR, status, 0 },
		{ "truncated", AUDIT_KV_BOOL, NULL, msg_bool(r, MSG_F_TRUNCATED, false) },
	};
	audit_flat(b, AUDIT_EXECUTION_END, j, end, sizeof(end) / sizeof(end[0]), src);
	size_t plen;
	const void *praw = src ? msg_bin(src, MSG_F_PRIVACY, &plen) : NULL;
	json_t *pj = praw ? mpjson_decode(praw, plen) : NULL;
	if (pj != NULL && json_array_size(json_object_get(pj, "findings")) > 0)
		audit(b, AUDIT_PRIVACY_DETECTION, j, NULL, json_pack("{s:s, s:O}", "where", "output",
		    "findings", json_object_get(pj, "findings")), NULL);
	json_decref(pj);
	msg_destroy(&j->result);
	j->result = r;
	zlistx_add_end(b->finishing, j);
	b->done++;
}

/* --- session workspaces (broker/sessions.c) ---------------------------- */

struct session_audit {
	struct broker *b;
	const struct job *j;
	const char *session;
};

/* Every change to a session workspace is an audit event. */
static void
session_change(void *arg, const char *path, const char *op, uint64_t bytes, const char *cls)
{
	struct session_audit *sa = arg;
	char p[300];

	snprintf(p, sizeof(p), "session/%s", path);
	audit(sa->b, AUDIT_FILE_ACCESS, sa->j, NULL, json_pack("{s:s, s:s, s:I, s:s, s:b, s:s, s:s}",
	    "path", p, "op", op, "bytes", (json_int_t)bytes, "class", cls, "allowed", 1,
	    "layer", "session", "session", sa->session), NULL);
}

/* The JOB to send for `j`: in *out a fresh copy carrying its session's
 * files, or NULL to send the stored JOB as it is (no session, or nothing
 * kept yet).  An error means the session's files could not be loaded: the
 * job must not run without them (its DONE would replace the stored set). */
static enum err
session_job(struct broker *b, struct job *j, struct msg **out)
{
	const char *session = msg_str(j->job, MSG_F_SESSION, "");
	struct session_audit sa = { b, j, session };
	struct msg *m = NULL;
	char *buf = NULL;
	size_t len;
	enum err e;

	*out = NULL;
	if (*session == '\0')
		return ERR_OK;
	if ((e = sessions_pack(b->sessions, j->tenant, session, util_wall_ns() / 1000000, WSPATH_CLASS_COUNT,
	    &buf, &len, session_change, &sa)) != ERR_OK)
		return e;
	if (buf == NULL)
		return ERR_OK;
	if ((m = msg_new(MSG_JOB)) == NULL || msg_copy_fields(m, j->job) != ERR_OK ||
	    msg_set_raw(m, MSG_F_SFILES, buf, len) != ERR_OK) {
		msg_destroy(&m);
		free(buf);
		return ERR_NOMEM;
	}
	free(buf);
	*out = m;
	return ERR_OK;
}

/* Keeps the session folder a job left (DONE `sfiles`); over the quota the
 * job ends `error` with the reason and nothing is kept. */
static void
session_store(struct broker *b, const struct job *j, struct msg *done)
{
	const char *session = msg_str(j->job, MSG_F_SESSION, "");
	struct session_audit sa = { b, j, session };
	size_t len;
	const void *raw = msg_bin(done, MSG_F_SFILES, &len);
	char why[300];

	if (*session == '\0' || raw == NULL)
		return;
	if (sessions_replace(b->sessions, j->tenant, session, raw, len, util_wall_ns() / 1000000,
	    session_change, &sa, why, sizeof(why)) != ERR_OK) {
		msg_set_str(done, MSG_F_STATUS, job_status_name(JOB_ERROR));
		msg_set_str(done, MSG_F_REASON, why);
	}
}

/* SESSION_OP ls | get | rm: the tenant's own session only. */
static void
on_session_op(struct broker *b, zframe_t *client, const struct msg *in, const char *tenant)
{
	const char *req = msg_str(in, MSG_F_REQ, ""), *session = msg_str(in, MSG_F_SESSION, "");
	const char *action = msg_str(in, MSG_F_ACTION, "");
	struct session_audit sa = { b, NULL, session };
	struct msg *r;
	char *buf = NULL;
	size_t len = 0;
	enum err e;

	if (!session_ok(session)) {
		wire_send_error(b->front, client, ERR_INVAL, req, SESSION_RULE);
		return;
	}
	if (!tenant_ok(tenant) || (strcmp(action, "ls") != 0 &&
	    strcmp(action, "get") != 0 && strcmp(action, "rm") != 0)) {
		wire_send_error(b->front, client, ERR_INVAL, req, "session op wants a tenant, a session and ls|get|rm");
		return;
	}
	/* `get` returns data below the deployment's --withhold-from class, as
	 * the worker does for a job's output files; the rest is listed. */
	e = sessions_pack(b->sessions, tenant, session, util_wall_ns() / 1000000,
	    strcmp(action, "get") == 0 ? b->conf->session_withhold_from : 0, &buf, &len,
	    session_change, &sa);
	if (e == ERR_OK && strcmp(action, "rm") == 0)
		e = sessions_remove(b->sessions, tenant, session, session_change, &sa);
	if (e != ERR_OK || (r = msg_new(MSG_SESSION_REPLY)) == NULL) {
		free(buf);
		wire_send_error(b->front, client, e != ERR_OK ? e : ERR_NOMEM, req, "session store failed");
		return;
	}
	msg_set_str(r, MSG_F_REQ, req);
	if (msg_set_raw(r, MSG_F_ITEMS, buf ? buf : "\x90", buf ? len : 1) != ERR_OK)
		msg_set_raw(r, MSG_F_ITEMS, "\x90", 1);
	free(buf);
	/* rm (and expiry) staged file_access events: the answer waits for
	 * them to be durable, like ACCEPTED and RESULT. */
	if (audit_store_pending(b->audit) > 0 || b->audit_failed) {
		struct parked_reply *p = calloc(1, sizeof(*p));
		if (p == NULL || (p->client = zframe_dup(client)) == NULL ||
		    zlistx_add_end(b->replies, p) == NULL) {
			if (p != NULL)
				zframe_destroy(&p->client);
			free(p);
			msg_destroy(&r);
			wire_send_error(b->front, client, ERR_NOMEM, req, "out of memory");
			return;
		}
		p->m = r;
		return;
	}
	send_front(b, client, r);
	msg_destroy(&r);
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
	struct worker *w;
	struct job *j;
	char tenant[65];

	while ((w = pick_worker(b)) != NULL && (j = queue_pop(b->queue, tenant, sizeof(tenant))) != NULL) {
		struct msg *sent;
		enum err se = session_job(b, j, &sent);
		if (se != ERR_OK) {
			char reason[200];
			log_error("job %s: session files not loaded: %s", j->id, err_str(se));
			snprintf(reason, sizeof(reason), "the session's files could not be loaded (%s); "
			    "nothing ran", err_str(se));
			queue_done(b->queue, j->tenant);
			job_finish(b, j, NULL, JOB_ERROR, reason);
			continue;
		}
		se = wire_send(b->back, w->rid, sent ? sent : j->job);
		TRACE_MARK("B2_job_sent");
		msg_destroy(&sent);
		if (se != ERR_OK) {
			log_warnx("worker %s unreachable; dropping it", w->host);
			queue_done(b->queue, j->tenant);
			queue_push(b->queue, j->tenant, j->priority, j, true);
			w->slots = 0;	/* expires at the next heartbeat check */
			continue;
		}
		j->state = JOB_LEASED;
		j->worker = w;
		w->busy++;
		log_debug("job %s leased to %s", j->id, w->host);
	}
}

/* --- approvals (L3) ------------------------------------------------------ */

static void
send_approval_request(struct broker *b, struct job *j)
{
	struct msg *m;

	if (b->approver == NULL || (m = msg_new(MSG_APPROVAL_REQUEST)) == NULL)
		return;
	msg_copy_fields(m, j->job);	/* id, code, session, tenant, risk, level, lang */
	msg_set_u64(m, MSG_F_DEADLINE_MS, (uint64_t)j->approval_deadline_ms);
	if (!j->approval_held && !j->approval_audited) {
		audit(b, AUDIT_APPROVAL_REQUEST, j, NULL, json_pack("{s:s, s:I}", "level", j->level,
		    "deadline_ms", (json_int_t)j->approval_deadline_ms), NULL);
		j->approval_audited = true;
	}
	if (wire_send(b->approvals, b->approver, m) != ERR_OK)
		log_limited(&b->bad_approvals, 10, "approval request for job %s not delivered", j->id);
	msg_destroy(&m);
}

static void
decision_ack(struct broker *b, zframe_t *rid, const char *id, const char *status, const char *text)
{
	struct msg *m = msg_new(MSG_DECISION_ACK);
	if (m == NULL)
		return;
	msg_set_str(m, MSG_F_ID, id);
	if (status)
		msg_set_str(m, MSG_F_STATUS, status);
	if (text)
		msg_set_str(m, MSG_F_MESSAGE, text);
	wire_send(b->approvals, rid, m);
	msg_destroy(&m);
}

/* --- tool-call approvals ------------------------------------------------- */

/*
 * A worker running with --mcp-approve-destructive holds a tool call and asks
 * (TOOL_APPROVAL, id "<job>.t<n>").  The broker queues the question with the
 * approver as an APPROVAL_REQUEST carrying `tool` (the argument summary is
 * its `code`), audits it, and answers the worker with TOOL_DECISION when the
 * approver decides, the deadline passes (fail closed) or the job ends.
 * Holds live in memory only: after a broker restart the worker's own
 * deadline denies the call.
 */
#define TOOL_HOLDS_MAX 1024

struct tool_hold {
	char id[65];
	char job[33];
	char worker[64];		/* key of the asking worker */
	char tool[201];
	char session[129];
	unsigned char *summary;
	size_t summary_len;
	int64_t deadline_ms;		/* wall clock */
	bool held;			/* the approver acknowledged it */
};

static void
tool_hold_free(void **p)
{
	struct tool_hold *h = *p;
	if (h != NULL)
		free(h->summary);
	free(h);
	*p = NULL;
}

static void
send_tool_hold(struct broker *b, struct tool_hold *h)
{
	struct job *j = zhashx_lookup(b->jobs, h->job);
	struct msg *m;

	if (b->approver == NULL || (m = msg_new(MSG_APPROVAL_REQUEST)) == NULL)
		return;
	msg_set_str(m, MSG_F_ID, h->id);
	msg_set_bin(m, MSG_F_CODE, h->summary, h->summary_len);
	msg_set_u64(m, MSG_F_DEADLINE_MS, (uint64_t)h->deadline_ms);
	msg_set_str(m, MSG_F_TOOL, h->tool);
	msg_set_str(m, MSG_F_LEVEL, "L3");
	if (h->session[0])
		msg_set_str(m, MSG_F_SESSION, h->session);
	if (j != NULL)
		msg_set_str(m, MSG_F_TENANT, j->tenant);
	if (wire_send(b->approvals, b->approver, m) != ERR_OK)
		log_limited(&b->bad_approvals, 10, "approval request for tool call %s not delivered", h->id);
	msg_destroy(&m);
}

/* Answers the worker, audits the answer and forgets the hold. */
static void
tool_hold_end(struct broker *b, struct tool_hold *h, const char *verdict, const char *actor,
    const char *reason)
{
	struct worker *w = zhashx_lookup(b->workers, h->worker);
	struct msg *m = msg_new(MSG_TOOL_DECISION);

	audit(b, AUDIT_APPROVAL_RESPONSE, zhashx_lookup(b->jobs, h->job), actor,
	    json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "tool_call", "approval", h->id, "tool",
	    h->tool, "verdict", verdict, "reason", reason), NULL);
	if (m != NULL && w != NULL && msg_set_str(m, MSG_F_ID, h->id) == ERR_OK &&
	    msg_set_str(m, MSG_F_VERDICT, verdict) == ERR_OK &&
	    (actor == NULL || msg_set_str(m, MSG_F_ACTOR, actor) == ERR_OK) &&
	    msg_set_str(m, MSG_F_REASON, reason) == ERR_OK)
		wire_send(b->back, w->rid, m);
	msg_destroy(&m);
	log_info("tool call %s (%s): %s", h->id, h->tool, verdict);
	zhashx_delete(b->tool_holds, h->id);
}

static void
tool_refuse(struct broker *b, zframe_t *rid, const char *id, const char *reason)
{
	struct msg *m = msg_new(MSG_TOOL_DECISION);
	if (m != NULL && msg_set_str(m, MSG_F_ID, id) == ERR_OK &&
	    msg_set_str(m, MSG_F_VERDICT, "deny") == ERR_OK &&
	    msg_set_str(m, MSG_F_REASON, reason) == ERR_OK)
		wire_send(b->back, rid, m);
	msg_destroy(&m);
}

static void
on_tool_approval(struct broker *b, struct worker *w, zframe_t *rid, const struct msg *m)
{
	const char *id = msg_str(m, MSG_F_ID, "");
	const char *dot = strchr(id, '.');
	char job[33];
	struct tool_hold *h;
	struct job *j = NULL;
	size_t slen;
	const void *summary = msg_bin(m, MSG_F_CODE, &slen);
	int64_t wall = util_wall_ns() / 1000000;

	if (dot != NULL && dot - id == 32 && dot[1] == 't') {
		memcpy(job, id, 32);
		job[32] = '\0';
		j = zhashx_lookup(b->jobs, job);
	}
	if (j == NULL || j->result != NULL || j->worker != w ||
	    (j->state != JOB_RUNNING && j->state != JOB_LEASED)) {
		log_limited(&b->bad_back, 10, "back: TOOL_APPROVAL for a job this worker does not run");
		tool_refuse(b, rid, id, "the job is not running on this worker");
		return;
	}
	if ((h = zhashx_lookup(b->tool_holds, id)) != NULL) {
		snprintf(h->worker, sizeof(h->worker), "%s", w->key);	/* asked again */
		return;
	}
	if (zhashx_size(b->tool_holds) >= TOOL_HOLDS_MAX || (h = calloc(1, sizeof(*h))) == NULL ||
	    (h->summary = malloc(slen ? slen : 1)) == NULL) {
		free(h);
		tool_refuse(b, rid, id, "the broker holds too many tool calls for approval");
		return;
	}
	snprintf(h->id, sizeof(h->id), "%s", id);
	snprintf(h->job, sizeof(h->job), "%s", job);
	snprintf(h->worker, sizeof(h->worker), "%s", w->key);
	snprintf(h->tool, sizeof(h->tool), "%s", msg_str(m, MSG_F_TOOL, "?"));
	snprintf(h->session, sizeof(h->session), "%s", msg_str(m, MSG_F_SESSION, ""));
	memcpy(h->summary, summary ? summary : "", slen);
	h->summary_len = slen;
	h->deadline_ms = (int64_t)msg_u64(m, MSG_F_DEADLINE_MS, 0);
	if (h->deadline_ms > wall + (int64_t)b->conf->approval_timeout_ms)
		h->deadline_ms = wall + (int64_t)b->conf->approval_timeout_ms;
	zhashx_insert(b->tool_holds, h->id, h);
	audit(b, AUDIT_APPROVAL_REQUEST, j, NULL, json_pack("{s:s, s:s, s:s, s:I}", "kind",
	    "tool_call", "approval", h->id, "tool", h->tool, "deadline_ms",
	    (json_int_t)h->deadline_ms), NULL);
	send_tool_hold(b, h);
}

/* The approver decided on a tool call: true when `m` was one. */
static bool
tool_decision(struct broker *b, zframe_t *rid, const struct msg *m)
{
	const char *id = msg_str(m, MSG_F_ID, ""), *verdict = msg_str(m, MSG_F_VERDICT, "");
	struct tool_hold *h = zhashx_lookup(b->tool_holds, id);

	if (h == NULL)
		return false;
	if (strcmp(verdict, "approve") != 0 && strcmp(verdict, "deny") != 0) {
		decision_ack(b, rid, id, NULL, "no effect: verdict must be approve or deny");
		return true;
	}
	decision_ack(b, rid, id, strcmp(verdict, "approve") == 0 ? "approved" : "denied", NULL);
	tool_hold_end(b, h, verdict, msg_str(m, MSG_F_ACTOR, "?"), msg_str(m, MSG_F_REASON, ""));
	return true;
}

/* Each tick: resend unacknowledged questions; deny at the deadline or when
 * the job has ended. */
static void
tool_holds_tick(struct broker *b, int64_t wall)
{
	zlistx_t *over = zlistx_new();
	char reason[128];

	for (struct tool_hold *h = zhashx_first(b->tool_holds); h && over; h = zhashx_next(b->tool_holds)) {
		struct job *j = zhashx_lookup(b->jobs, h->job);
		if (wall >= h->deadline_ms || j == NULL || j->result != NULL)
			zlistx_add_end(over, h);
		else if (!h->held)
			send_tool_hold(b, h);
	}
	for (struct tool_hold *h = over ? zlistx_first(over) : NULL; h; h = zlistx_next(over)) {
		struct job *j = zhashx_lookup(b->jobs, h->job);
		if (j == NULL || j->result != NULL)
			snprintf(reason, sizeof(reason), "the job ended before a decision");
		else
			snprintf(reason, sizeof(reason), "no approval decision before the deadline (fail closed)");
		tool_hold_end(b, h, "deny", NULL, reason);
	}
	zlistx_destroy(&over);
}

/* Is the key this message's connection was admitted with still enrolled?
 * (Keys removed by a reload stop being served on live connections too.)
 * Plaintext sockets have no key: always. */
static bool
peer_enrolled(struct broker *b, enum zap_domain d, const struct wire_peer *peer, const char *role)
{
	/* Only a CURVE socket's X-Key comes from our ZAP handler; on a
	 * plaintext one a peer could set it itself (ZMQ_METADATA). */
	if (b->zap == NULL || !b->curve[d] || zap_key_enrolled(b->zap, d, peer->key))
		return true;
	if (d == ZAP_FRONT)
		log_limited(&b->revoked[d], 10, "client key %s of tenant %s is no longer enrolled: "
		    "request refused", peer->key, peer->user[0] ? peer->user : "?");
	else
		log_limited(&b->revoked[d], 10, "%s key %s is no longer enrolled (public key %s): "
		    "request refused", role, peer->user[0] ? peer->user : "?", peer->key);
	return false;
}

static void
on_decision(struct broker *b, zframe_t *rid, const struct msg *m)
{
	const char *id = msg_str(m, MSG_F_ID, ""), *verdict = msg_str(m, MSG_F_VERDICT, "");
	const char *actor = msg_str(m, MSG_F_ACTOR, "?"), *why = msg_str(m, MSG_F_REASON, "");
	struct job *j = zhashx_lookup(b->jobs, id);
	char reason[1024];

	if (tool_decision(b, rid, m))
		return;
	if (j == NULL || j->state != JOB_HELD || j->result != NULL || !j->accepted) {
		decision_ack(b, rid, id, NULL, "no effect: the job is not waiting for approval "
		    "(decided already, timed out, cancelled or unknown)");
		return;
	}
	audit(b, AUDIT_APPROVAL_RESPONSE, j, actor, json_pack("{s:s, s:s}", "verdict", verdict,
	    "reason", why), NULL);
	if (strcmp(verdict, "approve") == 0) {
		j->state = JOB_QUEUED;
		j->state_record = true;
		if (jobstore_put_state(b->store, j->id, JOBSTORE_QUEUED) != ERR_OK ||
		    !queue_push(b->queue, j->tenant, j->priority, j, false)) {
			job_finish(b, j, NULL, JOB_ERROR, "broker could not queue the approved job");
			decision_ack(b, rid, id, NULL, "approved, but the job could not be queued");
			return;
		}
		log_info("job %s approved by %s", j->id, actor);
		decision_ack(b, rid, id, "approved", NULL);
	} else if (strcmp(verdict, "deny") == 0) {
		snprintf(reason, sizeof(reason), "denied by %s: %s", actor, why);
		job_finish(b, j, NULL, JOB_DENIED, reason);
		log_info("job %s denied by %s", j->id, actor);
		decision_ack(b, rid, id, "denied", NULL);
	} else {
		decision_ack(b, rid, id, NULL, "no effect: verdict must be approve or deny");
	}
}

static void
on_approvals(struct broker *b)
{
	zframe_t *rid = NULL;
	struct msg *m = NULL;
	struct job *j;
	struct wire_peer peer;
	char why[256];
	enum err e = wire_recv_peer(b->approvals, &rid, &m, &peer, why, sizeof(why));

	if (e != ERR_OK) {
		log_limited(&b->bad_approvals, 10, "approvals: rejected message: %s", why);
		if (rid != NULL)
			wire_send_error(b->approvals, rid, e, NULL, why);
		zframe_destroy(&rid);
		return;
	}
	if (peer.key[0] != '\0' && !peer_enrolled(b, ZAP_APPROVALS, &peer, "approver")) {
		/* Revoked after it connected: not served, and no longer the
		 * approver the broker sends requests to. */
		if (b->approver != NULL && zframe_eq(rid, b->approver))
			zframe_destroy(&b->approver);
		wire_send_error(b->approvals, rid, ERR_DENIED, NULL, "approver key no longer enrolled");
		goto out;
	}
	if (msg_cmd(m) == MSG_APPROVER_READY) {
		zframe_destroy(&b->approver);
		b->approver = zframe_dup(rid);
		snprintf(b->approver_key, sizeof(b->approver_key), "%s",
		    b->curve[ZAP_APPROVALS] ? peer.key : "");
		b->approver_seen_ms = util_now_ms();
		log_info("approver %s connected", msg_str(m, MSG_F_HOST, "?"));
		/* A new approver connection: resend every pending request. */
		for (j = zhashx_first(b->jobs); j; j = zhashx_next(b->jobs)) {
			if (j->state == JOB_HELD && j->result == NULL && j->accepted) {
				j->approval_held = false;
				send_approval_request(b, j);
			}
		}
		for (struct tool_hold *h = zhashx_first(b->tool_holds); h; h = zhashx_next(b->tool_holds)) {
			h->held = false;
			send_tool_hold(b, h);
		}
		goto out;
	}
	if (b->approver == NULL || !zframe_eq(rid, b->approver)) {
		wire_send_error(b->approvals, rid, ERR_PROTO, NULL, WIRE_NOT_REGISTERED);
		goto out;
	}
	b->approver_seen_ms = util_now_ms();
	switch (msg_cmd(m)) {
	case MSG_HEARTBEAT:
		break;
	case MSG_APPROVAL_HELD: {
		struct tool_hold *h = zhashx_lookup(b->tool_holds, msg_str(m, MSG_F_ID, ""));
		if (h != NULL)
			h->held = true;
		else if ((j = zhashx_lookup(b->jobs, msg_str(m, MSG_F_ID, ""))) != NULL && j->state == JOB_HELD)
			j->approval_held = true;
		break;
	}
	case MSG_DECISION:
		on_decision(b, rid, m);
		break;
	case MSG_ERROR:
		log_limited(&b->bad_approvals, 10, "approver refused a request: %s",
		    msg_str(m, MSG_F_MESSAGE, "?"));
		break;
	default:
		log_limited(&b->bad_approvals, 10, "approvals: %s is not an approver command",
		    msg_cmd_name(msg_cmd(m)));
		wire_send_error(b->approvals, rid, ERR_PROTO, NULL, "not an approver command");
	}
out:
	msg_destroy(&m);
	zframe_destroy(&rid);
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
send_busy_ms(struct broker *b, zframe_t *client, const char *req, uint32_t retry_ms)
{
	struct msg *busy = msg_new(MSG_BUSY);
	if (busy == NULL)
		return;
	msg_set_str(busy, MSG_F_REQ, req);
	msg_set_u64(busy, MSG_F_RETRY_MS, retry_ms);
	send_front(b, client, busy);
	msg_destroy(&busy);
}

/* BUSY for a full queue: the deeper the queue, the longer the wait. */
static void
send_busy(struct broker *b, zframe_t *client, const char *req, size_t depth)
{
	send_busy_ms(b, client, req, 100 + depth / 100 > 5000 ? 5000 : (uint32_t)(100 + depth / 100));
}

/* A resubmitted idempotency key: answer with the original job. */
static bool
resubmission(struct broker *b, zframe_t *client, const char *req, const char *tenant,
    const char *key)
{
	char name[200], id[65];
	struct job *j;
	struct msg *r = NULL;

	key_name(name, sizeof(name), tenant, key);
	if ((j = zhashx_lookup(b->keys, name)) != NULL) {
		/* Still in flight: the new connection gets the answer. */
		zframe_destroy(&j->client);
		j->client = zframe_dup(client);
		snprintf(j->req, sizeof(j->req), "%s", req);
		if (j->result == NULL && j->accepted) {	/* else its commit answers */
			struct msg *ack = msg_new(MSG_ACCEPTED);
			if (ack != NULL) {
				msg_set_str(ack, MSG_F_REQ, req);
				msg_set_str(ack, MSG_F_ID, j->id);
				send_front(b, client, ack);
				msg_destroy(&ack);
			}
		}
		return true;
	}
	if (jobstore_get_key(b->store, tenant, key, id, sizeof(id)) != ERR_OK)
		return false;
	if (jobstore_get_result(b->store, id, &r, NULL) != ERR_OK)
		return false;	/* expired: run it again as a new job */
	struct msg *ack = msg_new(MSG_ACCEPTED);
	if (ack != NULL) {
		msg_set_str(ack, MSG_F_REQ, req);
		msg_set_str(ack, MSG_F_ID, id);
		send_front(b, client, ack);
		msg_destroy(&ack);
	}
	msg_set_str(r, MSG_F_REQ, req);
	send_front(b, client, r);
	msg_destroy(&r);
	return true;
}

/* Jansson's text of the real `d` into buf; false when it has none (NaN,
 * infinity) or it does not fit. */
/* jansson's text of the real `d` (what json_pack("f") would dump).  The
 * last value's text is remembered (most jobs score the same), compared bit
 * for bit, so the bytes are always jansson's. */
static bool
real_text(struct broker *b, double d, char *buf, size_t sz)
{
	json_t *r;
	size_t n;

	if (b->score_memo_len > 0 && memcmp(&d, &b->score_memo, sizeof(d)) == 0 &&
	    b->score_memo_len < sz) {
		memcpy(buf, b->score_memo_text, b->score_memo_len + 1);
		return true;
	}
	r = json_real(d);
	n = r != NULL ? json_dumpb(r, buf, sz - 1, JSON_ENCODE_ANY | JSON_COMPACT) : 0;
	json_decref(r);
	if (n == 0 || n >= sz - 1)
		return false;
	buf[n] = '\0';
	if (n < sizeof(b->score_memo_text)) {
		memcpy(&b->score_memo, &d, sizeof(d));
		memcpy(b->score_memo_text, buf, n + 1);
		b->score_memo_len = n;
	}
	return true;
}

/* Scores the job's code and decides its route: L1/L2 queue, L3 held for an
 * approver, L4 blocked.  Sets j->level, j->state and the job's `risk`.
 * False only on out-of-memory. */
static bool
assess(struct broker *b, struct job *j, const struct msg *in)
{
	struct risk_verdict v;
	unsigned char *raw = NULL;
	size_t rawlen, codelen;
	const char *code = msg_bin(in, MSG_F_CODE, &codelen);
	bool ok;

	/* risk_assess fails closed: an error yields L4. */
	if (risk_assess(b->risk, code, codelen, &v) != ERR_OK)
		log_warnx("job %s: risk assessment failed; treated as L4", j->id);
	util_strlcpy(j->level, risk_level_name(v.level), sizeof(j->level));
	if (v.level == RISK_L3) {
		j->state = JOB_HELD;
		j->approval_deadline_ms = j->accepted_ms + (int64_t)b->conf->approval_timeout_ms;
	}
	ok = gate_verdict_pack(&v, &raw, &rawlen) == ERR_OK &&
	    msg_set_raw(j->job, MSG_F_RISK, raw, rawlen) == ERR_OK &&
	    msg_set_str(j->job, MSG_F_LEVEL, j->level) == ERR_OK;

	audit_sha256_hex(code, codelen, j->code_sha256);
	char score[64];
	if (v.nfindings == 0 && real_text(b, v.score, score, sizeof(score))) {
		const struct audit_kv kv[] = {
			{ "findings", AUDIT_KV_JSON, "[]", 0 },
			{ "level", AUDIT_KV_STR, j->level, 0 },
			{ "score", AUDIT_KV_JSON, score, 0 },
			{ "total", AUDIT_KV_INT, NULL, (long long)v.total },
		};
		audit_flat(b, AUDIT_RISK_ASSESSMENT, j, kv, sizeof(kv) / sizeof(kv[0]), NULL);
	} else {
		json_t *rules = json_array();
		for (size_t i = 0; i < v.nfindings && rules; i++)
			json_array_append_new(rules, json_pack("{s:s, s:s, s:i}", "rule",
			    v.findings[i].rule, "category", risk_category_name(v.findings[i].category),
			    "line", v.findings[i].line));
		audit(b, AUDIT_RISK_ASSESSMENT, j, NULL, json_pack("{s:f, s:s, s:I, s:o}", "score",
		    v.score, "level", j->level, "total", (json_int_t)v.total, "findings", rules), NULL);
	}

	/* PII and secrets in the submitted code itself: reported, never stored. */
	struct privacy_config pc = { .mode = PRIVACY_MODE_REPORT };
	struct privacy_result pr = { 0 };
	if (privacy_scan(&pc, code, codelen, &pr) == ERR_OK && pr.nfindings > 0) {
		struct privacy_count counts[32];
		size_t n = privacy_summary(pr.findings, pr.nfindings, counts, 32);
		json_t *list = json_array();
		for (size_t i = 0; i < n && list; i++)
			json_array_append_new(list, json_pack("{s:s, s:I}", "type", counts[i].type,
			    "count", (json_int_t)counts[i].count));
		audit(b, AUDIT_PRIVACY_DETECTION, j, NULL, json_pack("{s:s, s:o}", "where", "code",
		    "findings", list), NULL);
	}
	privacy_result_clear(&pr);
	free(raw);
	risk_verdict_clear(&v);
	return ok;
}

static void
on_submit(struct broker *b, zframe_t *client, const struct msg *in, const char *tenant)
{
	TRACE_MARK("B1_submit");
	const struct broker_conf *c = b->conf;
	const char *req = msg_str(in, MSG_F_REQ, "");
	const char *lang = msg_str(in, MSG_F_LANG, "ts");
	const char *key = msg_str(in, MSG_F_KEY, NULL);
	char why[256];
	size_t codelen;
	struct job *j;
	struct msg *jm;
	enum err e;
	enum privacy_mode pmode;

	if (b->draining) {
		wire_send_error(b->front, client, ERR_SHUTDOWN, req, "broker is shutting down; retry elsewhere or later");
		return;
	}
	msg_bin(in, MSG_F_CODE, &codelen);
	if (codelen == 0) {
		wire_send_error(b->front, client, ERR_INVAL, req, "code is empty");
		return;
	}
	if (strcmp(lang, "ts") != 0 && strcmp(lang, "js") != 0) {
		wire_send_error(b->front, client, ERR_INVAL, req, "lang must be \"ts\" or \"js\"");
		return;
	}
	if (!tenant_ok(tenant)) {
		wire_send_error(b->front, client, ERR_INVAL, req, "tenant must be 1-64 of [A-Za-z0-9._-]");
		return;
	}
	if (msg_has(in, MSG_F_SESSION) && !session_ok(msg_str(in, MSG_F_SESSION, ""))) {
		wire_send_error(b->front, client, ERR_INVAL, req, SESSION_RULE);
		return;
	}
	if (!files_ok(in, &e, why, sizeof(why))) {
		audit(b, AUDIT_ERROR, NULL, NULL, json_pack("{s:s, s:s}", "what", "submission rejected",
		    "reason", why), NULL);
		wire_send_error(b->front, client, e, req, why);
		return;
	}
	if (key != NULL && *key != '\0' && resubmission(b, client, req, tenant, key))
		return;
	if ((e = session_mode_resolve(b->modes, tenant, msg_str(in, MSG_F_SESSION, NULL),
	    msg_str(in, MSG_F_PRIVACY_MODE, NULL), util_now_ms(), &pmode, why, sizeof(why))) != ERR_OK) {
		wire_send_error(b->front, client, e, req, why);
		return;
	}
	if (queue_size(b->queue) >= c->queue_max) {
		send_busy(b, client, req, queue_size(b->queue));
		return;
	}
	if (queue_tenant_size(b->queue, tenant) >= c->tenant_queue_max) {
		send_busy(b, client, req, queue_tenant_size(b->queue, tenant));
		return;
	}
	uint32_t retry_ms;
	if (!ratelimit_take(b->rate, tenant, util_now_ms(), &retry_ms)) {
		send_busy_ms(b, client, req, retry_ms);
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
		audit(b, AUDIT_ERROR, NULL, NULL, json_pack("{s:s, s:s}", "what", "submission rejected",
		    "reason", why), NULL);
		wire_send_error(b->front, client, ERR_INVAL, req, why);
		return;
	}
	if (util_random_hex(j->id, 16) != ERR_OK ||
	    msg_copy_fields(jm, in) != ERR_OK ||	/* code, lang, session, key, files */
	    msg_set_str(jm, MSG_F_ID, j->id) != ERR_OK ||
	    msg_set_str(jm, MSG_F_LANG, lang) != ERR_OK ||
	    msg_set_str(jm, MSG_F_TENANT, tenant) != ERR_OK ||
	    msg_set_str(jm, MSG_F_PRIVACY_MODE, privacy_mode_name(pmode)) != ERR_OK) {
		job_free((void **)&j);
		wire_send_error(b->front, client, ERR_NOMEM, req, "could not create job");
		return;
	}
	util_strlcpy(j->req, req, sizeof(j->req));
	util_strlcpy(j->tenant, tenant, sizeof(j->tenant));	/* tenant_ok: <= 64 */
	util_strlcpy(j->key, key ? key : "", sizeof(j->key));
	j->priority = (unsigned)msg_u64(in, MSG_F_PRIORITY, 4);
	j->client = zframe_dup(client);
	j->state = JOB_QUEUED;
	j->accepted_ms = util_wall_ns() / 1000000;
	if (!assess(b, j, in)) {
		job_free((void **)&j);
		wire_send_error(b->front, client, ERR_NOMEM, req, "could not assess the job");
		return;
	}
	if (j->state == JOB_HELD)
		msg_set_u64(jm, MSG_F_DEADLINE_MS, (uint64_t)j->approval_deadline_ms);
	/* The session's first accepted job fixes its privacy mode (BUSY when
	 * too many sessions are remembered). */
	if ((e = session_mode_pin(b->modes, tenant, msg_str(in, MSG_F_SESSION, NULL), pmode,
	    util_now_ms())) != ERR_OK ||
	    (e = jobstore_put_job(b->store, j->id, j->state == JOB_HELD ? JOBSTORE_HELD : JOBSTORE_QUEUED,
	    j->accepted_ms, jm)) != ERR_OK ||
	    (j->key[0] && (e = jobstore_put_key(b->store, tenant, j->key, j->id)) != ERR_OK)) {
		job_free((void **)&j);
		if (e == ERR_BUSY)
			send_busy(b, client, req, queue_size(b->queue));
		else
			wire_send_error(b->front, client, e, req, "could not store the job");
		return;
	}
	zhashx_insert(b->jobs, j->id, j);
	if (j->key[0]) {
		char name[200];
		key_name(name, sizeof(name), tenant, j->key);
		zhashx_insert(b->keys, name, j);
	}
	zlistx_add_end(b->accepting, j);	/* ACCEPTED + queueing after the commit */
	if (strcmp(j->level, "L4") == 0) {
		size_t rl;
		const void *risk = msg_bin(jm, MSG_F_RISK, &rl);
		job_finish(b, j, NULL, JOB_BLOCKED, "risk level L4: blocked");
		alerts_publish(b->alerts, "alert.L4", j->id, "L4", "risk level L4: blocked",
		    msg_str(jm, MSG_F_SESSION, NULL), j->tenant, NULL, risk, rl);
	} else if (strcmp(j->level, "L2") == 0) {
		log_info("job %s: risk L2, dispatched with logging (tenant %s)", j->id, j->tenant);
	}
}

static void
on_status(struct broker *b, zframe_t *client, const struct msg *in, const char *tenant);

/* A request named a job of another tenant: answered exactly like an unknown
 * job, and recorded as an error event. */
static void
foreign_job(struct broker *b, zframe_t *client, const char *req, const char *id,
    const char *tenant, const char *what)
{
	/* Only names the broker itself validated reach the log: a job id
	 * that matched a job, a tenant from a key or checked by tenant_ok. */
	if (!tenant_ok(tenant))
		tenant = "(invalid)";
	log_limited(&b->foreign, 10, "tenant %s asked to %s job %s of another tenant", tenant, what, id);
	audit(b, AUDIT_ERROR, NULL, NULL, json_pack("{s:s, s:s, s:s, s:s}", "what",
	    "cross-tenant request refused", "request", what, "tenant", tenant, "job", id), NULL);
	wire_send_error(b->front, client, ERR_NOTFOUND, req, strcmp(what, "cancel") == 0 ?
	    "no such job running or queued" : "no such job (or its result expired)");
}

static void
on_fetch(struct broker *b, zframe_t *client, const struct msg *in, const char *tenant)
{
	const char *req = msg_str(in, MSG_F_REQ, ""), *id = msg_str(in, MSG_F_ID, "");
	struct job *j = zhashx_lookup(b->jobs, id);
	struct msg *r = NULL;

	if (j != NULL && strcmp(j->tenant, tenant) != 0) {
		foreign_job(b, client, req, id, tenant, "fetch");
		return;
	}
	if (j != NULL) {
		static const char *const names[] = { "queued", "leased", "running", "running", "held" };
		send_job_state(b, client, req, id, j->result ? "finishing" : names[j->state]);
		return;
	}
	if (jobstore_get_result(b->store, id, &r, NULL) == ERR_OK) {
		/* Results stored before results named their tenant belong to
		 * the default tenant. */
		if (strcmp(msg_str(r, MSG_F_TENANT, DEFAULT_TENANT), tenant) != 0) {
			msg_destroy(&r);
			foreign_job(b, client, req, id, tenant, "fetch");
			return;
		}
		msg_set_str(r, MSG_F_REQ, req);
		send_front(b, client, r);
		msg_destroy(&r);
		return;
	}
	wire_send_error(b->front, client, ERR_NOTFOUND, req, "no such job (or its result expired)");
}

static void
on_cancel(struct broker *b, zframe_t *client, const struct msg *in, const char *tenant)
{
	const char *req = msg_str(in, MSG_F_REQ, ""), *id = msg_str(in, MSG_F_ID, "");
	struct job *j = zhashx_lookup(b->jobs, id);

	if (j != NULL && strcmp(j->tenant, tenant) != 0) {
		foreign_job(b, client, req, id, tenant, "cancel");
		return;
	}
	if (j == NULL || j->result != NULL) {
		wire_send_error(b->front, client, ERR_NOTFOUND, req, "no such job running or queued");
		return;
	}
	if (!j->accepted) {	/* its round is being committed: cancel right after */
		j->cancel_requested = true;
		send_job_state(b, client, req, id, "cancelling");
		return;
	}
	if (j->state == JOB_QUEUED) {
		if (queue_remove(b->queue, j->tenant, j->priority, j)) {
			job_finish(b, j, NULL, JOB_CANCELLED, "cancelled while queued");
			send_job_state(b, client, req, id, "cancelled");
			return;
		}
		/* Still waiting for its first commit: cancel right after it. */
		j->cancel_requested = true;
		send_job_state(b, client, req, id, "cancelling");
		return;
	}
	if (j->state == JOB_ORPHAN || j->state == JOB_HELD) {
		job_finish(b, j, NULL, JOB_CANCELLED, j->state == JOB_HELD ?
		    "cancelled while waiting for approval" : "cancelled after a broker restart");
		send_job_state(b, client, req, id, "cancelled");
		return;
	}
	j->cancel_requested = true;
	struct msg *m = msg_new(MSG_CANCEL);
	if (m != NULL && j->worker != NULL) {
		msg_set_str(m, MSG_F_ID, j->id);
		wire_send(b->back, j->worker->rid, m);
	}
	msg_destroy(&m);
	send_job_state(b, client, req, id, "cancelling");
	log_info("job %s: cancellation requested", j->id);
}

/* Takes one client message if one is waiting; false when none was. */
static bool
on_front(struct broker *b)
{
	zframe_t *client = NULL;
	struct msg *m = NULL;
	struct wire_peer peer;
	char why[256];
	const char *tenant, *user = peer.user;
	enum err e = wire_try_recv(b->front, true, &client, &m, &peer, why, sizeof(why));

	if (e != ERR_OK) {
		log_limited(&b->bad_front, 10, "front: rejected message: %s", why);
		if (client != NULL)
			wire_send_error(b->front, client, e, NULL, why);
		zframe_destroy(&client);
		return true;
	}
	if (m == NULL)
		return false;
	/* Under CURVE the tenant is the one enrolled with the client's key (the
	 * ZAP handler's User-Id); a request naming another one is refused. */
	tenant = msg_str(m, MSG_F_TENANT, DEFAULT_TENANT);
	if (b->curve[ZAP_FRONT]) {
		if (user[0] == '\0') {
			wire_send_error(b->front, client, ERR_DENIED, msg_str(m, MSG_F_REQ, NULL),
			    "no authenticated tenant on this connection");
			goto out;
		}
		if (!peer_enrolled(b, ZAP_FRONT, &peer, "client")) {
			wire_send_error(b->front, client, ERR_DENIED, msg_str(m, MSG_F_REQ, NULL),
			    "your key was revoked");
			goto out;
		}
		if (msg_has(m, MSG_F_TENANT) && strcmp(tenant, user) != 0) {
			log_limited(&b->foreign, 10, "tenant %s named tenant %s in a request", user,
			    tenant_ok(tenant) ? tenant : "(invalid)");
			audit(b, AUDIT_ERROR, NULL, NULL, json_pack("{s:s, s:s}", "what",
			    "request named another tenant than the client's key", "tenant", user), NULL);
			wire_send_error(b->front, client, ERR_DENIED, msg_str(m, MSG_F_REQ, NULL),
			    "tenant does not match the tenant of your key (omit --tenant under CURVE)");
			goto out;
		}
		tenant = user;
	}
	switch (msg_cmd(m)) {
	case MSG_SUBMIT: on_submit(b, client, m, tenant); break;
	case MSG_STATUS: on_status(b, client, m, b->curve[ZAP_FRONT] ? tenant : NULL); break;
	case MSG_FETCH: on_fetch(b, client, m, tenant); break;
	case MSG_CANCEL_JOB: on_cancel(b, client, m, tenant); break;
	case MSG_SESSION_OP: on_session_op(b, client, m, tenant); break;
	default:
		log_limited(&b->bad_front, 10, "front: %s is not a client command",
		    msg_cmd_name(msg_cmd(m)));
		wire_send_error(b->front, client, ERR_PROTO, msg_str(m, MSG_F_REQ, NULL),
		    "not a client command");
	}
out:
	msg_destroy(&m);
	zframe_destroy(&client);
	return true;
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
		if (j->worker == w && j->result == NULL && lost)
			zlistx_add_end(lost, j);
	for (j = lost ? zlistx_first(lost) : NULL; j; j = zlistx_next(lost)) {
		if (j->state == JOB_LEASED && !j->cancel_requested) {
			queue_done(b->queue, j->tenant);
			j->state = JOB_QUEUED;
			j->worker = NULL;
			queue_push(b->queue, j->tenant, j->priority, j, true);
			log_info("job %s requeued: its worker had not started it", j->id);
		} else {
			job_finish(b, j, NULL, j->cancel_requested ? JOB_CANCELLED : JOB_WORKER_LOST,
			    "the worker running the job was lost");
			if (!j->cancel_requested)
				alerts_publish(b->alerts, "alert.worker_lost", j->id, j->level,
				    "the worker running the job was lost", msg_str(j->job, MSG_F_SESSION, NULL),
				    j->tenant, w->host, NULL, 0);
		}
	}
	zlistx_destroy(&lost);
	zhashx_delete(b->workers, w->key);
}

/* --test-lose-acks: true (logged) when the DONE_ACK of this job's end is
 * to be dropped.  Only first ends count, never the ack of a DONE that came
 * again: which DONEs a worker sends again after a reconnect is timing. */
static bool
lose_ack(struct broker *b, const char *id)
{
	if (b->lose_acks == 0)
		return false;
	b->lose_acks--;
	log_warnx("--test-lose-acks: the DONE_ACK of job %s is dropped", id);
	return true;
}

/* Tells the worker at `rid` it may forget its DONE of job `id`. */
static void
send_done_ack(struct broker *b, zframe_t *rid, const char *id)
{
	struct msg *ack;

	if ((ack = msg_new(MSG_DONE_ACK)) == NULL)
		return;		/* the worker sends the DONE again */
	if (msg_set_str(ack, MSG_F_ID, id) == ERR_OK)
		(void)wire_send(b->back, rid, ack);	/* a gone worker resends it elsewhere */
	msg_destroy(&ack);
}

/*
 * A DONE from the worker at `rid` (w: NULL when it is not registered).
 * Idempotent: a copy for a job that ended (stored, or being committed) only
 * gets its DONE_ACK.  Slot accounting: only the first copy of a DONE (no
 * `resent`) frees a slot, and only in its sender's count, where a lease to
 * this connection or its READY (`carried`) counted it; a `resent` copy's slot
 * was freed by the first copy or not counted by the READY that preceded it.
 * A repeat, or a DONE for an unknown id, frees nothing once the READY's
 * count is used up.  A lessee that is not the sender keeps its count: its
 * own DONE (or its loss) settles it.
 */
static void
on_done(struct broker *b, struct worker *w, zframe_t *rid, struct msg *m)
{
	TRACE_MARK("B3_done");
	const char *id = msg_str(m, MSG_F_ID, "");
	struct job *j = zhashx_lookup(b->jobs, id);

	/* A slot is freed by the first DONE of a job leased to this connection,
	 * or of one its READY counted; never by a repeat or an unknown id (a
	 * worker sending those must not be leased more than it has). */
	if (w != NULL && !msg_bool(m, MSG_F_RESENT, false)) {
		if (j != NULL && j->result == NULL && j->worker == w) {
			if (w->busy > 0)
				w->busy--;
		} else if (w->carried > 0) {
			w->carried--;
			if (w->busy > 0)
				w->busy--;
		}
	}
	if (j == NULL) {
		/* Ended before (its result is stored, fetched or expired), or
		 * never ours: nothing to do but let the worker forget it. */
		char safe[160];
		log_info("a DONE again for job %s, which ended before (or is unknown): acknowledged",
		    log_escape(safe, sizeof(safe), id, strlen(id)));
		send_done_ack(b, rid, id);
		return;
	}
	if (j->result != NULL) {
		/* Its end is being committed: acknowledged when durable, to
		 * the latest sender (the first copy may have come through a
		 * socket the worker has since replaced). */
		zframe_destroy(&j->ack_to);
		j->ack_to = zframe_dup(rid);
		return;
	}
	if (j->state == JOB_QUEUED && queue_remove(b->queue, j->tenant, j->priority, j)) {
		j->state = JOB_ORPHAN;	/* ran on a stale lease: its result stands */
	} else if (j->state != JOB_ORPHAN && j->state != JOB_LEASED && j->state != JOB_RUNNING) {
		/* Held for approval, or queued and not yet stored: never leased. */
		log_limited(&b->bad_back, 10, "back: DONE for a job that was never leased");
		send_done_ack(b, rid, id);
		return;
	} else if (j->worker != NULL && j->worker != w) {
		/* Leased to another connection.  From the same worker (its
		 * previous socket: same CURVE key, or in plaintext the same
		 * host name) it ran, its result stands, and the lessee's
		 * count is its own.  From anyone else it is refused: one
		 * enrolled worker cannot end another's jobs. */
		if (w == NULL || strcmp(w->zkey, j->worker->zkey) != 0 ||
		    (w->zkey[0] == '\0' && strcmp(w->host, j->worker->host) != 0)) {
			log_limited(&b->bad_back, 10, "back: DONE for job %s from %s, which it was "
			    "not leased to (leased to %s): ignored", j->id,
			    w ? w->host : "an unregistered worker", j->worker->host);
			return;
		}
		log_info("job %s: DONE from %s, leased to its previous connection", j->id, w->host);
	}
	j->worker = NULL;	/* the sender's slot is settled above */
	session_store(b, j, m);
	if (strcmp(msg_str(m, MSG_F_STATUS, ""), "violation") == 0)
		alerts_publish(b->alerts, "alert.violation", j->id, j->level,
		    msg_str(m, MSG_F_REASON, "sandbox violation"), msg_str(j->job, MSG_F_SESSION, NULL),
		    j->tenant, w ? w->host : NULL, NULL, 0);
	job_finish(b, j, m, JOB_ERROR, NULL);
	zframe_destroy(&j->ack_to);
	j->ack_to = zframe_dup(rid);
}

/* How many jobs are leased to connection w (a walk of every job: only on a
 * READY from a connection already known, which is rare). */
static uint32_t
leased_to(struct broker *b, const struct worker *w)
{
	uint32_t n = 0;

	for (struct job *j = zhashx_first(b->jobs); j != NULL; j = zhashx_next(b->jobs))
		if (j->worker == w && j->result == NULL)
			n++;
	return n;
}

/* Takes one worker message if one is waiting; false when none was. */
static bool
on_back(struct broker *b)
{
	zframe_t *rid = NULL;
	struct msg *m = NULL;
	struct worker *w;
	struct job *j;
	struct wire_peer peer;
	char why[256], key[64];
	enum err e = wire_try_recv(b->back, true, &rid, &m, &peer, why, sizeof(why));

	if (e != ERR_OK) {
		log_limited(&b->bad_back, 10, "back: rejected message: %s", why);
		if (rid != NULL)
			wire_send_error(b->back, rid, e, NULL, why);
		zframe_destroy(&rid);
		return true;
	}
	if (m == NULL)
		return false;
	rid_key(rid, key, sizeof(key));
	w = zhashx_lookup(b->workers, key);
	if (!peer_enrolled(b, ZAP_BACK, &peer, "worker")) {
		/* Its key was removed (SIGHUP) after this connection was made:
		 * nothing it sends counts (no READY, no DONE, no file events). */
		if (w != NULL)
			worker_lost(b, w, "its key was removed");
		wire_send_error(b->back, rid, ERR_DENIED, NULL, "worker key no longer enrolled");
		goto out;
	}
	if (msg_cmd(m) == MSG_READY) {
		uint32_t slots = (uint32_t)msg_u64(m, MSG_F_SLOTS, 0);
		uint32_t free_slots = (uint32_t)msg_u64(m, MSG_F_FREE, 0);
		if (w != NULL) {
			/* The same connection announcing again (after an ERROR
			 * WIRE_NOT_REGISTERED, or draining with 0 slots): update it,
			 * its running jobs are unaffected. */
			w->slots = slots;
			w->busy = free_slots < slots ? slots - free_slots : w->busy;
			uint32_t leased = leased_to(b, w);
			w->carried = w->busy > leased ? w->busy - leased : 0;
			w->last_seen_ms = util_now_ms();
			if (slots == 0)
				log_info("worker %s is draining", w->host);
			goto out;
		}
		if ((w = calloc(1, sizeof(*w))) != NULL) {
			snprintf(w->key, sizeof(w->key), "%s", key);
			snprintf(w->zkey, sizeof(w->zkey), "%s", b->curve[ZAP_BACK] ? peer.key : "");
			snprintf(w->host, sizeof(w->host), "%s", msg_str(m, MSG_F_HOST, "?"));
			w->rid = zframe_dup(rid);
			w->slots = slots;
			/* Jobs it still runs from before (e.g. a broker restart). */
			w->busy = free_slots < slots ? slots - free_slots : 0;
			w->carried = w->busy;
			w->last_seen_ms = util_now_ms();
			zhashx_insert(b->workers, w->key, w);
			log_info("worker %s ready with %u slots (%u busy)", w->host, w->slots, w->busy);
		}
		goto out;
	}
	if (w == NULL) {
		/* Not registered (e.g. the broker restarted): ask it to say READY. */
		wire_send_error(b->back, rid, ERR_PROTO, NULL, WIRE_NOT_REGISTERED);
		/* Its DONE for an orphan still counts: the job finished. */
		if (msg_cmd(m) != MSG_DONE)
			goto out;
	}
	if (w != NULL)
		w->last_seen_ms = util_now_ms();
	j = msg_cmd(m) == MSG_DONE ? NULL : zhashx_lookup(b->jobs, msg_str(m, MSG_F_ID, ""));
	if (j != NULL && j->result != NULL)
		j = NULL;	/* already finished */
	switch (msg_cmd(m)) {
	case MSG_HEARTBEAT:
		break;
	case MSG_STARTED:
		if (j != NULL && j->state == JOB_QUEUED && queue_remove(b->queue, j->tenant, j->priority, j)) {
			/* A lease from before a broker restart or a lost-worker
			 * requeue did reach a worker after all: the code runs
			 * there now and must not run twice. */
			j->state = JOB_ORPHAN;
			j->orphan_deadline_ms = util_now_ms() +
			    (int64_t)msg_u64(j->job, MSG_F_TIMEOUT_MS, 0) + ORPHAN_GRACE_MS;
		} else if (j != NULL && j->worker == w && j->state == JOB_LEASED) {
			j->state = JOB_RUNNING;
		} else {
			break;
		}
		j->started = true;
		/* Its RUNNING record is staged when the round is sealed, unless
		 * the job has finished by then (stage_started). */
		if (!j->start_staged && zlistx_add_end(b->starting, j) != NULL)
			j->start_staged = true;
		else if (!j->start_staged && jobstore_put_state(b->store, j->id,
		    JOBSTORE_RUNNING) == ERR_OK)
			j->state_record = true;
		const struct audit_kv start[] = { { "worker", AUDIT_KV_STR, w ? w->host : "?", 0 } };
		audit_flat(b, AUDIT_EXECUTION_START, j, start, 1, NULL);
		break;
	case MSG_DONE:
		on_done(b, w, rid, m);
		break;
	case MSG_TOOL_APPROVAL:
		if (w != NULL)
			on_tool_approval(b, w, rid, m);
		break;
	case MSG_EVENT: {
		enum audit_type t;
		json_error_t jerr;
		json_t *d = json_loads(msg_str(m, MSG_F_DETAILS, "{}"), 0, &jerr);
		char actor[300];
		if (j == NULL || audit_type_parse(msg_str(m, MSG_F_EVTYPE, ""), &t) != ERR_OK ||
		    !json_is_object(d)) {
			json_decref(d);
			log_limited(&b->bad_back, 10, "back: EVENT with an unknown job, type or details");
			break;
		}
		snprintf(actor, sizeof(actor), "worker@%s", w ? w->host : "?");
		audit(b, t, j, actor, d, NULL);
		break;
	}
	default:
		log_limited(&b->bad_back, 10, "back: %s is not a worker command",
		    msg_cmd_name(msg_cmd(m)));
		if (w != NULL)
			wire_send_error(b->back, rid, ERR_PROTO, NULL, "not a worker command");
	}
out:
	msg_destroy(&m);
	zframe_destroy(&rid);
	return true;
}

struct tenant_acc {
	char *buf;
	size_t *off;
	size_t cap;
	bool first;
	const char *only;	/* a tenant's own view: only this tenant */
};

/* Appends one tenant's counts to the STATUS_REPLY details JSON. */
static void
tenant_line(void *arg, const char *t, size_t q, size_t run)
{
	struct tenant_acc *a = arg;

	if (*a->off + 128 >= a->cap || (a->only != NULL && strcmp(a->only, t) != 0))
		return;
	*a->off += (size_t)snprintf(a->buf + *a->off, a->cap - *a->off,
	    "%s\"%s\":{\"queued\":%zu,\"running\":%zu}", a->first ? "" : ",", t, q, run);
	a->first = false;
}

/* The farm's figures, shared by STATUS_REPLY and the metrics endpoint. */
struct farm_counts {
	uint64_t workers, free_slots;
	uint64_t running;	/* leased, running, or orphaned by a restart */
	uint64_t held;		/* waiting for approval */
	int64_t oldest_queued_ms;	/* wall clock of the oldest queued job, 0: none */
};

/* `tenant` NULL: the whole farm; else that tenant's jobs (workers and free
 * slots are always the farm's). */
static void
farm_counts(struct broker *b, struct farm_counts *c, const char *tenant)
{
	memset(c, 0, sizeof(*c));
	for (struct worker *w = zhashx_first(b->workers); w; w = zhashx_next(b->workers)) {
		c->free_slots += w->slots > w->busy ? w->slots - w->busy : 0;
		c->workers++;
	}
	for (struct job *j = zhashx_first(b->jobs); j; j = zhashx_next(b->jobs)) {
		if (tenant != NULL && strcmp(j->tenant, tenant) != 0)
			continue;
		if (j->state == JOB_HELD)
			c->held++;
		else if (j->state != JOB_QUEUED)
			c->running++;
		else if (c->oldest_queued_ms == 0 || j->accepted_ms < c->oldest_queued_ms)
			c->oldest_queued_ms = j->accepted_ms;
	}
}

/* `tenant` NULL: the farm's figures; else (under CURVE) that tenant's own
 * queue, running jobs and approval backlog, and nothing of other tenants. */
static void
on_status(struct broker *b, zframe_t *client, const struct msg *in, const char *tenant)
{
	struct msg *r = msg_new(MSG_STATUS_REPLY);
	struct farm_counts fc;
	int64_t now = util_wall_ns() / 1000000;
	char details[8192];
	size_t off = 0;

	if (r == NULL)
		return;
	farm_counts(b, &fc, tenant);
	off += (size_t)snprintf(details, sizeof(details),
	    "{\"oldest_queued_ms\":%lld,\"approval_backlog\":%llu,\"approver_connected\":%s,"
	    "\"insecure_plaintext\":%s,\"tenants\":{",
	    (long long)(fc.oldest_queued_ms ? now - fc.oldest_queued_ms : 0), (unsigned long long)fc.held,
	    b->approver ? "true" : "false", b->conf->insecure_plaintext ? "true" : "false");
	struct tenant_acc acc = { details, &off, sizeof(details), true, tenant };
	queue_each_tenant(b->queue, tenant_line, &acc);
	snprintf(details + off, sizeof(details) - off, "}}");
	msg_set_str(r, MSG_F_REQ, msg_str(in, MSG_F_REQ, ""));
	msg_set_u64(r, MSG_F_QUEUED, tenant ? queue_tenant_size(b->queue, tenant) : queue_size(b->queue));
	msg_set_u64(r, MSG_F_RUNNING, fc.running);
	msg_set_u64(r, MSG_F_WORKERS, fc.workers);
	msg_set_u64(r, MSG_F_FREE, fc.free_slots > 1024 ? 1024 : fc.free_slots);
	msg_set_u64(r, MSG_F_DONE_COUNT, b->done);
	msg_set_str(r, MSG_F_DETAILS, details);
	send_front(b, client, r);
	msg_destroy(&r);
}

/* --- metrics (Prometheus text format over plain HTTP) ---------------------- */

struct metrics_acc {
	char *buf;
	size_t off, cap;
};

static void
metrics_tenant(void *arg, const char *t, size_t q, size_t run)
{
	struct metrics_acc *a = arg;
	if (a->off + 256 >= a->cap)
		return;
	a->off += (size_t)snprintf(a->buf + a->off, a->cap - a->off,
	    "sluice_tenant_queued{tenant=\"%s\"} %zu\nsluice_tenant_running{tenant=\"%s\"} %zu\n",
	    t, q, t, run);
}

/* Any request on the metrics socket gets the current figures and the
 * connection is closed: no request parsing, so nothing to attack there
 * beyond a bounded read. */
static void
on_metrics(struct broker *b)
{
	zmsg_t *req = zmsg_recv(b->metrics);
	zframe_t *id;
	char body[16384], hdr[128];
	struct farm_counts fc;
	struct metrics_acc acc = { body, 0, sizeof(body) };

	if (req == NULL)
		return;
	id = zmsg_pop(req);
	zframe_t *data = zmsg_first(req);
	bool notify = data == NULL || zframe_size(data) == 0;	/* connect/disconnect */
	zmsg_destroy(&req);
	if (id == NULL || notify) {
		zframe_destroy(&id);
		return;
	}
	farm_counts(b, &fc, NULL);
	acc.off = (size_t)snprintf(body, sizeof(body),
	    "# TYPE sluice_queued gauge\nsluice_queued %zu\n"
	    "# TYPE sluice_running gauge\nsluice_running %llu\n"
	    "# TYPE sluice_approval_backlog gauge\nsluice_approval_backlog %llu\n"
	    "# TYPE sluice_workers gauge\nsluice_workers %llu\n"
	    "# TYPE sluice_free_slots gauge\nsluice_free_slots %llu\n"
	    "# TYPE sluice_jobs_finished_total counter\nsluice_jobs_finished_total %llu\n"
	    "# TYPE sluice_tenant_queued gauge\n",
	    queue_size(b->queue), (unsigned long long)fc.running, (unsigned long long)fc.held,
	    (unsigned long long)fc.workers, (unsigned long long)fc.free_slots, (unsigned long long)b->done);
	queue_each_tenant(b->queue, metrics_tenant, &acc);
	snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", acc.off);
	zmsg_t *rep = zmsg_new();
	zmsg_append(rep, &(zframe_t *){ zframe_dup(id) });
	zmsg_addmem(rep, hdr, strlen(hdr));
	zmsg_send(&rep, b->metrics);
	rep = zmsg_new();
	zmsg_append(rep, &(zframe_t *){ zframe_dup(id) });
	zmsg_addmem(rep, body, acc.off);
	zmsg_send(&rep, b->metrics);
	rep = zmsg_new();	/* an empty frame closes the connection */
	zmsg_append(rep, &id);
	zmsg_addmem(rep, "", 0);
	zmsg_send(&rep, b->metrics);
}

/* --- timers -------------------------------------------------------------- */

/* After a key reload: workers whose key is no longer enrolled are lost
 * (their jobs resolved as for a worker that went silent), an approver whose
 * key is gone is no longer sent requests (they wait for the next one);
 * whatever they send from then on is refused (peer_enrolled). */
static void
drop_unenrolled_peers(struct broker *b)
{
	zlistx_t *gone = zlistx_new();

	if (b->approver != NULL && b->approver_key[0] != '\0' &&
	    !zap_key_enrolled(b->zap, ZAP_APPROVALS, b->approver_key)) {
		log_warnx("the connected approver's key was removed: it gets no more requests");
		zframe_destroy(&b->approver);
	}
	if (gone == NULL)
		return;
	for (struct worker *w = zhashx_first(b->workers); w; w = zhashx_next(b->workers))
		if (w->zkey[0] != '\0' && !zap_key_enrolled(b->zap, ZAP_BACK, w->zkey))
			zlistx_add_end(gone, w);
	for (struct worker *w = zlistx_first(gone); w; w = zlistx_next(gone))
		worker_lost(b, w, "its key was removed");
	zlistx_destroy(&gone);
}

static void
heartbeat(struct broker *b, int64_t now)
{
	struct msg *hb;
	zlistx_t *dead;

	if (now < b->next_heartbeat_ms)
		return;
	b->next_heartbeat_ms = now + b->conf->heartbeat_ms;
	if ((dead = zlistx_new()) == NULL || (hb = msg_new(MSG_HEARTBEAT)) == NULL) {
		zlistx_destroy(&dead);
		return;
	}
	/* Before calling a worker lost, read what the back socket holds: when
	 * this loop was the one that was slow, its heartbeats wait there. */
	for (struct worker *w = zhashx_first(b->workers); w; w = zhashx_next(b->workers)) {
		if (now - w->last_seen_ms > 3 * (int64_t)b->conf->heartbeat_ms) {
			for (int k = 0; k < 4096 && on_back(b); k++)
				;
			now = util_now_ms();
			break;
		}
	}
	for (struct worker *w = zhashx_first(b->workers); w; w = zhashx_next(b->workers)) {
		if (now - w->last_seen_ms > 3 * (int64_t)b->conf->heartbeat_ms)
			zlistx_add_end(dead, w);
		else
			wire_send(b->back, w->rid, hb);
	}
	for (struct worker *w = zlistx_first(dead); w; w = zlistx_next(dead))
		worker_lost(b, w, "no heartbeat");
	zlistx_destroy(&dead);
	msg_destroy(&hb);

	/* The approver: heartbeat, or forget it after 3 silent intervals. */
	if (b->approver != NULL) {
		if (now - b->approver_seen_ms > 3 * (int64_t)b->conf->heartbeat_ms) {
			log_warnx("approver silent; waiting for it to reconnect");
			zframe_destroy(&b->approver);
		} else if ((hb = msg_new(MSG_HEARTBEAT)) != NULL) {
			wire_send(b->approvals, b->approver, hb);
			msg_destroy(&hb);
		}
	}
	/* Held jobs: resend unacknowledged requests; fail closed at the deadline. */
	int64_t wall = util_wall_ns() / 1000000;
	zlistx_t *expired = zlistx_new();
	for (struct job *j = zhashx_first(b->jobs); j && expired; j = zhashx_next(b->jobs)) {
		if (j->state != JOB_HELD || j->result != NULL || !j->accepted)
			continue;
		if (wall >= j->approval_deadline_ms)
			zlistx_add_end(expired, j);
		else if (!j->approval_held)
			send_approval_request(b, j);
	}
	for (struct job *j = expired ? zlistx_first(expired) : NULL; j; j = zlistx_next(expired)) {
		char reason[128];
		snprintf(reason, sizeof(reason), "no approval decision within %u ms (fail closed)",
		    b->conf->approval_timeout_ms);
		audit(b, AUDIT_APPROVAL_RESPONSE, j, NULL, json_pack("{s:s, s:s}", "verdict", "deny",
		    "reason", reason), NULL);
		job_finish(b, j, NULL, JOB_DENIED, reason);
		alerts_publish(b->alerts, "alert.approval_timeout", j->id, j->level, reason,
		    msg_str(j->job, MSG_F_SESSION, NULL), j->tenant, NULL, NULL, 0);
	}
	zlistx_destroy(&expired);
	tool_holds_tick(b, wall);

	/* Orphans from before a restart that no worker claimed in time. */
	zlistx_t *late = zlistx_new();
	for (struct job *j = zhashx_first(b->jobs); j && late; j = zhashx_next(b->jobs))
		if (j->state == JOB_ORPHAN && j->result == NULL && now > j->orphan_deadline_ms)
			zlistx_add_end(late, j);
	for (struct job *j = late ? zlistx_first(late) : NULL; j; j = zlistx_next(late))
		job_finish(b, j, NULL, JOB_WORKER_LOST, j->end_failed ?
		    "the job's end could not be stored and its worker did not report it again" :
		    "the broker restarted while the job ran and no worker reported it");
	zlistx_destroy(&late);

	if (now >= b->next_expire_ms) {
		size_t n = jobstore_expire(b->store, util_wall_ns() / 1000000 -
		    (int64_t)b->conf->result_ttl_s * 1000);
		if (n > 0)
			log_info("expired %zu stored results", n);
		b->next_expire_ms = now + 60000;
	}
}

/* --- commit: make staged writes durable, then release replies ------------- */

/*
 * A started job whose end's round failed: back to an orphan (stored RUNNING:
 * restage_running), no RESULT, no ack.  Its worker sends the DONE again
 * (unacknowledged: after a few intervals, or after its next READY) and the
 * job ends with its real result once a round succeeds; the deadline covers
 * a worker that is gone, and a deadline-made end that failed as well.
 */
static void
end_failed(struct broker *b, struct job *j)
{
	int64_t grace = 20 * (int64_t)b->conf->heartbeat_ms;

	msg_destroy(&j->result);
	zframe_destroy(&j->ack_to);
	zframe_destroy(&j->client);	/* it was told: a later RESULT is fetched */
	j->state = JOB_ORPHAN;
	j->worker = NULL;
	j->end_failed = true;
	j->orphan_deadline_ms = util_now_ms() + (grace > ORPHAN_GRACE_MS ? grace : ORPHAN_GRACE_MS);
}

/* Sends the parked replies of a committed round (e: its result). */
static void
commit_release(struct broker *b, zlistx_t *accepting, zlistx_t *finishing, zlistx_t *replies,
    enum err e)
{
	struct parked_reply *p;
	struct job *j;

	while ((p = zlistx_detach(replies, NULL)) != NULL) {
		if (e != ERR_OK)
			wire_send_error(b->front, p->client, ERR_DB, msg_str(p->m, MSG_F_REQ, NULL),
			    "the audit events of this session change could not be stored");
		else
			send_front(b, p->client, p->m);
		parked_reply_free((void **)&p);
	}

	while ((j = zlistx_first(accepting)) != NULL) {
		zlistx_delete(accepting, zlistx_cursor(accepting));
		if (e != ERR_OK) {
			/* Not durable: the client must not think it was accepted. */
			wire_send_error(b->front, j->client, ERR_DB, j->req, "job store write failed");
			void *h = j->result ? zlistx_find(finishing, j) : NULL;
			if (h != NULL)	/* a blocked job: its RESULT must not follow */
				zlistx_delete(finishing, h);
			if (j->key[0]) {
				char name[200];
				key_name(name, sizeof(name), j->tenant, j->key);
				zhashx_delete(b->keys, name);
			}
			zhashx_delete(b->jobs, j->id);
			continue;
		}
		struct msg *ack = msg_new(MSG_ACCEPTED);
		if (ack != NULL) {
			msg_set_str(ack, MSG_F_REQ, j->req);
			msg_set_str(ack, MSG_F_ID, j->id);
			send_front(b, j->client, ack);
			msg_destroy(&ack);
		}
		j->accepted = true;
		if (j->result != NULL)
			continue;	/* blocked: its RESULT follows below */
		/* What these stage goes into the next round. */
		if (j->cancel_requested)
			job_finish(b, j, NULL, JOB_CANCELLED, "cancelled while queued");
		else if (j->state == JOB_HELD) {
			send_job_state(b, j->client, j->req, j->id, "held");
			send_approval_request(b, j);
		}
		else if (!queue_push(b->queue, j->tenant, j->priority, j, false))
			job_finish(b, j, NULL, JOB_ERROR, "broker out of memory");
	}
	while ((j = zlistx_first(finishing)) != NULL) {
		zlistx_delete(finishing, zlistx_cursor(finishing));
		if (e != ERR_OK) {
			/* Its result and the audit events that record it are not
			 * durable: nothing leaves without its audit record, and
			 * its DONE is not acknowledged. */
			log_error("job %s: result withheld: its commit round failed", j->id);
			wire_send_error(b->front, j->client, ERR_DB, j->req[0] ? j->req : NULL,
			    "the job's result could not be stored (audit/job store write failed); "
			    "it is withheld");
			if (j->started) {
				/* It ran: it stays, an orphan stored RUNNING
				 * (restage_running), and ends when its worker
				 * sends the DONE again, or worker_lost. */
				end_failed(b, j);
				continue;
			}
		} else {
			if (j->req[0])
				msg_set_str(j->result, MSG_F_REQ, j->req);
			send_front(b, j->client, j->result);
			TRACE_MARK("B4_result_sent");
			if (j->ack_to != NULL && !lose_ack(b, j->id))
				send_done_ack(b, j->ack_to, j->id);
		}
		if (j->key[0]) {
			char name[200];
			key_name(name, sizeof(name), j->tenant, j->key);
			zhashx_delete(b->keys, name);
		}
		zhashx_delete(b->jobs, j->id);
	}
}

/* Stages the RUNNING record of each job STARTED this round that has not
 * finished in it: a job that started and finished within one round gets no
 * s/ record at all (it would have been put and deleted in the same batch).
 * The record lands in the same round as before, so it is durable exactly
 * when it used to be.  With `drop` (a failed round) nothing is staged. */
static void
stage_started(struct broker *b, bool drop)
{
	struct job *j;

	while ((j = zlistx_detach(b->starting, NULL)) != NULL) {
		j->start_staged = false;
		if (drop || j->result != NULL)
			continue;
		if (jobstore_put_state(b->store, j->id, JOBSTORE_RUNNING) != ERR_OK)
			log_error("job %s: running state not stored", j->id);
		else
			j->state_record = true;
	}
}

/*
 * After a failed round (its job store changes are gone): every job that
 * started must still read RUNNING to a restart, never QUEUED, or it would
 * run again.  Stages that record again for the started jobs not ended,
 * those whose end the failure withheld included (end_failed: they stay in
 * memory until a round holding their end succeeds).  Their execution_start
 * may be missing from the trail if its round was the failed one; it is not
 * written twice.
 */
static void
restage_running(struct broker *b)
{
	b->records_retry_ms = util_now_ms() + 1000;
	for (struct job *j = zhashx_first(b->jobs); j != NULL; j = zhashx_next(b->jobs)) {
		if (!j->started || j->result != NULL)
			continue;
		if (jobstore_put_state(b->store, j->id, JOBSTORE_RUNNING) == ERR_OK)
			j->state_record = true;
		else
			log_error("job %s: running state not stored: a restart may requeue it", j->id);
	}
}

/* Once per loop iteration: releases the round in flight when it is durable,
 * then seals what is staged into the next round and starts it.  With `sync`
 * (shutdown) it waits for both. */
static void
commit(struct broker *b, bool sync)
{
	zlistx_t *t;
	enum err e;

	if (committer_is_busy(b->committer) || b->flight_written) {
		if (!sync && !b->flight_written && !committer_is_done(b->committer))
			return;	/* still syncing: keep staging */
		flight_wait(b);
		TRACE_MARK("K3_release");
		b->flight_written = false;
		commit_release(b, b->acc_flight, b->fin_flight, b->rep_flight, b->flight_rc);
		if (b->flight_rc != ERR_OK)
			restage_running(b);
	}
	bool records_only = zlistx_size(b->accepting) == 0 && zlistx_size(b->finishing) == 0 &&
	    zlistx_size(b->replies) == 0 && zlistx_size(b->starting) == 0 &&
	    audit_store_pending(b->audit) == 0;
	if (records_only && jobstore_pending(b->store) == 0)
		return;
	/* Only the RUNNING records restaged after a failed round: they wait a
	 * second (a store that refuses every write would make them a spin);
	 * a round with replies in it goes at once and carries them along. */
	if (records_only && !sync && util_now_ms() < b->records_retry_ms)
		return;
	if (b->audit_failed) {
		log_error("audit events or job records lost: failing this round's acknowledgements");
		b->audit_failed = false;
		/* Nothing of this round may become durable later: neither its
		 * job store changes nor the audit events that did get staged. */
		stage_started(b, true);
		jobstore_discard(b->store);
		audit_store_discard(b->audit);
		commit_release(b, b->accepting, b->finishing, b->replies, ERR_DB);
		restage_running(b);
		return;
	}
	stage_started(b, false);
	/* Cannot be busy: the round in flight was finished above. */
	if (audit_store_seal(b->audit) != ERR_OK || jobstore_seal(b->store) != ERR_OK) {
		log_error("commit: a store could not seal its batch");
		jobstore_discard(b->store);
		audit_store_discard(b->audit);
		commit_release(b, b->accepting, b->finishing, b->replies, ERR_DB);
		restage_running(b);	/* the RUNNING records just discarded */
		return;
	}
	t = b->acc_flight, b->acc_flight = b->accepting, b->accepting = t;
	t = b->fin_flight, b->fin_flight = b->finishing, b->finishing = t;
	t = b->rep_flight, b->rep_flight = b->replies, b->replies = t;
	TRACE_MARK("K0_start");
	if ((e = committer_start(b->committer)) != ERR_OK) {
		log_error("commit: %s", err_str(e));
		return;
	}
	if (sync)
		commit(b, true);
}

/* --- recovery ------------------------------------------------------------ */

static enum err
recover_job(void *arg, const char *id, enum jobstore_state st, int64_t accepted_ms,
    const struct msg *jm)
{
	struct broker *b = arg;
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL || (j->job = msg_new(MSG_JOB)) == NULL || msg_copy_fields(j->job, jm) != ERR_OK) {
		job_free((void **)&j);
		return ERR_NOMEM;
	}
	snprintf(j->id, sizeof(j->id), "%s", id);
	snprintf(j->tenant, sizeof(j->tenant), "%s", msg_str(jm, MSG_F_TENANT, DEFAULT_TENANT));
	snprintf(j->key, sizeof(j->key), "%s", msg_str(jm, MSG_F_KEY, ""));
	j->priority = (unsigned)msg_u64(jm, MSG_F_PRIORITY, 4);
	j->accepted_ms = accepted_ms;
	snprintf(j->level, sizeof(j->level), "%s", msg_str(jm, MSG_F_LEVEL, "L1"));
	j->accepted = true;
	j->state_record = true;		/* its s/ record, if any, is stored */
	zhashx_insert(b->jobs, j->id, j);
	if (j->key[0]) {
		char name[200];
		key_name(name, sizeof(name), j->tenant, j->key);
		zhashx_insert(b->keys, name, j);
	}
	if (st == JOBSTORE_HELD) {
		j->state = JOB_HELD;
		j->approval_deadline_ms = (int64_t)msg_u64(jm, MSG_F_DEADLINE_MS, 0);
	} else if (st == JOBSTORE_RUNNING) {
		j->state = JOB_ORPHAN;
		j->started = true;	/* it ran: a failed round must keep its end pending
					 * (end_failed) and its RUNNING record, not forget it */
		j->orphan_deadline_ms = util_now_ms() + (int64_t)msg_u64(jm, MSG_F_TIMEOUT_MS, 0) +
		    ORPHAN_GRACE_MS;
	} else {
		j->state = JOB_QUEUED;
		queue_push(b->queue, j->tenant, j->priority, j, false);
	}
	return ERR_OK;
}

/* --- setup and loop ------------------------------------------------------ */

/* The broker's CURVE handle for endpoint `ep`: CURVE covers tcp endpoints;
 * ipc ones stay plaintext, guarded by file permissions. */
static const struct zap *
zap_for(const struct zap *zap, const char *ep)
{
	return zap != NULL && strncmp(ep, "tcp://", 6) == 0 ? zap : NULL;
}

/* A ROUTER on `ep`: a CURVE server admitting domain `d`'s keys when `zap`
 * is set. */
static zsock_t *
bind_router(const char *ep, const struct zap *zap, enum zap_domain d)
{
	zsock_t *s = zsock_new(ZMQ_ROUTER);
	if (s == NULL)
		return NULL;
	wire_tune(s);
	/* The loop never waits for a peer: a send to one whose pipe is full
	 * (a client that stopped reading) fails at once and is handled like
	 * an unreachable peer (results stay stored for `sluice result`). */
	zsock_set_sndtimeo(s, 0);
	zsock_set_router_mandatory(s, 1);
	if (zap != NULL)
		zap_apply(zap, s, d);
	if (zsock_bind(s, "%s", ep) < 0) {
		log_warn("cannot bind %s", ep);
		zsock_destroy(&s);
	}
	return s;
}

/* Plaintext only where nobody else can listen: a non-loopback tcp endpoint
 * without CURVE (and the metrics endpoint, which is plain HTTP) needs
 * --insecure-plaintext.  False (logged) when an endpoint is refused. */
static bool
endpoints_allowed(const struct broker_conf *conf, bool curve)
{
	const char *eps[] = { conf->front, conf->back, conf->approvals, conf->alerts, conf->metrics };
	const char *names[] = { "front", "back", "approvals", "alerts", "metrics" };
	bool ok = true;

	for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		if (eps[i] == NULL || curve_endpoint_is_local(eps[i]) ||
		    (curve && i < 4 && strncmp(eps[i], "tcp://", 6) == 0))
			continue;
		if (!conf->insecure_plaintext) {
			log_error("refusing to bind %s %s in plaintext: it is reachable from other hosts; "
			    "use --curve-secret (and key directories), a loopback/ipc endpoint, or "
			    "--insecure-plaintext", names[i], eps[i]);
			ok = false;
		} else {
			log_warnx("WARNING: %s %s is PLAINTEXT on a network endpoint "
			    "(--insecure-plaintext): anyone on the path can read and forge traffic",
			    names[i], eps[i]);
		}
	}
	return ok;
}

/* Repeats the plaintext warning once a minute while it applies. */
static void
plaintext_reminder(struct broker *b, int64_t now)
{
	if (!b->conf->insecure_plaintext || now < b->next_plaintext_warn_ms)
		return;
	b->next_plaintext_warn_ms = now + 60000;
	endpoints_allowed(b->conf, b->zap != NULL);
}

int
broker_run(const struct broker_conf *conf)
{
	struct broker b = { .conf = conf, .lose_acks = conf->test_lose_acks };
	struct sigaction sa = { .sa_handler = on_signal };
	int64_t drain_deadline = 0;
	char why[512];
	enum err e;
	int rc = 1;

	zsys_handler_set(NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	broker_stop = broker_reload = 0;

	b.jobs = zhashx_new();
	b.keys = zhashx_new();
	b.queue = queue_new(conf->tenant_running_max);
	b.rate = ratelimit_new(conf->tenant_rate, conf->tenant_burst);
	b.workers = zhashx_new();
	b.accepting = zlistx_new();
	b.finishing = zlistx_new();
	b.starting = zlistx_new();
	b.tool_holds = zhashx_new();
	b.acc_flight = zlistx_new();
	b.fin_flight = zlistx_new();
	b.replies = zlistx_new();
	b.rep_flight = zlistx_new();
	if (!b.jobs || !b.keys || !b.queue || !b.rate || !b.workers || !b.accepting || !b.finishing ||
	    !b.starting || !b.tool_holds || !b.acc_flight || !b.fin_flight || !b.replies || !b.rep_flight)
		goto out;
	zlistx_set_destructor(b.replies, parked_reply_free);
	zlistx_set_destructor(b.rep_flight, parked_reply_free);
	zhashx_set_destructor(b.tool_holds, tool_hold_free);
	if (!endpoints_allowed(conf, conf->curve_secret != NULL))
		goto out;
	b.next_plaintext_warn_ms = util_now_ms() + 60000;
	if (conf->curve_secret != NULL) {
		struct zap_conf zc = { conf->curve_secret, conf->clients_dir, conf->workers_dir,
		    conf->approvers_dir };
		if ((b.zap = zap_new(&zc, why, sizeof(why))) == NULL) {
			log_error("CURVE: %s", why);
			goto out;
		}
	} else if (conf->clients_dir || conf->workers_dir || conf->approvers_dir) {
		log_error("key directories given without --curve-secret: CURVE needs the broker's key");
		goto out;
	}
	zhashx_set_destructor(b.jobs, job_free);
	zlistx_set_comparator(b.finishing, same_job);
	zlistx_set_comparator(b.fin_flight, same_job);
	zhashx_set_destructor(b.workers, worker_free);
	if (!paths_mkdirs(conf->data)) {
		log_warn("cannot create data dir %s", conf->data);
		goto out;
	}
	if ((b.sessions = sessions_open(conf->data, conf->session_quota_bytes, conf->session_ttl_ms,
	    &e, why, sizeof(why))) == NULL) {
		log_error("%s", why);
		goto out;
	}
	char adir[4096], host[64];
	snprintf(adir, sizeof(adir), "%s/audit", conf->data);
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	snprintf(b.actor, sizeof(b.actor), "broker@%s", host);
	int aerr;
	struct audit_store_options aopt = { .extra_cf = "jobs", .extra_cf_opts = jobstore_cf_options() };
	if (privacy_init() != ERR_OK || (b.audit_filter = audit_filter_new()) == NULL ||
	    (b.audit = audit_store_open(adir, &aopt, &aerr, why, sizeof(why))) == NULL) {
		log_error("audit store: %s", why);
		goto out;
	}
	/* the job store lives in the audit DB: one log, one sync per round */
	if ((b.store = jobstore_attach(b.audit, conf->data, &e, why, sizeof(why))) == NULL) {
		log_error("%s", why);
		goto out;
	}
	if ((b.committer = committer_new(b.audit, b.store)) == NULL) {
		log_error("cannot start the commit thread");
		goto out;
	}
	if (jobstore_each_job(b.store, recover_job, &b) != ERR_OK) {
		log_error("could not recover the stored jobs");
		goto out;
	}
	if (zhashx_size(b.jobs) > 0)
		log_info("recovered %zu queued jobs and %zu that were running",
		    queue_size(b.queue), zhashx_size(b.jobs) - queue_size(b.queue));
	struct risk_conf rconf;
	if (conf->risk_config != NULL && risk_conf_load(conf->risk_config, &rconf, why, sizeof(why)) != ERR_OK) {
		log_error("risk config %s: %s", conf->risk_config, why);
		goto out;
	}
	if ((b.risk = risk_new(conf->risk_rules, conf->risk_config ? &rconf : NULL, &e, why,
	    sizeof(why))) == NULL) {
		log_error("risk rules: %s", why);
		goto out;
	}
	if ((b.modes = session_mode_new(conf->privacy_modes, conf->privacy_default,
	    conf->privacy_sessions_max, (int64_t)conf->result_ttl_s * 1000)) == NULL) {
		log_error("privacy: the default mode %s is not among the allowed modes",
		    privacy_mode_name(conf->privacy_default));
		goto out;
	}
	if ((b.front = bind_router(conf->front, zap_for(b.zap, conf->front), ZAP_FRONT)) == NULL ||
	    (b.back = bind_router(conf->back, zap_for(b.zap, conf->back), ZAP_BACK)) == NULL ||
	    (b.approvals = bind_router(conf->approvals, zap_for(b.zap, conf->approvals),
	    ZAP_APPROVALS)) == NULL ||
	    (b.alerts = alerts_new(conf->alerts, zap_for(b.zap, conf->alerts))) == NULL)
		goto out;
	if (conf->metrics != NULL) {
		if ((b.metrics = zsock_new(ZMQ_STREAM)) == NULL ||
		    zsock_bind(b.metrics, "%s", conf->metrics) < 0) {
			log_warn("cannot bind metrics %s", conf->metrics);
			goto out;
		}
		zsock_set_maxmsgsize(b.metrics, 65536);
	}
	b.curve[ZAP_FRONT] = zap_for(b.zap, conf->front) != NULL;
	b.curve[ZAP_BACK] = zap_for(b.zap, conf->back) != NULL;
	b.curve[ZAP_APPROVALS] = zap_for(b.zap, conf->approvals) != NULL;
	b.curve[ZAP_ALERTS] = zap_for(b.zap, conf->alerts) != NULL;
	log_info("listening: front %s, back %s, approvals %s, alerts %s, data %s (%s)", conf->front,
	    conf->back, conf->approvals, conf->alerts, conf->data,
	    b.zap ? "CURVE on tcp endpoints" : "plaintext");

	for (;;) {
		int64_t now = util_now_ms();
		if (broker_reload) {
			broker_reload = 0;
			if (b.zap == NULL)
				log_info("SIGHUP: no CURVE keys to reload (plaintext endpoints)");
			else if (zap_reload(b.zap, why, sizeof(why)) != ERR_OK)
				log_error("SIGHUP: keys not reloaded, the enrolled keys stay as they were: %s", why);
			else
				drop_unenrolled_peers(&b);
		}
		if (broker_stop && !b.draining) {
			b.draining = true;
			drain_deadline = now + conf->drain_ms;
			log_info("draining: no new jobs; waiting up to %u ms for running jobs", conf->drain_ms);
		}
		if (b.draining) {
			size_t running = 0;
			for (struct job *j = zhashx_first(b.jobs); j; j = zhashx_next(b.jobs))
				running += j->state == JOB_LEASED || j->state == JOB_RUNNING;
			if (running == 0 || now >= drain_deadline)
				break;
		}
		const int64_t burst_ms = conf->heartbeat_ms / 4 > 10 ? conf->heartbeat_ms / 4 : 10;
		zmq_pollitem_t items[] = {
			{ zsock_resolve(b.front), 0, ZMQ_POLLIN, 0 },
			{ zsock_resolve(b.back), 0, ZMQ_POLLIN, 0 },
			{ zsock_resolve(b.approvals), 0, ZMQ_POLLIN, 0 },
			{ NULL, committer_fd(b.committer), ZMQ_POLLIN, 0 },
			{ b.metrics ? zsock_resolve(b.metrics) : NULL, 0, ZMQ_POLLIN, 0 },
		};
		int64_t wait = b.next_heartbeat_ms - now;
		int n = zmq_poll(items, b.metrics ? 5 : 4, wait < 0 ? 0 : (long)(b.draining && wait > 100 ? 100 : wait));

		if (n < 0 && errno != EINTR) {
			log_warn("poll");
			break;
		}
		/* Bounded bursts keep one busy socket from starving the other;
		 * everything staged in a burst is committed together.  A socket
		 * is drained without waiting (wire_try_recv) until it is empty:
		 * no ZMQ_EVENTS query (poll + getpid) per message.  Bounded in
		 * time too: 512 big SUBMITs (each scanned and stored) take
		 * seconds, and the workers' heartbeats wait behind them. */
		int64_t burst_end = util_now_ms() + burst_ms;
		for (int k = 0; k < 512 && (items[1].revents & ZMQ_POLLIN) && on_back(&b) &&
		    util_now_ms() < burst_end; k++)
			;
		burst_end = util_now_ms() + burst_ms;
		for (int k = 0; k < 512 && (items[0].revents & ZMQ_POLLIN) && on_front(&b) &&
		    util_now_ms() < burst_end; k++)
			;
		for (int k = 0; k < 64 && n > 0 && (zsock_events(b.approvals) & ZMQ_POLLIN); k++)
			on_approvals(&b);
		for (int k = 0; k < 16 && n > 0 && b.metrics && (zsock_events(b.metrics) & ZMQ_POLLIN); k++)
			on_metrics(&b);
		heartbeat(&b, util_now_ms());
		plaintext_reminder(&b, util_now_ms());
		commit(&b, false);
		dispatch(&b);
	}
	commit(&b, true);
	commit(&b, true);	/* what the last round's replies staged (cancellations) */
	log_info("stopped: %zu jobs queued (kept for the next start), %zu unanswered",
	    queue_size(b.queue), zhashx_size(b.jobs));
	rc = 0;
out:
	zsock_destroy(&b.front);
	zsock_destroy(&b.back);
	zsock_destroy(&b.approvals);
	zsock_destroy(&b.metrics);
	zframe_destroy(&b.approver);
	alerts_destroy(&b.alerts);
	risk_destroy(&b.risk);
	session_mode_destroy(&b.modes);
	committer_destroy(&b.committer);
	zlistx_destroy(&b.accepting);
	zlistx_destroy(&b.finishing);
	zlistx_destroy(&b.starting);
	zlistx_destroy(&b.acc_flight);
	zlistx_destroy(&b.fin_flight);
	zlistx_destroy(&b.replies);
	zlistx_destroy(&b.rep_flight);
	queue_destroy(&b.queue);
	ratelimit_destroy(&b.rate);
	zhashx_destroy(&b.keys);
	zhashx_destroy(&b.jobs);
	zhashx_destroy(&b.workers);
	zhashx_destroy(&b.tool_holds);
	jobstore_close(&b.store);
	sessions_close(&b.sessions);
	audit_store_destroy(&b.audit);
	audit_filter_destroy(&b.audit_filter);
	zap_destroy(&b.zap);	/* after every CURVE socket is closed */
	return rc;
}
