/* Unit tests for worker/outbox: held until acked, order of first sends,
 * resend timing and backoff, READY resends (free, marked resent), the
 * bound on sends (dropped), the bounds on count and bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "worker/outbox.h"

/* A fake socket: records what was sent; refuses everything while `closed`. */
struct sink {
	bool closed;
	size_t n;
	char ids[64][40];
	bool resent[64];
};

static enum err
sink_send(void *arg, const struct msg *done)
{
	struct sink *s = arg;

	if (s->closed)
		return ERR_IO;
	if (s->n < 64) {
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", msg_str(done, MSG_F_ID, "?"));
		s->resent[s->n] = msg_bool(done, MSG_F_RESENT, false);
	}
	s->n++;
	return ERR_OK;
}

static struct msg *
done_new(const char *id, size_t out)
{
	static char buf[4096];
	struct msg *m = msg_new(MSG_DONE);

	assert_non_null(m);
	assert_int_equal(msg_set_str(m, MSG_F_ID, id), ERR_OK);
	assert_int_equal(msg_set_str(m, MSG_F_STATUS, "ok"), ERR_OK);
	if (out > 0) {
		memset(buf, 'x', out < sizeof(buf) ? out : sizeof(buf));
		assert_int_equal(msg_set_bin(m, MSG_F_STDOUT, buf, out < sizeof(buf) ? out : sizeof(buf)), ERR_OK);
	}
	return m;
}

static struct outbox *
box(unsigned max_sends)
{
	struct outbox_conf c;

	outbox_conf_default(&c, 100);	/* resend after 500 ms, at most 6000 ms */
	c.max_sends = max_sends;
	struct outbox *ob = outbox_new(&c);
	assert_non_null(ob);
	return ob;
}

static void
put(struct outbox *ob, const char *id, int64_t now)
{
	struct msg *m = done_new(id, 0);

	assert_int_equal(outbox_put(ob, &m, now), ERR_OK);
	assert_null(m);
}

static void
test_held_until_acked(void **state)
{
	struct outbox *ob = box(16);
	struct sink s = { 0 };
	(void)state;

	put(ob, "a", 0);
	put(ob, "b", 0);
	assert_int_equal(outbox_unsent(ob), 2);
	assert_int_equal(outbox_flush(ob, 0, sink_send, &s), 2);
	assert_string_equal(s.ids[0], "a");
	assert_string_equal(s.ids[1], "b");
	assert_false(s.resent[0]);	/* a first copy frees its slot */
	assert_int_equal(outbox_size(ob), 2);
	assert_int_equal(outbox_unsent(ob), 0);
	/* Nothing is due before the resend wait. */
	assert_int_equal(outbox_flush(ob, 499, sink_send, &s), 0);
	assert_true(outbox_ack(ob, "a"));
	assert_false(outbox_ack(ob, "a"));	/* a second ack finds nothing */
	assert_false(outbox_ack(ob, "zzz"));
	assert_int_equal(outbox_size(ob), 1);
	/* After the wait: b again, marked resent. */
	assert_int_equal(outbox_flush(ob, 500, sink_send, &s), 1);
	assert_string_equal(s.ids[2], "b");
	assert_true(s.resent[2]);
	assert_true(outbox_ack(ob, "b"));
	assert_int_equal(outbox_size(ob), 0);
	outbox_destroy(&ob);
	assert_null(ob);
	outbox_destroy(&ob);	/* NULL is fine */
}

static void
test_order_kept_when_refused(void **state)
{
	struct outbox *ob = box(16);
	struct sink s = { .closed = true };
	(void)state;

	put(ob, "a", 0);
	put(ob, "b", 0);
	assert_int_equal(outbox_flush(ob, 0, sink_send, &s), 0);
	assert_int_equal(outbox_unsent(ob), 2);
	put(ob, "c", 10);
	s.closed = false;
	assert_int_equal(outbox_flush(ob, 20, sink_send, &s), 3);
	assert_string_equal(s.ids[0], "a");
	assert_string_equal(s.ids[1], "b");
	assert_string_equal(s.ids[2], "c");
	for (int i = 0; i < 3; i++)
		assert_false(s.resent[i]);
	assert_int_equal(outbox_unsent(ob), 0);
	/* An ack for a DONE in the middle. */
	assert_true(outbox_ack(ob, "b"));
	assert_int_equal(outbox_flush(ob, 520, sink_send, &s), 2);
	assert_string_equal(s.ids[3], "a");
	assert_string_equal(s.ids[4], "c");
	outbox_destroy(&ob);
}

