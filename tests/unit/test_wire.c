/*
 * Unit tests for common/wire over real ZeroMQ sockets: a ROUTER bound and a
 * DEALER connected on an inproc endpoint, as the broker and a worker or
 * client are.  Covers the round trip both ways, error replies, and a DEALER
 * sending garbage: each bad message must give an error with a reason and the
 * sender's routing id, and must not disturb the next good message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <czmq.h>
#include <string.h>

#include "common/wire.h"

/* Receives give up after this long, so a lost message fails, not hangs. */
#define RECV_TIMEOUT_MS 2000

struct pair {
	zsock_t *router;
	zsock_t *dealer;
};

static int
pair_setup(void **state)
{
	static int serial;
	struct pair *p = calloc(1, sizeof(*p));
	char ep[64];

	if (p == NULL)
		return -1;
	snprintf(ep, sizeof(ep), "inproc://test-wire-%d", serial++);
	p->router = zsock_new_router(ep);
	p->dealer = zsock_new_dealer(ep);
	if (p->router == NULL || p->dealer == NULL)
		return -1;
	wire_tune(p->router);
	wire_tune(p->dealer);
	zsock_set_rcvtimeo(p->router, RECV_TIMEOUT_MS);
	zsock_set_rcvtimeo(p->dealer, RECV_TIMEOUT_MS);
	*state = p;
	return 0;
}

static int
pair_teardown(void **state)
{
	struct pair *p = *state;

	zsock_destroy(&p->dealer);
	zsock_destroy(&p->router);
	free(p);
	return 0;
}

static struct msg *
heartbeat(uint64_t free_slots)
{
	struct msg *m = msg_new(MSG_HEARTBEAT);

	assert_non_null(m);
	assert_int_equal(msg_set_u64(m, MSG_F_FREE, free_slots), ERR_OK);
	return m;
}

/* Sends a HEARTBEAT(free) from the dealer; the router must decode it.
 * Returns the routing id (fresh). */
static zframe_t *
dealer_to_router(struct pair *p, uint64_t free_slots)
{
	struct msg *m = heartbeat(free_slots), *got = NULL;
	zframe_t *rid = NULL;
	char why[256] = "";

	assert_int_equal(wire_send(p->dealer, NULL, m), ERR_OK);
	msg_destroy(&m);
	if (wire_recv(p->router, true, &rid, &got, why, sizeof(why)) != ERR_OK)
		fail_msg("good message refused: %s", why);
	assert_non_null(rid);
	assert_non_null(got);
	assert_int_equal(msg_cmd(got), MSG_HEARTBEAT);
	assert_int_equal(msg_u64(got, MSG_F_FREE, 9999), free_slots);
	msg_destroy(&got);
	return rid;
}

static void
test_round_trip(void **state)
{
	struct pair *p = *state;
	struct msg *m = msg_new(MSG_RESULT), *got = NULL;
	zframe_t *rid = dealer_to_router(p, 3), *none = (zframe_t *)1;
	char why[256];
	size_t len;

	assert_int_equal(msg_set_str(m, MSG_F_ID, "j-1"), ERR_OK);
	assert_int_equal(msg_set_str(m, MSG_F_STATUS, "ok"), ERR_OK);
	assert_int_equal(msg_set_bin(m, MSG_F_STDOUT, "out\0put", 7), ERR_OK);
	assert_int_equal(msg_set_i64(m, MSG_F_EXIT_CODE, -1), ERR_OK);
	assert_int_equal(wire_send(p->router, rid, m), ERR_OK);
	assert_int_equal(wire_recv(p->dealer, false, &none, &got, why, sizeof(why)), ERR_OK);
	assert_null(none);	/* a DEALER has no routing id to give */
	assert_int_equal(msg_cmd(got), MSG_RESULT);
	assert_string_equal(msg_str(got, MSG_F_ID, NULL), "j-1");
	assert_memory_equal(msg_bin(got, MSG_F_STDOUT, &len), "out\0put", 7);
	assert_int_equal(len, 7);
	assert_int_equal(msg_i64(got, MSG_F_EXIT_CODE, 0), -1);
	msg_destroy(&got);
	msg_destroy(&m);
	zframe_destroy(&rid);

	/* a ROUTER caller that does not want the routing id */
	m = heartbeat(1);
	assert_int_equal(wire_send(p->dealer, NULL, m), ERR_OK);
	assert_int_equal(wire_recv(p->router, true, NULL, &got, why, sizeof(why)), ERR_OK);
	assert_int_equal(msg_u64(got, MSG_F_FREE, 0), 1);
	msg_destroy(&got);
	msg_destroy(&m);
}

