/*
 * mcp_pool — pooled MCP stdio client connections (see mcp_pool.h).
 *
 * Runs in sluice-worker (and in sluice-mcp for search_tools).  Trusts the
 * config file as far as it validates it; trusts nothing a server writes:
 * lines are bounded (MCP_POOL_LINE_MAX), every read has a deadline, a
 * message that is not JSON-RPC is dropped with a rate-limited log line, and
 * a server that breaks the protocol is killed.
 *
 * Wire (MCP stdio transport), one message per line in each direction:
 *
 *   worker -> server stdin   {"jsonrpc":"2.0","id":7,"method":"tools/call",...}\n
 *   server stdout -> worker  {"jsonrpc":"2.0","id":7,"result":{...}}\n
 *                            {"jsonrpc":"2.0","method":"notifications/..."}\n
 *
 * The child's stdin is one end of a socketpair (so a write to a dead server
 * is an EPIPE, never a SIGPIPE), its stdout a pipe, its stderr /dev/null.
 * Each child leads its own process group, killed as a whole.
 *
 * Locking: one mutex per pool guards the connection table and the tools
 * caches; the I/O of a call runs outside it on a connection checked out
 * (busy) by that call alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "worker/mcp_pool.h"

#define MCP_PROTOCOL_VERSION	"2025-06-18"
#define MCP_ARGS_MAX		256
#define MCP_ENV_MAX		256
#define MCP_PAGES_MAX		100
#define MCP_TOOLS_MAX		10000

extern char **environ;

struct mcp_conn {
	bool used;		/* slot holds a connection (or one being started) */
	bool busy;		/* checked out by a call */
	pid_t pid;
	int in_fd;		/* our end of the child's stdin (socket) */
	int out_fd;		/* read end of the child's stdout (pipe) */
	char *buf;		/* bytes read, not yet a whole line */
	size_t len, cap;
	int64_t next_id;
	int64_t last_used_ms;
	bool tools_changed;	/* the server sent notifications/tools/list_changed */
};

struct mcp_server {
	char name[MCP_POOL_NAME_MAX + 1];
	char **argv;		/* argv[0] is the command */
	char **envp;
	int max, warm;
	int64_t idle_ms;
	int call_timeout_ms, init_timeout_ms;
	json_t *tools;		/* cache, NULL until fetched */
	struct mcp_conn conn[MCP_POOL_CONNS_MAX];
};

struct mcp_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	size_t n;
	struct mcp_server *srv;
	struct log_limit noise;
};

/* ---- configuration ------------------------------------------------------ */

