/*
 * audit_tool — test driver for the audit store and `sluice audit` until
 * client/main.c dispatches to cmd_audit.
 *
 *   audit_tool gen DIR N [HOLD_SECONDS]   append N events (sessions s0..s2,
 *                                         jobs j0..j4) and commit; then keep
 *                                         the store open HOLD_SECONDS,
 *                                         appending one event every 100 ms
 *   audit_tool audit ARGS...              runs cmd_audit(ARGS) (as `sluice audit`)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/audit_store.h"
#include "client/cmd.h"
#include "common/audit.h"
#include "common/err.h"
#include "common/log.h"

static int
audit_tool_append(struct audit_store *s, unsigned long i)
{
	struct audit_event ev;
	char job[16], session[16];
	int rc;

	snprintf(job, sizeof(job), "j%lu", i % 5);
	snprintf(session, sizeof(session), "s%lu", i % 3);
	if ((rc = audit_event_init(&ev, (enum audit_type)(1 + i % 10))) != ERR_OK)
		return rc;
	audit_event_set(&ev, "actor", "worker@host2");
	audit_event_set(&ev, "job", job);
	audit_event_set(&ev, "session", session);
	audit_event_set(&ev, "tenant", "acme");
	ev.duration_ms = i;
	audit_event_set_details(&ev, "{\"path\":\"/work/main.ts\",\"bytes\":120}", 36);
	rc = audit_store_append(s, &ev);
	audit_event_clear(&ev);
	return rc;
}

static int
audit_tool_gen(const char *dir, unsigned long n, unsigned long hold)
{
	struct audit_store_options o = { .checkpoint_every = 16 };
	struct audit_store *s;
	char why[256];
	int err;
	unsigned long i;

	if ((s = audit_store_open(dir, &o, &err, why, sizeof(why))) == NULL) {
		fprintf(stderr, "audit_tool: %s\n", why);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (audit_tool_append(s, i) != ERR_OK)
			return 1;
		if (audit_store_pending(s) >= 64 && audit_store_commit(s) != ERR_OK)
			return 1;
	}
	if (audit_store_commit(s) != ERR_OK)
		return 1;
	printf("ready\n");
	fflush(stdout);
	for (unsigned long t = 0; t < hold * 10; t++, i++) {
		struct timespec nap = { 0, 100 * 1000 * 1000 };
		nanosleep(&nap, NULL);
		if (audit_tool_append(s, i) != ERR_OK || audit_store_commit(s) != ERR_OK)
			return 1;
	}
	audit_store_destroy(&s);
	return 0;
}

int
main(int argc, char **argv)
{
	log_init("audit_tool", LOG_LEVEL_WARN);
	if (argc >= 4 && strcmp(argv[1], "gen") == 0)
		return audit_tool_gen(argv[2], strtoul(argv[3], NULL, 10),
		    argc > 4 ? strtoul(argv[4], NULL, 10) : 0);
	if (argc >= 2 && strcmp(argv[1], "audit") == 0)
		return cmd_audit(argc - 1, argv + 1);
	fprintf(stderr, "usage: audit_tool gen DIR N [HOLD] | audit_tool audit ARGS...\n");
	return 2;
}
