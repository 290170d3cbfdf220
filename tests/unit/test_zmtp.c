/* Unit tests for client/zmtp (the front binary's ZMTP 3 client): the peer
 * is the test, on the other end of a socketpair, sending good and bad
 * greetings, commands and frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/zmtp.h"
#include "common/util.h"

struct pair {
	struct zmtp *z;
	int peer;
};

static void
pair_open(struct pair *p, size_t frame_max)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	p->z = zmtp_new(sv[0], frame_max);
	assert_non_null(p->z);
	p->peer = sv[1];
}

static void
pair_close(struct pair *p)
{
	zmtp_destroy(&p->z);
	assert_null(p->z);
	close(p->peer);
}

static void
put(struct pair *p, const void *b, size_t n)
{
	assert_int_equal(util_write_all(p->peer, b, n), ERR_OK);
}

/* Reads exactly n bytes the client sent. */
static void
take(struct pair *p, unsigned char *b, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(p->peer, b + got, n - got);
		assert_true(r > 0);
		got += (size_t)r;
	}
}

static void
greeting(unsigned char g[64], int major, int minor, const char *mech)
{
	memset(g, 0, 64);
	g[0] = 0xff;
	g[8] = 1;
	g[9] = 0x7f;
	g[10] = (unsigned char)major;
	g[11] = (unsigned char)minor;
	memcpy(g + 12, mech, strlen(mech));
}

/* A command frame: flags 0x04, size, name-length, name, then `rest`. */
static size_t
command(unsigned char *out, const char *name, const void *rest, size_t rlen)
{
	size_t n = 1 + strlen(name) + rlen;
	out[0] = 0x04;
	out[1] = (unsigned char)n;
	out[2] = (unsigned char)strlen(name);
	memcpy(out + 3, name, strlen(name));
	memcpy(out + 3 + strlen(name), rest, rlen);
	return 2 + n;
}

/* READY properties: Socket-Type `type` and an empty Identity. */
static size_t
ready(unsigned char *out, const char *type)
{
	unsigned char props[64];
	size_t n = 0, tl = strlen(type);

	props[n++] = 11;
	memcpy(props + n, "Socket-Type", 11);
	n += 11;
	props[n++] = 0, props[n++] = 0, props[n++] = 0, props[n++] = (unsigned char)tl;
	memcpy(props + n, type, tl);
	n += tl;
	props[n++] = 8;
	memcpy(props + n, "Identity", 8);
	n += 8;
	props[n++] = 0, props[n++] = 0, props[n++] = 0, props[n++] = 0;
	return command(out, "READY", props, n);
}

static enum err
shake(struct pair *p, int major, int minor, const char *mech, const void *after, size_t alen,
    char *why, size_t whysz)
{
	unsigned char g[64];

	greeting(g, major, minor, mech);
	put(p, g, sizeof(g));
	if (alen)
		put(p, after, alen);
	return zmtp_handshake(p->z, util_now_ms() + 2000, why, whysz);
}

static void
test_handshake_ok(void **state)
{
	unsigned char r[128], mine[64], cmd[64];
	char why[256] = "";
	struct pair p;
	size_t n;

	(void)state;
	for (int minor = 0; minor <= 1; minor++) {
		pair_open(&p, 1024);
		n = ready(r, "ROUTER");
		assert_int_equal(shake(&p, 3, minor, "NULL", r, n, why, sizeof(why)), ERR_OK);
		take(&p, mine, sizeof(mine));
		assert_int_equal(mine[0], 0xff);
		assert_int_equal(mine[9], 0x7f);
		assert_int_equal(mine[10], 3);
		assert_memory_equal(mine + 12, "NULL\0", 5);
		assert_int_equal(mine[32], 0);	/* as-server: no */
		take(&p, cmd, 2);
		assert_int_equal(cmd[0], 0x04);
		take(&p, cmd + 2, cmd[1]);
		assert_memory_equal(cmd + 2, "\x05READY\x0bSocket-Type\0\0\0\x06" "DEALER", 28);
		pair_close(&p);
	}
}

