/*
 * runner — runs one job in a fresh jail (see runner.h).
 *
 * Runs in sluice-worker.  Trusts the JOB message only as far as the codec
 * checked it (limits are clamped again here against the worker's maxima) and
 * trusts nothing the jailed program writes: output is read into buffers with
 * a hard cap, the rest is drained and dropped (`truncated`).
 *
 *   cold: workspace_new -> put main.ts -> jail_new -> jail_start(deno run ...)
 *   warm: warm_take -> put main.ts -> jail_set_limits -> "main.ts\n" on stdin
 *        -> [poll: read pipes, deadline] -> jail_reap (or the bootstrap's
 *           exit record on stderr, warm.h) -> status -> DONE
 *
 * A job takes a warm jail when the pool has one and the job fits it
 * (warm_is_fit); otherwise, or when the warm jail cannot take the job's
 * limits, it starts cold.  Either way the jail and workspace are torn down
 * on the pool's thread (warm_retire), after DONE has left.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <jansson.h>
#include <msgpack.h>
#include <pthread.h>

#include <czmq.h>
#include <sodium.h>

#include "common/log.h"
#include "common/trace.h"
#include "common/util.h"
#include "worker/denoaudit.h"
#include "worker/filewatch.h"
#include "worker/gateway.h"
#include "worker/inputs.h"
#include "worker/jail.h"
#include "worker/prelude.h"
#include "worker/runner.h"
#include "worker/toolreport.h"
#include "worker/warm.h"
#include "worker/workspace.h"

struct capture {
	int fd;
	char *buf;
	size_t len, cap;	/* cap is the job's output_bytes */
	bool truncated;
};

struct runner {
	char id[65];
	char session[129];
	char main_file[16];
	struct job_limits lim;
	struct workspace *ws;
	struct jail *jail;
	struct capture out, err;
	int64_t start_ms, deadline_ms, end_ms;
	bool reaped, timed_out, cancelled;
	struct jail_outcome outcome;
	struct inputs *inputs;		/* input files: paths and classes */
	struct filewatch *watch;	/* fanotify on the workspace (file_access) */
	struct denoaudit *deno;		/* Deno's permission audit, from stderr */
	char work[PATH_MAX];		/* /work as Deno sees it */
	bool files_final, files_reported;
	int withhold_from;

	/* warm jails: the bootstrap reports the end on stderr (warm.h) */
	struct warm *pool;		/* where the jail and workspace are retired */
	bool warm, warm_ended;
	int warm_code;
	char warm_name[64];
	char id_link[PATH_MAX];		/* <state dir>/<job id>, a symlink to the warm jail */
	char tail[24];			/* the last bytes of stderr */
	size_t tail_len;
	struct jail_limits jlim;	/* the jail's limits, from lim */
	char denodir_env[PATH_MAX + 32];

	/* MCP tool calls (only with a pool): a tool thread owns the job's
	 * stdout and the write end of its stdin; `mu` guards `out` and
	 * `events` while that thread runs. */
	struct gateway *gw;
	pthread_t tool;
	bool tool_started;
	volatile int tool_stop;
	volatile int tool_done;
	int tool_out_fd;		/* stdout read end, owned by the tool thread */
	int stdin_w;
	pthread_mutex_t mu;
	zlistx_t *events;		/* char * "type\tdetails" lines (owned) */
	struct toolreport *report;	/* per-tool tally for the result (owned) */
	struct approval *approvals;	/* the worker's (borrowed), or NULL */
	volatile int job_over;		/* killed or exited: stop waiting for approval */
	struct privacy_tokens *tokens;	/* tokenize mode: the session's map */
	char *tools_buf;		/* storage of tools[] */
	const char *tools[65];		/* the job's own allowlist (JOB `tools`) */
	pthread_mutex_t *tokens_mu;
};

#define RUNNER_EVENTS_MAX 1024

static uint64_t
clamp(uint64_t v, uint64_t max)
{
	return v > max ? max : v;
}