static void
test_send_incomplete_message(void **state)
{
	struct pair *p = *state;
	struct msg *m = msg_new(MSG_CANCEL), *got = NULL;
	zframe_t *rid = NULL;
	char why[256];

	assert_int_equal(wire_send(p->dealer, NULL, m), ERR_MISSING);
	msg_destroy(&m);
	/* nothing went out: the router's next message is the good one */
	rid = dealer_to_router(p, 5);
	zframe_destroy(&rid);
	zsock_set_rcvtimeo(p->router, 100);
	assert_int_equal(wire_recv(p->router, true, &rid, &got, why, sizeof(why)), ERR_IO);
	assert_null(got);
}

static void
test_send_error(void **state)
{
	struct pair *p = *state;
	zframe_t *rid = dealer_to_router(p, 0);
	struct msg *got = NULL;
	char why[256];

	wire_send_error(p->router, rid, ERR_BUSY, "r-7", "queue full");
	assert_int_equal(wire_recv(p->dealer, false, NULL, &got, why, sizeof(why)), ERR_OK);
	assert_int_equal(msg_cmd(got), MSG_ERROR);
	assert_int_equal(msg_u64(got, MSG_F_ERRCODE, 0), ERR_BUSY);
	assert_string_equal(msg_str(got, MSG_F_MESSAGE, NULL), "queue full");
	assert_string_equal(msg_str(got, MSG_F_REQ, NULL), "r-7");
	msg_destroy(&got);

	/* no req to echo */
	wire_send_error(p->router, rid, ERR_PROTO, "", "bad");
	assert_int_equal(wire_recv(p->dealer, false, NULL, &got, why, sizeof(why)), ERR_OK);
	assert_false(msg_has(got, MSG_F_REQ));
	msg_destroy(&got);
	zframe_destroy(&rid);
}

/* Sends `n` raw frames from the dealer. */
static void
send_frames(zsock_t *s, int n, const void *const *data, const size_t *len)
{
	zmsg_t *zm = zmsg_new();

	assert_non_null(zm);
	for (int i = 0; i < n; i++)
		assert_int_equal(zmsg_addmem(zm, data[i], len[i]), 0);
	assert_int_equal(zmsg_send(&zm, s), 0);
}

struct garbage {
	const char *what;
	int nframes;
	const void *data[3];
	size_t len[3];
	enum err want;
};

#define HDR_OK "SL\x01\x22"
#define BODY_OK "\x81\xa4" "free" "\x01"

