/*
 * warm — the pool of pre-built jails (see warm.h).
 *
 * Runs in sluice-worker, on its own thread (the "builder"), which is also
 * the parent of every warm jail's init: a jail dies with the thread that
 * started it (PR_SET_PDEATHSIG), and this thread lives as long as the pool.
 * Trusts nothing that comes out of a jail: the only thing read from one
 * here is the bootstrap's fixed ready marker on its stdout, compared byte
 * for byte.
 *
 * A warm jail runs
 *
 *   deno run <the cold path's flags, V8 heap from the default memory limit>
 *            [--preload=/work/sluice-prelude.ts] /work/sluice-warm.js
 *
 * The bootstrap (BOOTSTRAP below) deletes itself, imports and deletes a
 * one-line TypeScript prime (sluice-prime.ts), prints the ready marker,
 * reads one line on stdin naming the program ("main.ts" or "main.js"),
 * imports it (Deno transpiles TypeScript as for a cold run) and, from an
 * "unload" listener, writes WARM_EXIT_MARKER + exit code on stderr once the
 * event loop is empty or Deno.exit() was called: the runner then has all
 * output and ends the job without waiting for Deno's teardown.  Uncaught
 * errors never reach "unload": those jobs end when Deno exits, as cold.
 * The job can see and change the bootstrap's state; it gains nothing by it:
 * a forged marker only ends its own job early, and the jail is never
 * reused.
 *
 * Lifecycle of one jail:  starting (Deno booting) -> ready -> taken by a
 * runner -> retired (killed at once, destroyed here) .
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "worker/filewatch.h"
#include "worker/jail.h"
#include "worker/prelude.h"
#include "worker/warm.h"
#include "worker/workspace.h"

#define WARM_MAX		(2 * WARM_SIZE_MAX)	/* ready + starting jails at most */
#define WARM_BOOT_FILE		"sluice-warm.js"
#define WARM_PRIME_FILE		"sluice-prime.ts"
#define WARM_READY_MARKER	"\x1eSLUICE-WARM\n"
#define WARM_START_MS		20000	/* a Deno not ready by then is dropped */
#define WARM_BACKOFF_MS		2000	/* after a failed build */
#define WARM_NICE		10	/* the builder and the Deno it starts */
#define WARM_REFILL_DELAY_MS	25	/* see warm_main */
#define WARM_SWEEP_MS		60000	/* the reaper's cgroup sweep (jail_sweep_cgroups) */

/* The bootstrap is BOOTSTRAP_HEAD, the primes asked for (warm_primes), then
 * BOOTSTRAP_TAIL; warm_new puts it together once.  Costs measured per Deno
 * (instructions under `valgrind --tool=callgrind`, a bare `deno run` of a
 * one-line file = 50M; docs/BENCHMARKS.md, "Warm pool, fifth pass"):
 *  - no comments in the JavaScript: with comments, Deno's load of the
 *    entry module paid +2-4M for one line, +6M for the seven it had;
 *  - the TypeScript prime is a file (WARM_PRIME_FILE), not a data: URL:
 *    +1M against +4-5M; both halve the job's import (~1.1 -> ~0.6 ms);
 *  - one event dispatched at boot (+1M) compiles Deno's event code, which
 *    the job's end runs (load, beforeunload, unload): ~0.8 ms off its end;
 *  - the ready marker by console.log pays its first call (~0.2 ms);
 *  - the program's name is read with readSync: the main thread blocks in
 *    read(2) and wakes ~0.3 ms sooner than an awaited read, which goes
 *    through the runtime's blocking pool and the event loop;
 *  - no URL or TextDecoder objects: paths from import.meta.filename and
 *    dirname, the (ASCII) name by String.fromCharCode: -2M.
 * bench/deno_ir.sh counts a warm jail's Deno against a bare run. */