static void
test_ready_resends_now_marked(void **state)
{
	struct outbox *ob = box(2);
	struct sink s = { 0 };
	(void)state;

	put(ob, "a", 0);
	assert_int_equal(outbox_flush(ob, 0, sink_send, &s), 1);
	s.closed = true;
	put(ob, "b", 1);	/* never sent */
	assert_int_equal(outbox_flush(ob, 1, sink_send, &s), 0);
	s.closed = false;
	/* A READY: both due at once, both marked (the READY counted neither). */
	outbox_ready(ob);
	assert_int_equal(outbox_flush(ob, 2, sink_send, &s), 2);
	assert_string_equal(s.ids[1], "a");
	assert_true(s.resent[1]);
	assert_string_equal(s.ids[2], "b");
	assert_true(s.resent[2]);
	/* READY resends do not count: many reconnects do not drop a DONE. */
	for (int i = 0; i < 10; i++) {
		outbox_ready(ob);
		assert_int_equal(outbox_flush(ob, 3 + i, sink_send, &s), 2);
	}
	assert_int_equal(outbox_size(ob), 2);
	assert_int_equal(outbox_dropped(ob), 0);
	outbox_destroy(&ob);
}

static void
test_backoff_and_drop(void **state)
{
	struct outbox *ob = box(4);
	struct sink s = { 0 };
	int64_t t = 0;
	(void)state;

	put(ob, "a", 0);
	assert_int_equal(outbox_flush(ob, t, sink_send, &s), 1);	/* send 1 */
	/* Waits 500, 1000, 2000 ms after sends 1..3. */
	static const int64_t waits[] = { 500, 1000, 2000 };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(outbox_flush(ob, t + waits[i] - 1, sink_send, &s), 0);
		t += waits[i];
		assert_int_equal(outbox_flush(ob, t, sink_send, &s), 1);
	}
	assert_int_equal(s.n, 4);
	/* Four sends: at the next due time it is dropped, not sent. */
	assert_int_equal(outbox_flush(ob, t + 4000, sink_send, &s), 0);
	assert_int_equal(outbox_size(ob), 0);
	assert_int_equal(outbox_dropped(ob), 1);
	assert_int_equal(s.n, 4);
	outbox_destroy(&ob);
}

static void
test_backoff_capped(void **state)
{
	struct outbox *ob = box(100);
	struct sink s = { 0 };
	int64_t t = 0;
	(void)state;

	put(ob, "a", 0);
	outbox_flush(ob, t, sink_send, &s);
	for (int i = 0; i < 10; i++) {
		t += 6000;	/* the cap: 60 intervals of 100 ms */
		assert_int_equal(outbox_flush(ob, t, sink_send, &s), 1);
	}
	outbox_destroy(&ob);
}

static void
test_bounds(void **state)
{
	struct outbox_conf c;
	struct outbox *ob;
	struct msg *m;
	(void)state;

	outbox_conf_default(&c, 1000);
	c.max_count = 2;
	c.max_bytes = 8000;
	assert_non_null(ob = outbox_new(&c));
	put(ob, "a", 0);
	put(ob, "b", 0);
	m = done_new("c", 0);
	assert_int_equal(outbox_put(ob, &m, 0), ERR_TOOBIG);	/* count */
	assert_non_null(m);	/* still the caller's */
	msg_destroy(&m);
	assert_true(outbox_ack(ob, "a"));
	m = done_new("big", 4096);
	assert_int_equal(outbox_put(ob, &m, 0), ERR_TOOBIG);	/* bytes: 2 KiB held + 6 KiB > 8000 */
	msg_destroy(&m);
	m = done_new("small", 100);
	assert_int_equal(outbox_put(ob, &m, 0), ERR_OK);
	assert_int_equal(outbox_size(ob), 2);
	/* Acking frees room (count and bytes). */
	assert_true(outbox_ack(ob, "b"));
	assert_true(outbox_ack(ob, "small"));
	m = done_new("big", 4096);
	assert_int_equal(outbox_put(ob, &m, 0), ERR_OK);
	outbox_destroy(&ob);	/* frees what is still held */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_held_until_acked),
		cmocka_unit_test(test_order_kept_when_refused),
		cmocka_unit_test(test_ready_resends_now_marked),
		cmocka_unit_test(test_backoff_and_drop),
		cmocka_unit_test(test_backoff_capped),
		cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
