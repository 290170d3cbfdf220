/*
 * worker — sluice-worker's event loop (see worker.h, schemas/PROTOCOL.md).
 *
 * One thread polls the broker socket and every running job's pipes.  The
 * broker is trusted to send well-formed jobs but its frames are still decoded
 * strictly; the jailed programs are not trusted at all (runner.c).
 *
 * Heartbeats both ways: the worker sends HEARTBEAT every interval; when the
 * broker has been silent for 3 intervals the worker reconnects and says
 * READY again (jobs still running finish and report to the new connection).
 * Every DONE stays in the outbox (worker/outbox.c) until the broker
 * acknowledges it (DONE_ACK) and is sent again after each READY: one that
 * sat in a socket the worker replaced, or in a broker that crashed, is not
 * lost.
 */
#include <czmq.h>
#include <pthread.h>
#include <sodium.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/msg.h"
#include "common/trace.h"
#include "common/util.h"
#include "common/wire.h"
#include "common/wspath.h"
#include "worker/jail.h"
#include "worker/outbox.h"
#include "worker/runner.h"
#include "worker/warm.h"
#include "worker/worker.h"

#define WORKER_SLOTS_MAX 256
/* A result that filters more than this is built on the finisher thread: the
 * privacy filter of tens of MiB dense with findings takes seconds, and the
 * poll thread must keep heartbeats and other jobs going meanwhile. */
#define WORKER_INLINE_RESULT_BYTES (1u << 20)

struct worker {
	const struct worker_conf *conf;
	struct runner_conf rc;
	zsock_t *sock;
	struct runner *slot[WORKER_SLOTS_MAX];
	enum privacy_mode slot_mode[WORKER_SLOTS_MAX];	/* each job's privacy mode */
	struct privacy_tokens *slot_tokens[WORKER_SLOTS_MAX];	/* tokenize: its map */
	bool slot_tokens_owned[WORKER_SLOTS_MAX];	/* a session-less job's own map */
	uint32_t running;
	int64_t next_heartbeat_ms;
	int64_t broker_seen_ms;
	bool draining;
	struct log_limit bad;
	struct outbox *outbox;		/* DONEs until acknowledged (DONE_ACK) */
	int64_t drain_ack_deadline_ms;	/* stopping: wait this long for the last acks */
	int64_t registered_ms;		/* the last READY with its resends */
	uint8_t hash_key[32];		/* keyed hashing of PII, fresh per worker start */
	zhashx_t *tokens;		/* session -> struct privacy_tokens (tokenize mode) */
	pthread_mutex_t tokens_mu;	/* the maps are read by tool threads too */
	struct mcp_pool *pool;
	struct approval *approvals;	/* --mcp-approve-destructive */
	struct warm *warm;		/* pre-built jails; teardown thread */
	char *allow_buf;		/* storage of allow[] */
	const char *allow[65];
	pthread_t housekeeper;
	bool housekeeping;
	volatile int stop_housekeeper;
	/* The finisher thread (finish_runners): a slot handed to it (fin_out,
	 * the poll thread's own) is not touched by the poll thread until its
	 * DONE is built (fin_done, under fin_mu) and taken back. */
	pthread_t finisher;
	bool finisher_started;
	pthread_mutex_t fin_mu;
	pthread_cond_t fin_cv;
	int fin_efd;				/* finisher -> poll thread: built */
	bool fin_stop;
	bool fin_todo[WORKER_SLOTS_MAX];	/* under fin_mu */
	bool fin_built[WORKER_SLOTS_MAX];	/* under fin_mu; its DONE in fin_done */
	struct msg *fin_done[WORKER_SLOTS_MAX];
	bool fin_out[WORKER_SLOTS_MAX];		/* poll thread: handed over */
};

/* Closes idle MCP connections and opens warm ones, once a second. */
static void *
housekeeper_main(void *arg)
{
	struct worker *w = arg;

	pthread_setname_np(pthread_self(), "sluice-mcpkeep");
	while (!w->stop_housekeeper) {
		mcp_pool_tick(w->pool, util_now_ms());
		for (int i = 0; i < 10 && !w->stop_housekeeper; i++)
			zclock_sleep(100);
	}
	return NULL;
}