static const char BOOTSTRAP_HEAD[] =
    "Deno.removeSync(import.meta.filename);\n"
    "await import(\"./" WARM_PRIME_FILE "\");\n"
    "Deno.removeSync(import.meta.dirname + \"/" WARM_PRIME_FILE "\");\n"
    "const enc = new TextEncoder();\n"
    "let ended = false;\n"
    "const end = () => {\n"
    "  if (ended) return;\n"
    "  ended = true;\n"
    "  const code = (((Deno.exitCode ?? 0) % 256) + 256) % 256;\n"
    "  try { Deno.stderr.writeSync(enc.encode(\"\\x1eSLUICE-EXIT \" + code + \"\\n\")); } catch {}\n"
    "};\n"
    "{ const f = () => {}; addEventListener(\"sluice-prime\", f);\n"
    "  dispatchEvent(new Event(\"sluice-prime\")); removeEventListener(\"sluice-prime\", f); }\n";

/* The TypeScript prime: imported (and deleted) by the bootstrap, so the
 * transpiler has run once before the job's import. */
static const char WARM_PRIME_TS[] = "const w: number = 1;\nexport default w;\n";

const char *
warm_prime_source(void)
{
	return WARM_PRIME_TS;
}

/*
 * Primes (--warm-prime): parts of Deno that initialise on first use, paid
 * for at boot instead of by the job.  Measured on first use in a job (`deno
 * run`, perf stat, docs/BENCHMARKS.md): timers ~6 ms wall / 9 ms CPU, intl
 * ~20 ms, web (Response, Blob, streams) 1-3 ms, inspect (what console.log of
 * an object needs) up to ~9 ms.  Each costs every warm jail that CPU at
 * boot whether its job uses the part or not.  A prime leaves nothing
 * pending and keeps no object the job can reach.
 */
static const struct {
	const char *name;
	const char *js;
} warm_primes[] = {
	{ "timers", "clearTimeout(setTimeout(() => {}, 0));\n" },
	{ "intl", "new Intl.DateTimeFormat(\"en-US\").format(0);\n(0).toLocaleString(\"en-US\");\n" },
	{ "web", "new Response(\"\"); new Blob([\"\"]); new ReadableStream();\n" },
	{ "inspect", "Deno.inspect({ a: [1, \"b\"], c: new Map() });\n" },
};
#define WARM_NPRIMES (sizeof(warm_primes) / sizeof(warm_primes[0]))

static const char BOOTSTRAP_TAIL[] =
    "console.log(\"\\x1eSLUICE-WARM\");\n"
    "const buf = new Uint8Array(64);\n"
    "let line = \"\";\n"
    "while (!line.includes(\"\\n\") && line.length < 64) {\n"
    "  const n = Deno.stdin.readSync(buf);\n"
    "  if (n === null) Deno.exit(70);\n"
    "  line += String.fromCharCode(...buf.subarray(0, n));\n"
    "}\n"
    "const name = line.slice(0, line.indexOf(\"\\n\"));\n"
    "if (name !== \"main.ts\" && name !== \"main.js\") Deno.exit(70);\n"
    "addEventListener(\"unload\", end);\n"
    "await import(\"./\" + name);\n"
    "removeEventListener(\"unload\", end);\n"
    "addEventListener(\"unload\", end);\n";

/* A retired jail waiting for teardown. */
struct warm_retired {
	struct warm_retired *next;
	struct jail *jail;
	struct workspace *ws;
};

/* A jail whose Deno is still starting. */
struct warm_starting {
	struct warm_jail *wj;
	int64_t since_ms;
	size_t got;			/* bytes of the ready marker seen */
};

struct warm {
	struct warm_conf conf;
	char *deno, *state_dir;
	char *boot;			/* the bootstrap, primes included */
	pthread_t thread, reaper;
	bool running, reaping;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* wakes the builder */
	pthread_cond_t reap_cv;		/* wakes the reaper */

	/* guarded by mu */
	bool stop;
	struct warm_jail *ready[WARM_MAX];
	uint32_t nready;
	struct warm_retired *retired;
	uint32_t target;
	int64_t last_use_ms, last_shrink_ms;
	int64_t last_end_ms;		/* a job from the pool ended (warm_job_ended) */
	uint64_t built, taken, failed, idle_rss_kb;

