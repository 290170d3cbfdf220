/*
 * Tests for sluice-approver as a process: the real binary
 * ($SLUICE_BUILD/bin/sluice-approver) runs against a fake broker ROUTER that
 * this test binds on ipc:// in a temp dir, and is driven over its control
 * socket the way the CLI drives it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <czmq.h>
#include <fcntl.h>
#include <jansson.h>
#include <msgpack.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/cmd.h"
#include "common/msg.h"
#include "common/util.h"
#include "common/wire.h"

#define HEARTBEAT_MS 100


struct fixture {
	char dir[64];
	char data[96];
	char broker_ep[128];
	char control_ep[128];
	char bin[512];
	pid_t pid;
	const char *keep_s;	/* --expired-keep-s, when set */
	zsock_t *broker;	/* the fake broker's approvals ROUTER */
	zframe_t *approver;	/* routing id of the approver, once READY */
	zsock_t *control;	/* a CLI-like DEALER */
};

static uint64_t
wall_ms(void)
{
	return (uint64_t)(util_wall_ns() / 1000000);
}

static void
start_approver(struct fixture *f)
{
	char hb[16];

	snprintf(hb, sizeof(hb), "%d", HEARTBEAT_MS);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		char log[128];
		snprintf(log, sizeof(log), "%s/approver.log", f->dir);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0)
			dup2(fd, 2);
		execl(f->bin, f->bin, "--broker", f->broker_ep, "--data", f->data, "--heartbeat-ms", hb,
		    "--log-level", "debug", f->keep_s ? "--expired-keep-s" : (char *)NULL, f->keep_s,
		    (char *)NULL);
		_exit(127);
	}
}

static void
kill_approver(struct fixture *f, int sig)
{
	if (f->pid > 0) {
		kill(f->pid, sig);
		waitpid(f->pid, NULL, 0);
		f->pid = 0;
	}
}

/* Receives the next message of command `want` on the fake broker, skipping
 * heartbeats (and anything else); NULL after `ms`.  Like a live broker, it
 * sends a HEARTBEAT every interval while it waits. */
static struct msg *
broker_expect(struct fixture *f, enum msg_cmd want, int ms)
{
	int64_t deadline = util_now_ms() + ms, next_hb = 0;

	for (;;) {
		int64_t now = util_now_ms(), left = deadline - now;
		zframe_t *rid = NULL;
		struct msg *m = NULL;
		char why[256];

		if (left <= 0)
			return NULL;
		if (f->approver != NULL && now >= next_hb) {
			struct msg *hb = msg_new(MSG_HEARTBEAT);
			wire_send(f->broker, f->approver, hb);
			msg_destroy(&hb);
			next_hb = now + HEARTBEAT_MS;
		}
		zsock_set_rcvtimeo(f->broker, (int)(left < HEARTBEAT_MS / 2 ? left : HEARTBEAT_MS / 2));
		if (wire_recv(f->broker, true, &rid, &m, why, sizeof(why)) != ERR_OK) {
			zframe_destroy(&rid);
			continue;
		}
		if (msg_cmd(m) == MSG_APPROVER_READY) {
			zframe_destroy(&f->approver);
			f->approver = zframe_dup(rid);
		}
		zframe_destroy(&rid);
		if (msg_cmd(m) == want)
			return m;
		msg_destroy(&m);
	}
}

static void
broker_send(struct fixture *f, struct msg *m)
{
	assert_non_null(f->approver);
	assert_int_equal(wire_send(f->broker, f->approver, m), ERR_OK);
	msg_destroy(&m);
}

static void
wait_ready(struct fixture *f)
{
	struct msg *m = broker_expect(f, MSG_APPROVER_READY, 5000);
	assert_non_null(m);
	assert_true(strlen(msg_str(m, MSG_F_HOST, "")) > 0);
	msg_destroy(&m);
}

/* {"score": 0.7, "level": "L3", "findings": [{"rule": "eval", "line": 1}]} */
static const unsigned char risk_l3[] = { 0x83, 0xa5, 's', 'c', 'o', 'r', 'e', 0xcb, 0x3f, 0xe6,
	0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0xa5, 'l', 'e', 'v', 'e', 'l', 0xa2, 'L', '3', 0xa8, 'f',
	'i', 'n', 'd', 'i', 'n', 'g', 's', 0x91, 0x82, 0xa4, 'r', 'u', 'l', 'e', 0xa4, 'e', 'v', 'a',
	'l', 0xa4, 'l', 'i', 'n', 'e', 0x01 };