static void
strv_free(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static bool
name_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= MCP_POOL_NAME_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static bool
int_key(const json_t *o, const char *key, long long min, long long max, long long *out,
    const char *server, char *why, size_t whysz)
{
	const json_t *v = json_object_get(o, key);
	if (v == NULL)
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(why, whysz, "mcpServers.%s.sluice.%s: expected an integer in [%lld, %lld]",
		    server, key, min, max);
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

/* The child's environment: a few neutral variables of ours, then the
 * server's own `env` (which wins). */
static char **
build_env(const json_t *env, const char *server, enum err *err, char *why, size_t whysz)
{
	static const char *keep[] = { "PATH", "HOME", "LANG", "TMPDIR" };
	char **v = calloc(MCP_ENV_MAX + 1, sizeof(*v));
	size_t n = 0;
	const char *k;
	json_t *val;

	*err = ERR_NOMEM;
	if (v == NULL)
		return NULL;
	if (env != NULL && !json_is_object(env)) {
		*err = ERR_CONFIG;
		snprintf(why, whysz, "mcpServers.%s.env: expected an object of strings", server);
		goto fail;
	}
	json_object_foreach((json_t *)env, k, val) {
		if (!json_is_string(val) || k[0] == '\0' || strchr(k, '=') != NULL ||
		    n >= MCP_ENV_MAX - 4) {
			*err = ERR_CONFIG;
			snprintf(why, whysz, "mcpServers.%s.env: bad entry (string values, "
			    "names without '=', at most %d)", server, MCP_ENV_MAX - 4);
			goto fail;
		}
		if (asprintf(&v[n], "%s=%s", k, json_string_value(val)) < 0) {
			v[n] = NULL;
			goto fail;
		}
		n++;
	}
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const char *have = getenv(keep[i]);
		if (have == NULL || (env != NULL && json_object_get(env, keep[i]) != NULL))
			continue;
		if (asprintf(&v[n], "%s=%s", keep[i], have) < 0) {
			v[n] = NULL;
			goto fail;
		}
		n++;
	}
	return v;
fail:
	strv_free(v);
	return NULL;
}

static bool
server_parse(struct mcp_server *s, const char *name, const json_t *o, enum err *err, char *why,
    size_t whysz)
{
	const json_t *cmd = json_object_get(o, "command"), *args = json_object_get(o, "args");
	const json_t *type = json_object_get(o, "type"), *sl = json_object_get(o, "sluice"), *a;
	long long max = 1, warm = 0, idle = 60000, call = 30000, init = 10000;
	size_t i;
	const char *k;
	json_t *val;

	*err = ERR_CONFIG;
	if (!name_ok(name)) {
		snprintf(why, whysz, "mcpServers: server name must be 1-%d of [A-Za-z0-9_-]",
		    MCP_POOL_NAME_MAX);
		return false;
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	if (!json_is_object(o)) {
		snprintf(why, whysz, "mcpServers.%s: expected an object", name);
		return false;
	}
	if (json_object_get(o, "url") != NULL ||
	    (type != NULL && (!json_is_string(type) || strcmp(json_string_value(type), "stdio") != 0))) {
		snprintf(why, whysz, "mcpServers.%s: only stdio servers (command/args) are supported",
		    name);
		return false;
	}
	if (!json_is_string(cmd) || json_string_length(cmd) == 0) {
		snprintf(why, whysz, "mcpServers.%s.command: expected a non-empty string", name);
		return false;
	}
	if (args != NULL && (!json_is_array(args) || json_array_size(args) > MCP_ARGS_MAX)) {
		snprintf(why, whysz, "mcpServers.%s.args: expected an array of at most %d strings",
		    name, MCP_ARGS_MAX);
		return false;
	}
	json_array_foreach(args, i, a) {
		if (!json_is_string(a)) {
			snprintf(why, whysz, "mcpServers.%s.args[%zu]: expected a string", name, i);
			return false;
		}
	}
	if (sl != NULL) {
		if (!json_is_object(sl)) {
			snprintf(why, whysz, "mcpServers.%s.sluice: expected an object", name);
			return false;
		}
		json_object_foreach((json_t *)sl, k, val) {
			if (strcmp(k, "max") && strcmp(k, "warm") && strcmp(k, "idle_ms") &&
			    strcmp(k, "call_timeout_ms") && strcmp(k, "init_timeout_ms")) {
				snprintf(why, whysz, "mcpServers.%s.sluice: unknown key (one of max, "
				    "warm, idle_ms, call_timeout_ms, init_timeout_ms)", name);
				return false;
			}
		}
		if (!int_key(sl, "max", 1, MCP_POOL_CONNS_MAX, &max, name, why, whysz) ||
		    !int_key(sl, "warm", 0, MCP_POOL_CONNS_MAX, &warm, name, why, whysz) ||
		    !int_key(sl, "idle_ms", 0, 86400000, &idle, name, why, whysz) ||
		    !int_key(sl, "call_timeout_ms", 1, 600000, &call, name, why, whysz) ||
		    !int_key(sl, "init_timeout_ms", 1, 600000, &init, name, why, whysz))
			return false;
		if (warm > max) {
			snprintf(why, whysz, "mcpServers.%s.sluice.warm: larger than max", name);
			return false;
		}
	}
	s->max = (int)max;
	s->warm = (int)warm;
	s->idle_ms = idle;
	s->call_timeout_ms = (int)call;
	s->init_timeout_ms = (int)init;
	*err = ERR_NOMEM;
	if ((s->argv = calloc(json_array_size(args) + 2, sizeof(char *))) == NULL ||
	    (s->argv[0] = strdup(json_string_value(cmd))) == NULL)
		return false;
	json_array_foreach(args, i, a) {
		if ((s->argv[i + 1] = strdup(json_string_value(a))) == NULL)
			return false;
	}
	if ((s->envp = build_env(json_object_get(o, "env"), name, err, why, whysz)) == NULL)
		return false;
	for (int c = 0; c < MCP_POOL_CONNS_MAX; c++)
		s->conn[c].in_fd = s->conn[c].out_fd = -1;
	return true;
}

struct mcp_pool *
mcp_pool_new(const json_t *config, enum err *err, char *why, size_t whysz)
{
	const json_t *servers = json_object_get(config, "mcpServers"), *o;
	struct mcp_pool *p;
	const char *name;

	*err = ERR_CONFIG;
	if (!json_is_object(config) || !json_is_object(servers)) {
		snprintf(why, whysz, "config: expected {\"mcpServers\": {...}}");
		return NULL;
	}
	if (json_object_size(servers) > MCP_POOL_SERVERS_MAX) {
		snprintf(why, whysz, "mcpServers: more than %d servers", MCP_POOL_SERVERS_MAX);
		return NULL;
	}
	*err = ERR_NOMEM;
	snprintf(why, whysz, "out of memory");
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	if ((p->srv = calloc(json_object_size(servers) + 1, sizeof(*p->srv))) == NULL)
		goto fail;
	json_object_foreach((json_t *)servers, name, o) {
		struct mcp_server *s = &p->srv[p->n++];
		if (!server_parse(s, name, o, err, why, whysz))
			goto fail;
	}
	*err = ERR_OK;
	return p;
fail:
	mcp_pool_destroy(&p);
	return NULL;
}

struct mcp_pool *
mcp_pool_load(const char *path, enum err *err, char *why, size_t whysz)
{
	json_error_t je;
	json_t *doc;
	char *text = NULL;
	size_t len;
	struct mcp_pool *p;

	*err = util_read_regular(path, 1u << 20, &text, &len);
	if (*err != ERR_OK) {
		snprintf(why, whysz, "%s: %s", path, *err == ERR_TOOBIG ? "larger than 1 MiB" :
		    *err == ERR_INVAL ? "not a regular file" : strerror(errno));
		*err = ERR_CONFIG;
		return NULL;
	}
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (doc == NULL) {
		*err = ERR_CONFIG;
		snprintf(why, whysz, "%s:%d:%d: %s", path, je.line, je.column, je.text);
		return NULL;
	}
	p = mcp_pool_new(doc, err, why, whysz);
	json_decref(doc);
	return p;
}

size_t
mcp_pool_count(const struct mcp_pool *p)
{
	return p->n;
}

const char *
mcp_pool_name(const struct mcp_pool *p, size_t i)
{
	return i < p->n ? p->srv[i].name : NULL;
}

static struct mcp_server *
server_find(struct mcp_pool *p, const char *name)
{
	for (size_t i = 0; name != NULL && i < p->n; i++)
		if (strcmp(p->srv[i].name, name) == 0)
			return &p->srv[i];
	return NULL;
}

/* ---- one connection ----------------------------------------------------- */

static int
remaining(int64_t deadline)
{
	int64_t r = deadline - util_now_ms();
	return r < 0 ? 0 : r > 1000000 ? 1000000 : (int)r;
}

/* Kills the child (gracefully: stdin closed, SIGTERM, SIGKILL after 500 ms)
 * and frees the slot.  Called without the lock held, on a busy slot or at
 * destroy. */
static void
conn_close(struct mcp_conn *c, bool graceful)
{
	int st;

	if (c->in_fd >= 0)
		close(c->in_fd);
	if (c->out_fd >= 0)
		close(c->out_fd);
	c->in_fd = c->out_fd = -1;
	if (c->pid > 0) {
		int64_t until = util_now_ms() + 500;
		if (graceful) {
			kill(-c->pid, SIGTERM);
			while (waitpid(c->pid, &st, WNOHANG) == 0 && util_now_ms() < until) {
				struct timespec ts = { 0, 10 * 1000 * 1000 };
				nanosleep(&ts, NULL);
			}
		}
		kill(-c->pid, SIGKILL);
		while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
	c->pid = 0;
}

static enum err
conn_write(struct mcp_conn *c, const char *line, size_t len, int64_t deadline, char *why,
    size_t whysz)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(c->in_fd, line + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { c->in_fd, POLLOUT, 0 };
			int t = remaining(deadline);
			if (t == 0 || poll(&pfd, 1, t) == 0) {
				snprintf(why, whysz, "timed out writing to the server");
				return ERR_TIMEOUT;
			}
			continue;
		}
		snprintf(why, whysz, "the server closed its input (%s)", strerror(errno));
		return ERR_IO;
	}
	return ERR_OK;
}

/* The next complete line (without '\n', NUL-terminated, in a fresh buffer). */
static enum err
conn_read_line(struct mcp_conn *c, int64_t deadline, char **line, size_t *linelen, char *why,
    size_t whysz)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl != NULL) {
			size_t n = (size_t)(nl - c->buf);
			if ((*line = malloc(n + 1)) == NULL)
				return ERR_NOMEM;
			memcpy(*line, c->buf, n);
			(*line)[n] = '\0';
			*linelen = n;
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return ERR_OK;
		}
		if (c->len > MCP_POOL_LINE_MAX) {
			snprintf(why, whysz, "the server sent a line longer than %u bytes",
			    MCP_POOL_LINE_MAX);
			return ERR_TOOBIG;
		}
		if (c->cap - c->len < 65536) {
			size_t ncap = c->cap ? c->cap * 2 : 65536;
			char *nb;
			if (ncap > MCP_POOL_LINE_MAX + 65536)
				ncap = MCP_POOL_LINE_MAX + 65536;
			if ((nb = realloc(c->buf, ncap)) == NULL)
				return ERR_NOMEM;
			c->buf = nb;
			c->cap = ncap;
		}
		struct pollfd pfd = { c->out_fd, POLLIN, 0 };
		int t = remaining(deadline), pr;
		if (t == 0 || (pr = poll(&pfd, 1, t)) == 0) {
			snprintf(why, whysz, "no answer from the server in time");
			return ERR_TIMEOUT;
		}
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, whysz, "poll: %s", strerror(errno));
			return ERR_IO;
		}
		ssize_t n = read(c->out_fd, c->buf + c->len, c->cap - c->len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			int st, tries = 0;
			pid_t w = 0;
			/* The output closes as the process ends: give its exit
			 * status a moment to become visible, for the message. */
			while (c->pid > 0 && (w = waitpid(c->pid, &st, WNOHANG)) == 0 && tries++ < 20) {
				struct timespec ts = { 0, 10 * 1000 * 1000 };
				nanosleep(&ts, NULL);
			}
			if (c->pid > 0 && w == c->pid) {
				c->pid = 0;
				if (WIFEXITED(st))
					snprintf(why, whysz, "the server exited with code %d",
					    WEXITSTATUS(st));
				else
					snprintf(why, whysz, "the server was killed by signal %d",
					    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
			} else {
				snprintf(why, whysz, "the server closed its output");
			}
			return ERR_IO;
		}
		c->len += (size_t)n;
	}
}

