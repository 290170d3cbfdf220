/* Unit tests for worker/warm: configuration errors, the pool switched off,
 * which jobs fit a warm jail, a pool whose builds fail, and a real warm
 * jail taken, given a program and limits, and refilled (needs root and
 * node_modules/deno; a missing feature skips that case loudly on stderr). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "worker/jail.h"
#include "worker/warm.h"
#include "worker/workspace.h"

static char deno[PATH_MAX];
static char dir[64];

static int
setup(void **state)
{
	const char *root = getenv("SLUICE_ROOT"), *override = getenv("SLUICE_DENO");
	char p[PATH_MAX];

	(void)state;
	snprintf(p, sizeof(p), "%s", override ? override : "");
	if (override == NULL)
		snprintf(p, sizeof(p), "%s/node_modules/deno/deno", root ? root : ".");
	if (realpath(p, deno) == NULL)
		deno[0] = '\0';
	snprintf(dir, sizeof(dir), "/tmp/sluice-test-warm.XXXXXX");
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) == -1)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rmdir(dir);
	return 0;
}

static struct warm_conf
conf_of(const char *runtime, uint32_t size)
{
	return (struct warm_conf){
		.deno = runtime,
		.state_dir = dir,
		.jail_uid = JAIL_HOST_UID,
		.jail_gid = JAIL_HOST_GID,
		.size = size,
		.idle_ms = 60000,
		.lim = job_limits_default,
	};
}

/* Waits up to `ms` for the pool to reach `ready` ready jails. */
static bool
wait_ready(struct warm *w, uint32_t ready, int ms)
{
	struct warm_stats st;

	for (int64_t end = util_now_ms() + ms; util_now_ms() < end; usleep(20000)) {
		warm_stats(w, &st);
		if (st.ready >= ready)
			return true;
	}
	return false;
}

/* --warm-prime lists: names to a mask; junk refused with a reason. */
static void
test_warm_prime_parse(void **state)
{
	uint32_t m = 99, m2 = 0;
	char why[256];
	(void)state;

	assert_true(warm_prime_parse("none", &m, why, sizeof(why)));
	assert_int_equal(m, 0);
	assert_true(warm_prime_parse("timers", &m, why, sizeof(why)));
	assert_int_not_equal(m, 0);
	assert_true(warm_prime_parse("timers,intl,web,inspect", &m2, why, sizeof(why)));
	assert_int_equal(m2 & m, m);
	assert_int_not_equal(m2, m);
	assert_true(warm_prime_parse("inspect,timers", &m2, why, sizeof(why)));
	assert_true(m2 & m);
	const char *bad[] = { "", "bogus", "timers,", ",timers", "timers,,web", "TIMERS", "timersx" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_false(warm_prime_parse(bad[i], &m, why, sizeof(why)));
		assert_true(why[0] != '\0');
	}
}

static void
test_warm_conf_errors(void **state)
{
	struct warm_conf c = conf_of("/nonexistent/deno", 1000);
	char why[128];
	enum err e;

	(void)state;
	assert_null(warm_new(&c, &e, why, sizeof(why)));
	assert_int_equal(e, ERR_INVAL);
	assert_non_null(strstr(why, "size"));
	warm_destroy(NULL);
}

/* Size 0: nothing is built or handed out; retiring still works. */
static void
test_warm_off(void **state)
{
	struct warm_conf c = conf_of("/nonexistent/deno", 0);
	struct job_limits l = job_limits_default;
	struct warm_stats st;
	struct jail *j = NULL;
	struct workspace *ws = NULL;
	char why[128];
	enum err e;
	struct warm *w = warm_new(&c, &e, why, sizeof(why));

	(void)state;
	assert_non_null(w);
	assert_false(warm_is_fit(w, &l));
	assert_null(warm_take(w, &l));
	warm_retire(w, &j, &ws);		/* NULLs are fine */
	usleep(100000);
	warm_stats(w, &st);
	assert_int_equal(st.ready, 0);
	assert_int_equal(st.built, 0);
	assert_int_equal(st.failed, 0);
	warm_destroy(&w);
	assert_null(w);
}

/* What fits a jail built with the defaults: lower memory, any timeout and
 * pids; not more memory, nor another workspace or output size. */