static void
send_request(struct fixture *f, const char *id, uint64_t deadline_ms)
{
	static const char code[] = "console.log(eval('1+1'));\n";
	struct msg *m = msg_new(MSG_APPROVAL_REQUEST);

	assert_non_null(m);
	assert_int_equal(msg_set_str(m, MSG_F_ID, id), ERR_OK);
	assert_int_equal(msg_set_bin(m, MSG_F_CODE, code, strlen(code)), ERR_OK);
	assert_int_equal(msg_set_u64(m, MSG_F_DEADLINE_MS, deadline_ms), ERR_OK);
	assert_int_equal(msg_set_str(m, MSG_F_SESSION, "sess-7"), ERR_OK);
	assert_int_equal(msg_set_str(m, MSG_F_TENANT, "acme"), ERR_OK);
	assert_int_equal(msg_set_str(m, MSG_F_LEVEL, "L3"), ERR_OK);
	assert_int_equal(msg_set_raw(m, MSG_F_RISK, risk_l3, sizeof(risk_l3)), ERR_OK);
	broker_send(f, m);
}

static void
expect_held(struct fixture *f, const char *id)
{
	struct msg *m = broker_expect(f, MSG_APPROVAL_HELD, 3000);
	assert_non_null(m);
	assert_string_equal(msg_str(m, MSG_F_ID, ""), id);
	msg_destroy(&m);
}

/* Sends a control request and returns the reply (fresh) or NULL on timeout. */
static struct msg *
control_call(struct fixture *f, struct msg *q)
{
	struct msg *r = NULL;
	char why[256];

	if (!msg_has(q, MSG_F_REQ))
		msg_set_str(q, MSG_F_REQ, "r1");
	assert_int_equal(wire_send(f->control, NULL, q), ERR_OK);
	msg_destroy(&q);
	zsock_set_rcvtimeo(f->control, 3000);
	if (wire_recv(f->control, false, NULL, &r, why, sizeof(why)) != ERR_OK)
		return NULL;
	return r;
}

static struct msg *
ap_list(struct fixture *f)
{
	struct msg *r = control_call(f, msg_new(MSG_AP_LIST));
	assert_non_null(r);
	assert_int_equal(msg_cmd(r), MSG_AP_LIST_REPLY);
	return r;
}

/* Number of items in an AP_LIST_REPLY (fixarray or array16 header). */
static unsigned
list_count(const struct msg *r)
{
	size_t len;
	const unsigned char *p = msg_bin(r, MSG_F_ITEMS, &len);

	assert_non_null(p);
	assert_true(len >= 1);
	if ((p[0] & 0xf0) == 0x90)
		return p[0] & 0x0f;
	assert_int_equal(p[0], 0xdc);
	return (unsigned)(p[1] << 8 | p[2]);
}

static bool
list_has(const struct msg *r, const char *needle)
{
	size_t len;
	const unsigned char *p = msg_bin(r, MSG_F_ITEMS, &len);
	return memmem(p, len, needle, strlen(needle)) != NULL;
}

static struct msg *
ap_decide(struct fixture *f, const char *id, const char *verdict, const char *reason)
{
	struct msg *q = msg_new(MSG_AP_DECIDE);

	msg_set_str(q, MSG_F_ID, id);
	msg_set_str(q, MSG_F_VERDICT, verdict);
	msg_set_str(q, MSG_F_ACTOR, "alice@review-1");
	msg_set_str(q, MSG_F_REASON, reason);
	return control_call(f, q);
}