/* Forwards one tool-call record of a job as an EVENT to the broker. */
static void
send_event(void *arg, const char *id, const char *type, const char *details)
{
	struct worker *w = arg;
	struct msg *m = msg_new(MSG_EVENT);

	if (m != NULL && msg_set_str(m, MSG_F_ID, id) == ERR_OK &&
	    msg_set_str(m, MSG_F_EVTYPE, type) == ERR_OK &&
	    msg_set_str(m, MSG_F_DETAILS, details) == ERR_OK &&
	    wire_send(w->sock, NULL, m) != ERR_OK)
		log_limited(&w->bad, 10, "could not send an audit event to the broker");
	msg_destroy(&m);
}

#define WORKER_TOKEN_SESSIONS 1024
#define WORKER_TOKENS_PER_SESSION 4096

static void
tokens_free(void **p)
{
	privacy_tokens_destroy((struct privacy_tokens **)p);
}

/* The privacy mode of `job`: its `privacy_mode` (the broker resolved the
 * session's mode), else --privacy-mode (a job from an older broker).  An
 * unknown name gets redaction: never leak. */
static enum privacy_mode
job_privacy_mode(const struct worker *w, const struct msg *job)
{
	const char *name = msg_str(job, MSG_F_PRIVACY_MODE, NULL);
	enum privacy_mode mode;

	if (name == NULL)
		return w->conf->privacy_mode;
	if (!privacy_mode_parse(name, &mode)) {
		log_warnx("job %s: unknown privacy_mode; output is redacted", msg_str(job, MSG_F_ID, ""));
		return PRIVACY_MODE_REDACT;
	}
	return mode;
}

/* The token map of a tokenize-mode job (under tokens_mu).  A session's
 * map is its tenant's and its own ([EMAIL_1] is stable within the session,
 * and no other tenant's job, nor another session's, can turn it back into
 * the value); a job without a session gets a map of its own, freed with
 * it (*owned).  Past WORKER_TOKEN_SESSIONS sessions, or out of memory:
 * NULL, and the job gets redaction. */
static struct privacy_tokens *
tokens_for(struct worker *w, const struct msg *job, bool *owned)
{
	const char *tenant = msg_str(job, MSG_F_TENANT, ""), *session = msg_str(job, MSG_F_SESSION, "");
	struct privacy_tokens *t;
	char key[64 + 1 + 128 + 1];	/* tenant "/" session, each at its wire bound */
	int err;

	*owned = session[0] == '\0';
	if (*owned)
		return privacy_tokens_new(WORKER_TOKENS_PER_SESSION, &err);
	/* a tenant is [A-Za-z0-9._-]: "/" cannot occur in it */
	snprintf(key, sizeof(key), "%s/%s", tenant, session);
	/* Maps are never evicted while the worker runs (a running job's tool
	 * thread may hold one): past the bound, new sessions get redaction. */
	if ((t = zhashx_lookup(w->tokens, key)) == NULL &&
	    zhashx_size(w->tokens) < WORKER_TOKEN_SESSIONS &&
	    (t = privacy_tokens_new(WORKER_TOKENS_PER_SESSION, &err)) != NULL)
		zhashx_insert(w->tokens, key, t);
	return t;
}

/* The filter configuration of the job in slot i. */
static struct privacy_config
privacy_for(struct worker *w, uint32_t i)
{
	struct privacy_config pc = {
		.mode = w->slot_mode[i],
		.hash_key = w->hash_key,
		.hash_key_len = sizeof(w->hash_key),
		.tokens = w->slot_tokens[i],
	};

	if (pc.mode == PRIVACY_MODE_TOKENIZE && pc.tokens == NULL)
		pc.mode = PRIVACY_MODE_REDACT;	/* never leak: fall back to redaction */
	return pc;
}

/* Frees slot i's token map when it was the job's own. */
static void
release_tokens(struct worker *w, uint32_t i)
{
	if (w->slot_tokens_owned[i])
		privacy_tokens_destroy(&w->slot_tokens[i]);
	w->slot_tokens[i] = NULL;
	w->slot_tokens_owned[i] = false;
}

static volatile sig_atomic_t worker_stop;

static void
on_signal(int sig)
{
	(void)sig;
	worker_stop = 1;
}

