/*
 * cmd_approvals — `sluice approvals list|show|approve|deny`: the human side
 * of the approval queue, spoken to sluice-approver's control socket
 * (schemas/PROTOCOL.md, "CLI ⇄ approver"; docs/APPROVALS.md).
 *
 * Everything shown here came from an agent's job (code, session names, risk
 * excerpts) and is untrusted: it is printed through term_put(), which makes
 * control characters, bytes that are not UTF-8 and the invisible or
 * direction-changing code points visible instead of letting them act on the
 * reviewer's terminal ("Trojan Source" code that reads differently than it
 * runs).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"
#include "client/cmd.h"
#include "common/mpread.h"
#include "common/util.h"


#define APPROVALS_TIMEOUT_MS 5000
#define FINDINGS_MAX 512

struct opts {
	const char *control;
	const char *data;
	const char *reason;
	bool json;
};

/* --- printing untrusted text ---------------------------------------------- */

/* Length of the UTF-8 sequence at p (1..4) with its code point, or 0 when
 * the bytes are not valid UTF-8. */
static size_t
utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		c = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		c = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Code points that change how text reads without showing themselves:
 * C1 controls, bidi embeddings/overrides/isolates, zero-width characters,
 * line/paragraph separators, the BOM. */
static bool
is_invisible(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) || c == 0xfeff ||
	    c == 0x061c || c == 0x00ad;
}

/* Prints `n` untrusted bytes so that what the reviewer sees is what is
 * there.  Tabs pass when `tabs`; every other control is shown as \xNN. */