static void
connect_control(struct fixture *f)
{
	zsock_destroy(&f->control);
	f->control = zsock_new(ZMQ_DEALER);
	assert_non_null(f->control);
	zsock_set_linger(f->control, 0);
	assert_int_equal(zsock_connect(f->control, "%s", f->control_ep), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *build = getenv("SLUICE_BUILD");

	if (f == NULL)
		return -1;
	*state = f;
	snprintf(f->bin, sizeof(f->bin), "%s/bin/sluice-approver", build ? build : "build");
	if (access(f->bin, X_OK) != 0) {
		fprintf(stderr, "no %s (set SLUICE_BUILD)\n", f->bin);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/sluice-apv-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
	snprintf(f->broker_ep, sizeof(f->broker_ep), "ipc://%s/broker", f->dir);
	snprintf(f->control_ep, sizeof(f->control_ep), "ipc://%s/control", f->data);
	zsys_handler_set(NULL);
	f->broker = zsock_new(ZMQ_ROUTER);
	if (f->broker == NULL || zsock_bind(f->broker, "%s", f->broker_ep) < 0)
		return -1;
	zsock_set_linger(f->broker, 0);
	start_approver(f);
	wait_ready(f);
	connect_control(f);
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f == NULL)
		return 0;
	kill_approver(f, SIGTERM);
	zsock_destroy(&f->control);
	zsock_destroy(&f->broker);
	zframe_destroy(&f->approver);
	/* SLUICE_TEST_KEEP=1 keeps the temp dir (approver.log) for a look */
	if (f->dir[0] && getenv("SLUICE_TEST_KEEP") == NULL && fork() == 0) {
		execlp("rm", "rm", "-rf", f->dir, (char *)NULL);
		_exit(127);
	}
	while (wait(NULL) > 0)
		;
	free(f);
	return 0;
}

static void
test_request_is_held_listed_and_shown(void **state)
{
	struct fixture *f = *state;
	struct msg *r, *q;

	send_request(f, "job0001", wall_ms() + 60000);
	expect_held(f, "job0001");
	/* the broker resends until it sees HELD: a duplicate is acknowledged again */
	send_request(f, "job0001", wall_ms() + 60000);
	expect_held(f, "job0001");

	r = ap_list(f);
	assert_string_equal(msg_str(r, MSG_F_REQ, ""), "r1");
	assert_int_equal(list_count(r), 1);
	assert_true(list_has(r, "job0001"));
	assert_true(list_has(r, "sess-7"));
	assert_true(list_has(r, "score"));
	assert_true(list_has(r, "waiting"));
	msg_destroy(&r);

	q = msg_new(MSG_AP_SHOW);
	msg_set_str(q, MSG_F_ID, "job0001");
	r = control_call(f, q);
	assert_non_null(r);
	assert_int_equal(msg_cmd(r), MSG_AP_SHOW_REPLY);
	assert_string_equal(msg_str(r, MSG_F_SESSION, ""), "sess-7");
	assert_string_equal(msg_str(r, MSG_F_TENANT, ""), "acme");
	assert_string_equal(msg_str(r, MSG_F_LEVEL, ""), "L3");
	size_t len;
	const void *risk = msg_bin(r, MSG_F_RISK, &len);
	assert_int_equal(len, sizeof(risk_l3));
	assert_memory_equal(risk, risk_l3, len);
	assert_non_null(strstr(msg_bin(r, MSG_F_CODE, &len), "eval"));
	msg_destroy(&r);

	q = msg_new(MSG_AP_SHOW);
	msg_set_str(q, MSG_F_ID, "nosuchjob");
	r = control_call(f, q);
	assert_non_null(r);
	assert_int_equal(msg_cmd(r), MSG_ERROR);
	assert_int_equal(msg_u64(r, MSG_F_ERRCODE, 0), ERR_NOTFOUND);
	msg_destroy(&r);
}

static void
test_decision_reaches_broker_and_ack_files_it(void **state)
{
	struct fixture *f = *state;
	struct msg *r, *d, *ack, *q;

	send_request(f, "job0002", wall_ms() + 60000);
	expect_held(f, "job0002");

	r = ap_decide(f, "job0002", "approve", " ");
	assert_non_null(r);
	assert_int_equal(msg_cmd(r), MSG_ERROR);
	assert_int_equal(msg_u64(r, MSG_F_ERRCODE, 0), ERR_INVAL);
	msg_destroy(&r);
	r = ap_decide(f, "job0002", "perhaps", "why not");
	assert_int_equal(msg_cmd(r), MSG_ERROR);
	msg_destroy(&r);

	r = ap_decide(f, "job0002", "approve", "reads one env var; fine");
	assert_non_null(r);
	assert_int_equal(msg_cmd(r), MSG_AP_DECIDE_REPLY);
	assert_string_equal(msg_str(r, MSG_F_STATUS, ""), "sent");
	msg_destroy(&r);

	d = broker_expect(f, MSG_DECISION, 3000);
	assert_non_null(d);
	assert_string_equal(msg_str(d, MSG_F_ID, ""), "job0002");
	assert_string_equal(msg_str(d, MSG_F_VERDICT, ""), "approve");
	assert_string_equal(msg_str(d, MSG_F_ACTOR, ""), "alice@review-1");
	assert_string_equal(msg_str(d, MSG_F_REASON, ""), "reads one env var; fine");
	assert_true(msg_u64(d, MSG_F_TIME_MS, 0) > 0);
	msg_destroy(&d);

	/* deciding twice is refused */
	r = ap_decide(f, "job0002", "deny", "second thoughts");
	assert_int_equal(msg_cmd(r), MSG_ERROR);
	assert_int_equal(msg_u64(r, MSG_F_ERRCODE, 0), ERR_DUPLICATE);
	msg_destroy(&r);

	/* not acknowledged: sent again within a few heartbeats */
	d = broker_expect(f, MSG_DECISION, 2000);
	assert_non_null(d);
	assert_string_equal(msg_str(d, MSG_F_ID, ""), "job0002");
	msg_destroy(&d);

	ack = msg_new(MSG_DECISION_ACK);
	msg_set_str(ack, MSG_F_ID, "job0002");
	msg_set_str(ack, MSG_F_STATUS, "queued");
	broker_send(f, ack);

	for (int i = 0; i < 50; i++) {
		r = ap_list(f);
		unsigned n = list_count(r);
		msg_destroy(&r);
		if (n == 0)
			break;
		zclock_sleep(20);
		assert_true(i < 49);
	}
	q = msg_new(MSG_AP_SHOW);
	msg_set_str(q, MSG_F_ID, "job0002");
	r = control_call(f, q);
	assert_int_equal(msg_cmd(r), MSG_ERROR);
	assert_non_null(strstr(msg_str(r, MSG_F_MESSAGE, ""), "no longer pending"));
	msg_destroy(&r);
}

static void
test_restart_keeps_pending_items(void **state)
{
	struct fixture *f = *state;
	struct msg *r, *d;

	send_request(f, "job0003", wall_ms() + 60000);
	expect_held(f, "job0003");
	send_request(f, "job0004", wall_ms() + 60000);
	expect_held(f, "job0004");
	r = ap_decide(f, "job0004", "deny", "touches ~/.ssh");
	assert_int_equal(msg_cmd(r), MSG_AP_DECIDE_REPLY);
	msg_destroy(&r);

	kill_approver(f, SIGKILL);
	zframe_destroy(&f->approver);
	start_approver(f);
	wait_ready(f);
	/* the unacknowledged decision is sent again after READY */
	d = broker_expect(f, MSG_DECISION, 3000);
	assert_non_null(d);
	assert_string_equal(msg_str(d, MSG_F_ID, ""), "job0004");
	assert_string_equal(msg_str(d, MSG_F_VERDICT, ""), "deny");
	assert_string_equal(msg_str(d, MSG_F_REASON, ""), "touches ~/.ssh");
	msg_destroy(&d);

	connect_control(f);
	r = ap_list(f);
	assert_int_equal(list_count(r), 2);
	assert_true(list_has(r, "job0003"));
	assert_true(list_has(r, "decided"));
	msg_destroy(&r);

	r = ap_decide(f, "job0003", "approve", "ok after restart");
	assert_int_equal(msg_cmd(r), MSG_AP_DECIDE_REPLY);
	msg_destroy(&r);
	for (;;) {
		d = broker_expect(f, MSG_DECISION, 3000);
		assert_non_null(d);
		if (strcmp(msg_str(d, MSG_F_ID, ""), "job0003") == 0)
			break;
		msg_destroy(&d);
	}
	assert_string_equal(msg_str(d, MSG_F_ACTOR, ""), "alice@review-1");
	msg_destroy(&d);
}

static void
test_expired_item_cannot_be_approved(void **state)
{
	struct fixture *f = *state;
	struct msg *r;

	send_request(f, "job0005", wall_ms() - 1000);
	expect_held(f, "job0005");
	r = ap_list(f);
	assert_true(list_has(r, "expired"));
	msg_destroy(&r);
	r = ap_decide(f, "job0005", "approve", "looks fine");
	assert_non_null(r);
	assert_int_equal(msg_cmd(r), MSG_ERROR);
	assert_int_equal(msg_u64(r, MSG_F_ERRCODE, 0), ERR_TIMEOUT);
	assert_non_null(strstr(msg_str(r, MSG_F_MESSAGE, ""), "expired"));
	msg_destroy(&r);
	assert_null(broker_expect(f, MSG_DECISION, 300));
}

static void
test_expired_item_filed_after_keep(void **state)
{
	struct fixture *f = *state;
	struct msg *r, *q;
	unsigned n = 0;

	send_request(f, "job0007", wall_ms() - 5000);
	expect_held(f, "job0007");
	send_request(f, "job0008", wall_ms() + 60000);
	expect_held(f, "job0008");
	kill_approver(f, SIGTERM);
	f->keep_s = "0";
	start_approver(f);
	wait_ready(f);
	connect_control(f);
	for (int i = 0; i < 100; i++) {
		r = ap_list(f);
		n = list_count(r);
		if (n == 1)
			assert_true(list_has(r, "job0008"));
		msg_destroy(&r);
		if (n == 1)
			break;
		zclock_sleep(20);
	}
	assert_int_equal(n, 1);
	q = msg_new(MSG_AP_SHOW);
	msg_set_str(q, MSG_F_ID, "job0007");
	r = control_call(f, q);
	assert_int_equal(msg_cmd(r), MSG_ERROR);
	assert_non_null(strstr(msg_str(r, MSG_F_MESSAGE, ""), "expired undecided"));
	msg_destroy(&r);
}

/* Sends raw frames on a fresh DEALER and returns the reply, or NULL. */
static struct msg *
raw_call(struct fixture *f, const void *hdr, size_t hlen, const void *body, size_t blen,
    int nframes)
{
	zmsg_t *zm = zmsg_new();
	struct msg *r = NULL;
	char why[256];

	if (nframes >= 1)
		zmsg_addmem(zm, hdr, hlen);
	if (nframes >= 2)
		zmsg_addmem(zm, body, blen);
	for (int i = 2; i < nframes; i++)
		zmsg_addmem(zm, "x", 1);
	assert_int_equal(zmsg_send(&zm, f->control), 0);
	zsock_set_rcvtimeo(f->control, 3000);
	wire_recv(f->control, false, NULL, &r, why, sizeof(why));
	return r;
}

static void
expect_error(struct msg *r)
{
	assert_non_null(r);
	assert_int_equal(msg_cmd(r), MSG_ERROR);
	assert_true(msg_u64(r, MSG_F_ERRCODE, 0) != 0);
	msg_destroy(&r);
}

static void
test_garbage_gets_errors_and_approver_lives(void **state)
{
	struct fixture *f = *state;
	static const unsigned char hb_hdr[4] = { 'S', 'L', 1, MSG_HEARTBEAT };
	static const unsigned char list_hdr[4] = { 'S', 'L', 1, MSG_AP_LIST };
	static const unsigned char v9[4] = { 'S', 'L', 9, MSG_AP_LIST };
	static const unsigned char unknown[4] = { 'S', 'L', 1, 0xee };
	static const unsigned char body_req[] = { 0x81, 0xa3, 'r', 'e', 'q', 0xa1, 'x' };
	static const unsigned char body_trail[] = { 0x81, 0xa3, 'r', 'e', 'q', 0xa1, 'x', 0xc0 };
	static const unsigned char body_huge[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
	struct msg *r;

	expect_error(raw_call(f, "garbage", 7, NULL, 0, 1));
	expect_error(raw_call(f, list_hdr, 4, body_req, sizeof(body_req), 3));
	expect_error(raw_call(f, "SLxx", 4, body_req, sizeof(body_req), 2));
	expect_error(raw_call(f, v9, 4, body_req, sizeof(body_req), 2));
	expect_error(raw_call(f, unknown, 4, body_req, sizeof(body_req), 2));
	expect_error(raw_call(f, list_hdr, 4, body_trail, sizeof(body_trail), 2));
	expect_error(raw_call(f, list_hdr, 4, body_huge, sizeof(body_huge), 2));
	expect_error(raw_call(f, list_hdr, 4, "", 0, 2));
	/* a well-formed message that is not a control command */
	expect_error(raw_call(f, hb_hdr, 4, "\x80", 1, 2));
	/* an AP_SHOW for an id that could not be a key */
	struct msg *q = msg_new(MSG_AP_SHOW);
	msg_set_str(q, MSG_F_ID, "../../etc/passwd");
	expect_error(control_call(f, q));

	/* garbage from the broker side too */
	zmsg_t *zm = zmsg_new();
	zmsg_append(zm, &(zframe_t *){ zframe_dup(f->approver) });
	zmsg_addmem(zm, "junk", 4);
	assert_int_equal(zmsg_send(&zm, f->broker), 0);
	struct msg *bad = msg_new(MSG_APPROVAL_REQUEST);
	msg_set_str(bad, MSG_F_ID, "bad id with spaces");
	msg_set_bin(bad, MSG_F_CODE, "x", 1);
	msg_set_u64(bad, MSG_F_DEADLINE_MS, wall_ms() + 60000);
	broker_send(f, bad);
	assert_null(broker_expect(f, MSG_APPROVAL_HELD, 300));

	/* still alive and serving */
	assert_int_equal(kill(f->pid, 0), 0);
	assert_int_equal(waitpid(f->pid, NULL, WNOHANG), 0);
	r = ap_list(f);
	assert_int_equal(list_count(r), 0);
	msg_destroy(&r);
	send_request(f, "job0006", wall_ms() + 60000);
	expect_held(f, "job0006");
}

static void
test_silent_broker_gets_ready_again(void **state)
{
	struct fixture *f = *state;

	/* say nothing for > 3 heartbeats: the approver reconnects and says READY */
	zclock_sleep(5 * HEARTBEAT_MS);
	zframe_destroy(&f->approver);
	wait_ready(f);
	/* an unknown-approver ERROR also makes it register again */
	struct msg *e = msg_new(MSG_ERROR);
	msg_set_u64(e, MSG_F_ERRCODE, ERR_PROTO);
	msg_set_str(e, MSG_F_MESSAGE, "not registered");
	broker_send(f, e);
	wait_ready(f);
}

/* --- the CLI: sluice approvals / sluice alerts ------------------------------ */

struct captured {
	int rc;
	char out[16384];
	char err[4096];
};

/* Runs fn(argc, argv) with stdout and stderr sent to files, then reads them. */
static void
capture(struct fixture *f, int (*fn)(int, char **), int argc, char **argv, struct captured *c)
{
	char po[128], pe[128];
	int so = dup(1), se = dup(2), fo, fe;
	FILE *fp;
	size_t n;

	snprintf(po, sizeof(po), "%s/cli.out", f->dir);
	snprintf(pe, sizeof(pe), "%s/cli.err", f->dir);
	fflush(stdout);
	fflush(stderr);
	fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fo >= 0 && fe >= 0);
	dup2(fo, 1);
	dup2(fe, 2);
	c->rc = fn(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	close(fo);
	close(fe);
	memset(c->out, 0, sizeof(c->out));
	memset(c->err, 0, sizeof(c->err));
	if ((fp = fopen(po, "r")) != NULL) {
		n = fread(c->out, 1, sizeof(c->out) - 1, fp);
		c->out[n] = '\0';
		fclose(fp);
	}
	if ((fp = fopen(pe, "r")) != NULL) {
		n = fread(c->err, 1, sizeof(c->err) - 1, fp);
		c->err[n] = '\0';
		fclose(fp);
	}
}

static void
pack_s(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* A held item whose code hides an escape sequence and a bidi override, with
 * a finding on line 2. */
static void
send_tricky_request(struct fixture *f, const char *id)
{
	static const char code[] = "const a = 1;\nconst b = eval(x); \x1b[2K// \xe2\x80\xae safe\n";
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct msg *m = msg_new(MSG_APPROVAL_REQUEST);

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	pack_s(&pk, "score");
	msgpack_pack_double(&pk, 0.72);
	pack_s(&pk, "level");
	pack_s(&pk, "L3");
	pack_s(&pk, "findings");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_map(&pk, 5);
	pack_s(&pk, "rule");
	pack_s(&pk, "eval-call");
	pack_s(&pk, "category");
	pack_s(&pk, "code_execution");
	pack_s(&pk, "line");
	msgpack_pack_uint64(&pk, 2);
	pack_s(&pk, "col");
	msgpack_pack_uint64(&pk, 11);
	pack_s(&pk, "excerpt");
	pack_s(&pk, "eval(x)");
	msgpack_pack_map(&pk, 2);
	pack_s(&pk, "rule");
	pack_s(&pk, "reviewer-note");
	pack_s(&pk, "line");
	msgpack_pack_uint64(&pk, 0);

	msg_set_str(m, MSG_F_ID, id);
	msg_set_bin(m, MSG_F_CODE, code, strlen(code));
	msg_set_u64(m, MSG_F_DEADLINE_MS, wall_ms() + 600000);
	msg_set_str(m, MSG_F_SESSION, "agent-42");
	msg_set_str(m, MSG_F_TENANT, "acme");
	msg_set_str(m, MSG_F_LEVEL, "L3");
	assert_int_equal(msg_set_raw(m, MSG_F_RISK, sb.data, sb.size), ERR_OK);
	msgpack_sbuffer_destroy(&sb);
	broker_send(f, m);
}

static void
test_cli_list_show_and_decide(void **state)
{
	struct fixture *f = *state;
	struct captured *c = calloc(1, sizeof(*c));
	struct msg *d;
	json_t *j;

	send_tricky_request(f, "job0101");
	expect_held(f, "job0101");
	setenv("SLUICE_ACTOR", "carol@desk", 1);

	char *list[] = { "approvals", "list", "--control", f->control_ep, NULL };
	capture(f, cmd_approvals, 4, list, c);
	assert_int_equal(c->rc, 0);
	assert_non_null(strstr(c->out, "job0101"));
	assert_non_null(strstr(c->out, "0.72"));
	assert_non_null(strstr(c->out, "agent-42 / acme"));
	assert_non_null(strstr(c->out, "waiting"));

	char *listj[] = { "approvals", "list", "--json", "--data", f->data, NULL };
	capture(f, cmd_approvals, 5, listj, c);
	assert_int_equal(c->rc, 0);
	j = json_loads(c->out, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(j), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "id")), "job0101");
	assert_true(json_real_value(json_object_get(json_array_get(j, 0), "score")) > 0.71);
	json_decref(j);

	setenv("SLUICE_APPROVER_DATA", f->data, 1);
	char *show[] = { "approvals", "show", "job0101", NULL };
	capture(f, cmd_approvals, 3, show, c);
	unsetenv("SLUICE_APPROVER_DATA");
	assert_int_equal(c->rc, 0);
	assert_non_null(strstr(c->out, "agent-42"));
	assert_non_null(strstr(c->out, "L3 (score 0.72)"));
	assert_non_null(strstr(c->out, ">     2 | const b = eval(x);"));
	assert_non_null(strstr(c->out, "col 11: [code_execution] eval-call: eval(x)"));
	assert_non_null(strstr(c->out, "reviewer-note"));
	/* the escape and the bidi override are shown, not obeyed */
	assert_null(strchr(c->out, '\x1b'));
	assert_non_null(strstr(c->out, "\\x1b[2K"));
	assert_non_null(strstr(c->out, "<U+202E>"));

	char *noreason[] = { "approvals", "approve", "job0101", "--control", f->control_ep, NULL };
	capture(f, cmd_approvals, 5, noreason, c);
	assert_int_equal(c->rc, 2);
	assert_non_null(strstr(c->err, "--reason"));

	char *bad[] = { "approvals", "frobnicate", NULL };
	capture(f, cmd_approvals, 2, bad, c);
	assert_int_equal(c->rc, 2);

	char *nosuch[] = { "approvals", "show", "job9999", "--control", f->control_ep, NULL };
	capture(f, cmd_approvals, 5, nosuch, c);
	assert_int_equal(c->rc, 1);
	assert_non_null(strstr(c->err, "no such"));

	char *deny[] = { "approvals", "deny", "job0101", "--reason", "eval of input", "--control",
	    f->control_ep, NULL };
	capture(f, cmd_approvals, 7, deny, c);
	assert_int_equal(c->rc, 0);
	assert_non_null(strstr(c->out, "denied job0101 as carol@desk"));
	d = broker_expect(f, MSG_DECISION, 3000);
	assert_non_null(d);
	assert_string_equal(msg_str(d, MSG_F_VERDICT, ""), "deny");
	assert_string_equal(msg_str(d, MSG_F_ACTOR, ""), "carol@desk");
	assert_string_equal(msg_str(d, MSG_F_REASON, ""), "eval of input");
	msg_destroy(&d);

	char *again[] = { "approvals", "approve", "job0101", "--reason", "oops", "--control",
	    f->control_ep, NULL };
	capture(f, cmd_approvals, 7, again, c);
	assert_int_equal(c->rc, 1);
	assert_non_null(strstr(c->err, "already decided"));
	unsetenv("SLUICE_ACTOR");

	/* nobody at the endpoint: a clear failure after 5 s, not a hang */
	char nobody[160];
	snprintf(nobody, sizeof(nobody), "ipc://%s/nobody", f->dir);
	char *lonely[] = { "approvals", "list", "--control", nobody, NULL };
	int64_t t0 = util_now_ms();
	capture(f, cmd_approvals, 4, lonely, c);
	assert_int_equal(c->rc, 1);
	assert_non_null(strstr(c->err, "did not answer"));
	assert_true(util_now_ms() - t0 < 7000);
	free(c);
}

struct alerts_run {
	struct fixture *f;
	char **argv;
	int argc;
	struct captured c;
};

static void *
alerts_thread(void *arg)
{
	struct alerts_run *r = arg;
	capture(r->f, cmd_alerts, r->argc, r->argv, &r->c);
	return NULL;
}

static void
publish_alert(zsock_t *pub, uint64_t seq, const char *topic, const char *id)
{
	struct msg *m = msg_new(MSG_ALERT);
	unsigned char hdr[MSG_HEADER_LEN], *body;
	size_t len;
	zmsg_t *zm = zmsg_new();

	msg_set_u64(m, MSG_F_SEQ, seq);
	msg_set_str(m, MSG_F_TOPIC, topic);
	msg_set_u64(m, MSG_F_TIME_MS, wall_ms());
	msg_set_str(m, MSG_F_ID, id);
	msg_set_str(m, MSG_F_LEVEL, "L4");
	msg_set_str(m, MSG_F_REASON, "blocked: \x1b[31mrm -rf");
	assert_int_equal(msg_encode(m, hdr, &body, &len), ERR_OK);
	zmsg_addstr(zm, topic);
	zmsg_addmem(zm, hdr, sizeof(hdr));
	zmsg_addmem(zm, body, len);
	free(body);
	msg_destroy(&m);
	zmsg_send(&zm, pub);
}

static void
test_cli_alerts(void **state)
{
	struct fixture *f = *state;
	char ep[128];
	zsock_t *pub = zsock_new(ZMQ_PUB);
	struct alerts_run *r = calloc(1, sizeof(*r));
	pthread_t t;

	snprintf(ep, sizeof(ep), "ipc://%s/alerts", f->dir);
	assert_non_null(pub);
	zsock_set_linger(pub, 0);
	assert_int_equal(zsock_bind(pub, "%s", ep), 0);
	char *argv[] = { "alerts", "--alerts", ep, "--json", "--count", "3", "--timeout", "4000", NULL };
	r->f = f;
	r->argv = argv;
	r->argc = 8;
	assert_int_equal(pthread_create(&t, NULL, alerts_thread, r), 0);
	/* every other seq is never published: each alert after the first
	 * reports a gap; garbage in between is ignored */
	for (uint64_t seq = 2; seq < 400; seq += 2) {
		publish_alert(pub, seq, "alert.L4", "job7");
		zstr_sendm(pub, "alert.junk");
		zstr_send(pub, "not a message");
		zclock_sleep(20);
		if (pthread_tryjoin_np(t, NULL) == 0)
			goto joined;
	}
	pthread_join(t, NULL);
joined:
	assert_int_equal(r->c.rc, 0);
	int lines = 0;
	for (char *p = r->c.out; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	assert_int_equal(lines, 3);
	json_t *j = json_loads(r->c.out, JSON_DISABLE_EOF_CHECK, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "topic")), "alert.L4");
	assert_string_equal(json_string_value(json_object_get(j, "id")), "job7");
	assert_true(json_integer_value(json_object_get(j, "seq")) % 2 == 0);
	json_decref(j);
	assert_non_null(strstr(r->c.err, "missed 1 alerts"));

	/* text mode, a narrower topic: gaps are expected, not reported */
	char *argv2[] = { "alerts", "--alerts", ep, "--topic", "alert.L4", "--count", "2",
	    "--timeout", "4000", NULL };
	r->argv = argv2;
	r->argc = 9;
	assert_int_equal(pthread_create(&t, NULL, alerts_thread, r), 0);
	for (uint64_t seq = 1000; seq < 1400; seq += 2) {
		publish_alert(pub, seq, "alert.violation", "job8");
		publish_alert(pub, seq + 1, "alert.L4", "job9");
		zclock_sleep(20);
		if (pthread_tryjoin_np(t, NULL) == 0)
			goto joined2;
	}
	pthread_join(t, NULL);
joined2:
	assert_int_equal(r->c.rc, 0);
	assert_non_null(strstr(r->c.out, " alert.L4 job9 L4 blocked: \\x1b[31mrm -rf\n"));
	assert_null(strstr(r->c.out, "job8"));
	assert_null(strstr(r->c.err, "missed"));

	char *bad[] = { "alerts", "--count", "zero", NULL };
	capture(f, cmd_alerts, 3, bad, &r->c);
	assert_int_equal(r->c.rc, 2);
	zsock_destroy(&pub);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_is_held_listed_and_shown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decision_reaches_broker_and_ack_files_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_keeps_pending_items, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_item_cannot_be_approved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_item_filed_after_keep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_gets_errors_and_approver_lives, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_broker_gets_ready_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_list_show_and_decide, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cli_alerts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