static void
capture_close(struct capture *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Warm jails: keeps the tail of stderr and looks for the bootstrap's exit
 * record at its end (WARM_EXIT_MARKER, 1-3 digits, "\n"); when found the
 * job is over and the record is cut from the captured stderr. */
static void
scan_exit(struct runner *r, const char *p, size_t n)
{
	const size_t mk = sizeof(WARM_EXIT_MARKER) - 1, cap = sizeof(r->tail);
	size_t d = 0, len;
	int code = 0;

	if (n >= cap) {
		memcpy(r->tail, p + n - cap, cap);
		r->tail_len = cap;
	} else {
		size_t keep = r->tail_len + n > cap ? cap - n : r->tail_len;
		memmove(r->tail, r->tail + r->tail_len - keep, keep);
		memcpy(r->tail + keep, p, n);
		r->tail_len = keep + n;
	}
	if (r->warm_ended || r->tail_len < mk + 2 || r->tail[r->tail_len - 1] != '\n')
		return;
	while (d < 3 && d + 1 < r->tail_len && r->tail[r->tail_len - 2 - d] >= '0' &&
	    r->tail[r->tail_len - 2 - d] <= '9')
		d++;
	len = mk + d + 1;
	if (d == 0 || r->tail_len < len ||
	    memcmp(r->tail + r->tail_len - len, WARM_EXIT_MARKER, mk) != 0)
		return;
	for (size_t i = 0; i < d; i++)
		code = code * 10 + (r->tail[r->tail_len - 1 - d + i] - '0');
	r->warm_ended = true;
	TRACE_MARK("W3_exit_marker");
	r->warm_code = code > 255 ? 255 : code;
	if (r->err.len >= len && memcmp(r->err.buf + r->err.len - len,
	    r->tail + r->tail_len - len, len) == 0)
		r->err.len -= len;
}

void
runner_read(struct runner *r, int fd)
{
	struct capture *c = fd == r->out.fd ? &r->out : fd == r->err.fd ? &r->err : NULL;
	char sink[65536];

	if (c == NULL || c->fd < 0)
		return;
	for (int rounds = 0; rounds < 16; rounds++) {
		size_t room = c->cap - c->len;
		char *dst = room > 0 ? c->buf + c->len : sink;
		size_t want = room > 0 ? room : sizeof(sink);
		ssize_t n = read(c->fd, dst, want > sizeof(sink) ? sizeof(sink) : want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			capture_close(c);
			return;
		}
		if (room > 0)
			c->len += (size_t)n;
		else
			c->truncated = true;
		if (r->warm && c == &r->err)
			scan_exit(r, dst, (size_t)n);
	}
}

/* The capture buffer, reading from `fd` when it is >= 0 (taken over),
 * else from a new pipe whose write end goes to *child_end. */
static bool
capture_init(struct capture *c, size_t cap, int fd, int *child_end)
{
	int p[2];

	c->fd = fd;
	if ((c->buf = malloc(cap ? cap : 1)) == NULL)
		return false;
	c->cap = cap;
	if (fd >= 0)
		return true;
	if (pipe2(p, O_CLOEXEC) != 0)
		return false;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	c->fd = p[0];
	*child_end = p[1];
	return true;
}

static void
tool_sink(void *ctx, const void *bytes, size_t len)
{
	struct runner *r = ctx;
	size_t room;

	pthread_mutex_lock(&r->mu);
	room = r->out.cap - r->out.len;
	if (len > room)
		r->out.truncated = true;
	memcpy(r->out.buf + r->out.len, bytes, len < room ? len : room);
	r->out.len += len < room ? len : room;
	pthread_mutex_unlock(&r->mu);
}

/* A tool call record becomes a network_access audit event (the call left
 * the jail for an MCP server); the poll thread forwards it to the broker. */
static enum err
tool_audit(void *ctx, const struct gateway_audit *a)
{
	struct runner *r = ctx;
	json_t *d = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "kind", "mcp_tool_call",
	    "server", a->server, "tool", a->tool, "request_bytes", (json_int_t)a->request_bytes,
	    "response_bytes", (json_int_t)a->response_bytes, "duration_ms", (json_int_t)a->duration_ms,
	    "outcome", a->outcome);
	char *txt = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	enum err e = ERR_NOMEM;

	json_decref(d);
	pthread_mutex_lock(&r->mu);
	if (txt != NULL && zlistx_size(r->events) < RUNNER_EVENTS_MAX && zlistx_add_end(r->events, txt)) {
		txt = NULL;
		e = ERR_OK;
		toolreport_add(r->report, a->server, a->tool, strcmp(a->outcome, "ok") == 0,
		    a->request_bytes, a->response_bytes, a->duration_ms);
	}
	pthread_mutex_unlock(&r->mu);
	free(txt);
	return e;	/* a record that cannot be kept fails the call */
}

/* Replaces every "[TYPE_N]" token in s that the map knows; a fresh JSON
 * string, or NULL when nothing changed. */
static json_t *
restore_string(const struct privacy_tokens *t, const char *s, size_t len)
{
	char *out = NULL;
	size_t olen = 0, cap = 0, done = 0;
	bool changed = false;

	for (size_t i = 0; i < len; i++) {
		const void *val;
		size_t vlen, j = i + 1;
		if (s[i] != '[')
			continue;
		while (j < len && j - i < 64 && ((s[j] >= 'A' && s[j] <= 'Z') || s[j] == '_' ||
		    (s[j] >= '0' && s[j] <= '9')))
			j++;
		if (j >= len || s[j] != ']' ||
		    privacy_tokens_restore(t, s + i, j + 1 - i, &val, &vlen) != ERR_OK)
			continue;
		size_t need = olen + (i - done) + vlen + (len - j) + 1;
		if (need > cap) {
			char *nb = realloc(out, need * 2);
			if (nb == NULL) {
				free(out);
				return NULL;
			}
			out = nb;
			cap = need * 2;
		}
		memcpy(out + olen, s + done, i - done);
		olen += i - done;
		memcpy(out + olen, val, vlen);
		olen += vlen;
		done = j + 1;
		i = j;
		changed = true;
	}
	if (!changed)
		return NULL;
	memcpy(out + olen, s + done, len - done);
	olen += len - done;
	json_t *js = json_stringn(out, olen);
	sodium_memzero(out, olen);
	free(out);
	return js;
}

static void
restore_tokens(const struct privacy_tokens *t, json_t *v)
{
	const char *key;
	json_t *child;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, child) {
			json_t *r = json_is_string(child) ?
			    restore_string(t, json_string_value(child), json_string_length(child)) : NULL;
			if (r != NULL)
				json_object_set_new(v, key, r);
			else
				restore_tokens(t, child);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child) {
			json_t *r = json_is_string(child) ?
			    restore_string(t, json_string_value(child), json_string_length(child)) : NULL;
			if (r != NULL)
				json_array_set_new(v, i, r);
			else
				restore_tokens(t, child);
		}
	}
}

/* The gateway's privacy seam: tokens in tool arguments become the values
 * they stand for (the job never held those values; the worker did). */
static enum err
tool_filter(void *ctx, enum gateway_filter_dir dir, const char *server, const char *tool,
    json_t **value)
{
	struct runner *r = ctx;

	(void)server;
	(void)tool;
	if (dir != GATEWAY_FILTER_ARGS || r->tokens == NULL || *value == NULL)
		return ERR_OK;
	pthread_mutex_lock(r->tokens_mu);
	restore_tokens(r->tokens, *value);
	pthread_mutex_unlock(r->tokens_mu);
	return ERR_OK;
}


/* --mcp-approve-destructive: the call waits (in this job's tool thread) for
 * a human; the approver sees the arguments as the job wrote them (tokens,
 * not restored values), privacy-filtered and cut. */
