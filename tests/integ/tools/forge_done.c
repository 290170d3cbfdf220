/*
 * forge_done — a hostile worker for tests: registers on the broker's back
 * endpoint as HOST with one slot, then sends a DONE for job ID that was
 * never leased to it (status ok, stdout "forged"), and waits a moment for
 * whatever the broker answers.
 *
 *   forge_done EP HOST ID
 *
 * Prints what came back ("done_ack ID", "error ERR MESSAGE" or nothing) and
 * exits 0 once the DONE is sent (tests/integ/test_ack.sh checks the job
 * still ends with its real result).
 */
#include <czmq.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/msg.h"
#include "common/wire.h"
#include "tests/integ/tools/fake_worker.h"

int
main(int argc, char **argv)
{
	zsock_t *s;
	struct msg *m;
	char why[256];

	log_init("forge_done", LOG_LEVEL_WARN);
	if (argc != 4) {
		fprintf(stderr, "usage: forge_done EP HOST ID\n");
		return 2;
	}
	if ((s = fake_worker_ready(argv[1], argv[2], 1)) == NULL)
		return 1;
	zclock_sleep(300);	/* registered before the DONE */
	m = msg_new(MSG_DONE);
	if (m != NULL) {
		msg_set_str(m, MSG_F_ID, argv[3]);
		msg_set_str(m, MSG_F_STATUS, "ok");
		msg_set_bin(m, MSG_F_STDOUT, "forged\n", 7);
	}
	if (fake_send(s, m) != 0)
		goto fail;
	zsock_set_rcvtimeo(s, 250);
	for (int i = 0; i < 2; i++) {
		struct msg *r = NULL;
		if (wire_recv(s, false, NULL, &r, why, sizeof(why)) != ERR_OK || r == NULL)
			break;
		if (msg_cmd(r) == MSG_DONE_ACK)
			printf("done_ack %s\n", msg_str(r, MSG_F_ID, "?"));
		else if (msg_cmd(r) == MSG_ERROR)
			printf("error %llu %s\n", (unsigned long long)msg_u64(r, MSG_F_ERRCODE, 0),
			    msg_str(r, MSG_F_MESSAGE, ""));
		msg_destroy(&r);
	}
	zsock_destroy(&s);
	return 0;
fail:
	zsock_destroy(&s);
	return 1;
}