void
worker_conf_default(struct worker_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->broker = "tcp://127.0.0.1:5556";
	c->state_dir = "sluice-data/worker";
	c->slots = 2;
	c->heartbeat_ms = 1000;
	c->max = job_limits_max;
	c->privacy_mode = PRIVACY_MODE_REDACT;
	c->file_class = WSPATH_INTERNAL;
	c->withhold_from = WSPATH_CONFIDENTIAL;
	c->warm = WORKER_WARM_SLOTS;
	c->warm_idle_ms = 60000;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* A worker that crashed (or was killed) leaves its jobs' workspaces behind,
 * tmpfs mounts included: unmount and remove them before serving again. */
static void
sweep_state_dir(const char *dir)
{
	char real[PATH_MAX], line[PATH_MAX * 2], mnt[PATH_MAX];
	size_t n;
	FILE *f;
	DIR *d;
	struct dirent *de;

	if (realpath(dir, real) == NULL)
		return;
	n = strlen(real);
	if ((f = fopen("/proc/self/mounts", "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, "%*s %4095s", mnt) == 1 && strncmp(mnt, real, n) == 0 &&
			    mnt[n] == '/' && umount2(mnt, MNT_DETACH) == 0)
				log_info("unmounted a stale workspace %s", mnt);
		}
		fclose(f);
	}
	if ((d = opendir(real)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char p[PATH_MAX + 256];
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", real, de->d_name);
		nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	}
	closedir(d);
}

static void
send_msg(struct worker *w, struct msg *m)
{
	if (m != NULL && wire_send(w->sock, NULL, m) != ERR_OK)
		log_limited(&w->bad, 10, "could not send %s to the broker", msg_cmd_name(msg_cmd(m)));
}

/* outbox_send_fn: one DONE to the broker, without waiting for room. */
static enum err
outbox_send(void *arg, const struct msg *done)
{
	struct worker *w = arg;

	return wire_send(w->sock, NULL, done);
}

/* Sends what is due in the outbox (new DONEs in order, unacknowledged ones
 * whose wait is over) without blocking the loop. */
static void
flush_outbox(struct worker *w)
{
	size_t n;

	if (w->outbox == NULL || outbox_size(w->outbox) == 0)
		return;
	zsock_set_sndtimeo(w->sock, 0);
	n = outbox_flush(w->outbox, util_now_ms(), outbox_send, w);
	zsock_set_sndtimeo(w->sock, WIRE_SNDTIMEO_MS);
	if (n > 0)
		log_debug("sent %zu DONEs; %zu wait for their acknowledgement", n, outbox_size(w->outbox));
	if (outbox_unsent(w->outbox) > 0)
		log_limited(&w->bad, 10, "the broker takes no DONE now: %zu held for the next try",
		    outbox_unsent(w->outbox));
}

/* A job's DONE (taken): kept in the outbox until the broker acknowledges it
 * (a result must not vanish with a socket or a broker).  A full outbox still
 * sends it, once, without a copy: loudly, since a lost connection loses it. */
static void
send_done(struct worker *w, struct msg **done)
{
	struct msg *m = *done;
	enum err e;

	*done = NULL;
	if (m == NULL)
		return;
	if ((e = outbox_put(w->outbox, &m, util_now_ms())) == ERR_OK) {
		flush_outbox(w);
		return;
	}
	log_error("outbox %s (%zu DONEs wait for the broker's acknowledgement): the DONE of job %s "
	    "is sent once, not kept; if it is lost the job ends worker_lost",
	    e == ERR_TOOBIG ? "full" : err_str(e), outbox_size(w->outbox), msg_str(m, MSG_F_ID, "?"));
	zsock_set_sndtimeo(w->sock, 0);
	if (outbox_unsent(w->outbox) > 0 || wire_send(w->sock, NULL, m) != ERR_OK)
		log_error("DONE of job %s dropped: the broker takes nothing now", msg_str(m, MSG_F_ID, "?"));
	zsock_set_sndtimeo(w->sock, WIRE_SNDTIMEO_MS);
	msg_destroy(&m);
}

static void
send_ready(struct worker *w)
{
	struct msg *m = msg_new(MSG_READY);
	if (m == NULL)
		return;
	msg_set_u64(m, MSG_F_SLOTS, w->draining ? 0 : w->conf->slots);
	msg_set_u64(m, MSG_F_FREE, w->draining ? 0 : w->conf->slots - w->running);
	msg_set_str(m, MSG_F_HOST, w->conf->host);
	send_msg(w, m);
	msg_destroy(&m);
}

/* (Re)registers: READY, then every DONE not yet acknowledged (that READY
 * counts none of their slots: they go as `resent`). */
static void
register_broker(struct worker *w)
{
	w->registered_ms = util_now_ms();
	send_ready(w);
	if (w->outbox != NULL && outbox_size(w->outbox) > 0) {
		log_info("registered: sending %zu unacknowledged DONEs again", outbox_size(w->outbox));
		outbox_ready(w->outbox);
		flush_outbox(w);
	}
}

static bool
connect_broker(struct worker *w)
{
	/* A replaced socket drops what it still queues: with the usual
	 * linger it would deliver it when a broker comes back within that
	 * second, e.g. the READY of an earlier reconnect, and the broker
	 * would register this worker twice (once under a dead routing id).
	 * What matters is sent again on the new socket: READY, unacknowledged
	 * DONEs (the outbox), pending tool approvals. */
	if (w->sock != NULL)
		zsock_set_linger(w->sock, 0);
	zsock_destroy(&w->sock);
	if ((w->sock = zsock_new(ZMQ_DEALER)) == NULL)
		return false;
	wire_tune(w->sock);
	curve_client_apply(w->conf->curve, w->sock, w->conf->broker, "sluice-worker");
	if (zsock_connect(w->sock, "%s", w->conf->broker) < 0) {
		log_warn("cannot connect to %s", w->conf->broker);
		return false;
	}
	w->broker_seen_ms = util_now_ms();
	register_broker(w);
	if (w->approvals != NULL)
		approval_resend_all(w->approvals);
	return true;
}

/* A tool call of a running job waits for a human: ask the broker. */
static bool
send_tool_approval(void *arg, const struct approval_question *q)
{
	struct worker *w = arg;
	struct msg *m = msg_new(MSG_TOOL_APPROVAL);
	bool sent = m != NULL && msg_set_str(m, MSG_F_ID, q->id) == ERR_OK &&
	    msg_set_str(m, MSG_F_TOOL, q->tool) == ERR_OK &&
	    msg_set_bin(m, MSG_F_CODE, q->summary, strlen(q->summary)) == ERR_OK &&
	    msg_set_u64(m, MSG_F_DEADLINE_MS, (uint64_t)q->deadline_ms) == ERR_OK &&
	    (q->session[0] == '\0' || msg_set_str(m, MSG_F_SESSION, q->session) == ERR_OK) &&
	    wire_send(w->sock, NULL, m) == ERR_OK;

	if (sent)
		log_info("tool call %s (%s) waits for approval", q->id, q->tool);
	msg_destroy(&m);
	return sent;
}

static void
send_done_error(struct worker *w, const char *id, enum job_status st, const char *reason)
{
	struct msg *m = msg_new(MSG_DONE);
	if (m == NULL)
		return;
	msg_set_str(m, MSG_F_ID, id);
	msg_set_str(m, MSG_F_STATUS, job_status_name(st));
	msg_set_i64(m, MSG_F_EXIT_CODE, -1);
	msg_set_str(m, MSG_F_REASON, reason);
	send_done(w, &m);
}

static void
on_job(struct worker *w, const struct msg *job)
{
	const char *id = msg_str(job, MSG_F_ID, "");
	char why[512];
	enum err e;
	uint32_t i;

	/* The broker may lease a job again when it thought this worker lost
	 * while the job was starting: never run the same job twice. */
	for (i = 0; i < w->conf->slots; i++) {
		if (w->slot[i] != NULL && strcmp(runner_id(w->slot[i]), id) == 0) {
			log_warnx("job %s leased again while it runs here; ignoring the repeat", id);
			struct msg *m = msg_new(MSG_STARTED);
			if (m != NULL && msg_set_str(m, MSG_F_ID, id) == ERR_OK)
				send_msg(w, m);
			msg_destroy(&m);
			return;
		}
	}
	for (i = 0; i < w->conf->slots && w->slot[i] != NULL; i++)
		;
	if (i == w->conf->slots || w->draining) {
		send_done_error(w, id, JOB_REJECTED, "worker has no free slot");
		return;
	}
	struct runner_tokens tok = { NULL, &w->tokens_mu };
	w->slot_tokens[i] = NULL;
	w->slot_tokens_owned[i] = false;
	if ((w->slot_mode[i] = job_privacy_mode(w, job)) == PRIVACY_MODE_TOKENIZE) {
		pthread_mutex_lock(&w->tokens_mu);
		tok.map = w->slot_tokens[i] = tokens_for(w, job, &w->slot_tokens_owned[i]);
		pthread_mutex_unlock(&w->tokens_mu);
	}
	if ((w->slot[i] = runner_start(&w->rc, job, tok.map ? &tok : NULL, &e, why, sizeof(why))) == NULL) {
		log_warnx("job %s could not start: %s", id, why);
		send_done_error(w, id, JOB_ERROR, why);
		release_tokens(w, i);
		return;
	}
	w->running++;
	struct msg *m = msg_new(MSG_STARTED);
	if (m != NULL) {
		msg_set_str(m, MSG_F_ID, id);
		send_msg(w, m);
		msg_destroy(&m);
	}
}

static void
on_cancel(struct worker *w, const struct msg *m)
{
	const char *id = msg_str(m, MSG_F_ID, "");
	for (uint32_t i = 0; i < w->conf->slots; i++)	/* a job being finished has ended */
		if (w->slot[i] != NULL && !w->fin_out[i] && strcmp(runner_id(w->slot[i]), id) == 0)
			runner_cancel(w->slot[i]);
}

static void
on_broker(struct worker *w)
{
	struct msg *m = NULL;
	char why[256];

	if (wire_recv(w->sock, false, NULL, &m, why, sizeof(why)) != ERR_OK) {
		log_limited(&w->bad, 10, "rejected message from broker: %s", why);
		return;
	}
	w->broker_seen_ms = util_now_ms();
	switch (msg_cmd(m)) {
	case MSG_JOB:
		TRACE_MARK("W1_job");
		on_job(w, m);
		TRACE_MARK("W2_started");
		break;
	case MSG_CANCEL:
		on_cancel(w, m);
		break;
	case MSG_TOOL_DECISION:
		if (w->approvals == NULL || !approval_decide(w->approvals, msg_str(m, MSG_F_ID, ""),
		    msg_str(m, MSG_F_VERDICT, ""), msg_str(m, MSG_F_ACTOR, ""),
		    msg_str(m, MSG_F_REASON, "")))
			log_limited(&w->bad, 10, "a tool decision for a call that no longer waits");
		break;
	case MSG_HEARTBEAT:
		break;
	case MSG_DONE_ACK:
		if (!outbox_ack(w->outbox, msg_str(m, MSG_F_ID, "")))
			log_debug("DONE_ACK for a job no longer held (acknowledged before)");
		break;
	case MSG_ERROR:
		if (wire_is_not_registered(m)) {
			/* Every message sent before our READY arrived gets one of
			 * these: one READY per interval is enough (a second READY
			 * would overwrite the count of jobs leased in between). */
			if (w->broker_seen_ms - w->registered_ms < (int64_t)w->conf->heartbeat_ms)
				break;
			log_info("broker does not know us; registering again");
			register_broker(w);
		} else {
			log_limited(&w->bad, 10, "broker error: %s", err_str((int)msg_u64(m, MSG_F_ERRCODE, 0)));
		}
		break;
	default:
		log_limited(&w->bad, 10, "unexpected %s from broker", msg_cmd_name(msg_cmd(m)));
	}
	msg_destroy(&m);
}

/* The DONE of the finished job in slot i.  Tokenize mode reads and grows
 * the session's token map, shared with tool threads: under tokens_mu. */
static struct msg *
build_result(struct worker *w, uint32_t i)
{
	struct runner *r = w->slot[i];
	bool shared = w->slot_mode[i] == PRIVACY_MODE_TOKENIZE;
	struct msg *done;

	if (shared)
		pthread_mutex_lock(&w->tokens_mu);
	struct privacy_config pc = privacy_for(w, i);
	done = runner_result(r, &pc);
	if (shared)
		pthread_mutex_unlock(&w->tokens_mu);
	return done;
}

static void *
finisher_main(void *arg)
{
	struct worker *w = arg;
	uint64_t one = 1;

	pthread_setname_np(pthread_self(), "sluice-finish");
	pthread_mutex_lock(&w->fin_mu);
	for (;;) {
		uint32_t i;
		for (i = 0; i < w->conf->slots && !w->fin_todo[i]; i++)
			;
		if (i == w->conf->slots) {
			if (w->fin_stop)
				break;
			pthread_cond_wait(&w->fin_cv, &w->fin_mu);
			continue;
		}
		w->fin_todo[i] = false;
		pthread_mutex_unlock(&w->fin_mu);
		struct msg *done = build_result(w, i);
		pthread_mutex_lock(&w->fin_mu);
		w->fin_done[i] = done;
		w->fin_built[i] = true;
		while (write(w->fin_efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	}
	pthread_mutex_unlock(&w->fin_mu);
	return NULL;
}

/* Sends the DONE of slot i (NULL: out of memory) and frees the slot. */
static void
complete_runner(struct worker *w, uint32_t i, struct msg *done)
{
	if (done == NULL)
		send_done_error(w, runner_id(w->slot[i]), JOB_ERROR, "worker out of memory");
	else
		send_done(w, &done);
	TRACE_MARK("W4_done_sent");
	runner_destroy(&w->slot[i]);	/* its tool thread is gone: the map is free */
	release_tokens(w, i);
	w->running--;
}

static void
finish_runners(struct worker *w, int64_t now)
{
	uint64_t n;

	if (w->finisher_started) {
		while (read(w->fin_efd, &n, sizeof(n)) > 0)
			;
		for (uint32_t i = 0; i < w->conf->slots; i++) {
			struct msg *done = NULL;
			bool built;
			if (!w->fin_out[i])
				continue;
			pthread_mutex_lock(&w->fin_mu);
			if ((built = w->fin_built[i])) {
				done = w->fin_done[i];
				w->fin_done[i] = NULL;
				w->fin_built[i] = false;
			}
			pthread_mutex_unlock(&w->fin_mu);
			if (built) {
				w->fin_out[i] = false;
				complete_runner(w, i, done);
			}
		}
	}
	for (uint32_t i = 0; i < w->conf->slots; i++) {
		struct runner *r = w->slot[i];

		if (r == NULL || w->fin_out[i])
			continue;
		runner_take_events(r, send_event, w);
		if (!runner_step(r, now))
			continue;
		runner_take_events(r, send_event, w);
		if (w->finisher_started && runner_result_bytes(r) > WORKER_INLINE_RESULT_BYTES) {
			w->fin_out[i] = true;
			pthread_mutex_lock(&w->fin_mu);
			w->fin_todo[i] = true;
			pthread_cond_signal(&w->fin_cv);
			pthread_mutex_unlock(&w->fin_mu);
			continue;
		}
		complete_runner(w, i, build_result(w, i));
	}
}

/* Stops the finisher once it built what it has; DONEs it built and nobody
 * took are freed (their jobs end worker_lost at the broker). */
static void
stop_finisher(struct worker *w)
{
	if (!w->finisher_started)
		return;
	pthread_mutex_lock(&w->fin_mu);
	w->fin_stop = true;
	pthread_cond_signal(&w->fin_cv);
	pthread_mutex_unlock(&w->fin_mu);
	pthread_join(w->finisher, NULL);
	w->finisher_started = false;
	for (uint32_t i = 0; i < WORKER_SLOTS_MAX; i++)
		msg_destroy(&w->fin_done[i]);
	close(w->fin_efd);
}

static void
heartbeat(struct worker *w, int64_t now)
{
	if (now < w->next_heartbeat_ms)
		return;
	w->next_heartbeat_ms = now + w->conf->heartbeat_ms;
	if (now - w->broker_seen_ms > 3 * (int64_t)w->conf->heartbeat_ms) {
		log_warnx("broker silent for %lld ms; reconnecting", (long long)(now - w->broker_seen_ms));
		connect_broker(w);
		return;
	}
	flush_outbox(w);
	struct msg *m = msg_new(MSG_HEARTBEAT);
	if (m != NULL) {
		msg_set_u64(m, MSG_F_FREE, w->conf->slots - w->running);
		send_msg(w, m);
		msg_destroy(&m);
	}
	/* What large jobs (code, files, output) left freed in the heap goes
	 * back too (see worker_run). */
	malloc_trim(0);
}

/* See worker.h. */
uint32_t
worker_warm_size(const struct worker_conf *conf)
{
	if (conf->insecure_no_jail)
		return 0;
	if (conf->warm != WORKER_WARM_SLOTS)
		return conf->warm;
	return conf->slots < WARM_SIZE_MAX ? conf->slots : WARM_SIZE_MAX;
}

/* The warm pool (with size 0 it still tears jails down off the poll
 * thread).  Warm jails get the default limits, clamped to the maxima. */
static bool
start_warm(struct worker *w)
{
	const struct worker_conf *conf = w->conf;
	const struct job_limits *d = &job_limits_default;
	struct warm_conf wc = {
		.deno = conf->deno,
		.state_dir = conf->state_dir,
		.jail_uid = w->rc.jail_uid,
		.jail_gid = w->rc.jail_gid,
		.size = worker_warm_size(conf),
		.idle_ms = conf->warm_idle_ms,
		.lim = {
			.timeout_ms = d->timeout_ms < conf->max.timeout_ms ? d->timeout_ms : conf->max.timeout_ms,
			.memory_mb = d->memory_mb < conf->max.memory_mb ? d->memory_mb : conf->max.memory_mb,
			.pids = d->pids < conf->max.pids ? d->pids : conf->max.pids,
			.workspace_mb = d->workspace_mb < conf->max.workspace_mb ? d->workspace_mb : conf->max.workspace_mb,
			.output_bytes = d->output_bytes < conf->max.output_bytes ? d->output_bytes : conf->max.output_bytes,
		},
		.prelude = w->pool != NULL,
		.sweep = !conf->insecure_no_jail,
		.prime = conf->warm_prime,
	};
	char abs_dir[PATH_MAX], why[256];
	enum err e;

	/* the jail needs absolute paths */
	if (realpath(conf->state_dir, abs_dir) != NULL)
		wc.state_dir = abs_dir;
	if ((w->warm = warm_new(&wc, &e, why, sizeof(why))) == NULL) {
		log_error("warm pool: %s", why);
		return false;
	}
	w->rc.warm = w->warm;
	return true;
}

int
worker_run(const struct worker_conf *conf)
{
	struct worker w = { .conf = conf };
	struct sigaction sa = { .sa_handler = on_signal };
	zmq_pollitem_t items[2 + 2 * WORKER_SLOTS_MAX];
	int rc = 1;

	if (conf->slots == 0 || conf->slots > WORKER_SLOTS_MAX) {
		log_error("slots must be 1..%d", WORKER_SLOTS_MAX);
		return 1;
	}
	zsys_handler_set(NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	worker_stop = 0;

	w.rc = (struct runner_conf){
		.deno = conf->deno,
		.state_dir = conf->state_dir,
		.insecure_no_jail = conf->insecure_no_jail,
		.jail_uid = 100000,
		.jail_gid = 100000,
		.max = conf->max,
		.file_class = conf->file_class,
		.withhold_from = conf->withhold_from,
	};
	if (privacy_init() != ERR_OK) {
		log_error("the privacy filter could not be built; refusing to run jobs");
		return 1;
	}
	randombytes_buf(w.hash_key, sizeof(w.hash_key));
	if ((w.tokens = zhashx_new()) == NULL)
		return 1;
	zhashx_set_destructor(w.tokens, tokens_free);
	struct outbox_conf oc;
	outbox_conf_default(&oc, conf->heartbeat_ms);
	if ((w.outbox = outbox_new(&oc)) == NULL) {
		zhashx_destroy(&w.tokens);
		return 1;
	}
	pthread_mutex_init(&w.tokens_mu, NULL);
	pthread_mutex_init(&w.fin_mu, NULL);
	pthread_cond_init(&w.fin_cv, NULL);
	/* Without the finisher every result is built on the poll thread. */
	if ((w.fin_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) >= 0) {
		if (pthread_create(&w.finisher, NULL, finisher_main, &w) == 0)
			w.finisher_started = true;
		else
			close(w.fin_efd);
	}
	if (!w.finisher_started)
		log_warnx("no finisher thread: big results are filtered on the poll thread");
	if (conf->mcp_config != NULL) {
		char why[512];
		enum err e;
		if ((w.pool = mcp_pool_load(conf->mcp_config, &e, why, sizeof(why))) == NULL) {
			log_error("MCP config %s: %s", conf->mcp_config, why);
			goto out;
		}
		/* The allowlist: comma-separated globs (default: every tool). */
		size_t n = 0;
		if ((w.allow_buf = strdup(conf->mcp_allow ? conf->mcp_allow : "*")) == NULL)
			goto out;
		for (char *save = NULL, *g = strtok_r(w.allow_buf, ",", &save); g && n < 64;
		    g = strtok_r(NULL, ",", &save))
			w.allow[n++] = g;
		w.allow[n] = NULL;
		w.rc.pool = w.pool;
		w.rc.mcp_allow = w.allow;
		w.rc.mcp_refuse_destructive = conf->mcp_refuse_destructive;
		if (conf->mcp_approve_destructive && (w.approvals = approval_new()) == NULL)
			goto out;
		w.rc.approvals = w.approvals;
		if (pthread_create(&w.housekeeper, NULL, housekeeper_main, &w) == 0)
			w.housekeeping = true;
		log_info("MCP gateway: %zu servers from %s, allow %s", mcp_pool_count(w.pool),
		    conf->mcp_config, conf->mcp_allow ? conf->mcp_allow : "*");
	}
	sweep_state_dir(conf->state_dir);
	if (!conf->insecure_no_jail)
		jail_sweep_cgroups();
	/* Building the filters (Hyperscan) left ~6 MB of freed heap resident:
	 * given back, so the worker's RSS is what it uses. */
	malloc_trim(0);
	if (!start_warm(&w))
		goto out;
	if (!connect_broker(&w))
		goto out;
	log_info("worker %s: %u slots, %u warm jails, broker %s%s", conf->host, conf->slots,
	    worker_warm_size(conf), conf->broker, conf->insecure_no_jail ? ", INSECURE: no jail" : "");

	for (;;) {
		int64_t now = util_now_ms(), wait = w.next_heartbeat_ms - now;
		int n = 0, fds[2];

		if (worker_stop && !w.draining) {
			w.draining = true;
			log_info("stopping: finishing %u running jobs", w.running);
			send_ready(&w);	/* zero slots: the broker sends nothing more */
		}
		/* Stopping: the last DONEs get two intervals to be acknowledged. */
		if (w.draining && w.running == 0 && w.drain_ack_deadline_ms == 0)
			w.drain_ack_deadline_ms = now + 2 * (int64_t)conf->heartbeat_ms;
		if (w.draining && w.running == 0 &&
		    (outbox_size(w.outbox) == 0 || now >= w.drain_ack_deadline_ms))
			break;
		items[n++] = (zmq_pollitem_t){ zsock_resolve(w.sock), 0, ZMQ_POLLIN, 0 };
		if (w.finisher_started)
			items[n++] = (zmq_pollitem_t){ NULL, w.fin_efd, ZMQ_POLLIN, 0 };
		for (uint32_t i = 0; i < conf->slots; i++) {
			if (w.slot[i] == NULL || w.fin_out[i])
				continue;
			runner_fds(w.slot[i], fds);
			for (int k = 0; k < 2; k++)
				if (fds[k] >= 0)
					items[n++] = (zmq_pollitem_t){ NULL, fds[k], ZMQ_POLLIN, 0 };
			int64_t rw = runner_wait_ms(w.slot[i], now);
			if (rw < wait)
				wait = rw;
		}
		if (wait < 0)
			wait = 0;
		if (zmq_poll(items, n, (long)wait) < 0 && errno != EINTR) {
			log_warn("poll");
			break;
		}
		for (int k = 1; k < n; k++) {
			if (!(items[k].revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
				continue;
			for (uint32_t i = 0; i < conf->slots; i++) {
				if (w.slot[i] == NULL || w.fin_out[i])
					continue;
				runner_fds(w.slot[i], fds);
				if (fds[0] == items[k].fd || fds[1] == items[k].fd)
					runner_read(w.slot[i], items[k].fd);
			}
		}
		for (int k = 0; k < 64 && (zsock_events(w.sock) & ZMQ_POLLIN); k++)
			on_broker(&w);
		if (w.approvals != NULL)
			approval_take_new(w.approvals, send_tool_approval, &w);
		now = util_now_ms();
		finish_runners(&w, now);
		heartbeat(&w, now);
	}
	rc = 0;
out:
	if (w.sock != NULL)
		flush_outbox(&w);	/* one last try; the socket lingers to deliver */
	if (w.outbox != NULL && outbox_unsent(w.outbox) > 0)
		log_error("stopping with %zu results the broker never took (those jobs end as "
		    "worker_lost)", outbox_unsent(w.outbox));
	else if (w.outbox != NULL && outbox_size(w.outbox) > 0)
		log_warnx("stopping with %zu results sent but not acknowledged (if the broker lost "
		    "them, those jobs end as worker_lost)", outbox_size(w.outbox));
	outbox_destroy(&w.outbox);
	stop_finisher(&w);
	for (uint32_t i = 0; i < WORKER_SLOTS_MAX && i < conf->slots; i++) {
		runner_destroy(&w.slot[i]);
		release_tokens(&w, i);
	}
	warm_destroy(&w.warm);
	zsock_destroy(&w.sock);
	if (w.housekeeping) {
		w.stop_housekeeper = 1;
		pthread_join(w.housekeeper, NULL);
	}
	mcp_pool_destroy(&w.pool);
	approval_destroy(&w.approvals);
	free(w.allow_buf);
	zhashx_destroy(&w.tokens);
	sodium_memzero(w.hash_key, sizeof(w.hash_key));
	return rc;
}