static enum err
conn_send(struct mcp_conn *c, json_t *msg, int64_t deadline, char *why, size_t whysz)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	size_t len;
	enum err e;

	if (s == NULL)
		return ERR_NOMEM;
	len = strlen(s);
	if (len > MCP_POOL_LINE_MAX) {
		free(s);
		snprintf(why, whysz, "request larger than %u bytes", MCP_POOL_LINE_MAX);
		return ERR_TOOBIG;
	}
	s[len] = '\n';	/* replaces the NUL; length passed explicitly */
	e = conn_write(c, s, len + 1, deadline, why, whysz);
	free(s);
	return e;
}

/* Answers a request the server sent us: ping gets {}, the rest -32601 (we
 * declare no client capabilities: no roots, sampling or elicitation). */
static enum err
conn_answer_server(struct mcp_conn *c, json_t *req, int64_t deadline, char *why, size_t whysz)
{
	const char *method = json_string_value(json_object_get(req, "method"));
	json_t *id = json_object_get(req, "id"), *rep;
	enum err e;

	if (method != NULL && strcmp(method, "ping") == 0)
		rep = json_pack("{s:s, s:O, s:{}}", "jsonrpc", "2.0", "id", id, "result");
	else
		rep = json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id, "error",
		    "code", -32601, "message", "method not supported by this client");
	if (rep == NULL)
		return ERR_NOMEM;
	e = conn_send(c, rep, deadline, why, whysz);
	json_decref(rep);
	return e;
}