static void
test_handshake_refusals(void **state)
{
	unsigned char r[128], bad[64];
	char why[256] = "";
	struct pair p;
	size_t n;

	(void)state;
	pair_open(&p, 1024);
	assert_int_equal(shake(&p, 3, 0, "CURVE", NULL, 0, why, sizeof(why)), ERR_DENIED);
	assert_non_null(strstr(why, "CURVE"));
	pair_close(&p);

	pair_open(&p, 1024);
	assert_int_equal(shake(&p, 2, 0, "NULL", NULL, 0, why, sizeof(why)), ERR_VERSION);
	pair_close(&p);

	pair_open(&p, 1024);
	n = command(r, "ERROR", "\x0cno entry\x01 ok", 13);
	assert_int_equal(shake(&p, 3, 1, "NULL", r, n, why, sizeof(why)), ERR_DENIED);
	assert_string_equal(why, "the broker refused the connection: no entry? ok");
	pair_close(&p);

	pair_open(&p, 1024);
	n = ready(r, "PUB");
	assert_int_equal(shake(&p, 3, 1, "NULL", r, n, why, sizeof(why)), ERR_PROTO);
	assert_non_null(strstr(why, "PUB"));
	pair_close(&p);

	pair_open(&p, 1024);	/* READY without Socket-Type */
	n = command(r, "READY", "\x08Identity\0\0\0\0", 13);
	assert_int_equal(shake(&p, 3, 1, "NULL", r, n, why, sizeof(why)), ERR_PROTO);
	pair_close(&p);

	pair_open(&p, 1024);	/* a property value running past the command */
	n = command(r, "READY", "\x0bSocket-Type\0\0\0\x40ROUTER", 22);
	assert_int_equal(shake(&p, 3, 1, "NULL", r, n, why, sizeof(why)), ERR_PROTO);
	pair_close(&p);

	pair_open(&p, 1024);	/* a message frame instead of READY */
	assert_int_equal(shake(&p, 3, 1, "NULL", "\x00\x01x", 3, why, sizeof(why)), ERR_PROTO);
	pair_close(&p);

	pair_open(&p, 1024);	/* a command name longer than the command */
	assert_int_equal(shake(&p, 3, 1, "NULL", "\x04\x02\x09R", 4, why, sizeof(why)), ERR_PROTO);
	pair_close(&p);

	pair_open(&p, 1024);	/* the peer hangs up inside its greeting */
	greeting(bad, 3, 1, "NULL");
	put(&p, bad, 20);
	shutdown(p.peer, SHUT_WR);
	assert_int_equal(zmtp_handshake(p.z, util_now_ms() + 2000, why, sizeof(why)), ERR_IO);
	pair_close(&p);

	pair_open(&p, 1024);	/* the peer says nothing: the deadline holds */
	int64_t t0 = util_now_ms();
	assert_int_equal(zmtp_handshake(p.z, t0 + 100, why, sizeof(why)), ERR_TIMEOUT);
	assert_true(util_now_ms() - t0 < 1000);
	pair_close(&p);
}

static struct pair
ready_pair(size_t frame_max)
{
	unsigned char r[128], drain[256];
	char why[256];
	struct pair p;
	size_t n;

	pair_open(&p, frame_max);
	n = ready(r, "ROUTER");
	assert_int_equal(shake(&p, 3, 1, "NULL", r, n, why, sizeof(why)), ERR_OK);
	take(&p, drain, 64 + 2 + 41);	/* our greeting and READY */
	return p;
}

static void
test_recv_messages(void **state)
{
	unsigned char big[2 + 8 + 300];
	struct zmtp_msg m = { 0 };
	char why[256];
	struct pair p = ready_pair(1024);

	(void)state;
	put(&p, "\x01\x04SL\x01\x11\x00\x03" "abc", 11);
	assert_int_equal(zmtp_recv(p.z, &m, util_now_ms() + 2000, why, sizeof(why)), ERR_OK);
	assert_int_equal(m.nframes, 2);
	assert_int_equal(m.len[0], 4);
	assert_memory_equal(m.part[0], "SL\x01\x11", 4);
	assert_int_equal(m.len[1], 3);
	assert_memory_equal(m.part[1], "abc", 3);

	/* a long frame (8-byte size) */
	big[0] = 0x02;
	memset(big + 1, 0, 8);
	big[7] = 0x01, big[8] = 0x2c;	/* 300 */
	memset(big + 9, 'x', 300);
	put(&p, big, 9 + 300);
	assert_int_equal(zmtp_recv(p.z, &m, util_now_ms() + 2000, why, sizeof(why)), ERR_OK);
	assert_int_equal(m.nframes, 1);
	assert_int_equal(m.len[0], 300);
	assert_int_equal(m.part[0][299], 'x');

	/* three frames: two kept, one counted */
	put(&p, "\x01\x01" "a\x01\x01" "b\x00\x01" "c", 9);
	assert_int_equal(zmtp_recv(p.z, &m, util_now_ms() + 2000, why, sizeof(why)), ERR_OK);
	assert_int_equal(m.nframes, 3);
	assert_memory_equal(m.part[1], "b", 1);

	/* an empty frame */
	put(&p, "\x00\x00", 2);
	assert_int_equal(zmtp_recv(p.z, &m, util_now_ms() + 2000, why, sizeof(why)), ERR_OK);
	assert_int_equal(m.nframes, 1);
	assert_int_equal(m.len[0], 0);

	/* a PING is answered with PONG and its context, then the message comes */
	put(&p, "\x04\x09\x04PING\x00\x0a" "ab", 11);
	put(&p, "\x00\x01z", 3);
	assert_int_equal(zmtp_recv(p.z, &m, util_now_ms() + 2000, why, sizeof(why)), ERR_OK);
	assert_memory_equal(m.part[0], "z", 1);
	unsigned char pong[9];
	take(&p, pong, sizeof(pong));
	assert_memory_equal(pong, "\x04\x07\x04PONGab", 9);

	/* nothing more: the deadline */
	assert_int_equal(zmtp_recv(p.z, &m, util_now_ms() + 50, why, sizeof(why)), ERR_TIMEOUT);
	assert_int_equal(m.nframes, 0);
	zmtp_msg_clear(&m);
	pair_close(&p);
}

