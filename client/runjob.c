/*
 * runjob — `sluice run`'s options, input and output (runjob.h).  Runs in the
 * CLI (sluice-cli) and in the front binary (sluice).  Option values come from
 * the user's command line; RESULT messages were decoded strictly by msg.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/runjob.h"
#include "common/privacy_mode.h"
#include "common/util.h"

const struct option runjob_options[] = {
	{ "broker", required_argument, NULL, RUNJOB_BROKER },
	{ "session", required_argument, NULL, RUNJOB_SESSION },
	{ "timeout", required_argument, NULL, RUNJOB_TIMEOUT },
	{ "memory", required_argument, NULL, RUNJOB_MEMORY },
	{ "pids", required_argument, NULL, RUNJOB_PIDS },
	{ "workspace", required_argument, NULL, RUNJOB_WORKSPACE },
	{ "output-bytes", required_argument, NULL, RUNJOB_OUTPUT_BYTES },
	{ "json", no_argument, NULL, RUNJOB_JSON },
	{ "tenant", required_argument, NULL, RUNJOB_TENANT },
	{ "key", required_argument, NULL, RUNJOB_KEY },
	{ "priority", required_argument, NULL, RUNJOB_PRIORITY },
	{ "out", required_argument, NULL, RUNJOB_OUT },
	{ "tools", required_argument, NULL, RUNJOB_TOOLS },
	{ "privacy-mode", required_argument, NULL, RUNJOB_PRIVACY_MODE },
	{ "file", required_argument, NULL, RUNJOB_FILE },
	{ "help", no_argument, NULL, RUNJOB_HELP },
	{ NULL, 0, NULL, 0 },
};

/* The numeric job limits: each a SUBMIT field bounded by its schema maximum. */
static const struct {
	int opt;
	const char *name;
	enum msg_field f;
} limits[] = {
	{ RUNJOB_TIMEOUT, "timeout", MSG_F_TIMEOUT_MS },
	{ RUNJOB_MEMORY, "memory", MSG_F_MEMORY_MB },
	{ RUNJOB_PIDS, "pids", MSG_F_PIDS },
	{ RUNJOB_WORKSPACE, "workspace", MSG_F_WORKSPACE_MB },
	{ RUNJOB_OUTPUT_BYTES, "output-bytes", MSG_F_OUTPUT_BYTES },
};

enum runjob_apply
runjob_apply(struct msg *sub, int ch, const char *arg, uint64_t *timeout_ms, char *why,
    size_t whysz)
{
	enum privacy_mode pm;
	uint64_t v;

	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		if (limits[i].opt != ch)
			continue;
		if (!util_parse_u64(arg, 1, msg_field_max(limits[i].f), &v) ||
		    msg_set_u64(sub, limits[i].f, v) != ERR_OK) {
			snprintf(why, whysz, "bad value for --%s", limits[i].name);
			return RUNJOB_BAD;
		}
		if (ch == RUNJOB_TIMEOUT)
			*timeout_ms = v;
		return RUNJOB_SET;
	}
	switch (ch) {
	case RUNJOB_SESSION:
		if (msg_set_str(sub, MSG_F_SESSION, arg) != ERR_OK) {
			snprintf(why, whysz, "--session too long");
			return RUNJOB_BAD;
		}
		return RUNJOB_SET;
	case RUNJOB_TENANT:
	case RUNJOB_KEY:
		if (msg_set_str(sub, ch == RUNJOB_TENANT ? MSG_F_TENANT : MSG_F_KEY, arg) != ERR_OK) {
			snprintf(why, whysz, "--%s too long", ch == RUNJOB_TENANT ? "tenant" : "key");
			return RUNJOB_BAD;
		}
		return RUNJOB_SET;
	case RUNJOB_TOOLS:
		if (msg_set_str(sub, MSG_F_TOOLS, arg) != ERR_OK) {
			snprintf(why, whysz, "--tools longer than 1 KiB");
			return RUNJOB_BAD;
		}
		return RUNJOB_SET;
	case RUNJOB_PRIVACY_MODE:
		if (!privacy_mode_parse(arg, &pm) ||
		    msg_set_str(sub, MSG_F_PRIVACY_MODE, arg) != ERR_OK) {
			snprintf(why, whysz, "--privacy-mode wants redact|tokenize|hash|report");
			return RUNJOB_BAD;
		}
		return RUNJOB_SET;
	case RUNJOB_PRIORITY:
		if (!util_parse_u64(arg, 0, 9, &v) || msg_set_u64(sub, MSG_F_PRIORITY, v) != ERR_OK) {
			snprintf(why, whysz, "--priority wants 0..9");
			return RUNJOB_BAD;
		}
		return RUNJOB_SET;
	default:
		return RUNJOB_OTHER;
	}
}

static const char *
lang_of(const char *file)
{
	const char *dot = strrchr(file, '.');
	if (dot != NULL && (strcmp(dot, ".js") == 0 || strcmp(dot, ".mjs") == 0))
		return "js";
	return "ts";
}