/* One request/response exchange.  `params` is stolen.  On ERR_OK a fresh
 * `result` in *result; ERR_INVAL for a JSON-RPC error reply. */
static enum err
conn_rpc(struct mcp_pool *p, struct mcp_conn *c, const char *method, json_t *params,
    int64_t deadline, json_t **result, char *why, size_t whysz)
{
	int64_t id = ++c->next_id;
	json_t *req = json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id", (json_int_t)id,
	    "method", method, "params", params ? params : json_object());
	enum err e;

	*result = NULL;
	if (req == NULL)
		return ERR_NOMEM;
	e = conn_send(c, req, deadline, why, whysz);
	json_decref(req);
	while (e == ERR_OK) {
		char *line = NULL;
		size_t len;
		json_t *msg, *mid, *err;
		const char *mmethod;

		if ((e = conn_read_line(c, deadline, &line, &len, why, whysz)) != ERR_OK)
			break;
		msg = json_loadb(line, len, 0, NULL);
		free(line);
		if (!json_is_object(msg)) {
			log_limited(&p->noise, 10, "mcp: a server wrote a line that is not JSON-RPC");
			json_decref(msg);
			continue;
		}
		mid = json_object_get(msg, "id");
		mmethod = json_string_value(json_object_get(msg, "method"));
		if (mmethod != NULL) {
			if (mid != NULL)
				e = conn_answer_server(c, msg, deadline, why, whysz);
			else if (strcmp(mmethod, "notifications/tools/list_changed") == 0)
				c->tools_changed = true;
			json_decref(msg);
			continue;
		}
		if (!json_is_integer(mid) || json_integer_value(mid) != id) {
			json_decref(msg);	/* a late answer to a call that timed out */
			continue;
		}
		if ((err = json_object_get(msg, "error")) != NULL) {
			char esc[256];
			const char *m = json_string_value(json_object_get(err, "message"));
			log_escape(esc, sizeof(esc), m ? m : "?", m ? strlen(m) : 1);
			snprintf(why, whysz, "server error %lld: %s",
			    (long long)json_integer_value(json_object_get(err, "code")), esc);
			e = ERR_INVAL;
		} else if (json_is_object(json_object_get(msg, "result"))) {
			*result = json_incref(json_object_get(msg, "result"));
		} else {
			snprintf(why, whysz, "the server's reply has no result object");
			e = ERR_PROTO;
		}
		json_decref(msg);
		break;
	}
	return e;
}