	/* builder thread only */
	struct warm_starting starting[WARM_MAX];
	uint32_t nstarting;
	uint64_t seq;
	int64_t backoff_until_ms;
	bool rss_logged;
};

static void
warm_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Its pipes and its file watch (warm_jail_free and warm_jail_drop). */
static void
warm_jail_close(struct warm_jail *wj)
{
	warm_close(&wj->in_w);
	warm_close(&wj->out_r);
	warm_close(&wj->err_r);
	filewatch_destroy(&wj->watch);
}

/* Destroys a warm jail in full (builder thread or shutdown). */
static void
warm_jail_free(struct warm_jail **wjp)
{
	struct warm_jail *wj = *wjp;

	if (wj == NULL)
		return;
	warm_jail_close(wj);
	jail_destroy(&wj->jail);
	workspace_destroy(&wj->ws);
	free(wj);
	*wjp = NULL;
}

/* The resident memory of the idle job process (0: unknown). */
static uint64_t
warm_rss_kb(struct jail *j)
{
	pid_t pid = jail_job_pid(j);
	long kb = pid > 0 ? util_rss_kb(pid) : -1;

	return kb > 0 ? (uint64_t)kb : 0;
}

/* Builds one jail and starts its Deno (does not wait for it to be ready).
 * Returns a fresh warm jail or NULL (logged). */
static struct warm_jail *
warm_build(struct warm *w)
{
	const struct job_limits *l = &w->conf.lim;
	struct warm_jail *wj;
	char why[512], v8[64], preload[64];
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	size_t plen;
	const char *ptxt;
	enum err e;

	if ((wj = calloc(1, sizeof(*wj))) == NULL)
		return NULL;
	wj->in_w = wj->out_r = wj->err_r = -1;
	snprintf(wj->name, sizeof(wj->name), "warm-%d-%llu", (int)getpid(),
	    (unsigned long long)++w->seq);
	struct workspace_limits wl = {
		.size_mb = (uint32_t)l->workspace_mb,
		.inodes = 4096,
		.max_files = 64,
		.max_bytes = l->output_bytes,
	};
	if ((wj->ws = workspace_new(w->state_dir, wj->name, w->conf.jail_uid, w->conf.jail_gid,
	    &wl, true, &e, why, sizeof(why))) == NULL)
		goto fail;
	/* fanotify_init + mark cost ~0.3 ms: not on the job's path.  The
	 * bootstrap's own accesses are forgotten when the jail is ready (and
	 * any late one at the handover). */
	if ((wj->watch = filewatch_new(workspace_path(wj->ws), true, &e, why, sizeof(why))) == NULL)
		log_debug("warm pool: %s: no file watch yet (%s); the runner arms one", wj->name, why);
	if (workspace_put(wj->ws, WARM_BOOT_FILE, w->boot, strlen(w->boot)) != ERR_OK ||
	    workspace_put(wj->ws, WARM_PRIME_FILE, WARM_PRIME_TS, sizeof(WARM_PRIME_TS) - 1) != ERR_OK) {
		snprintf(why, sizeof(why), "cannot write the bootstrap");
		goto fail;
	}
	ptxt = prelude_source(&plen);
	if (w->conf.prelude && workspace_put(wj->ws, "sluice-prelude.ts", ptxt, plen) != ERR_OK) {
		snprintf(why, sizeof(why), "cannot write the MCP prelude");
		goto fail;
	}
	const char *env[] = { "DENO_DIR=" JAIL_DENO_DIR, WARM_JOB_ENV, NULL };
	struct jail_conf jc = {
		.runtime = w->deno,
		.workspace = workspace_path(wj->ws),
		.env = env,
		.id = wj->name,
		.limits = {
			.memory_mb = (uint32_t)l->memory_mb,
			.pids = (uint32_t)l->pids,
			.cpu_seconds = (uint32_t)(l->timeout_ms / 1000 + 2),
			.nofile = 256,
			.fsize_mb = (uint32_t)l->workspace_mb,
		},
	};
	if ((wj->jail = jail_new(&jc, &e, why, sizeof(why))) == NULL)
		goto fail;
	snprintf(v8, sizeof(v8), "--v8-flags=--max-old-space-size=%llu",
	    (unsigned long long)(l->memory_mb * 3 / 4 > 16 ? l->memory_mb * 3 / 4 : 16));
	snprintf(preload, sizeof(preload), "--preload=/work/sluice-prelude.ts");
	char *argv[] = {
		WARM_DENO_RUN, "--allow-read=/work", "--allow-write=/work", v8,
		w->conf.prelude ? preload : "/work/" WARM_BOOT_FILE,
		w->conf.prelude ? "/work/" WARM_BOOT_FILE : NULL, NULL
	};
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		snprintf(why, sizeof(why), "pipes: %s", strerror(errno));
		goto fail;
	}
	/* Deno reopens its stderr (/dev/stderr) for the permission audit
	 * (worker/denoaudit.c): the pipe must belong to the jail's user. */
	if (fchown(errp[1], w->conf.jail_uid, w->conf.jail_gid) == -1)
		log_warn("warm pool: chown of the stderr pipe of %s", wj->name);
	if (jail_start(wj->jail, argv, in[0], out[1], errp[1], why, sizeof(why)) != ERR_OK)
		goto fail;
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	wj->in_w = in[1];
	wj->out_r = out[0];
	wj->err_r = errp[0];
	fcntl(wj->out_r, F_SETFL, O_NONBLOCK);
	fcntl(wj->err_r, F_SETFL, O_NONBLOCK);
	return wj;
