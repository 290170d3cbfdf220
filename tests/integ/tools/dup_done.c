/*
 * dup_done — a faulty worker for tests: registers on the broker's back
 * endpoint as HOST with two slots, takes two jobs (STARTED for each), then
 * sends the first job's DONE twice (neither marked resent) and a DONE for an
 * unknown id, and keeps heartbeating for HOLD_MS while the second job is
 * still "running" (tests/integ/test_ack.sh asks the broker how many slots it
 * thinks are free meanwhile: one).  Then the second job's DONE, and exit.
 *
 *   dup_done EP HOST HOLD_MS
 *
 * Prints "leased ID1 ID2" once it has both jobs, "held" when HOLD_MS is
 * over; exits 1 when no two jobs came within 20 s.
 */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/msg.h"
#include "common/util.h"
#include "common/wire.h"
#include "tests/integ/tools/fake_worker.h"

static int
send_id(zsock_t *s, enum msg_cmd cmd, const char *id)
{
	struct msg *m = msg_new(cmd);

	if (m != NULL) {
		msg_set_str(m, MSG_F_ID, id);
		if (cmd == MSG_DONE) {
			msg_set_str(m, MSG_F_STATUS, "ok");
			msg_set_bin(m, MSG_F_STDOUT, "done\n", 5);
		}
	}
	return fake_send(s, m);
}

static int
heartbeat(zsock_t *s, uint64_t free_slots)
{
	struct msg *m = msg_new(MSG_HEARTBEAT);

	if (m != NULL)
		msg_set_u64(m, MSG_F_FREE, free_slots);
	return fake_send(s, m);
}

int
main(int argc, char **argv)
{
	char ids[2][65], why[256];
	uint64_t hold;
	int n = 0;
	zsock_t *s;

	log_init("dup_done", LOG_LEVEL_WARN);
	if (argc != 4 || !util_parse_u64(argv[3], 0, 600000, &hold)) {
		fprintf(stderr, "usage: dup_done EP HOST HOLD_MS\n");
		return 2;
	}
	if ((s = fake_worker_ready(argv[1], argv[2], 2)) == NULL)
		return 1;
	zsock_set_rcvtimeo(s, 200);
	for (int64_t end = util_now_ms() + 20000; n < 2 && util_now_ms() < end;) {
		struct msg *r = NULL;
		if (wire_recv(s, false, NULL, &r, why, sizeof(why)) != ERR_OK || r == NULL) {
			heartbeat(s, (uint64_t)(2 - n));
			continue;
		}
		if (msg_cmd(r) == MSG_JOB) {
			snprintf(ids[n], sizeof(ids[n]), "%s", msg_str(r, MSG_F_ID, ""));
			send_id(s, MSG_STARTED, ids[n++]);
		}
		msg_destroy(&r);
	}
	if (n < 2)
		goto fail;
	printf("leased %s %s\n", ids[0], ids[1]);
	fflush(stdout);
	if (send_id(s, MSG_DONE, ids[0]) != 0 || send_id(s, MSG_DONE, ids[0]) != 0 ||
	    send_id(s, MSG_DONE, "ffffffffffffffffffffffffffffffff") != 0)
		goto fail;
	for (int64_t end = util_now_ms() + (int64_t)hold; util_now_ms() < end;) {
		struct msg *r = NULL;
		heartbeat(s, 1);
		if (wire_recv(s, false, NULL, &r, why, sizeof(why)) == ERR_OK && r != NULL &&
		    msg_cmd(r) == MSG_JOB) {
			/* more than it has room for: refuse, as a real worker does */
			struct msg *d = msg_new(MSG_DONE);
			if (d != NULL) {
				msg_set_str(d, MSG_F_ID, msg_str(r, MSG_F_ID, ""));
				msg_set_str(d, MSG_F_STATUS, "rejected");
				msg_set_str(d, MSG_F_REASON, "worker has no free slot");
			}
			fake_send(s, d);
			printf("over-leased %s\n", msg_str(r, MSG_F_ID, ""));
			fflush(stdout);
		}
		msg_destroy(&r);
	}
	printf("held\n");
	send_id(s, MSG_DONE, ids[1]);
	zclock_sleep(300);
	zsock_destroy(&s);
	return 0;
fail:
	zsock_destroy(&s);
	return 1;
}