static enum err
conn_start(struct mcp_pool *p, struct mcp_server *s, struct mcp_conn *c, char *why, size_t whysz)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, devnull = -1, rc;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	int64_t deadline;
	json_t *res = NULL;
	enum err e = ERR_IO;

	c->pid = 0;
	c->len = 0;
	c->next_id = 0;
	c->tools_changed = false;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0 ||
	    pipe2(out, O_CLOEXEC) != 0 || (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		snprintf(why, whysz, "pipes: %s", strerror(errno));
		goto out;
	}
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGCHLD);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[1], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, devnull, 2);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	rc = posix_spawnp(&c->pid, s->argv[0], &fa, &at, s->argv, s->envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		c->pid = 0;
		snprintf(why, whysz, "cannot start server '%s': %s", s->name, strerror(rc));
		goto out;
	}
	c->in_fd = in[0];
	c->out_fd = out[0];
	in[0] = out[0] = -1;
	fcntl(c->out_fd, F_SETFL, O_NONBLOCK);

	deadline = util_now_ms() + s->init_timeout_ms;
	e = conn_rpc(p, c, "initialize", json_pack("{s:s, s:{}, s:{s:s, s:s}}", "protocolVersion",
	    MCP_PROTOCOL_VERSION, "capabilities", "clientInfo", "name", "sluice-worker",
	    "version", "0.1.0"), deadline, &res, why, whysz);
	if (e == ERR_OK && !json_is_string(json_object_get(res, "protocolVersion"))) {
		snprintf(why, whysz, "initialize: no protocolVersion in the reply");
		e = ERR_PROTO;
	}
	json_decref(res);
	if (e == ERR_OK) {
		json_t *note = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method",
		    "notifications/initialized");
		e = note ? conn_send(c, note, deadline, why, whysz) : ERR_NOMEM;
		json_decref(note);
	}
	if (e != ERR_OK) {
		char tmp[256];
		snprintf(tmp, sizeof(tmp), "%s", why);
		snprintf(why, whysz, "server '%s' did not initialize: %s", s->name, tmp);
		conn_close(c, false);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	if (devnull >= 0)
		close(devnull);
	return e;
}

