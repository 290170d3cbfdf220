/*
 * outbox — the worker's DONEs until the broker acknowledges them.
 * Runs in sluice-worker's poll thread only; the DONEs are the worker's own.
 *
 * A DONE queued into a ZeroMQ socket is not delivered yet: when the worker
 * recreates its socket (broker silent) or the broker restarts, what sat in
 * the old pipe is gone.  So every DONE stays here until a DONE_ACK for its
 * job arrives (the broker stored the job's end, or had no use for it):
 *
 *   put ──> [never sent] ──send ok──> [sent, due at t] ──DONE_ACK──> freed
 *                 │                       │     ▲
 *                 │                       └─────┘ now >= t: sent again,
 *                 │                               t = now + wait (doubling)
 *                 └─ the socket refuses: stays, order kept
 *
 * A READY (new connection, or the broker did not know us) makes every held
 * DONE due at once and marks it `resent`: the broker's busy count for this
 * worker comes from that READY, which no longer counts the job's slot, so
 * its DONE must not free one.  The first send of a DONE is the only one that
 * may; every later copy carries `resent`.  A broker that never acknowledges
 * (one from before DONE_ACK) gets each DONE max_sends times, then it is
 * dropped with a warning: bounded memory, no endless resending.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "worker/outbox.h"

struct entry {
	struct entry *next;
	struct msg *done;	/* owned */
	size_t bytes;		/* its payload, for max_bytes */
	int64_t due_ms;		/* when sent: send again at */
	unsigned sends;		/* sends counted toward max_sends */
	bool sent;		/* the socket took it once */
	bool free_send;		/* a READY made it due: the next send is not counted */
};

struct outbox {
	struct outbox_conf conf;
	struct entry *head, *tail;
	size_t count, bytes, unsent;
	uint64_t dropped;
};

void
outbox_conf_default(struct outbox_conf *c, uint32_t heartbeat_ms)
{
	c->max_count = 4096;
	c->max_bytes = (size_t)512 << 20;
	c->resend_ms = 5 * (int64_t)heartbeat_ms;
	c->resend_max_ms = 60 * (int64_t)heartbeat_ms;
	c->max_sends = 16;
}

struct outbox *
outbox_new(const struct outbox_conf *c)
{
	struct outbox *ob = calloc(1, sizeof(*ob));

	if (ob != NULL)
		ob->conf = *c;
	return ob;
}

static void
entry_free(struct entry *e)
{
	msg_destroy(&e->done);
	free(e);
}

void
outbox_destroy(struct outbox **obp)
{
	struct outbox *ob = obp ? *obp : NULL;
	struct entry *e, *next;

	if (ob == NULL)
		return;
	for (e = ob->head; e != NULL; e = next) {
		next = e->next;
		entry_free(e);
	}
	free(ob);
	*obp = NULL;
}

/* What a DONE holds beyond its fixed part: outputs, files, reports. */
static size_t
payload_bytes(const struct msg *m)
{
	static const enum msg_field big[] = { MSG_F_STDOUT, MSG_F_STDERR, MSG_F_FILES,
	    MSG_F_SFILES, MSG_F_PRIVACY, MSG_F_TOOL_CALLS, MSG_F_REASON };
	size_t n = 2048, len;

	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		if (msg_bin(m, big[i], &len) != NULL)
			n += len;
	return n;
}

enum err
outbox_put(struct outbox *ob, struct msg **done, int64_t now)
{
	struct entry *e;
	size_t bytes = payload_bytes(*done);

	if (ob->count >= ob->conf.max_count || bytes > ob->conf.max_bytes - ob->bytes ||
	    ob->bytes > ob->conf.max_bytes)
		return ERR_TOOBIG;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return ERR_NOMEM;
	e->done = *done;
	*done = NULL;
	e->bytes = bytes;
	e->due_ms = now;
	if (ob->tail != NULL)
		ob->tail->next = e;
	else
		ob->head = e;
	ob->tail = e;
	ob->count++;
	ob->unsent++;
	ob->bytes += bytes;
	return ERR_OK;
}

/* Unlinks e (prev: the entry before it, or NULL) and frees it. */
static void
unlink_entry(struct outbox *ob, struct entry *prev, struct entry *e)
{
	if (prev != NULL)
		prev->next = e->next;
	else
		ob->head = e->next;
	if (ob->tail == e)
		ob->tail = prev;
	ob->count--;
	ob->bytes -= e->bytes;
	if (!e->sent)
		ob->unsent--;
	entry_free(e);
}

bool
outbox_ack(struct outbox *ob, const char *id)
{
	struct entry *prev = NULL;

	for (struct entry *e = ob->head; e != NULL; prev = e, e = e->next) {
		if (strcmp(msg_str(e->done, MSG_F_ID, ""), id) == 0) {
			unlink_entry(ob, prev, e);
			return true;
		}
	}
	return false;
}

void
outbox_ready(struct outbox *ob)
{
	for (struct entry *e = ob->head; e != NULL; e = e->next) {
		/* Out of memory here only costs the flag: an old-style DONE. */
		(void)msg_set_bool(e->done, MSG_F_RESENT, true);
		if (e->sent) {
			e->due_ms = INT64_MIN;
			e->free_send = true;
		}
	}
}

/* The wait after a counted send number `sends` (1, 2, ...). */
static int64_t
wait_after(const struct outbox *ob, unsigned sends)
{
	int64_t w = ob->conf.resend_ms;

	for (unsigned i = 1; i < sends && w < ob->conf.resend_max_ms; i++)
		w *= 2;
	return w < ob->conf.resend_max_ms ? w : ob->conf.resend_max_ms;
}

size_t
outbox_flush(struct outbox *ob, int64_t now, outbox_send_fn *send, void *arg)
{
	struct entry *prev = NULL, *e, *next;
	size_t n = 0;

	for (e = ob->head; e != NULL; e = next) {
		next = e->next;
		if (e->sent && now < e->due_ms) {
			prev = e;
			continue;
		}
		if (e->sent && !e->free_send && e->sends >= ob->conf.max_sends) {
			log_warnx("DONE of job %s dropped: sent %u times, never acknowledged (a broker "
			    "without DONE_ACK?); if the broker did not get it the job ends worker_lost",
			    msg_str(e->done, MSG_F_ID, "?"), e->sends);
			ob->dropped++;
			unlink_entry(ob, prev, e);
			continue;
		}
		if (send(arg, e->done) != ERR_OK)
			break;		/* the socket takes nothing now: keep the order */
		n++;
		if (!e->sent) {
			e->sent = true;
			ob->unsent--;
			/* Later copies must not free the slot again. */
			(void)msg_set_bool(e->done, MSG_F_RESENT, true);
		}
		if (e->free_send)
			e->free_send = false;
		else
			e->sends++;
		e->due_ms = now + wait_after(ob, e->sends > 0 ? e->sends : 1);
		prev = e;
	}
	return n;
}

size_t
outbox_size(const struct outbox *ob)
{
	return ob->count;
}

size_t
outbox_unsent(const struct outbox *ob)
{
	return ob->unsent;
}

uint64_t
outbox_dropped(const struct outbox *ob)
{
	return ob->dropped;
}