bool
runjob_load_code(struct msg *sub, const char *file, char *why, size_t whysz)
{
	char *code = NULL;
	size_t len;
	enum err e;

	e = util_read_file(strcmp(file, "-") == 0 ? "/dev/stdin" : file,
	    (size_t)msg_field_max(MSG_F_CODE), &code, &len);
	if (e != ERR_OK) {
		snprintf(why, whysz, "%s: %s", file, e == ERR_TOOBIG ? "larger than 1 MiB" : "cannot read");
		return false;
	}
	e = msg_set_bin(sub, MSG_F_CODE, code, len);
	free(code);
	if (e != ERR_OK || msg_set_str(sub, MSG_F_LANG, lang_of(file)) != ERR_OK) {
		snprintf(why, whysz, "%s: %s", file, err_str(e));
		return false;
	}
	return true;
}

void
runjob_print_output(const struct msg *res)
{
	size_t olen, elen;
	const void *out = msg_bin(res, MSG_F_STDOUT, &olen);
	const void *err = msg_bin(res, MSG_F_STDERR, &elen);

	if (olen)
		fwrite(out, 1, olen, stdout);
	if (elen)
		fwrite(err, 1, elen, stderr);
	fflush(stdout);
}

int
runjob_status(const struct msg *res, bool json)
{
	if (strcmp(msg_str(res, MSG_F_STATUS, ""), "ok") == 0)
		return 0;
	if (!json)
		fprintf(stderr, "sluice: job %s %s%s%s\n", msg_str(res, MSG_F_ID, "?"),
		    msg_str(res, MSG_F_STATUS, "?"), msg_has(res, MSG_F_REASON) ? ": " : "",
		    msg_str(res, MSG_F_REASON, ""));
	return 1;
}

void
runjob_exit(int rc)
{
	/* The result is printed and nothing is left to send: end here, without
	 * any library teardown (stopping ZeroMQ's I/O and reaper threads was
	 * ~1-2 ms of every `sluice run` of a trivial job).  An error writing
	 * the output (a full disk, a closed pipe) still fails the command. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "sluice run: cannot write the output: %s\n", strerror(errno));
		rc = rc == 0 ? 1 : rc;
	}
	fflush(stderr);
	_exit(rc);
}

/* See runjob.h. */
void
runjob_wait_init(struct runjob_wait *w, const char *req, int accept_ms, int result_ms,
    int busy_retries)
{
	w->req = req;
	w->accept_ms = accept_ms;
	w->result_ms = result_ms;
	w->busy_left = busy_retries;
	w->accepted = false;
	w->deadline = util_now_ms() + accept_ms;
}

/* See runjob.h. */
enum runjob_next
runjob_reply(struct runjob_wait *w, struct msg *m, int64_t *sleep_ms, enum err *e, char *why,
    size_t whysz)
{
	enum runjob_next next = RUNJOB_WAIT;

	if (strcmp(msg_str(m, MSG_F_REQ, ""), w->req) != 0) {
		msg_destroy(&m);	/* a reply to an earlier request */
		return RUNJOB_WAIT;
	}
	switch (msg_cmd(m)) {
	case MSG_ACCEPTED:
		w->accepted = true;
		w->deadline = util_now_ms() + w->result_ms;
		break;
	case MSG_RESULT:
		return RUNJOB_RESULT;
	case MSG_JOB_STATE:
		/* Held for a human: say so, and keep waiting (the approval
		 * deadline bounds the wait on the broker's side). */
		if (strcmp(msg_str(m, MSG_F_STATE, ""), "held") == 0) {
			fprintf(stderr, "sluice: job %s is waiting for human approval (risk L3)\n",
			    msg_str(m, MSG_F_ID, "?"));
			w->deadline = INT64_MAX;
		}
		break;
	case MSG_BUSY:
		if (w->busy_left-- == 0) {
			snprintf(why, whysz, "the broker stayed busy");
			*e = ERR_BUSY;
			next = RUNJOB_FAIL;
			break;
		}
		*sleep_ms = (int64_t)msg_u64(m, MSG_F_RETRY_MS, 100);
		w->deadline = util_now_ms() + *sleep_ms + w->accept_ms;
		next = RUNJOB_RESEND;
		break;
	case MSG_ERROR:
		*e = (enum err)msg_u64(m, MSG_F_ERRCODE, ERR_INTERNAL);
		snprintf(why, whysz, "rejected: %s", msg_str(m, MSG_F_MESSAGE, err_str(*e)));
		if (*e == ERR_OK)
			*e = ERR_INTERNAL;
		next = RUNJOB_FAIL;
		break;
	default:
		break;
	}
	msg_destroy(&m);
	return next;
}

/* See runjob.h. */
void
runjob_timeout_why(const struct runjob_wait *w, const char *hint, char *why, size_t whysz)
{
	if (w->accepted)
		snprintf(why, whysz, "no result within %d ms", w->result_ms);
	else
		snprintf(why, whysz, "the broker did not answer within %d ms (is it running?%s)",
		    w->accept_ms, hint);
}