/* ---- checkout / checkin ------------------------------------------------- */

static int
open_count(const struct mcp_server *s)
{
	int n = 0;
	for (int i = 0; i < s->max; i++)
		n += s->conn[i].used;
	return n;
}

/* A connection for one call: an idle one, else a new one when under `max`,
 * else waits for one to be freed until `deadline`. */
static enum err
checkout(struct mcp_pool *p, struct mcp_server *s, int64_t deadline, struct mcp_conn **out,
    char *why, size_t whysz)
{
	struct mcp_conn *fresh = NULL;
	enum err e;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		for (int i = 0; i < s->max; i++) {
			struct mcp_conn *c = &s->conn[i];
			if (c->used && !c->busy) {
				c->busy = true;
				pthread_mutex_unlock(&p->lock);
				*out = c;
				return ERR_OK;
			}
			if (!c->used && fresh == NULL)
				fresh = c;
		}
		if (fresh != NULL)
			break;
		struct timespec ts;
		int64_t t = remaining(deadline);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += t / 1000;
		ts.tv_nsec += (t % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (t == 0 || pthread_cond_timedwait(&p->freed, &p->lock, &ts) == ETIMEDOUT) {
			pthread_mutex_unlock(&p->lock);
			snprintf(why, whysz, "all %d connections to '%s' stayed busy", s->max, s->name);
			return ERR_BUSY;
		}
	}
	fresh->used = fresh->busy = true;
	pthread_mutex_unlock(&p->lock);
	if ((e = conn_start(p, s, fresh, why, whysz)) != ERR_OK) {
		pthread_mutex_lock(&p->lock);
		fresh->used = fresh->busy = false;
		pthread_cond_broadcast(&p->freed);
		pthread_mutex_unlock(&p->lock);
		return e;
	}
	*out = fresh;
	return ERR_OK;
}

