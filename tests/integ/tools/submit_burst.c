/*
 * submit_burst — sends N SUBMITs back to back on one connection and prints
 * the first reply to each, one line per job, in order of arrival:
 *
 *   accepted ID | busy RETRY_MS | error ERR MESSAGE
 *
 *   submit_burst EP TENANT N [CODE_BYTES]   (TENANT "-" sends no tenant field)
 *
 * CODE_BYTES pads each job's code with a comment to that size (big
 * submissions: tests/integ/test_stall.sh).
 * A test tool for admission control (tests/integ/test_curve.sh): the CLI
 * retries BUSY by itself, which hides the retry_ms a test must check.
 * CURVE keys come from SLUICE_CURVE_KEY / SLUICE_BROKER_KEY as for the CLI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "common/log.h"
#include "common/util.h"

int
main(int argc, char **argv)
{
	static const char line[] = "console.log(1)\n//";
	struct client *c;
	uint64_t n, got = 0, size = sizeof(line) - 1;
	char *code;

	log_init("submit_burst", LOG_LEVEL_WARN);
	if ((argc != 4 && argc != 5) || !util_parse_u64(argv[3], 1, 10000, &n) ||
	    (argc == 5 && !util_parse_u64(argv[4], sizeof(line) - 1, 1u << 20, &size))) {
		fprintf(stderr, "usage: submit_burst EP TENANT N [CODE_BYTES]\n");
		return 2;
	}
	if ((code = malloc(size + 1)) == NULL)
		return 1;
	memset(code, 'x', size);
	memcpy(code, line, sizeof(line) - 1);
	code[size] = '\0';
	if ((c = client_new(argv[1])) == NULL)
		return 1;
	for (uint64_t i = 0; i < n; i++) {
		struct msg *m = msg_new(MSG_SUBMIT);
		if (m == NULL || msg_set_str(m, MSG_F_CODE, code) != ERR_OK ||
		    (strcmp(argv[2], "-") != 0 && msg_set_str(m, MSG_F_TENANT, argv[2]) != ERR_OK) ||
		    client_send(c, m, NULL) != ERR_OK) {
			msg_destroy(&m);
			client_destroy(&c);
			return 1;
		}
		msg_destroy(&m);
	}
	while (got < n) {
		struct msg *r = NULL;
		if (client_recv(c, 10000, &r) != ERR_OK)
			break;
		switch (msg_cmd(r)) {
		case MSG_ACCEPTED:
			printf("accepted %s\n", msg_str(r, MSG_F_ID, "?"));
			got++;
			break;
		case MSG_BUSY:
			printf("busy %llu\n", (unsigned long long)msg_u64(r, MSG_F_RETRY_MS, 0));
			got++;
			break;
		case MSG_ERROR:
			printf("error %llu %s\n", (unsigned long long)msg_u64(r, MSG_F_ERRCODE, 0),
			    msg_str(r, MSG_F_MESSAGE, ""));
			got++;
			break;
		default:
			break;	/* RESULT, JOB_STATE: not a first reply */
		}
		msg_destroy(&r);
	}
	client_destroy(&c);
	free(code);
	return got == n ? 0 : 1;
}
