/*
 * outbox — the worker's DONEs kept until the broker acknowledges them
 * (DONE_ACK), sent again after every READY and when unacknowledged for long.
 */
#ifndef SLUICE_WORKER_OUTBOX_H
#define SLUICE_WORKER_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/msg.h"

struct outbox;

struct outbox_conf {
	size_t max_count;	/* DONEs held at most */
	size_t max_bytes;	/* their payload (outputs, files) at most */
	int64_t resend_ms;	/* unacknowledged this long after a send: send again */
	int64_t resend_max_ms;	/* the wait doubles per send up to this */
	unsigned max_sends;	/* sends (READY resends not counted) before it is dropped */
};

/* Defaults for a heartbeat interval: resend after 5 intervals, doubling up to
 * 60, 16 sends (about 12 minutes at 1 s); 4096 DONEs, 512 MiB. */
void outbox_conf_default(struct outbox_conf *c, uint32_t heartbeat_ms);

/* Sends one DONE; ERR_OK when the socket took it. */
typedef enum err outbox_send_fn(void *arg, const struct msg *done);

/* A fresh outbox (caller owns; outbox_destroy); NULL when out of memory. */
struct outbox *outbox_new(const struct outbox_conf *c);

/* Frees the held DONEs too; accepts NULL and clears the pointer. */
void outbox_destroy(struct outbox **ob);

/* Takes *done (cleared) and holds it, due now.  ERR_TOOBIG when the outbox
 * is full (count or bytes) and ERR_NOMEM: *done stays with the caller. */
enum err outbox_put(struct outbox *ob, struct msg **done, int64_t now);

/* The broker acknowledged job `id`: forgets its DONE.  False when none was held. */
bool outbox_ack(struct outbox *ob, const char *id);

/* A READY was sent (a new connection, or the broker asked): every held DONE
 * is due now, is marked `resent` (its slot is not counted by that READY),
 * and this send does not count toward max_sends. */
void outbox_ready(struct outbox *ob);

/*
 * Sends what is due at `now`: first the DONEs never sent, oldest first,
 * stopping at the first the socket does not take (order kept); then the
 * unacknowledged ones whose wait is over.  One that reached max_sends is
 * dropped with a warning instead.  Returns how many were sent.
 */
size_t outbox_flush(struct outbox *ob, int64_t now, outbox_send_fn *send, void *arg);

/* DONEs held (sent or not), and those never sent. */
size_t outbox_size(const struct outbox *ob);
size_t outbox_unsent(const struct outbox *ob);

/* DONEs dropped unacknowledged since creation. */
uint64_t outbox_dropped(const struct outbox *ob);

#endif