/* Gives a connection back; a broken one (`healthy` false) is killed. */
static void
checkin(struct mcp_pool *p, struct mcp_server *s, struct mcp_conn *c, bool healthy)
{
	if (!healthy)
		conn_close(c, false);
	pthread_mutex_lock(&p->lock);
	if (c->tools_changed) {
		json_decref(s->tools);
		s->tools = NULL;
		c->tools_changed = false;
	}
	c->last_used_ms = util_now_ms();
	c->busy = false;
	if (!healthy)
		c->used = false;
	pthread_cond_broadcast(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

/* A failure that leaves the connection usable: a JSON-RPC error reply. */
static bool
still_healthy(enum err e)
{
	return e == ERR_OK || e == ERR_INVAL;
}

/* ---- public calls ------------------------------------------------------- */

static enum err
fetch_tools(struct mcp_pool *p, struct mcp_conn *c, int64_t deadline, json_t **tools, char *why,
    size_t whysz)
{
	json_t *all = json_array(), *cursor = NULL;
	enum err e = ERR_NOMEM;

	if (all == NULL)
		return ERR_NOMEM;
	for (int page = 0; page < MCP_PAGES_MAX; page++) {
		json_t *res = NULL, *params = cursor ? json_pack("{s:O}", "cursor", cursor) : NULL;
		json_t *list;

		json_decref(cursor);
		cursor = NULL;
		if ((e = conn_rpc(p, c, "tools/list", params, deadline, &res, why, whysz)) != ERR_OK)
			break;
		list = json_object_get(res, "tools");
		if (!json_is_array(list)) {
			snprintf(why, whysz, "tools/list: no tools array in the reply");
			e = ERR_PROTO;
		} else if (json_array_size(all) + json_array_size(list) > MCP_TOOLS_MAX) {
			snprintf(why, whysz, "tools/list: more than %d tools", MCP_TOOLS_MAX);
			e = ERR_TOOBIG;
		} else {
			size_t i;
			json_t *t;
			json_array_foreach(list, i, t) {
				if (json_is_object(t) && json_is_string(json_object_get(t, "name")))
					json_array_append(all, t);
			}
			if (json_is_string(json_object_get(res, "nextCursor")))
				cursor = json_incref(json_object_get(res, "nextCursor"));
		}
		json_decref(res);
		if (e != ERR_OK || cursor == NULL)
			break;
	}
	json_decref(cursor);
	if (e != ERR_OK) {
		json_decref(all);
		return e;
	}
	*tools = all;
	return ERR_OK;
}

enum err
mcp_pool_tools(struct mcp_pool *p, const char *server, json_t **tools, char *why, size_t whysz)
{
	struct mcp_server *s = server_find(p, server);
	struct mcp_conn *c;
	int64_t deadline;
	json_t *fresh = NULL;
	enum err e;

	*tools = NULL;
	if (s == NULL) {
		snprintf(why, whysz, "no MCP server named '%s'", server ? server : "");
		return ERR_NOTFOUND;
	}
	pthread_mutex_lock(&p->lock);
	if (s->tools != NULL)
		*tools = json_incref(s->tools);
	pthread_mutex_unlock(&p->lock);
	if (*tools != NULL)
		return ERR_OK;
	deadline = util_now_ms() + s->init_timeout_ms + s->call_timeout_ms;
	if ((e = checkout(p, s, deadline, &c, why, whysz)) != ERR_OK)
		return e;
	e = fetch_tools(p, c, deadline, &fresh, why, whysz);
	checkin(p, s, c, still_healthy(e));
	if (e != ERR_OK)
		return e;
	pthread_mutex_lock(&p->lock);
	if (s->tools == NULL)
		s->tools = json_incref(fresh);
	pthread_mutex_unlock(&p->lock);
	*tools = fresh;
	return ERR_OK;
}

enum err
mcp_pool_call(struct mcp_pool *p, const char *server, const char *tool, const json_t *args,
    int timeout_ms, json_t **result, char *why, size_t whysz)
{
	struct mcp_server *s = server_find(p, server);
	struct mcp_conn *c;
	int64_t deadline;
	json_t *params;
	enum err e;

	*result = NULL;
	if (s == NULL) {
		snprintf(why, whysz, "no MCP server named '%s'", server ? server : "");
		return ERR_NOTFOUND;
	}
	if (tool == NULL || tool[0] == '\0' || (args != NULL && !json_is_object(args))) {
		snprintf(why, whysz, "a tool name and an arguments object are needed");
		return ERR_INVAL;
	}
	deadline = util_now_ms() + (timeout_ms > 0 ? timeout_ms : s->call_timeout_ms);
	if ((e = checkout(p, s, deadline + s->init_timeout_ms, &c, why, whysz)) != ERR_OK)
		return e;
	/* Starting the server does not eat the call's own time. */
	deadline = util_now_ms() + (timeout_ms > 0 ? timeout_ms : s->call_timeout_ms);
	params = json_pack("{s:s, s:O}", "name", tool, "arguments",
	    args ? (json_t *)args : json_object());
	if (args == NULL && params != NULL)
		json_decref(json_object_get(params, "arguments"));
	if (params == NULL) {
		checkin(p, s, c, true);
		return ERR_NOMEM;
	}
	e = conn_rpc(p, c, "tools/call", params, deadline, result, why, whysz);
	if (!still_healthy(e)) {
		char tmp[256];
		snprintf(tmp, sizeof(tmp), "%s", why);
		snprintf(why, whysz, "%s.%s: %s (the server is restarted on the next call)",
		    s->name, tool, tmp);
	}
	checkin(p, s, c, still_healthy(e));
	return e;
}

void
mcp_pool_tick(struct mcp_pool *p, int64_t now)
{
	for (size_t i = 0; i < p->n; i++) {
		struct mcp_server *s = &p->srv[i];
		struct mcp_conn *victim = NULL, *spare = NULL;
		char why[256];

		pthread_mutex_lock(&p->lock);
		int open = open_count(s);
		for (int k = 0; k < s->max; k++) {
			struct mcp_conn *c = &s->conn[k];
			if (c->used && !c->busy && open > s->warm && now - c->last_used_ms > s->idle_ms &&
			    victim == NULL)
				victim = c;
			if (!c->used && spare == NULL)
				spare = c;
		}
		if (victim != NULL)
			victim->busy = true;
		else if (open < s->warm && spare != NULL)
			spare->used = spare->busy = true;
		else
			spare = NULL;
		pthread_mutex_unlock(&p->lock);
		if (victim != NULL) {
			conn_close(victim, true);
			checkin(p, s, victim, false);
		} else if (spare != NULL) {
			if (conn_start(p, s, spare, why, sizeof(why)) != ERR_OK) {
				log_limited(&p->noise, 10, "mcp: warm start of '%s' failed: %s",
				    s->name, why);
				spare->pid = 0;
				checkin(p, s, spare, false);
			} else {
				checkin(p, s, spare, true);
			}
		}
	}
}

int
mcp_pool_open_count(struct mcp_pool *p, const char *server)
{
	struct mcp_server *s = server_find(p, server);
	int n;

	if (s == NULL)
		return -1;
	pthread_mutex_lock(&p->lock);
	n = open_count(s);
	pthread_mutex_unlock(&p->lock);
	return n;
}

int
mcp_pool_debug_pid(struct mcp_pool *p, const char *server)
{
	struct mcp_server *s = server_find(p, server);
	int pid = -1;

	if (s == NULL)
		return -1;
	pthread_mutex_lock(&p->lock);
	for (int k = 0; k < s->max && pid < 0; k++)
		if (s->conn[k].used && !s->conn[k].busy && s->conn[k].pid > 0)
			pid = s->conn[k].pid;
	pthread_mutex_unlock(&p->lock);
	return pid;
}

void
mcp_pool_destroy(struct mcp_pool **pp)
{
	struct mcp_pool *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	for (size_t i = 0; p->srv != NULL && i < p->n; i++) {
		struct mcp_server *s = &p->srv[i];
		for (int k = 0; k < MCP_POOL_CONNS_MAX; k++)
			if (s->conn[k].used)
				conn_close(&s->conn[k], true);
		strv_free(s->argv);
		strv_free(s->envp);
		json_decref(s->tools);
	}
	free(p->srv);
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->lock);
	free(p);
	*pp = NULL;
}
