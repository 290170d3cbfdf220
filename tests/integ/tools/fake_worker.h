/*
 * fake_worker.h — what the hostile and faulty worker test tools
 * (forge_done, dup_done) share: a DEALER on the broker's back endpoint that
 * has said READY as HOST with SLOTS free slots, and a send that frees the
 * message.  Header-only: each tool is one source file.
 */
#ifndef SLUICE_TEST_FAKE_WORKER_H
#define SLUICE_TEST_FAKE_WORKER_H

#include <czmq.h>

#include "common/msg.h"
#include "common/wire.h"

/* Sends m (NULL: out of memory) and destroys it; 0 when sent. */
static inline int
fake_send(zsock_t *s, struct msg *m)
{
	enum err e = m != NULL ? wire_send(s, NULL, m) : ERR_NOMEM;

	msg_destroy(&m);
	return e == ERR_OK ? 0 : 1;
}

/* Connects to EP and says READY; NULL when either fails. */
static inline zsock_t *
fake_worker_ready(const char *ep, const char *host, uint64_t slots)
{
	zsock_t *s = zsock_new_dealer(ep);
	struct msg *m;

	if (s == NULL)
		return NULL;
	wire_tune(s);
	if ((m = msg_new(MSG_READY)) != NULL) {
		msg_set_u64(m, MSG_F_SLOTS, slots);
		msg_set_u64(m, MSG_F_FREE, slots);
		msg_set_str(m, MSG_F_HOST, host);
	}
	if (fake_send(s, m) != 0)
		zsock_destroy(&s);
	return s;
}

#endif
