/*
 * cmd_audit — `sluice audit tail|export|verify`: read the broker's audit
 * store (as a RocksDB secondary, so it works while the broker runs), export
 * evidence packs, verify packs offline.
 *
 * Runs in the CLI.  Trusts its flags only after parsing them; the store and
 * packs are decoded strictly by audit_store/evidence.
 *
 * Note: the CLI includes common/audit_store.h and common/audit_export.h (the
 * store's reader half); see docs/AUDIT.md about moving them to common/.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/audit_export.h"
#include "common/audit_store.h"
#include "client/cmd.h"
#include "common/audit.h"
#include "common/err.h"
#include "common/evidence.h"
#include "common/log.h"
#include "common/util.h"

#define CMD_AUDIT_COUNT_MAX 1000000

struct cmd_audit_opts {
	const char *data;
	const char *session;
	const char *job;
	const char *type_name;
	const char *since;
	const char *until;
	const char *out;
	const char *pubkey;
	const char *dir;
	bool follow;
	bool json;
	uint64_t count;
	enum audit_type type;
};

static volatile sig_atomic_t cmd_audit_stop;

static void
cmd_audit_on_signal(int sig)
{
	(void)sig;
	cmd_audit_stop = 1;
}

static int
cmd_audit_usage(void)
{
	fprintf(stderr,
	    "usage: sluice audit tail [--data DIR] [--follow] [--session S] [--job J]\n"
	    "                         [--type T] [--json] [--count N]\n"
	    "       sluice audit export [--data DIR] (--session S | --job ID |\n"
	    "                           --since T --until T) --out DIR\n"
	    "       sluice audit verify DIR [--pubkey HEX]\n"
	    "DIR defaults to $SLUICE_DATA or ./sluice-data/broker; times are\n"
	    "ISO 8601 UTC (a prefix such as 2026-11-26T05 works), until is exclusive.\n");
	return 2;
}

/* Parses flags from argv[2..]; returns 0 or 2 (usage). */
static int
cmd_audit_parse(int argc, char **argv, struct cmd_audit_opts *o)
{
	struct {
		const char *flag;
		const char **dst;
	} valued[] = {
		{ "--data", &o->data }, { "--session", &o->session }, { "--job", &o->job },
		{ "--type", &o->type_name }, { "--since", &o->since }, { "--until", &o->until },
		{ "--out", &o->out }, { "--pubkey", &o->pubkey },
	};
	const char *count = NULL;

	for (int i = 2; i < argc; i++) {
		size_t k;
		if (strcmp(argv[i], "--follow") == 0) {
			o->follow = true;
			continue;
		}
		if (strcmp(argv[i], "--json") == 0) {
			o->json = true;
			continue;
		}
		if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			count = argv[++i];
			continue;
		}
		for (k = 0; k < sizeof(valued) / sizeof(valued[0]); k++)
			if (strcmp(argv[i], valued[k].flag) == 0)
				break;
		if (k < sizeof(valued) / sizeof(valued[0])) {
			if (i + 1 >= argc)
				return cmd_audit_usage();
			*valued[k].dst = argv[++i];
			continue;
		}
		if (argv[i][0] == '-' || o->dir != NULL) {
			fprintf(stderr, "sluice audit: unexpected argument '%s'\n", argv[i]);
			return cmd_audit_usage();
		}
		o->dir = argv[i];
	}
	if (count != NULL && !util_parse_u64(count, 1, CMD_AUDIT_COUNT_MAX, &o->count)) {
		fprintf(stderr, "sluice audit: --count wants 1..%d\n", CMD_AUDIT_COUNT_MAX);
		return 2;
	}
	if (o->type_name != NULL && audit_type_parse(o->type_name, &o->type) != ERR_OK) {
		fprintf(stderr, "sluice audit: unknown event type '%s'\n", o->type_name);
		return 2;
	}
	if (o->data == NULL)
		o->data = getenv("SLUICE_DATA");
	if (o->data == NULL || o->data[0] == '\0')
		o->data = "./sluice-data/broker";
	/* The broker keeps its audit store in DATA/audit: accept either. */
	static char sub[4096];
	snprintf(sub, sizeof(sub), "%s/audit/CURRENT", o->data);
	if (access(sub, F_OK) == 0) {
		snprintf(sub, sizeof(sub), "%s/audit", o->data);
		o->data = sub;
	}
	return 0;
}

static struct audit_store *
cmd_audit_open(const char *data)
{
	struct audit_store *s;
	char why[512];
	int err;

	if ((s = audit_store_open_reader(data, &err, why, sizeof(why))) == NULL)
		fprintf(stderr, "sluice audit: %s: %s\n", data, why);
	return s;
}

