/*
 * runjob — what `sluice run` means, in one place for its two programs: the
 * full CLI (client/cmd_run.c in sluice-cli) and the libc-only front binary
 * (client/front.c, installed as `sluice`).  The option table, the validation
 * of every option that sets a SUBMIT field, how FILE becomes code, and how a
 * RESULT is printed and turned into an exit code live here, so the two
 * cannot drift apart.  Links against libc and common/{msg,mpread,util,err,
 * privacy_mode}.o only.
 */
#ifndef SLUICE_RUNJOB_H
#define SLUICE_RUNJOB_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/msg.h"

/* How long the CLI waits for ACCEPTED, and for the RESULT beyond the job's
 * own timeout. */
#define RUNJOB_ACCEPT_MS	10000
#define RUNJOB_RESULT_SLACK_MS	60000
#define RUNJOB_TIMEOUT_DEFAULT	30000

/* getopt_long values of `sluice run`'s options (short option string "h"). */
enum runjob_opt {
	RUNJOB_BROKER = 'b', RUNJOB_SESSION = 's', RUNJOB_TIMEOUT = 't', RUNJOB_MEMORY = 'm',
	RUNJOB_PIDS = 'p', RUNJOB_WORKSPACE = 'w', RUNJOB_OUTPUT_BYTES = 'o',
	RUNJOB_JSON = 'j', RUNJOB_TENANT = 'T', RUNJOB_KEY = 'k', RUNJOB_PRIORITY = 'P',
	RUNJOB_OUT = 'O', RUNJOB_TOOLS = 'L', RUNJOB_PRIVACY_MODE = 'M', RUNJOB_FILE = 'F',
	RUNJOB_HELP = 'h',
};

/* The long options of `sluice run`, NULL-terminated, for getopt_long with
 * the short option string RUNJOB_SHORTOPTS. */
extern const struct option runjob_options[];
#define RUNJOB_SHORTOPTS "h"

enum runjob_apply {
	RUNJOB_SET,		/* the option set its SUBMIT field */
	RUNJOB_BAD,		/* a bad value: `why` says which (print "sluice run: why") */
	RUNJOB_OTHER,		/* not a SUBMIT field: --broker, --json, --out, --file, --help, '?' */
};

/* Applies one getopt_long result `ch` with its `arg` to the SUBMIT `sub`:
 * --session, --timeout, --memory, --pids, --workspace, --output-bytes,
 * --tenant, --key, --priority, --tools, --privacy-mode.  --timeout also sets
 * *timeout_ms.  Never prints. */
enum runjob_apply runjob_apply(struct msg *sub, int ch, const char *arg, uint64_t *timeout_ms,
    char *why, size_t whysz);

/* Reads FILE ("-": stdin, as TypeScript) into `sub`'s code and language.
 * False with "FILE: reason" in `why` when it cannot be read or is over 1 MiB. */
bool runjob_load_code(struct msg *sub, const char *file, char *why, size_t whysz);

/*
 * The wait for a SUBMIT's RESULT, as both programs run it: each reply that
 * carries the SUBMIT's req goes through runjob_reply, which says what to do
 * next; the transport (czmq or the front's ZMTP) is the caller's.
 */
struct runjob_wait {
	const char *req;	/* the SUBMIT's req */
	int accept_ms, result_ms;
	int busy_left;		/* BUSY retries left */
	bool accepted;
	int64_t deadline;	/* util_now_ms() value; INT64_MAX: none (held for a human) */
};

enum runjob_next {
	RUNJOB_WAIT,		/* keep waiting until w->deadline */
	RUNJOB_RESULT,		/* the reply is the RESULT: the caller owns it */
	RUNJOB_RESEND,		/* BUSY: sleep *sleep_ms, then send the SUBMIT again */
	RUNJOB_FAIL,		/* *e and `why` say why (ERROR, or busy too long) */
};

/* Starts the wait (the SUBMIT was just sent): ACCEPTED due in accept_ms. */
void runjob_wait_init(struct runjob_wait *w, const char *req, int accept_ms, int result_ms,
    int busy_retries);

/* Takes one decoded reply; destroys it unless the answer is RUNJOB_RESULT.
 * ACCEPTED moves the deadline to result_ms; a "held" JOB_STATE says so on
 * stderr and lifts the deadline; BUSY asks for a resend after its retry_ms
 * (the deadline counts from then); ERROR fails with its code and message.
 * A reply to another req, or of another kind, is dropped. */
enum runjob_next runjob_reply(struct runjob_wait *w, struct msg *m, int64_t *sleep_ms,
    enum err *e, char *why, size_t whysz);

/* The reason when w->deadline passed; `hint` (may be "") ends the
 * broker-did-not-answer sentence. */
void runjob_timeout_why(const struct runjob_wait *w, const char *hint, char *why, size_t whysz);

/* Writes a RESULT's stdout to stdout and its stderr to stderr (as bytes). */
void runjob_print_output(const struct msg *res);

/* 0 when the job ended "ok", else 1; without `json`, a failed job's one-line
 * reason goes to stderr ("sluice: job ID STATUS: REASON"). */
int runjob_status(const struct msg *res, bool json);

/* Ends the process once the result is printed: flushes stdout (a failed
 * write of the output turns rc 0 into 1, with a message) and stderr, then
 * _exit(rc) without running atexit handlers or library teardown. */
__attribute__((noreturn)) void runjob_exit(int rc);

#endif