static const struct garbage garbage[] = {
	{ "one frame", 1, { HDR_OK }, { 4 }, ERR_PROTO },
	{ "one empty frame", 1, { "" }, { 0 }, ERR_PROTO },
	{ "three frames", 3, { HDR_OK, BODY_OK, "x" }, { 4, 7, 1 }, ERR_PROTO },
	{ "two empty frames", 2, { "", "" }, { 0, 0 }, ERR_PROTO },
	{ "bad magic", 2, { "XL\x01\x22", BODY_OK }, { 4, 7 }, ERR_PROTO },
	{ "short header", 2, { "SL\x01", BODY_OK }, { 3, 7 }, ERR_PROTO },
	{ "long header", 2, { HDR_OK "\x00", BODY_OK }, { 5, 7 }, ERR_PROTO },
	{ "version 2", 2, { "SL\x02\x22", BODY_OK }, { 4, 7 }, ERR_VERSION },
	{ "unknown command", 2, { "SL\x01\x7e", BODY_OK }, { 4, 7 }, ERR_PROTO },
	{ "map32 of 2^32-1 entries", 2, { HDR_OK, "\xdf\xff\xff\xff\xff\xa4" "free" "\x01" },
	    { 4, 11 }, ERR_TOOBIG },
	{ "str32 key of 4 GiB", 2, { HDR_OK, "\x81\xdb\xff\xff\xff\xff" "free" }, { 4, 10 },
	    ERR_TRUNCATED },
	{ "bin32 value of 4 GiB", 2, { "SL\x01\x24", "\x82\xa2id\xa1x\xa6status\xc6\xff\xff\xff\xff" },
	    { 4, 18 }, ERR_TRUNCATED },
	{ "body not a map", 2, { HDR_OK, "\x91\x01" }, { 4, 2 }, ERR_TYPE },
	{ "trailing byte", 2, { HDR_OK, BODY_OK "\xc0" }, { 4, 8 }, ERR_TRAILING },
	{ "empty body", 2, { HDR_OK, "" }, { 4, 0 }, ERR_TRUNCATED },
};

static void
test_garbage_from_dealer(void **state)
{
	struct pair *p = *state;
	zframe_t *good_rid = dealer_to_router(p, 1);

	for (size_t k = 0; k < sizeof(garbage) / sizeof(garbage[0]); k++) {
		const struct garbage *g = &garbage[k];
		zframe_t *rid = NULL, *next_rid;
		struct msg *got = (struct msg *)1;
		char why[256] = "";
		enum err e;

		send_frames(p->dealer, g->nframes, g->data, g->len);
		e = wire_recv(p->router, true, &rid, &got, why, sizeof(why));
		if (e != g->want)
			print_error("%s: got %s (%s), want %s\n", g->what, err_name(e), why,
			    err_name(g->want));
		assert_int_equal(e, g->want);
		assert_null(got);
		assert_true(why[0] != '\0');
		/* the sender can still be answered */
		assert_non_null(rid);
		assert_true(zframe_eq(rid, good_rid));
		wire_send_error(p->router, rid, e, NULL, why);
		assert_int_equal(wire_recv(p->dealer, false, NULL, &got, why, sizeof(why)), ERR_OK);
		assert_int_equal(msg_u64(got, MSG_F_ERRCODE, 0), g->want);
		msg_destroy(&got);
		zframe_destroy(&rid);
		/* and the next good message gets through */
		next_rid = dealer_to_router(p, k);
		assert_true(zframe_eq(next_rid, good_rid));
		zframe_destroy(&next_rid);
	}
	zframe_destroy(&good_rid);
}

/* A ROUTER sending the wrong frame count to a DEALER. */
static void
test_garbage_from_router(void **state)
{
	struct pair *p = *state;
	zframe_t *rid = dealer_to_router(p, 2), *none = (zframe_t *)1;
	struct msg *got = (struct msg *)1, *m;
	char why[256] = "";
	zmsg_t *zm = zmsg_new();

	zmsg_append(zm, &(zframe_t *){ zframe_dup(rid) });
	zmsg_addmem(zm, HDR_OK, 4);
	zmsg_addmem(zm, BODY_OK, 7);
	zmsg_addmem(zm, "", 0);
	assert_int_equal(zmsg_send(&zm, p->router), 0);
	assert_int_equal(wire_recv(p->dealer, false, &none, &got, why, sizeof(why)), ERR_PROTO);
	assert_null(got);
	assert_null(none);
	assert_non_null(strstr(why, "frames"));

	m = heartbeat(4);
	assert_int_equal(wire_send(p->router, rid, m), ERR_OK);
	assert_int_equal(wire_recv(p->dealer, false, NULL, &got, why, sizeof(why)), ERR_OK);
	assert_int_equal(msg_u64(got, MSG_F_FREE, 0), 4);
	msg_destroy(&got);
	msg_destroy(&m);
	zframe_destroy(&rid);
}