static bool
cmd_audit_match(const struct cmd_audit_opts *o, const struct audit_event *ev)
{
	return (o->session == NULL || strcmp(ev->session, o->session) == 0) &&
	    (o->job == NULL || strcmp(ev->job, o->job) == 0) &&
	    (o->type_name == NULL || ev->type == o->type);
}

static int
cmd_audit_print(const struct cmd_audit_opts *o, const struct audit_event *ev)
{
	char *line;

	if (o->json) {
		if ((line = audit_event_to_json(ev)) == NULL)
			return ERR_NOMEM;
		printf("%s\n", line);
		free(line);
		return ERR_OK;
	}
	printf("%8llu %s %-17s job=%s session=%s actor=%s %s\n",
	    (unsigned long long)ev->seq, ev->time, audit_type_name(ev->type),
	    ev->job[0] ? ev->job : "-", ev->session[0] ? ev->session : "-", ev->actor,
	    ev->details ? ev->details : "{}");
	return ERR_OK;
}

/* Keeps the last `count` matching seqs in a ring. */
struct cmd_audit_ring {
	const struct cmd_audit_opts *o;
	uint64_t *seqs;
	uint64_t n;	/* total seen */
	uint64_t last;	/* highest seq visited */
};

static int
cmd_audit_ring_add(const struct audit_event *ev, void *arg)
{
	struct cmd_audit_ring *r = arg;

	if (ev->seq > r->last)
		r->last = ev->seq;
	if (!cmd_audit_match(r->o, ev))
		return 0;
	r->seqs[r->n % r->o->count] = ev->seq;
	r->n++;
	return 0;
}

static int
cmd_audit_print_new(const struct audit_event *ev, void *arg)
{
	struct cmd_audit_ring *r = arg;

	r->last = ev->seq;
	if (cmd_audit_match(r->o, ev))
		cmd_audit_print(r->o, ev);
	return 0;
}

static int
cmd_audit_tail(struct cmd_audit_opts *o)
{
	struct cmd_audit_ring r = { .o = o };
	struct audit_store *s;
	struct audit_event ev;
	uint8_t h[AUDIT_HASH_LEN];
	uint64_t head, first;
	int rc;

	if (o->count == 0)
		o->count = 20;
	if ((s = cmd_audit_open(o->data)) == NULL)
		return 1;
	if ((r.seqs = calloc(o->count, sizeof(*r.seqs))) == NULL) {
		audit_store_destroy(&s);
		return 1;
	}
	audit_store_head(s, &head, h);
	if (o->session != NULL)
		rc = audit_store_scan_session(s, o->session, cmd_audit_ring_add, &r);
	else if (o->job != NULL)
		rc = audit_store_scan_job(s, o->job, cmd_audit_ring_add, &r);
	else if (o->type_name != NULL)
		rc = audit_store_scan_type(s, o->type, NULL, NULL, cmd_audit_ring_add, &r);
	else
		rc = audit_store_scan_seq(s, head > o->count ? head - o->count + 1 : 1, 0,
		    cmd_audit_ring_add, &r);
	first = r.n > o->count ? r.n - o->count : 0;
	for (uint64_t i = first; i < r.n && rc == ERR_OK; i++) {
		if ((rc = audit_store_get(s, r.seqs[i % o->count], &ev)) != ERR_OK)
			break;
		cmd_audit_print(o, &ev);
		audit_event_clear(&ev);
	}
	fflush(stdout);
	r.last = head;
	if (o->follow && rc == ERR_OK) {
		struct sigaction sa = { .sa_handler = cmd_audit_on_signal };
		struct timespec nap = { 0, 200 * 1000 * 1000 };
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		while (!cmd_audit_stop && rc == ERR_OK) {
			nanosleep(&nap, NULL);
			if ((rc = audit_store_catch_up(s)) != ERR_OK)
				break;
			rc = audit_store_scan_seq(s, r.last + 1, 0, cmd_audit_print_new, &r);
			fflush(stdout);
		}
	}
	if (rc != ERR_OK)
		fprintf(stderr, "sluice audit tail: %s\n", err_str(rc));
	free(r.seqs);
	audit_store_destroy(&s);
	return rc == ERR_OK ? 0 : 1;
}