static enum err
tool_approve(void *ctx, const char *name, const json_t *args, char *why, size_t whysz)
{
	struct runner *r = ctx;
	struct privacy_config pc = { .mode = PRIVACY_MODE_REDACT };
	struct privacy_result pr = { 0 };
	char *text = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
	char summary[APPROVAL_SUMMARY_MAX + 1] = "";
	int64_t wall_deadline = util_wall_ns() / 1000000 + (r->deadline_ms - util_now_ms());

	if (text == NULL || privacy_scan(&pc, text, strlen(text), &pr) != ERR_OK) {
		free(text);
		snprintf(why, whysz, "the arguments could not be summarised for the approver");
		return ERR_NOMEM;
	}
	snprintf(summary, sizeof(summary), "%.*s%s", (int)(pr.len < APPROVAL_SUMMARY_MAX - 16 ?
	    pr.len : APPROVAL_SUMMARY_MAX - 16), (const char *)pr.text,
	    pr.len < APPROVAL_SUMMARY_MAX - 16 ? "" : " ...[cut]");
	privacy_result_clear(&pr);
	free(text);
	return approval_ask(r->approvals, r->id, r->session, name, summary, wall_deadline,
	    &r->job_over, why, whysz);
}

static void *
tool_main(void *arg)
{
	struct runner *r = arg;

	pthread_setname_np(pthread_self(), "sluice-tools");
	if (gateway_pump(r->gw, r->tool_out_fd, r->stdin_w, tool_sink, r, &r->tool_stop) == ERR_TOOBIG) {
		log_warnx("job %s abused the tool channel; killing it", r->id);
		jail_kill(r->jail);
	}
	struct gateway_stats st;
	gateway_stats(r->gw, &st);
	if (st.dropped > 0)
		log_info("job %s: %llu tool requests left unserved: the job had ended", r->id,
		    (unsigned long long)st.dropped);
	r->tool_done = 1;
	return NULL;
}