/* wire_try_recv: ERR_OK and nothing when the socket is empty (without
 * waiting for the receive timeout); the waiting messages in order, with the
 * routing id and User-Id on a ROUTER; a bad message still gets its reason. */
static void
test_try_recv(void **state)
{
	struct pair *p = *state;
	struct msg *got = (struct msg *)1;
	zframe_t *rid = (zframe_t *)1;
	char why[256];
	struct wire_peer peer = { "x", "y" };
	int64_t t0 = zclock_mono();

	assert_int_equal(wire_try_recv(p->router, true, &rid, &got, &peer, why, sizeof(why)), ERR_OK);
	assert_null(got);
	assert_null(rid);
	assert_string_equal(peer.user, "");
	assert_string_equal(peer.key, "");	/* plaintext: no ZAP handler said anything */
	assert_true(zclock_mono() - t0 < RECV_TIMEOUT_MS / 2);
	for (uint64_t i = 1; i <= 3; i++) {
		struct msg *m = heartbeat(i);
		assert_int_equal(wire_send(p->dealer, NULL, m), ERR_OK);
		msg_destroy(&m);
	}
	zclock_sleep(50);	/* inproc: delivered, but let the pipe settle */
	for (uint64_t i = 1; i <= 3; i++) {
		assert_int_equal(wire_try_recv(p->router, true, &rid, &got, &peer, why, sizeof(why)),
		    ERR_OK);
		assert_non_null(got);
		assert_non_null(rid);
		assert_int_equal(msg_u64(got, MSG_F_FREE, 0), i);
		msg_destroy(&got);
		zframe_destroy(&rid);
	}
	assert_int_equal(wire_try_recv(p->router, true, &rid, &got, NULL, why, sizeof(why)),
	    ERR_OK);
	assert_null(got);
	/* A DEALER's side. */
	{
		struct msg *m = heartbeat(7);
		zframe_t *to = dealer_to_router(p, 9);
		assert_int_equal(wire_send(p->router, to, m), ERR_OK);
		msg_destroy(&m);
		zframe_destroy(&to);
	}
	zclock_sleep(50);
	assert_int_equal(wire_try_recv(p->dealer, false, NULL, &got, NULL, why, sizeof(why)),
	    ERR_OK);
	assert_non_null(got);
	assert_int_equal(msg_u64(got, MSG_F_FREE, 0), 7);
	msg_destroy(&got);
	assert_int_equal(wire_try_recv(p->dealer, false, NULL, &got, NULL, why, sizeof(why)),
	    ERR_OK);
	assert_null(got);
	/* A malformed message is an error with a reason, not "nothing". */
	assert_int_equal(zstr_sendx(p->dealer, "XX", "junk", NULL), 0);
	zclock_sleep(50);
	why[0] = '\0';
	assert_int_not_equal(wire_try_recv(p->router, true, &rid, &got, NULL, why, sizeof(why)),
	    ERR_OK);
	assert_null(got);
	assert_non_null(rid);
	assert_true(why[0] != '\0');
	zframe_destroy(&rid);
}

static void
test_tune(void **state)
{
	struct pair *p = *state;

	assert_int_equal(zsock_sndhwm(p->router), WIRE_HWM);
	assert_int_equal(zsock_rcvhwm(p->dealer), WIRE_HWM);
	assert_true(WIRE_HWM > 0);
	assert_true(zsock_maxmsgsize(p->router) > (int64_t)MSG_BODY_MAX);
	assert_true(zsock_linger(p->dealer) >= 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_send_incomplete_message, pair_setup,
		    pair_teardown),
		cmocka_unit_test_setup_teardown(test_send_error, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_garbage_from_dealer, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_garbage_from_router, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_tune, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_try_recv, pair_setup, pair_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