static void
test_recv_malformed(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		enum err want;
	} cases[] = {
		{ "\x08\x01x", 3, ERR_PROTO },			/* reserved flag bit */
		{ "\x05\x01x", 3, ERR_PROTO },			/* command with MORE */
		{ "\x02\x00\x00\x00\x00\x00\x00\x04\x01", 9, ERR_TOOBIG },	/* 1025 > 1024 */
		{ "\x02\xff\xff\xff\xff\xff\xff\xff\xff", 9, ERR_TOOBIG },	/* 2^64-1 */
		{ "\x06\x00\x00\x00\x00\x00\x01\x00\x00", 9, ERR_TOOBIG },	/* 64 KiB command */
		{ "\x01\x01" "a\x04\x05\x04PING", 9, ERR_PROTO },	/* command inside a message */
		{ "\x04\x06\x04PING\x00", 8, ERR_PROTO },	/* PING without a TTL */
		{ "\x04\x07\x05" "ERROR\x00", 9, ERR_DENIED },	/* the peer gives up */
		{ "\x04\x01\x00", 3, ERR_PROTO },		/* empty command name */
		{ "\x00\x05" "ab", 4, ERR_IO },			/* the peer hangs up mid-frame */
		{ "\x02\x00\x00", 3, ERR_IO },			/* ... mid-size */
	};
	struct zmtp_msg m = { 0 };
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pair p = ready_pair(1024);
		put(&p, cases[i].bytes, cases[i].len);
		shutdown(p.peer, SHUT_WR);
		enum err e = zmtp_recv(p.z, &m, util_now_ms() + 2000, why, sizeof(why));
		if (e != cases[i].want)
			fail_msg("case %zu: %d (%s), want %d", i, e, why, cases[i].want);
		assert_int_equal(m.nframes, 0);
		assert_null(m.part[0]);
		pair_close(&p);
	}
}

static void
test_send(void **state)
{
	unsigned char got[2 + 4 + 9 + 300], body[300];
	struct zmtp_part parts[2] = { { "SL\x01\x01", 4 }, { body, sizeof(body) } };
	struct pair p = ready_pair(1024);

	(void)state;
	memset(body, 'b', sizeof(body));
	assert_int_equal(zmtp_send(p.z, parts, 2, util_now_ms() + 2000), ERR_OK);
	take(&p, got, sizeof(got));
	assert_memory_equal(got, "\x01\x04SL\x01\x01", 6);
	assert_memory_equal(got + 6, "\x02\x00\x00\x00\x00\x00\x00\x01\x2c", 9);
	assert_int_equal(got[sizeof(got) - 1], 'b');
	assert_int_equal(zmtp_send(p.z, parts, 0, util_now_ms() + 2000), ERR_INVAL);
	close(p.peer);
	p.peer = -1;
	assert_int_equal(zmtp_send(p.z, parts, 2, util_now_ms() + 2000), ERR_IO);
	zmtp_destroy(&p.z);
}

static void
test_connect(void **state)
{
	struct endpoint_addr a;

	(void)state;
	assert_true(endpoint_parse_local("ipc:///nonexistent/sluice-test-socket", &a));
	assert_int_equal(zmtp_connect(&a, util_now_ms() + 1000), -1);
	zmtp_destroy(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_ok),
		cmocka_unit_test(test_handshake_refusals),
		cmocka_unit_test(test_recv_messages),
		cmocka_unit_test(test_recv_malformed),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_connect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