void
runner_take_events(struct runner *r, void (*fn)(void *, const char *, const char *, const char *),
    void *arg)
{
	char *line;

	if (r->files_final && !r->files_reported) {
		r->files_reported = true;
		inputs_report(r->inputs, r->watch, r->deno, r->id, fn, arg);
	}
	if (r->events == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	while ((line = zlistx_first(r->events)) != NULL) {
		zlistx_detach_cur(r->events);
		pthread_mutex_unlock(&r->mu);
		fn(arg, r->id, "network_access", line);
		free(line);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
}

/* The cold path: a new workspace with the program (and the prelude), a new
 * jail, not started yet.  Returns ERR_OK or an error with `why`. */
static enum err
start_cold_jail(struct runner *r, const struct runner_conf *rc, const void *code, size_t codelen,
    char *why, size_t whysz)
{
	enum err e;
	struct workspace_limits wl = {
		.size_mb = (uint32_t)r->lim.workspace_mb,
		.inodes = 4096,
		.max_files = 64,
		.max_bytes = r->lim.output_bytes,
	};
	if ((r->ws = workspace_new(rc->state_dir, r->id, rc->jail_uid, rc->jail_gid, &wl,
	    !rc->insecure_no_jail, &e, why, whysz)) == NULL)
		return e;
	if ((e = workspace_put(r->ws, r->main_file, code, codelen)) != ERR_OK) {
		snprintf(why, whysz, "cannot write the program into the workspace");
		return e;
	}
	/* Deno's cache: a jail tmpfs, or without a jail inside the workspace */
	if (rc->insecure_no_jail)
		snprintf(r->denodir_env, sizeof(r->denodir_env), "DENO_DIR=%s/.deno",
		    workspace_path(r->ws));
	else
		snprintf(r->denodir_env, sizeof(r->denodir_env), "DENO_DIR=" JAIL_DENO_DIR);
	if (rc->pool != NULL) {
		size_t plen;
		const char *ptxt = prelude_source(&plen);
		if ((e = workspace_put(r->ws, "sluice-prelude.ts", ptxt, plen)) != ERR_OK) {
			snprintf(why, whysz, "cannot write the MCP prelude into the workspace");
			return e;
		}
	}
	const char *env[] = { r->denodir_env, WARM_JOB_ENV, NULL };
	/* The cgroup is named by the job and this worker: a job requeued from
	 * a worker that died mid-job on the same machine (its empty group left
	 * behind) must not clash with it. */
	char cgname[72];
	snprintf(cgname, sizeof(cgname), "%.48s-%d", r->id, (int)getpid());
	struct jail_conf jc = {
		.runtime = rc->deno,
		.workspace = workspace_path(r->ws),
		.env = env,
		.id = cgname,
		.limits = r->jlim,
		.insecure_no_jail = rc->insecure_no_jail,
	};
	if ((r->jail = jail_new(&jc, &e, why, whysz)) == NULL)
		return e;
	return ERR_OK;
}

/* The warm path: a ready jail from the pool, given the program and the
 * job's limits.  False (the jail dropped, nothing kept) when there is none
 * or it cannot take the job: the caller starts cold. */
static bool
start_warm_jail(struct runner *r, const struct runner_conf *rc, const void *code, size_t codelen)
{
	struct warm_jail *wj = warm_take(rc->warm, &r->lim);
	char why[256];

	if (wj == NULL)
		return false;
	if (workspace_put(wj->ws, r->main_file, code, codelen) != ERR_OK) {
		log_warnx("job %s: cannot write the program into warm jail %s; cold start", r->id, wj->name);
		warm_jail_drop(rc->warm, &wj);
		return false;
	}
	if (jail_set_limits(wj->jail, &r->jlim, why, sizeof(why)) != ERR_OK) {
		log_warnx("job %s: warm jail %s cannot take its limits (%s); cold start", r->id,
		    wj->name, why);
		warm_jail_drop(rc->warm, &wj);
		return false;
	}
	/* Back to normal priority (built at the builder's low one) before
	 * the job runs: a thread Deno starts later inherits it. */
	jail_renice(wj->jail, 0);
	log_debug("job %s runs in warm jail %s", r->id, wj->name);
	snprintf(r->warm_name, sizeof(r->warm_name), "%s", wj->name);
	r->warm = true;
	r->ws = wj->ws;
	r->jail = wj->jail;
	r->stdin_w = wj->in_w;
	r->out.fd = wj->out_r;
	r->err.fd = wj->err_r;
	if (wj->watch != NULL) {
		filewatch_reset(wj->watch);	/* the bootstrap's accesses */
		r->watch = wj->watch;
	}
	free(wj);
	return true;
}

/* The job's own tool allowlist and its gateway (MCP only). */
static enum err
start_gateway(struct runner *r, const struct runner_conf *rc, const struct msg *job)
{
	enum err e = ERR_NOMEM;
	/* The job may narrow the worker's allowlist, never widen it. */
	const char *tools = msg_str(job, MSG_F_TOOLS, NULL);

	if (tools != NULL && (r->tools_buf = strdup(tools)) != NULL) {
		size_t n = 0;
		for (char *save = NULL, *g = strtok_r(r->tools_buf, ",", &save); g && n < 64;
		    g = strtok_r(NULL, ",", &save))
			r->tools[n++] = g;
		r->tools[n] = NULL;
	}
	r->gw = gateway_new(rc->pool, &(struct gateway_conf){
		.job = r->id,
		.allow = rc->mcp_allow,
		.allow_job = r->tools_buf ? r->tools : NULL,
		.refuse_destructive = rc->mcp_refuse_destructive,
		.audit = tool_audit,
		.audit_ctx = r,
		.filter = tool_filter,
		.filter_ctx = r,
		.approve = rc->approvals ? tool_approve : NULL,
		.approve_ctx = r,
		.ended = &r->job_over,
	}, &e);
	r->approvals = rc->approvals;
	if (r->gw == NULL || (r->events = zlistx_new()) == NULL ||
	    (r->report = toolreport_new()) == NULL)
		return e != ERR_OK ? e : ERR_NOMEM;
	return ERR_OK;
}

/* Sends the warm bootstrap the program's name; without tools its stdin is
 * then closed (a cold job's stdin is /dev/null). */
static enum err
release_warm(struct runner *r)
{
	char line[sizeof(r->main_file) + 1];
	size_t n = (size_t)snprintf(line, sizeof(line), "%s\n", r->main_file);

	if (write(r->stdin_w, line, n) != (ssize_t)n)
		return ERR_IO;
	if (r->gw == NULL) {
		close(r->stdin_w);
		r->stdin_w = -1;
	}
	return ERR_OK;
}

/* The warm jail's mapping on disk, <state dir>/<job id> -> warm-<pid>-<n>:
 * made after release_warm, while Deno wakes (~60 us off the job's path). */
static void
link_warm_id(struct runner *r)
{
	snprintf(r->id_link, sizeof(r->id_link), "%s", workspace_path(r->ws));
	char *slash = strrchr(r->id_link, '/');
	if (slash != NULL && (size_t)(slash + 1 - r->id_link) + strlen(r->id) < sizeof(r->id_link)) {
		snprintf(slash + 1, sizeof(r->id_link) - (size_t)(slash + 1 - r->id_link), "%s", r->id);
		if (symlink(r->warm_name, r->id_link) == -1)
			r->id_link[0] = '\0';
	} else {
		r->id_link[0] = '\0';
	}
}

struct runner *
runner_start(const struct runner_conf *rc, const struct msg *job, const struct runner_tokens *tokens,
    enum err *err, char *why, size_t whysz)
{
	const char *lang = msg_str(job, MSG_F_LANG, "ts");
	const void *code;
	size_t codelen;
	char work[PATH_MAX], allow_r[PATH_MAX + 32], allow_w[PATH_MAX + 32],
	    v8[64], mainpath[PATH_MAX + 32], preload[PATH_MAX + 48];
	int out_w = -1, err_w = -1, devnull = -1;
	struct runner *r;

	*err = ERR_NOMEM;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(why, whysz, "out of memory");
		return NULL;
	}
	r->out.fd = r->err.fd = -1;
	r->tool_out_fd = r->stdin_w = -1;
	r->pool = rc->warm;
	if (tokens != NULL) {
		r->tokens = tokens->map;
		r->tokens_mu = tokens->mu;
	}
	pthread_mutex_init(&r->mu, NULL);
	snprintf(r->id, sizeof(r->id), "%s", msg_str(job, MSG_F_ID, ""));
	/* The id names the workspace and the cgroup: only safe characters. */
	if (r->id[0] == '\0' || strspn(r->id, "0123456789abcdefABCDEF-_") != strlen(r->id)) {
		*err = ERR_INVAL;
		snprintf(why, whysz, "job id has unsafe characters");
		pthread_mutex_destroy(&r->mu);
		free(r);
		return NULL;
	}
	snprintf(r->session, sizeof(r->session), "%s", msg_str(job, MSG_F_SESSION, ""));
	snprintf(r->main_file, sizeof(r->main_file), "main.%s", strcmp(lang, "js") == 0 ? "js" : "ts");
	r->lim.timeout_ms = clamp(msg_u64(job, MSG_F_TIMEOUT_MS, job_limits_default.timeout_ms), rc->max.timeout_ms);
	r->lim.memory_mb = clamp(msg_u64(job, MSG_F_MEMORY_MB, job_limits_default.memory_mb), rc->max.memory_mb);
	r->lim.pids = clamp(msg_u64(job, MSG_F_PIDS, job_limits_default.pids), rc->max.pids);
	r->lim.workspace_mb = clamp(msg_u64(job, MSG_F_WORKSPACE_MB, job_limits_default.workspace_mb), rc->max.workspace_mb);
	r->lim.output_bytes = clamp(msg_u64(job, MSG_F_OUTPUT_BYTES, job_limits_default.output_bytes), rc->max.output_bytes);
	r->jlim = (struct jail_limits){
		.memory_mb = (uint32_t)r->lim.memory_mb,
		.pids = (uint32_t)r->lim.pids,
		.cpu_seconds = (uint32_t)(r->lim.timeout_ms / 1000 + 2),
		.nofile = 256,
		.fsize_mb = (uint32_t)r->lim.workspace_mb,
	};
	code = msg_bin(job, MSG_F_CODE, &codelen);

	/* Inside a jail the workspace is /work; without one a host path. */
	if (!start_warm_jail(r, rc, code, codelen)) {
		if ((*err = start_cold_jail(r, rc, code, codelen, why, whysz)) != ERR_OK)
			goto fail;
	}
	if (rc->insecure_no_jail)
		snprintf(work, sizeof(work), "%s", workspace_path(r->ws));
	else
		snprintf(work, sizeof(work), "/work");
	snprintf(r->work, sizeof(r->work), "%s", work);
	/* Armed before the job's code can run (a warm jail's bootstrap waits
	 * for release_warm, and its watch was armed when it was built; a cold
	 * one is not started yet); the job cannot switch it off.  The
	 * worker's own writes below are not counted. */
	if (r->watch == NULL && (r->watch = filewatch_new(workspace_path(r->ws),
	    !rc->insecure_no_jail, err, why, whysz)) == NULL)
		goto fail;
	if ((r->inputs = inputs_write(r->ws, job, (enum wspath_class)rc->file_class, err, why,
	    whysz)) == NULL)
		goto fail;
	r->withhold_from = rc->withhold_from;
	*err = ERR_NOMEM;
	if ((r->deno = denoaudit_new()) == NULL) {
		snprintf(why, whysz, "out of memory");
		goto fail;
	}
	snprintf(allow_r, sizeof(allow_r), "--allow-read=%s", work);
	snprintf(allow_w, sizeof(allow_w), "--allow-write=%s", work);
	snprintf(v8, sizeof(v8), "--v8-flags=--max-old-space-size=%llu",
	    (unsigned long long)(r->lim.memory_mb * 3 / 4 > 16 ? r->lim.memory_mb * 3 / 4 : 16));
	snprintf(mainpath, sizeof(mainpath), "%s/%s", work, r->main_file);
	snprintf(preload, sizeof(preload), "--preload=%s/sluice-prelude.ts", work);
	char *argv[] = {
		WARM_DENO_RUN, allow_r, allow_w, v8, rc->pool ? preload : mainpath,
		rc->pool ? mainpath : NULL, NULL
	};
	*err = ERR_IO;
	if (rc->pool != NULL) {
		int inp[2] = { -1, -1 };
		if (!r->warm) {
			if (pipe2(inp, O_CLOEXEC) != 0) {
				snprintf(why, whysz, "pipes: %s", strerror(errno));
				goto fail;
			}
			devnull = inp[0];
			r->stdin_w = inp[1];
		}
		if ((*err = start_gateway(r, rc, job)) != ERR_OK) {
			snprintf(why, whysz, "cannot set up the MCP gateway");
			goto fail;
		}
	}
	*err = ERR_IO;
	if (!capture_init(&r->out, r->lim.output_bytes, r->out.fd, &out_w) ||
	    !capture_init(&r->err, r->lim.output_bytes, r->err.fd, &err_w) ||
	    (!r->warm && devnull < 0 && (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)) {
		snprintf(why, whysz, "pipes: %s", strerror(errno));
		goto fail;
	}
	r->start_ms = util_now_ms();
	r->deadline_ms = r->start_ms + (int64_t)r->lim.timeout_ms;
	TRACE_MARK("R4_pre_release");
	if (r->warm) {
		if ((*err = release_warm(r)) != ERR_OK) {
			snprintf(why, whysz, "warm jail %s: cannot hand over the job", r->warm_name);
			goto fail;
		}
		link_warm_id(r);
	} else {
		/* Deno reopens its stderr (/dev/stderr) for the permission
		 * audit: the pipe must belong to the jail's user. */
		if (!rc->insecure_no_jail && fchown(err_w, rc->jail_uid, rc->jail_gid) == -1)
			log_warn("job %s: chown of the stderr pipe", r->id);
		if ((*err = jail_start(r->jail, argv, devnull, out_w, err_w, why, whysz)) != ERR_OK)
			goto fail;
		close(out_w);
		close(err_w);
		close(devnull);
	}
	if (r->gw != NULL) {
		/* The tool thread takes stdout over from the poll loop. */
		fcntl(r->out.fd, F_SETFL, 0);
		r->tool_out_fd = r->out.fd;
		r->out.fd = -1;
		if (pthread_create(&r->tool, NULL, tool_main, r) != 0) {
			r->out.fd = r->tool_out_fd;
			r->tool_out_fd = -1;
			jail_kill(r->jail);
			*err = ERR_NOMEM;
			snprintf(why, whysz, "cannot start the tool thread");
			runner_destroy(&r);
			return NULL;
		}
		r->tool_started = true;
	}
	*err = ERR_OK;
	return r;
fail:
	if (out_w >= 0)
		close(out_w);
	if (err_w >= 0)
		close(err_w);
	if (devnull >= 0)
		close(devnull);
	runner_destroy(&r);
	return NULL;
}

size_t
runner_result_bytes(const struct runner *r)
{
	struct statvfs sv;
	size_t n = r->out.len + r->err.len;

	if (r->ws != NULL && statvfs(workspace_path(r->ws), &sv) == 0 && sv.f_blocks >= sv.f_bfree)
		n += (size_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
	return n;
}

const char *
runner_id(const struct runner *r)
{
	return r->id;
}

const char *
runner_session(const struct runner *r)
{
	return r->session;
}

void
runner_fds(const struct runner *r, int fds[2])
{
	fds[0] = r->out.fd;
	fds[1] = r->err.fd;
}

void
runner_cancel(struct runner *r)
{
	if (!r->reaped) {
		r->cancelled = true;
		r->job_over = 1;
		jail_kill(r->jail);
	}
}

bool
runner_step(struct runner *r, int64_t now)
{
	filewatch_drain(r->watch);
	if (r->warm_ended && !r->reaped && !r->timed_out && !r->cancelled) {
		/* The bootstrap's exit record came after all the program's
		 * output: take what is in the pipes and end the job now; the
		 * jail dies and is destroyed off this path (warm_retire). */
		r->reaped = true;
		r->job_over = 1;	/* no tool call is served after its end */
		r->end_ms = now;
		jail_finish(r->jail, r->warm_code, &r->outcome);
		if (r->out.fd >= 0)
			runner_read(r, r->out.fd);
		if (r->err.fd >= 0)
			runner_read(r, r->err.fd);
		capture_close(&r->out);
		capture_close(&r->err);
	}
	if (!r->reaped && now >= r->deadline_ms && !r->timed_out && !r->cancelled) {
		r->timed_out = true;
		r->job_over = 1;
		jail_kill(r->jail);
	}
	if (!r->reaped && jail_reap(r->jail, false, &r->outcome) == ERR_OK) {
		r->reaped = true;
		r->job_over = 1;
		r->end_ms = now;
		/* Anything the top process left behind dies with it. */
		jail_kill(r->jail);
	}
	if (!r->reaped)
		return false;
	r->job_over = 1;	/* a tool call still waiting for approval gives up */
	/* Collect what is still buffered in the pipes, then close them: after
	 * the kill nobody can write more. */
	if (r->out.fd >= 0)
		runner_read(r, r->out.fd);
	if (r->err.fd >= 0)
		runner_read(r, r->err.fd);
	if (r->tool_started) {
		if (!r->tool_done)
			return false;	/* it ends at stdout EOF, after the kill */
		pthread_join(r->tool, NULL);
		r->tool_started = false;
	}
	if (r->out.fd < 0 && r->err.fd < 0) {
		filewatch_drain(r->watch);	/* everything in the jail is dead */
		denoaudit_take(r->deno, r->err.buf, &r->err.len, r->work);
		r->files_final = true;
	}
	return r->files_final;
}

int64_t
runner_wait_ms(const struct runner *r, int64_t now)
{
	int64_t w = r->deadline_ms - now;
	/* The child's exit is noticed by polling: pipes may stay open after it
	 * (a grandchild holding them) or close before it is reapable.  Once
	 * every output has reached EOF the exit is imminent: look again soon. */
	bool outputs_closed = (r->out.fd < 0 && r->err.fd < 0 && (!r->tool_started || r->tool_done)) ||
	    (r->warm_ended && !r->reaped);
	if (r->warm_ended && !r->reaped)
		w = 0;
	else if (w > (outputs_closed ? 1 : 20))
		w = outputs_closed ? 1 : 20;
	return w < 0 ? 0 : w;
}

static bool
mentions(const struct capture *c, const char *needle)
{
	return c->len > 0 && memmem(c->buf, c->len, needle, strlen(needle)) != NULL;
}

#define RUNNER_PRIVACY_TYPES 64

/* Adds one filter result's per-type counts to the job's running totals
 * (at most RUNNER_PRIVACY_TYPES types; further types are dropped). */
static void
add_counts(const struct privacy_result *res, struct privacy_count *counts, size_t *ncounts)
{
	struct privacy_count local[RUNNER_PRIVACY_TYPES];
	size_t n = privacy_summary(res->findings, res->nfindings, local, RUNNER_PRIVACY_TYPES);

	for (size_t i = 0; i < n; i++) {
		size_t k;
		for (k = 0; k < *ncounts && strcmp(counts[k].type, local[i].type) != 0; k++)
			;
		if (k == *ncounts) {
			if (*ncounts == RUNNER_PRIVACY_TYPES)
				continue;
			counts[(*ncounts)++] = (struct privacy_count){ local[i].type, 0 };
		}
		counts[k].count += local[i].count;
	}
}

/* Filters one capture into field f of m and adds its findings to counts. */
static void
filter_output(struct msg *m, enum msg_field f, const struct capture *c,
    const struct privacy_config *pc, struct privacy_count *counts, size_t *ncounts)
{
	static const char withheld[] = "[output withheld: the privacy filter failed]\n";
	struct privacy_result res = { 0 };

	if (c->len == 0) {
		msg_set_bin(m, f, "", 0);
		return;
	}
	if (privacy_scan(pc, c->buf, c->len, &res) != ERR_OK) {
		msg_set_bin(m, f, withheld, sizeof(withheld) - 1);
		return;
	}
	if (msg_set_bin(m, f, res.text, res.len) != ERR_OK)
		msg_set_bin(m, f, withheld, sizeof(withheld) - 1);
	add_counts(&res, counts, ncounts);
	privacy_result_clear(&res);
}

/* Packs files[0..n) into field f of m, each filtered like stdout; a file
 * whose class reaches `withhold_from` is listed without data.  `strip`
 * leading bytes of each path are dropped (the session folder's prefix). */
static void
pack_files(struct msg *m, enum msg_field f, struct runner *r, struct workspace_file *files,
    size_t n, size_t strip, int withhold_from, const struct privacy_config *pc,
    struct privacy_count *counts, size_t *ncounts)
{
	enum wspath_class taint = inputs_taint(r->inputs, r->watch);
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < n; i++) {
		struct privacy_result res = { 0 };
		enum wspath_class cls = inputs_class_of(r->inputs, files[i].path, taint);
		bool withheld = (int)cls >= withhold_from;
		bool ok = !withheld && privacy_scan(pc, files[i].data, files[i].len, &res) == ERR_OK;
		const char *path = files[i].path + strip;
		size_t plen = strlen(path);

		msgpack_pack_map(&pk, withheld ? 5 : 4);
		msgpack_pack_str(&pk, 5);
		msgpack_pack_str_body(&pk, "class", 5);
		msgpack_pack_str(&pk, strlen(wspath_class_name(cls)));
		msgpack_pack_str_body(&pk, wspath_class_name(cls), strlen(wspath_class_name(cls)));
		if (withheld) {		/* listed with class and size, no data */
			msgpack_pack_str(&pk, 8);
			msgpack_pack_str_body(&pk, "withheld", 8);
			msgpack_pack_true(&pk);
		}
		msgpack_pack_str(&pk, 4);
		msgpack_pack_str_body(&pk, "path", 4);
		msgpack_pack_str(&pk, plen);
		msgpack_pack_str_body(&pk, path, plen);
		msgpack_pack_str(&pk, 4);
		msgpack_pack_str_body(&pk, "size", 4);
		msgpack_pack_uint64(&pk, ok ? res.len : withheld ? files[i].len : 0);
		msgpack_pack_str(&pk, 4);
		msgpack_pack_str_body(&pk, "data", 4);
		msgpack_pack_bin(&pk, ok ? res.len : 0);	/* never unfiltered bytes */
		if (ok && res.len > 0)
			msgpack_pack_bin_body(&pk, res.text, res.len);
		if (ok)
			add_counts(&res, counts, ncounts);
		privacy_result_clear(&res);
	}
	if (sb.data != NULL && msg_set_raw(m, f, sb.data, sb.size) != ERR_OK)
		log_warnx("job %s: %s over the message bound, not returned", r->id, msg_field_key(f));
	msgpack_sbuffer_destroy(&sb);
}

/* The `files` field: what the job left in /work, [{"path", "class", "size",
 * "data"}], filtered; class = inputs_class_of (its taint); at the worker's
 * withhold_from class a file is listed with "withheld": true and no data.
 * Symlinks, hard links and special files are never followed
 * (workspace_collect); count and bytes are bounded by the workspace limits.
 * Unchanged inputs stay behind.  For a job with a session, /work/session/
 * goes into `sfiles` instead (the whole folder, so that the broker sees
 * deletions; not sent when the harvest was cut short).  Returns false only
 * when a session's folder could not be sent for that reason. */
static bool
set_files(struct msg *m, struct runner *r, const struct privacy_config *pc,
    struct privacy_count *counts, size_t *ncounts)
{
	static const char *const skip[] = { "main.ts", "main.js", "sluice-prelude.ts", ".deno", NULL };
	struct workspace_file *files = NULL;
	size_t n = 0, k;
	bool truncated = false;

	/* A job that forged the warm exit record may have touched files until
	 * its kill: take every access the kernel queued before the harvest. */
	filewatch_drain(r->watch);
	if (workspace_collect(r->ws, skip, &files, &n, &truncated) != ERR_OK) {
		workspace_files_free(files, n);
		return r->session[0] == '\0';
	}
	for (size_t i = 0; i < n;)	/* unchanged inputs do not go back */
		if (inputs_is_untouched(r->inputs, r->watch, files[i].path) && !(r->session[0] != '\0' &&
		    strncmp(files[i].path, "session/", 8) == 0)) {
			free(files[i].path);
			free(files[i].data);
			files[i] = files[--n];
		} else {
			i++;
		}
	k = n;
	for (size_t i = 0; r->session[0] != '\0' && i < k;)	/* session files to the end */
		if (strncmp(files[i].path, "session/", 8) == 0) {
			struct workspace_file t = files[i];
			files[i] = files[--k];
			files[k] = t;
		} else {
			i++;
		}
	if (k > 0)
		pack_files(m, MSG_F_FILES, r, files, k, 0, r->withhold_from, pc, counts, ncounts);
	/* A session keeps its old files when the job was cut short (timeout,
	 * cancel) or its harvest was: never a half-written state. */
	if (r->session[0] != '\0' && !truncated && !r->timed_out && !r->cancelled)
		pack_files(m, MSG_F_SFILES, r, files + k, n - k, 8, WSPATH_CLASS_COUNT, pc, counts,
		    ncounts);
	if (truncated)
		msg_set_bool(m, MSG_F_TRUNCATED, true);
	workspace_files_free(files, n);
	return r->session[0] == '\0' || !truncated;
}

/* The `privacy` field: {"mode": "...", "findings": [{"type", "count"}]}. */
static void
set_privacy(struct msg *m, enum privacy_mode mode, const struct privacy_count *counts, size_t n)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	const char *name = privacy_mode_name(mode);

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_str(&pk, 4);
	msgpack_pack_str_body(&pk, "mode", 4);
	msgpack_pack_str(&pk, strlen(name));
	msgpack_pack_str_body(&pk, name, strlen(name));
	msgpack_pack_str(&pk, 8);
	msgpack_pack_str_body(&pk, "findings", 8);
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_map(&pk, 2);
		msgpack_pack_str(&pk, 4);
		msgpack_pack_str_body(&pk, "type", 4);
		msgpack_pack_str(&pk, strlen(counts[i].type));
		msgpack_pack_str_body(&pk, counts[i].type, strlen(counts[i].type));
		msgpack_pack_str(&pk, 5);
		msgpack_pack_str_body(&pk, "count", 5);
		msgpack_pack_uint64(&pk, counts[i].count);
	}
	if (sb.data != NULL)
		msg_set_raw(m, MSG_F_PRIVACY, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

/* Room left in a DONE for what the broker adds to the RESULT it makes of it. */
#define RUNNER_RESULT_SLACK	(64u * 1024)

/*
 * A DONE must be one message of at most MSG_BODY_MAX: the limits bound
 * stdout, stderr and the files each (output_bytes), the privacy filter can
 * grow text (a hash token is longer than an e-mail address), and together
 * they can be more.  A DONE too big for the broker's socket would cut the
 * worker off at every resend.  So over the budget the files go first (the
 * session folder is then not kept), then stdout and stderr are cut to share
 * what is left; the job ends in error saying so.
 */
static void
fit_result(struct msg *m, char *reason, size_t reasonsz)
{
	const size_t budget = MSG_BODY_MAX - RUNNER_RESULT_SLACK;
	size_t bound = msg_body_bound(m), olen = 0, elen = 0, fixed, avail, keep_o, keep_e;
	bool session = msg_has(m, MSG_F_SFILES);
	size_t k = strlen(reason);
	const void *o, *e;

	if (bound <= budget)
		return;
	msg_unset(m, MSG_F_FILES);
	msg_unset(m, MSG_F_SFILES);
	msg_set_bool(m, MSG_F_TRUNCATED, true);
	if (strcmp(msg_str(m, MSG_F_STATUS, ""), job_status_name(JOB_OK)) == 0)
		msg_set_str(m, MSG_F_STATUS, job_status_name(JOB_ERROR));
	k += (size_t)snprintf(reason + k, reasonsz - k, "%sthe result was %zu MiB, over the %u MiB "
	    "one may take: its files were dropped%s", k > 0 ? "; " : "", bound >> 20,
	    MSG_BODY_MAX >> 20, session ? " and the session folder was not kept" : "");
	if ((bound = msg_body_bound(m)) <= budget)
		return;
	o = msg_bin(m, MSG_F_STDOUT, &olen);
	e = msg_bin(m, MSG_F_STDERR, &elen);
	fixed = bound - olen - elen;
	avail = fixed < budget ? budget - fixed : 0;
	/* a fair share each; what one does not need goes to the other */
	if (olen <= avail / 2)
		keep_o = olen;
	else if (elen <= avail / 2)
		keep_o = olen < avail - elen ? olen : avail - elen;
	else
		keep_o = avail / 2;
	keep_e = elen < avail - keep_o ? elen : avail - keep_o;
	if (o != NULL)
		msg_set_bin(m, MSG_F_STDOUT, o, keep_o);	/* in place: shorter */
	if (e != NULL)
		msg_set_bin(m, MSG_F_STDERR, e, keep_e);
	if (k < reasonsz)
		snprintf(reason + k, reasonsz - k, ", and its output was cut to the first %zu + %zu "
		    "bytes", keep_o, keep_e);
}

struct msg *
runner_result(struct runner *r, const struct privacy_config *pc)
{
	const struct jail_outcome *o = &r->outcome;
	enum job_status st;
	char reason[256] = "";
	struct msg *m = msg_new(MSG_DONE);

	if (m == NULL)
		return NULL;
	if (r->cancelled) {
		st = JOB_CANCELLED;
		snprintf(reason, sizeof(reason), "cancelled");
	} else if (r->timed_out) {
		st = JOB_TIMEOUT;
		snprintf(reason, sizeof(reason), "exceeded the %llu ms time limit",
		    (unsigned long long)r->lim.timeout_ms);
	} else if (o->seccomp_kill) {
		st = JOB_VIOLATION;
		snprintf(reason, sizeof(reason), "sandbox violation: syscall %s",
		    o->violation[0] ? o->violation : "(unknown)");
	} else if (o->oom || (!o->exited && (mentions(&r->err, "out of memory") ||
	    mentions(&r->err, "Out of memory")))) {
		st = JOB_MEMORY;
		snprintf(reason, sizeof(reason), "exceeded the %llu MB memory limit",
		    (unsigned long long)r->lim.memory_mb);
	} else if (o->exited && o->exit_code == 0) {
		st = JOB_OK;
	} else if (o->exited) {
		st = JOB_ERROR;
		snprintf(reason, sizeof(reason), "exit code %d", o->exit_code);
	} else {
		st = JOB_ERROR;
		snprintf(reason, sizeof(reason), "killed by signal %d", o->term_signal);
	}
	msg_set_str(m, MSG_F_ID, r->id);
	msg_set_str(m, MSG_F_STATUS, job_status_name(st));
	msg_set_i64(m, MSG_F_EXIT_CODE, o->exited ? o->exit_code : -1);
	struct privacy_count counts[RUNNER_PRIVACY_TYPES];
	size_t ncounts = 0;
	filter_output(m, MSG_F_STDOUT, &r->out, pc, counts, &ncounts);
	filter_output(m, MSG_F_STDERR, &r->err, pc, counts, &ncounts);
	if (!set_files(m, r, pc, counts, &ncounts) && st == JOB_OK) {
		msg_set_str(m, MSG_F_STATUS, job_status_name(JOB_ERROR));
		snprintf(reason, sizeof(reason), "the session folder was not kept: /work holds more "
		    "files or bytes than a job may return (64 files, output_bytes)");
	}
	set_privacy(m, pc->mode, counts, ncounts);
	msg_set_bool(m, MSG_F_TRUNCATED, r->out.truncated || r->err.truncated ||
	    msg_bool(m, MSG_F_TRUNCATED, false));
	msg_set_u64(m, MSG_F_WALL_MS, (uint64_t)(r->end_ms - r->start_ms));
	msg_set_u64(m, MSG_F_CPU_MS, o->cpu_ms);
	msg_set_u64(m, MSG_F_MAX_RSS_KB, o->max_rss_kb);
	unsigned char *calls;
	size_t clen;
	if (r->report != NULL && toolreport_count(r->report) > 0 &&
	    toolreport_pack(r->report, &calls, &clen) == ERR_OK) {
		msg_set_raw(m, MSG_F_TOOL_CALLS, calls, clen);
		free(calls);
	}
	fit_result(m, reason, sizeof(reason));
	if (reason[0])
		msg_set_str(m, MSG_F_REASON, reason);
	return m;
}

void
runner_destroy(struct runner **rp)
{
	struct runner *r;

	if (rp == NULL || (r = *rp) == NULL)
		return;
	filewatch_destroy(&r->watch);	/* before the workspace goes (its group is closed on a
					 * thread of its own: see filewatch.c) */
	/* The tool thread may still use the jail: kill the job (the thread
	 * sees EOF), join it, and only then hand the jail over for teardown
	 * on the pool's thread. */
	jail_kill(r->jail);
	if (r->tool_started) {
		r->tool_stop = 1;
		r->job_over = 1;
		pthread_join(r->tool, NULL);
	}
	if (r->warm)
		warm_job_ended(r->pool);
	warm_retire(r->pool, &r->jail, &r->ws);
	if (r->id_link[0] != '\0')
		unlink(r->id_link);
	gateway_destroy(&r->gw);
	toolreport_destroy(&r->report);
	free(r->tools_buf);
	if (r->tool_out_fd >= 0)
		close(r->tool_out_fd);
	if (r->stdin_w >= 0)
		close(r->stdin_w);
	if (r->events != NULL) {
		for (char *l = zlistx_first(r->events); l; l = zlistx_next(r->events))
			free(l);
		zlistx_destroy(&r->events);
	}
	pthread_mutex_destroy(&r->mu);
	capture_close(&r->out);
	capture_close(&r->err);
	free(r->out.buf);
	free(r->err.buf);
	denoaudit_destroy(&r->deno);
	inputs_destroy(&r->inputs);
	workspace_destroy(&r->ws);
	free(r);
	*rp = NULL;
}