static int
cmd_audit_export(struct cmd_audit_opts *o)
{
	struct evidence_selection sel = { 0 };
	struct audit_export_result res;
	struct audit_store *s;
	char why[512];
	int nsel = (o->session != NULL) + (o->job != NULL) +
	    (o->since != NULL || o->until != NULL);
	int rc;

	if (o->out == NULL || nsel != 1 || o->dir != NULL || o->follow)
		return cmd_audit_usage();
	if (o->session != NULL || o->job != NULL) {
		const char *v = o->session ? o->session : o->job;
		sel.kind = o->session ? EVIDENCE_SESSION : EVIDENCE_JOB;
		if (strlen(v) == 0 || strlen(v) > AUDIT_NAME_MAX) {
			fprintf(stderr, "sluice audit export: selection value too long or empty\n");
			return 2;
		}
		snprintf(sel.value, sizeof(sel.value), "%s", v);
	} else {
		if (o->since == NULL || o->until == NULL) {
			fprintf(stderr, "sluice audit export: --since and --until go together\n");
			return 2;
		}
		if (!audit_time_prefix_is_valid(o->since) || !audit_time_prefix_is_valid(o->until)) {
			fprintf(stderr, "sluice audit export: --since and --until want UTC times "
			    "of the form 2026-11-26T05:40:01.123456789Z, or a prefix of one from "
			    "the year on (2026-11-26T05)\n");
			return 2;
		}
		if (strcmp(o->since, o->until) >= 0) {
			fprintf(stderr, "sluice audit export: --since (%s) must come before "
			    "--until (%s), which is exclusive\n", o->since, o->until);
			return 2;
		}
		sel.kind = EVIDENCE_TIME;
		snprintf(sel.since, sizeof(sel.since), "%s", o->since);
		snprintf(sel.until, sizeof(sel.until), "%s", o->until);
	}
	if ((s = cmd_audit_open(o->data)) == NULL)
		return 1;
	rc = audit_export(s, &sel, o->out, &res, why, sizeof(why));
	audit_store_destroy(&s);
	if (rc != ERR_OK) {
		fprintf(stderr, "sluice audit export: %s\n", why);
		return 1;
	}
	printf("exported %llu events (%llu other events proved by digest) to %s\n",
	    (unsigned long long)res.events, (unsigned long long)res.gaps, o->out);
	if (res.anchored)
		printf("anchored at signed checkpoint seq %llu\n",
		    (unsigned long long)res.anchor_seq);
	else
		printf("anchored at the chain head seq %llu (no signed checkpoint covers it "
		    "yet; the pack signature still binds it)\n",
		    (unsigned long long)res.anchor_seq);
	return 0;
}

static int
cmd_audit_verify(struct cmd_audit_opts *o)
{
	struct evidence_report rep;
	uint8_t pin[AUDIT_PK_LEN];
	int rc;

	if (o->dir == NULL || o->follow || o->out != NULL)
		return cmd_audit_usage();
	if (o->pubkey != NULL && audit_unhex(o->pubkey, pin, AUDIT_PK_LEN) != ERR_OK) {
		fprintf(stderr, "sluice audit verify: --pubkey wants 64 hex chars\n");
		return 2;
	}
	rc = evidence_verify(o->dir, o->pubkey ? pin : NULL, &rep);
	if (rc != ERR_OK) {
		printf("FAILED: %s\n", rep.reason[0] ? rep.reason : err_str(rc));
		if (rep.bad_line != 0)
			printf("first bad event: line %zu of events.jsonl, seq %llu\n",
			    rep.bad_line, (unsigned long long)rep.bad_seq);
		return 1;
	}
	printf("OK: %llu events, seq %llu..%llu, chain %s seq %llu, signature valid%s\n",
	    (unsigned long long)rep.events, (unsigned long long)rep.first_seq,
	    (unsigned long long)rep.last_seq,
	    rep.anchored ? "anchored at signed checkpoint" : "ends at unsigned head",
	    (unsigned long long)rep.anchor_seq,
	    o->pubkey ? " (pinned key)" : " (key from the manifest: pin it with --pubkey)");
	return 0;
}

int
cmd_audit(int argc, char **argv)
{
	struct cmd_audit_opts o = { 0 };
	int rc;

	if (argc < 2)
		return cmd_audit_usage();
	if ((rc = cmd_audit_parse(argc, argv, &o)) != 0)
		return rc;
	if (strcmp(argv[1], "tail") == 0) {
		if (o.dir != NULL || o.out != NULL)
			return cmd_audit_usage();
		return cmd_audit_tail(&o);
	}
	if (strcmp(argv[1], "export") == 0)
		return cmd_audit_export(&o);
	if (strcmp(argv[1], "verify") == 0)
		return cmd_audit_verify(&o);
	return cmd_audit_usage();
}