static void
term_put(FILE *out, const void *bytes, size_t n, bool tabs)
{
	const unsigned char *p = bytes;
	size_t i = 0;

	while (i < n) {
		uint32_t c = 0;
		size_t len = utf8_decode(p + i, n - i, &c);

		if (len == 0) {
			fprintf(out, "\\x%02x", p[i]);
			i++;
			continue;
		}
		if (c == '\t' && tabs)
			fputc('\t', out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", (unsigned)c);
		else if (is_invisible(c))
			fprintf(out, "<U+%04X>", (unsigned)c);
		else
			fwrite(p + i, 1, len, out);
		i += len;
	}
}

static void
term_puts(FILE *out, const char *s)
{
	term_put(out, s, strlen(s), false);
}

/* "in 4m12s" / "expired 3m05s ago" for a wall-clock deadline. */
static void
format_deadline(char *out, size_t outsz, uint64_t deadline_ms, uint64_t now_ms)
{
	bool past = now_ms >= deadline_ms;
	uint64_t s = (past ? now_ms - deadline_ms : deadline_ms - now_ms) / 1000;
	char span[32];

	if (s >= 86400)
		snprintf(span, sizeof(span), "%llud%02lluh", (unsigned long long)(s / 86400),
		    (unsigned long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(span, sizeof(span), "%lluh%02llum", (unsigned long long)(s / 3600),
		    (unsigned long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(span, sizeof(span), "%llum%02llus", (unsigned long long)(s / 60),
		    (unsigned long long)(s % 60));
	else
		snprintf(span, sizeof(span), "%llus", (unsigned long long)s);
	snprintf(out, outsz, past ? "expired %s ago" : "in %s", span);
}

static void
format_time(char *out, size_t outsz, uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outsz, "?");
}

static uint64_t
wall_ms(void)
{
	return (uint64_t)(util_wall_ns() / 1000000);
}

/* --- talking to the approver ---------------------------------------------- */

static const char *
control_endpoint(const struct opts *o, char *buf, size_t bufsz)
{
	const char *env = getenv("SLUICE_APPROVER_DATA");

	if (o->control != NULL && *o->control != '\0')
		return o->control;
	if (o->data != NULL && *o->data != '\0')
		snprintf(buf, bufsz, "ipc://%s/control", o->data);
	else if (env != NULL && *env != '\0')
		snprintf(buf, bufsz, "ipc://%s/control", env);
	else
		snprintf(buf, bufsz, "ipc://sluice-data/approver/control");
	return buf;
}

/* Sends `q` (taken) and waits for its reply.  Fresh reply in *out (which may
 * be an ERROR), or 1 with a message printed. */
static int
call(const struct opts *o, struct msg *q, struct msg **out)
{
	char ep[4200], req[33];
	const char *endpoint = control_endpoint(o, ep, sizeof(ep));
	struct client *c = NULL;
	int64_t deadline;
	int rc = 1;

	*out = NULL;
	if (q == NULL || (c = client_new_local(endpoint)) == NULL) {
		fprintf(stderr, "sluice approvals: cannot connect to %s\n", endpoint);
		goto out;
	}
	if (client_send(c, q, req) != ERR_OK) {
		fprintf(stderr, "sluice approvals: cannot send to %s\n", endpoint);
		goto out;
	}
	deadline = util_now_ms() + APPROVALS_TIMEOUT_MS;
	for (;;) {
		int64_t left = deadline - util_now_ms();
		struct msg *r = NULL;

		if (left <= 0) {
			fprintf(stderr, "sluice approvals: the approver at %s did not answer within "
			    "%d s (is sluice-approver running?)\n", endpoint, APPROVALS_TIMEOUT_MS / 1000);
			goto out;
		}
		if (client_recv(c, (int)left, &r) != ERR_OK)
			continue;
		if (strcmp(msg_str(r, MSG_F_REQ, ""), req) == 0 ||
		    (msg_cmd(r) == MSG_ERROR && !msg_has(r, MSG_F_REQ))) {
			*out = r;
			rc = 0;
			goto out;
		}
		msg_destroy(&r);
	}
out:
	msg_destroy(&q);
	client_destroy(&c);
	return rc;
}

/* Prints an ERROR reply; returns 1. */
static int
report_error(const struct msg *r)
{
	const char *text = msg_str(r, MSG_F_MESSAGE, "");

	fprintf(stderr, "sluice approvals: ");
	term_puts(stderr, text[0] ? text : err_str((int)msg_u64(r, MSG_F_ERRCODE, ERR_INTERNAL)));
	fputc('\n', stderr);
	return 1;
}

/* --- list ------------------------------------------------------------------ */

struct list_row {
	char id[65], session[129], tenant[65], level[5], state[16], verdict[9], actor[129];
	char tool[201];			/* a held MCP tool call; "" for a job */
	double score;
	bool has_score;
	uint64_t deadline_ms, time_ms;
};

static void
take_str(char *out, size_t outsz, const struct mpread_item *v)
{
	size_t n = v->len < outsz - 1 ? v->len : outsz - 1;
	memcpy(out, v->ptr, n);
	out[n] = '\0';
}

/* Decodes one item map of AP_LIST_REPLY into `row`; unknown keys are skipped
 * (newer approvers may add some).  False on malformed input. */
static bool
read_row(struct mpread *r, struct list_row *row)
{
	struct mpread_item head, key, v;

	memset(row, 0, sizeof(*row));
	if (mpread_next(r, &head) != ERR_OK || head.kind != MPREAD_MAP)
		return false;
	for (uint32_t i = 0; i < head.len; i++) {
		const struct mpread_item *k = &key;
		if (mpread_next(r, &key) != ERR_OK || key.kind != MPREAD_STR ||
		    mpread_next(r, &v) != ERR_OK)
			return false;
#define KEY_IS(s) (k->len == strlen(s) && memcmp(k->ptr, s, k->len) == 0)
		if (v.kind == MPREAD_STR) {
			if (KEY_IS("id"))
				take_str(row->id, sizeof(row->id), &v);
			else if (KEY_IS("session"))
				take_str(row->session, sizeof(row->session), &v);
			else if (KEY_IS("tenant"))
				take_str(row->tenant, sizeof(row->tenant), &v);
			else if (KEY_IS("level"))
				take_str(row->level, sizeof(row->level), &v);
			else if (KEY_IS("state"))
				take_str(row->state, sizeof(row->state), &v);
			else if (KEY_IS("verdict"))
				take_str(row->verdict, sizeof(row->verdict), &v);
			else if (KEY_IS("actor"))
				take_str(row->actor, sizeof(row->actor), &v);
			else if (KEY_IS("tool"))
				take_str(row->tool, sizeof(row->tool), &v);
		} else if (v.kind == MPREAD_UINT) {
			if (KEY_IS("deadline_ms"))
				row->deadline_ms = v.u;
			else if (KEY_IS("time_ms"))
				row->time_ms = v.u;
			else if (KEY_IS("score")) {
				row->score = (double)v.u;
				row->has_score = true;
			}
		} else if (v.kind == MPREAD_FLOAT && KEY_IS("score")) {
			row->score = v.f;
			row->has_score = true;
		} else if (v.kind == MPREAD_ARRAY || v.kind == MPREAD_MAP) {
			return false;	/* no nested values in a row */
		}
#undef KEY_IS
	}
	if (row->state[0] == '\0')
		snprintf(row->state, sizeof(row->state), "%s",
		    wall_ms() >= row->deadline_ms ? "expired" : "waiting");
	return true;
}

static void
print_row_text(const struct list_row *row, uint64_t now)
{
	char when[48], score[16];

	format_deadline(when, sizeof(when), row->deadline_ms, now);
	if (row->has_score)
		snprintf(score, sizeof(score), "%.2f", row->score);
	else
		snprintf(score, sizeof(score), "-");
	printf("%-32s  %-8s %-5s %-5s  %-22s  ", row->id, row->state, row->level, score, when);
	term_puts(stdout, row->session[0] ? row->session : "-");
	fputs(" / ", stdout);
	term_puts(stdout, row->tenant[0] ? row->tenant : "-");
	if (row->tool[0]) {
		fputs("  tool call ", stdout);
		term_puts(stdout, row->tool);
	}
	if (row->verdict[0]) {
		printf("  (%s by ", row->verdict);
		term_puts(stdout, row->actor);
		fputs(", awaiting the broker)", stdout);
	}
	fputc('\n', stdout);
}

/* A JSON string from wire bytes, made valid UTF-8 first (jansson refuses
 * invalid UTF-8). */
static json_t *
json_text(const char *s)
{
	size_t n;
	char *clean = util_utf8_clean(s, strlen(s), &n);
	json_t *j = clean != NULL ? json_stringn(clean, n) : NULL;

	free(clean);
	return j;
}

static json_t *
row_json(const struct list_row *row)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "id", json_text(row->id));
	json_object_set_new(o, "state", json_text(row->state));
	json_object_set_new(o, "session", json_text(row->session));
	json_object_set_new(o, "tenant", json_text(row->tenant));
	json_object_set_new(o, "level", json_text(row->level));
	if (row->tool[0])
		json_object_set_new(o, "tool", json_text(row->tool));
	if (row->has_score)
		json_object_set_new(o, "score", json_real(row->score));
	json_object_set_new(o, "deadline_ms", json_integer((json_int_t)row->deadline_ms));
	json_object_set_new(o, "time_ms", json_integer((json_int_t)row->time_ms));
	if (row->verdict[0]) {
		json_object_set_new(o, "verdict", json_text(row->verdict));
		json_object_set_new(o, "actor", json_text(row->actor));
	}
	return o;
}

static int
do_list(const struct opts *o)
{
	struct msg *r = NULL;
	const unsigned char *items;
	struct mpread rd;
	struct mpread_item head;
	json_t *arr = NULL;
	uint64_t now = wall_ms();
	size_t len;
	int rc = 1;

	if (call(o, msg_new(MSG_AP_LIST), &r) != 0)
		return 1;
	if (msg_cmd(r) != MSG_AP_LIST_REPLY) {
		rc = msg_cmd(r) == MSG_ERROR ? report_error(r) : 1;
		goto out;
	}
	items = msg_bin(r, MSG_F_ITEMS, &len);
	mpread_init(&rd, items, len);
	if (mpread_next(&rd, &head) != ERR_OK || head.kind != MPREAD_ARRAY) {
		fprintf(stderr, "sluice approvals: malformed list from the approver\n");
		goto out;
	}
	if (o->json && (arr = json_array()) == NULL)
		goto out;
	if (!o->json && head.len == 0)
		printf("no pending approvals\n");
	else if (!o->json)
		printf("%-32s  %-8s %-5s %-5s  %-22s  %s\n", "ID", "STATE", "LEVEL", "SCORE",
		    "DEADLINE", "SESSION / TENANT");
	for (uint32_t i = 0; i < head.len; i++) {
		struct list_row row;
		if (!read_row(&rd, &row)) {
			fprintf(stderr, "sluice approvals: malformed item %u in the list\n", i);
			goto out;
		}
		if (o->json)
			json_array_append_new(arr, row_json(&row));
		else
			print_row_text(&row, now);
	}
	if (o->json) {
		char *s = json_dumps(arr, JSON_COMPACT);
		if (s == NULL)
			goto out;
		printf("%s\n", s);
		free(s);
	}
	rc = 0;
out:
	json_decref(arr);
	msg_destroy(&r);
	return rc;
}

/* --- show ------------------------------------------------------------------ */

struct finding {
	char rule[65], category[65], excerpt[257];
	uint64_t line, col;
};

struct risk_view {
	double score;
	bool has_score;
	char level[8];
	struct finding *findings;	/* owned */
	size_t n;
};

static bool
read_finding(struct mpread *r, struct finding *f)
{
	struct mpread_item head, key, v;

	memset(f, 0, sizeof(*f));
	if (mpread_next(r, &head) != ERR_OK || head.kind != MPREAD_MAP)
		return false;
	for (uint32_t i = 0; i < head.len; i++) {
		if (mpread_next(r, &key) != ERR_OK || key.kind != MPREAD_STR)
			return false;
		if (key.len == 4 && memcmp(key.ptr, "line", 4) == 0) {
			if (mpread_u64(r, &f->line) != ERR_OK)
				return false;
		} else if (key.len == 3 && memcmp(key.ptr, "col", 3) == 0) {
			if (mpread_u64(r, &f->col) != ERR_OK)
				return false;
		} else if ((key.len == 4 && memcmp(key.ptr, "rule", 4) == 0) ||
		    (key.len == 8 && memcmp(key.ptr, "category", 8) == 0) ||
		    (key.len == 7 && memcmp(key.ptr, "excerpt", 7) == 0)) {
			char *dst = key.len == 4 ? f->rule : key.len == 8 ? f->category : f->excerpt;
			size_t dstsz = key.len == 7 ? sizeof(f->excerpt) : sizeof(f->rule);
			if (mpread_next(r, &v) != ERR_OK || (v.kind != MPREAD_STR && v.kind != MPREAD_BIN))
				return false;
			take_str(dst, dstsz, &v);
		} else if (mpread_skip(r, 8) != ERR_OK) {
			return false;
		}
	}
	return true;
}

/* Decodes the risk verdict {score, level, findings[]}; false when malformed
 * (the caller still shows the code). */
static bool
read_risk(const void *raw, size_t len, struct risk_view *rv)
{
	struct mpread r;
	struct mpread_item head, key, v;

	memset(rv, 0, sizeof(*rv));
	if (raw == NULL)
		return true;
	mpread_init(&r, raw, len);
	if (mpread_next(&r, &head) != ERR_OK || head.kind != MPREAD_MAP)
		return false;
	for (uint32_t i = 0; i < head.len; i++) {
		if (mpread_next(&r, &key) != ERR_OK || key.kind != MPREAD_STR)
			return false;
		if (key.len == 8 && memcmp(key.ptr, "findings", 8) == 0) {
			if (mpread_next(&r, &v) != ERR_OK || v.kind != MPREAD_ARRAY)
				return false;
			/* the count is untrusted: bounded, and each element read is checked */
			size_t want = v.len < FINDINGS_MAX ? v.len : FINDINGS_MAX;
			free(rv->findings);
			rv->n = 0;
			if ((rv->findings = calloc(want ? want : 1, sizeof(*rv->findings))) == NULL)
				return false;
			for (uint32_t k = 0; k < v.len; k++) {
				if (k < want) {
					if (!read_finding(&r, &rv->findings[rv->n]))
						return false;
					rv->n++;
				} else if (mpread_skip(&r, 8) != ERR_OK) {
					return false;
				}
			}
			continue;
		}
		if (mpread_next(&r, &v) != ERR_OK)
			return false;
		if (key.len == 5 && memcmp(key.ptr, "score", 5) == 0 && v.kind == MPREAD_FLOAT) {
			rv->score = v.f;
			rv->has_score = true;
		} else if (key.len == 5 && memcmp(key.ptr, "level", 5) == 0 && v.kind == MPREAD_STR) {
			take_str(rv->level, sizeof(rv->level), &v);
		} else if (v.kind == MPREAD_ARRAY || v.kind == MPREAD_MAP) {
			/* step back is impossible: skip the container's contents */
			for (uint32_t k = 0; k < (v.kind == MPREAD_MAP ? 2 * v.len : v.len); k++)
				if (mpread_skip(&r, 8) != ERR_OK)
					return false;
		}
	}
	return true;
}

static void
print_finding(const struct finding *f, bool under_line)
{
	fputs(under_line ? "        !  " : "  ", stdout);
	if (f->col > 0 && under_line)
		printf("col %llu: ", (unsigned long long)f->col);
	putchar('[');
	term_puts(stdout, f->category[0] ? f->category : "?");
	fputs("] ", stdout);
	term_puts(stdout, f->rule[0] ? f->rule : "?");
	if (f->excerpt[0]) {
		fputs(": ", stdout);
		term_puts(stdout, f->excerpt);
	}
	if (!under_line && f->line > 0)
		printf(" (line %llu)", (unsigned long long)f->line);
	putchar('\n');
}

/* Prints the code with line numbers, each line's findings under it, marked
 * with '>' in the gutter; findings that point nowhere in the code go last. */
static void
print_code(const unsigned char *code, size_t len, const struct risk_view *rv)
{
	uint64_t line = 1, lines = 0;
	size_t start = 0;
	bool orphans = false;

	while (start < len) {
		const unsigned char *nl = memchr(code + start, '\n', len - start);
		size_t end = nl != NULL ? (size_t)(nl - code) : len;
		bool marked = false;

		for (size_t k = 0; k < rv->n && !marked; k++)
			marked = rv->findings[k].line == line;
		printf("%c %5llu | ", marked ? '>' : ' ', (unsigned long long)line);
		term_put(stdout, code + start, end - start, true);
		putchar('\n');
		for (size_t k = 0; k < rv->n; k++)
			if (rv->findings[k].line == line)
				print_finding(&rv->findings[k], true);
		start = end + 1;
		lines = line++;
	}
	for (size_t k = 0; k < rv->n; k++)
		orphans |= rv->findings[k].line == 0 || rv->findings[k].line > lines;
	if (orphans) {
		printf("\nfindings without a line in the code:\n");
		for (size_t k = 0; k < rv->n; k++)
			if (rv->findings[k].line == 0 || rv->findings[k].line > lines)
				print_finding(&rv->findings[k], false);
	}
}

static int
do_show(const struct opts *o, const char *id)
{
	struct msg *q = msg_new(MSG_AP_SHOW), *r = NULL;
	struct risk_view rv;
	const unsigned char *code;
	const void *risk;
	char when[48], at[32];
	uint64_t now = wall_ms(), deadline;
	size_t codelen, risklen = 0;
	bool risk_ok;

	if (q == NULL || msg_set_str(q, MSG_F_ID, id) != ERR_OK) {
		msg_destroy(&q);
		fprintf(stderr, "sluice approvals: bad id\n");
		return 2;
	}
	if (call(o, q, &r) != 0)
		return 1;
	if (msg_cmd(r) != MSG_AP_SHOW_REPLY) {
		int rc = msg_cmd(r) == MSG_ERROR ? report_error(r) : 1;
		msg_destroy(&r);
		return rc;
	}
	deadline = msg_u64(r, MSG_F_DEADLINE_MS, 0);
	code = msg_bin(r, MSG_F_CODE, &codelen);
	risk = msg_bin(r, MSG_F_RISK, &risklen);
	risk_ok = read_risk(risk, risklen, &rv);

	printf("item      ");
	term_puts(stdout, msg_str(r, MSG_F_ID, ""));
	if (msg_has(r, MSG_F_TOOL)) {
		printf("\ntool call ");
		term_puts(stdout, msg_str(r, MSG_F_TOOL, ""));
		printf("  (job %.32s; the text below is its privacy-filtered arguments)",
		    msg_str(r, MSG_F_ID, ""));
	}
	printf("\nsession   ");
	term_puts(stdout, msg_str(r, MSG_F_SESSION, "-"));
	printf("\ntenant    ");
	term_puts(stdout, msg_str(r, MSG_F_TENANT, "-"));
	printf("\nlevel     ");
	term_puts(stdout, msg_str(r, MSG_F_LEVEL, rv.level[0] ? rv.level : "?"));
	if (rv.has_score)
		printf(" (score %.2f)", rv.score);
	format_deadline(when, sizeof(when), deadline, now);
	format_time(at, sizeof(at), deadline);
	printf("\ndeadline  %s (%s)%s\n", at, when, now >= deadline ?
	    " -- too late to approve: the broker has denied it" : "");
	if (msg_has(r, MSG_F_TIME_MS)) {
		format_time(at, sizeof(at), msg_u64(r, MSG_F_TIME_MS, 0));
		printf("received  %s\n", at);
	}
	printf("lang      ");
	term_puts(stdout, msg_str(r, MSG_F_LANG, "ts"));
	printf("\nfindings  %zu%s\n\n", rv.n, risk_ok ? "" : " (the risk verdict is malformed)");
	print_code(code, codelen, &rv);
	free(rv.findings);
	msg_destroy(&r);
	return 0;
}

/* --- approve / deny -------------------------------------------------------- */

/* The reviewer's name: $SLUICE_ACTOR, else $USER@host, else uid<N>@host. */
static void
actor_name(char *out, size_t outsz)
{
	const char *env = getenv("SLUICE_ACTOR"), *user = getenv("USER");
	char host[256];

	if (env != NULL && *env != '\0') {
		snprintf(out, outsz, "%s", env);
		return;
	}
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if (user != NULL && *user != '\0')
		snprintf(out, outsz, "%.200s@%.255s", user, host);
	else
		snprintf(out, outsz, "uid%u@%.255s", (unsigned)getuid(), host);
}

static int
do_decide(const struct opts *o, const char *id, const char *verdict)
{
	struct msg *q = msg_new(MSG_AP_DECIDE), *r = NULL;
	char actor[512];	/* longer than the field: msg_set_str refuses, not cuts */
	int rc;

	actor_name(actor, sizeof(actor));
	if (q == NULL || msg_set_str(q, MSG_F_ID, id) != ERR_OK ||
	    msg_set_str(q, MSG_F_VERDICT, verdict) != ERR_OK ||
	    msg_set_str(q, MSG_F_ACTOR, actor) != ERR_OK ||
	    msg_set_str(q, MSG_F_REASON, o->reason) != ERR_OK) {
		msg_destroy(&q);
		fprintf(stderr, "sluice approvals: id, actor or reason too long\n");
		return 2;
	}
	if (call(o, q, &r) != 0)
		return 1;
	if (msg_cmd(r) == MSG_AP_DECIDE_REPLY) {
		printf("%s ", strcmp(verdict, "approve") == 0 ? "approved" : "denied");
		term_puts(stdout, id);
		printf(" as ");
		term_puts(stdout, actor);
		printf(": decision ");
		term_puts(stdout, msg_str(r, MSG_F_STATUS, "sent"));
		if (msg_has(r, MSG_F_MESSAGE)) {
			printf(" (");
			term_puts(stdout, msg_str(r, MSG_F_MESSAGE, ""));
			putchar(')');
		}
		putchar('\n');
		rc = 0;
	} else {
		rc = msg_cmd(r) == MSG_ERROR ? report_error(r) : 1;
	}
	msg_destroy(&r);
	return rc;
}

/* --- entry ----------------------------------------------------------------- */

static int
usage(void)
{
	fprintf(stderr,
	    "usage: sluice approvals list [--json]\n"
	    "       sluice approvals show ID\n"
	    "       sluice approvals approve ID --reason TEXT\n"
	    "       sluice approvals deny ID --reason TEXT\n"
	    "options: --control EP | --data DIR   the approver's control socket\n"
	    "  (default ipc://$SLUICE_APPROVER_DATA/control, else ipc://sluice-data/approver/control)\n"
	    "  the decision is signed as $SLUICE_ACTOR, else $USER@host\n");
	return 2;
}

int
cmd_approvals(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "control", required_argument, NULL, 'c' },
		{ "data", required_argument, NULL, 'd' },
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	const char *sub;
	int ch, n;
	char **rest;

	if (argc < 2)
		return usage();
	sub = argv[1];
	/* getopt over the subcommand's arguments (argv[0] = the subcommand) */
	optind = 0;
	while ((ch = getopt_long(argc - 1, argv + 1, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': o.json = true; break;
		case 'c': o.control = optarg; break;
		case 'd': o.data = optarg; break;
		case 'r': o.reason = optarg; break;
		case 'h': usage(); return 0;
		default: return usage();
		}
	}
	rest = argv + 1 + optind;
	n = argc - 1 - optind;
	if (strcmp(sub, "list") == 0 && n == 0 && o.reason == NULL)
		return do_list(&o);
	if (strcmp(sub, "show") == 0 && n == 1 && o.reason == NULL && !o.json)
		return do_show(&o, rest[0]);
	if ((strcmp(sub, "approve") == 0 || strcmp(sub, "deny") == 0) && n == 1 && !o.json) {
		if (o.reason == NULL || o.reason[strspn(o.reason, " \t\r\n")] == '\0') {
			fprintf(stderr, "sluice approvals: %s needs --reason TEXT (recorded with the "
			    "decision)\n", sub);
			return 2;
		}
		if (strlen(o.reason) > 1024) {
			fprintf(stderr, "sluice approvals: --reason is limited to 1024 bytes\n");
			return 2;
		}
		return do_decide(&o, rest[0], strcmp(sub, "approve") == 0 ? "approve" : "deny");
	}
	return usage();
}