fail:
	log_warnx("warm pool: cannot build %s: %s", wj->name, why);
	for (int i = 0; i < 2; i++) {
		warm_close(&in[i]);
		warm_close(&out[i]);
		warm_close(&errp[i]);
	}
	warm_jail_free(&wj);
	return NULL;
}

/* Reads what a starting jail wrote: true when the whole ready marker came
 * (nothing more is read: the job's output starts after it). */
static bool
warm_poll_ready(struct warm_starting *s, bool *dead)
{
	static const char marker[] = WARM_READY_MARKER;
	char c[sizeof(marker)];
	ssize_t n;

	*dead = false;
	while (s->got < sizeof(marker) - 1) {
		n = read(s->wj->out_r, c, sizeof(marker) - 1 - s->got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return false;
		if (n <= 0 || memcmp(c, marker + s->got, (size_t)n) != 0) {
			*dead = true;	/* EOF, error or something else than the marker */
			return false;
		}
		s->got += (size_t)n;
	}
	return true;
}

/* The CLOCK_REALTIME instant `ms` from now, for pthread_cond_timedwait. */
static struct timespec
warm_deadline(int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Builder: starts jails up to the target, moves started ones to ready. */
static void
warm_fill(struct warm *w, uint32_t want, int64_t now)
{
	struct pollfd pfd[WARM_MAX];
	uint32_t i;

	while (w->nstarting < want && now >= w->backoff_until_ms) {
		struct warm_jail *wj = warm_build(w);
		if (wj == NULL) {
			pthread_mutex_lock(&w->mu);
			w->failed++;
			pthread_mutex_unlock(&w->mu);
			w->backoff_until_ms = now + WARM_BACKOFF_MS;
			break;
		}
		w->starting[w->nstarting++] = (struct warm_starting){ wj, now, 0 };
	}
	if (w->nstarting == 0)
		return;
	for (i = 0; i < w->nstarting; i++)
		pfd[i] = (struct pollfd){ w->starting[i].wj->out_r, POLLIN, 0 };
	/* short: a job taking a jail meanwhile wants its replacement started */
	if (poll(pfd, w->nstarting, 10) < 0)
		return;
	for (i = 0; i < w->nstarting;) {
		struct warm_starting *s = &w->starting[i];
		bool dead = false, ready = pfd[i].revents != 0 && warm_poll_ready(s, &dead);

		if (!ready && !dead && util_now_ms() - s->since_ms < WARM_START_MS) {
			i++;
			continue;
		}
		if (ready) {
			s->wj->rss_kb = warm_rss_kb(s->wj->jail);
			/* The bootstrap's file accesses, forgotten here (~50 us
			 * each handover otherwise): it touches no file from now
			 * until its job, and the handover's reset takes any late
			 * one. */
			if (s->wj->watch != NULL)
				filewatch_reset(s->wj->watch);
			pthread_mutex_lock(&w->mu);
			w->ready[w->nready++] = s->wj;
			w->built++;
			w->idle_rss_kb = s->wj->rss_kb;
			pthread_mutex_unlock(&w->mu);
			log_debug("warm pool: %s ready, RSS %llu KB", s->wj->name,
			    (unsigned long long)s->wj->rss_kb);
			if (!w->rss_logged) {
				log_info("warm pool: %u jails, RSS per idle warm jail %llu KB", w->conf.size,
				    (unsigned long long)s->wj->rss_kb);
				w->rss_logged = true;
			}
		} else {
			log_warnx("warm pool: %s did not get ready; dropped", s->wj->name);
			warm_jail_free(&s->wj);
			pthread_mutex_lock(&w->mu);
			w->failed++;
			pthread_mutex_unlock(&w->mu);
			w->backoff_until_ms = util_now_ms() + WARM_BACKOFF_MS;
		}
		/* keep pfd[] aligned with starting[] */
		w->starting[i] = w->starting[--w->nstarting];
		pfd[i] = pfd[w->nstarting];
	}
}

static void *
warm_main(void *arg)
{
	struct warm *w = arg;

	pthread_setname_np(pthread_self(), "sluice-warm");
	/* Building (and the Deno starts, which inherit it) yields to the jobs
	 * running and to their results; a taken jail's job gets nice 0 back. */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WARM_NICE);
	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		int64_t now = util_now_ms();
		uint32_t missing = w->target > w->nready ? w->target - w->nready : 0;
		/* A job just took a jail and others are still ready: its
		 * replacement waits until the job ends (or a short while), so
		 * a Deno start does not compete with it for the cores. */
		bool defer = w->nready > 0 && w->last_use_ms > w->last_end_ms &&
		    now - w->last_use_ms < WARM_REFILL_DELAY_MS;

		if (w->nstarting > 0 || (missing > 0 && !defer && now >= w->backoff_until_ms)) {
			pthread_mutex_unlock(&w->mu);
			warm_fill(w, defer ? 0 : missing, now);
			pthread_mutex_lock(&w->mu);
			continue;
		}
		/* idle: one jail fewer per idle period, down to one */
		if (w->target > 1 && now - w->last_use_ms >= w->conf.idle_ms &&
		    now - w->last_shrink_ms >= w->conf.idle_ms) {
			struct warm_jail *wj = w->nready > --w->target ? w->ready[--w->nready] : NULL;
			w->last_shrink_ms = now;
			pthread_mutex_unlock(&w->mu);
			if (wj != NULL)
				log_debug("warm pool idle: %s destroyed, %u kept", wj->name, w->target);
			warm_jail_free(&wj);
			pthread_mutex_lock(&w->mu);
			continue;
		}
		struct timespec ts = warm_deadline(defer && missing > 0 ?
		    w->last_use_ms + WARM_REFILL_DELAY_MS - now : 1000);
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* The reaper thread: destroys retired jails (waits for the dead, removes
 * cgroups, unmounts), which may take tens of ms each. */
static void *
warm_reaper_main(void *arg)
{
	struct warm *w = arg;
	int64_t next_sweep_ms = util_now_ms() + WARM_SWEEP_MS;

	pthread_setname_np(pthread_self(), "sluice-reaper");
	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct warm_retired *r = w->retired;
		if (r == NULL) {
			if (w->stop)
				break;
			/* Now and then, the groups a dead worker's jails still
			 * held at our start (their processes were exiting). */
			if (w->conf.sweep && util_now_ms() >= next_sweep_ms) {
				pthread_mutex_unlock(&w->mu);
				jail_sweep_cgroups();
				next_sweep_ms = util_now_ms() + WARM_SWEEP_MS;
				pthread_mutex_lock(&w->mu);
				continue;
			}
			struct timespec ts = warm_deadline(WARM_SWEEP_MS);
			pthread_cond_timedwait(&w->reap_cv, &w->mu, &ts);
			continue;
		}
		w->retired = r->next;
		pthread_mutex_unlock(&w->mu);
		jail_destroy(&r->jail);
		workspace_destroy(&r->ws);
		free(r);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

bool
warm_prime_parse(const char *list, uint32_t *mask, char *why, size_t whysz)
{
	const char *p = list;

	*mask = 0;
	if (strcmp(list, "none") == 0)
		return true;
	if (*p == '\0') {
		snprintf(why, whysz, "empty list (none turns priming off)");
		return false;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, ","), i;
		for (i = 0; i < WARM_NPRIMES; i++)
			if (strlen(warm_primes[i].name) == n && strncmp(p, warm_primes[i].name, n) == 0)
				break;
		if (i == WARM_NPRIMES) {
			snprintf(why, whysz, "unknown prime '%.*s' (want a comma-separated list of "
			    "timers, intl, web, inspect; or none)", (int)(n < 32 ? n : 32), p);
			return false;
		}
		*mask |= 1u << i;
		p += n;
		if (*p == ',' && *++p == '\0') {
			snprintf(why, whysz, "empty name after ','");
			return false;
		}
	}
	return true;
}

/* See warm.h. */
char *
warm_bootstrap(uint32_t mask)
{
	size_t len = sizeof(BOOTSTRAP_HEAD) + sizeof(BOOTSTRAP_TAIL);
	char *b;

	for (size_t i = 0; i < WARM_NPRIMES; i++)
		if (mask & (1u << i))
			len += strlen(warm_primes[i].js);
	if ((b = malloc(len)) == NULL)
		return NULL;
	snprintf(b, len, "%s", BOOTSTRAP_HEAD);
	for (size_t i = 0; i < WARM_NPRIMES; i++)
		if (mask & (1u << i))
			strcat(b, warm_primes[i].js);
	strcat(b, BOOTSTRAP_TAIL);
	return b;
}

struct warm *
warm_new(const struct warm_conf *c, enum err *err, char *why, size_t whysz)
{
	struct warm *w;

	if (c->size > WARM_SIZE_MAX) {
		snprintf(why, whysz, "warm pool size %u above %d", c->size, WARM_SIZE_MAX);
		*err = ERR_INVAL;
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL || (w->deno = strdup(c->deno)) == NULL ||
	    (w->state_dir = strdup(c->state_dir)) == NULL || (w->boot = warm_bootstrap(c->prime)) == NULL) {
		if (w != NULL) {
			free(w->deno);
			free(w->state_dir);
		}
		free(w);
		snprintf(why, whysz, "out of memory");
		*err = ERR_NOMEM;
		return NULL;
	}
	for (size_t i = 0; i < WARM_NPRIMES; i++)
		if (c->prime & (1u << i))
			log_info("warm pool: jails prime %s before their job", warm_primes[i].name);
	w->conf = *c;
	w->conf.deno = w->deno;
	w->conf.state_dir = w->state_dir;
	w->target = c->size;
	w->last_use_ms = w->last_shrink_ms = util_now_ms();
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	pthread_cond_init(&w->reap_cv, NULL);
	if (pthread_create(&w->reaper, NULL, warm_reaper_main, w) != 0) {
		snprintf(why, whysz, "cannot start the teardown thread");
		*err = ERR_NOMEM;
		warm_destroy(&w);
		return NULL;
	}
	w->reaping = true;
	if (pthread_create(&w->thread, NULL, warm_main, w) != 0) {
		snprintf(why, whysz, "cannot start the warm pool thread");
		*err = ERR_NOMEM;
		warm_destroy(&w);
		return NULL;
	}
	w->running = true;
	*err = ERR_OK;
	return w;
}

bool
warm_is_fit(const struct warm *w, const struct job_limits *lim)
{
	return w != NULL && w->conf.size > 0 && lim->memory_mb <= w->conf.lim.memory_mb &&
	    lim->workspace_mb == w->conf.lim.workspace_mb &&
	    lim->output_bytes == w->conf.lim.output_bytes;
}

/* An idle bootstrap holds its stdout and stderr open (stderr may hold its
 * own permission-audit lines): a hang-up on either means its Deno died, and
 * its init may not have noticed yet. */
static bool
warm_jail_idle(const struct warm_jail *wj)
{
	struct pollfd p[2] = { { wj->out_r, 0, 0 }, { wj->err_r, 0, 0 } };

	return poll(p, 2, 0) == 0;
}

struct warm_jail *
warm_take(struct warm *w, const struct job_limits *lim)
{
	struct warm_jail *wj = NULL;

	if (w == NULL || w->conf.size == 0)
		return NULL;
	pthread_mutex_lock(&w->mu);
	w->last_use_ms = util_now_ms();
	w->target = w->conf.size;	/* demand: fill up again */
	while (warm_is_fit(w, lim) && w->nready > 0 && wj == NULL) {
		struct jail_outcome oc;
		wj = w->ready[0];	/* the oldest: FIFO */
		memmove(&w->ready[0], &w->ready[1], (w->nready - 1) * sizeof(w->ready[0]));
		w->nready--;
		if (jail_reap(wj->jail, false, &oc) != ERR_TIMEOUT || !warm_jail_idle(wj)) {
			log_warnx("warm pool: %s died while idle; dropped", wj->name);
			pthread_mutex_unlock(&w->mu);
			warm_jail_drop(w, &wj);
			pthread_mutex_lock(&w->mu);
			continue;
		}
		w->taken++;
	}
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return wj;
}

void
warm_job_ended(struct warm *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->last_end_ms = util_now_ms();
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
warm_retire(struct warm *w, struct jail **jail, struct workspace **ws)
{
	struct warm_retired *r;

	if (*jail != NULL)
		jail_kill(*jail);
	if (w == NULL || !w->reaping || (r = calloc(1, sizeof(*r))) == NULL) {
		jail_destroy(jail);
		workspace_destroy(ws);
		return;
	}
	r->jail = *jail;
	r->ws = *ws;
	*jail = NULL;
	*ws = NULL;
	pthread_mutex_lock(&w->mu);
	r->next = w->retired;
	w->retired = r;
	pthread_cond_signal(&w->reap_cv);
	pthread_mutex_unlock(&w->mu);
}

void
warm_jail_drop(struct warm *w, struct warm_jail **wjp)
{
	struct warm_jail *wj = *wjp;

	if (wj == NULL)
		return;
	warm_jail_close(wj);
	warm_retire(w, &wj->jail, &wj->ws);
	free(wj);
	*wjp = NULL;
}

void
warm_stats(struct warm *w, struct warm_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	out->ready = w->nready;
	out->target = w->target;
	out->built = w->built;
	out->taken = w->taken;
	out->failed = w->failed;
	out->idle_rss_kb = w->idle_rss_kb;
	pthread_mutex_unlock(&w->mu);
}

void
warm_destroy(struct warm **wp)
{
	struct warm *w;

	if (wp == NULL || (w = *wp) == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_cond_signal(&w->reap_cv);
	pthread_mutex_unlock(&w->mu);
	if (w->running)
		pthread_join(w->thread, NULL);
	if (w->reaping)
		pthread_join(w->reaper, NULL);	/* after it emptied the list */
	for (uint32_t i = 0; i < w->nstarting; i++)
		warm_jail_free(&w->starting[i].wj);
	for (uint32_t i = 0; i < w->nready; i++)
		warm_jail_free(&w->ready[i]);
	while (w->retired != NULL) {
		struct warm_retired *r = w->retired;
		w->retired = r->next;
		jail_destroy(&r->jail);
		workspace_destroy(&r->ws);
		free(r);
	}
	pthread_cond_destroy(&w->cv);
	pthread_cond_destroy(&w->reap_cv);
	pthread_mutex_destroy(&w->mu);
	free(w->deno);
	free(w->state_dir);
	free(w->boot);
	free(w);
	*wp = NULL;
}