static void
test_warm_fit_rules(void **state)
{
	struct warm_conf c = conf_of("/nonexistent/deno", 1);
	struct job_limits l;
	struct warm_stats st;
	char why[128];
	enum err e;
	struct warm *w = warm_new(&c, &e, why, sizeof(why));

	(void)state;
	assert_non_null(w);
	l = job_limits_default;
	assert_true(warm_is_fit(w, &l));
	l.memory_mb = 64;
	l.timeout_ms = 1000;
	l.pids = 1000;
	assert_true(warm_is_fit(w, &l));
	l = job_limits_default;
	l.memory_mb++;
	assert_false(warm_is_fit(w, &l));
	l = job_limits_default;
	l.workspace_mb--;
	assert_false(warm_is_fit(w, &l));
	l = job_limits_default;
	l.output_bytes--;
	assert_false(warm_is_fit(w, &l));
	assert_false(warm_is_fit(NULL, &l));
	/* the runtime does not exist: builds fail, nothing is handed out */
	for (int i = 0; i < 100; i++) {
		warm_stats(w, &st);
		if (st.failed > 0)
			break;
		usleep(20000);
	}
	assert_true(st.failed > 0);
	l = job_limits_default;
	assert_null(warm_take(w, &l));
	warm_destroy(&w);
}

/* Reads from fd until `want` appears (or 10 s); the text read in buf. */
static bool
read_until(int fd, const char *want, char *buf, size_t bufsz)
{
	size_t got = 0;
	struct pollfd p = { fd, POLLIN, 0 };

	buf[0] = '\0';
	while (got + 1 < bufsz && strstr(buf, want) == NULL) {
		ssize_t n;
		if (poll(&p, 1, 10000) != 1)
			return false;
		if ((n = read(fd, buf + got, bufsz - 1 - got)) <= 0)
			return false;
		got += (size_t)n;
		buf[got] = '\0';
	}
	return strstr(buf, want) != NULL;
}

/* A real warm jail: taken, given a program and tighter limits, released
 * with the program's name; its output and the exit record come back; the
 * pool builds a replacement. */
static void
test_warm_real_job(void **state)
{
	static const char prog[] = "console.log('warm ' + (6 * 7)); Deno.exit(5);\n";
	struct warm_conf c;
	struct job_limits l = job_limits_default;
	struct jail_limits jl = { .memory_mb = 128, .pids = 32, .cpu_seconds = 5, .nofile = 64,
	    .fsize_mb = 8 };
	struct jail_limits bad = { .memory_mb = 1 };
	struct warm_jail *wj;
	struct warm_stats st;
	char why[256], out[512], err[512];
	enum err e;
	struct warm *w;

	(void)state;
	if (geteuid() != 0 || deno[0] == '\0') {
		fprintf(stderr, "SKIP test_warm_real_job: needs root and node_modules/deno\n");
		skip();
	}
	c = conf_of(deno, 1);
	assert_non_null(w = warm_new(&c, &e, why, sizeof(why)));
	assert_true(wait_ready(w, 1, 30000));
	warm_stats(w, &st);
	assert_true(st.idle_rss_kb > 1024);
	l.memory_mb = 128;
	assert_non_null(wj = warm_take(w, &l));
	assert_int_equal(strncmp(wj->name, "warm-", 5), 0);
	assert_true(jail_job_pid(wj->jail) > 0);
	assert_int_equal(jail_set_limits(wj->jail, &bad, why, sizeof(why)), ERR_INVAL);
	assert_int_equal(jail_set_limits(wj->jail, &jl, why, sizeof(why)), ERR_OK);
	assert_int_equal(workspace_put(wj->ws, "main.js", prog, sizeof(prog) - 1), ERR_OK);
	assert_int_equal(write(wj->in_w, "main.js\n", 8), 8);
	assert_true(read_until(wj->out_r, "warm 42\n", out, sizeof(out)));
	assert_true(read_until(wj->err_r, WARM_EXIT_MARKER "5\n", err, sizeof(err)));
	warm_jail_drop(w, &wj);
	assert_null(wj);
	assert_true(wait_ready(w, 1, 30000));	/* refilled */
	warm_stats(w, &st);
	assert_int_equal(st.taken, 1);
	assert_true(st.built >= 2);
	warm_destroy(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_warm_prime_parse),
		cmocka_unit_test(test_warm_conf_errors),
		cmocka_unit_test(test_warm_off),
		cmocka_unit_test(test_warm_fit_rules),
		cmocka_unit_test(test_warm_real_job),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
