/*
 * cmd — the sluice CLI's subcommands.  client/main.c dispatches on argv[1];
 * each command lives in its own file (client/cmd_<name>.c), parses its own
 * flags from argv (argv[0] is the command name) and returns the process exit
 * code: 0 success, 1 the operation failed, 2 usage error.
 */
#ifndef SLUICE_CMD_H
#define SLUICE_CMD_H

int cmd_run(int argc, char **argv);	/* sluice run FILE ... */
int cmd_up(int argc, char **argv);	/* sluice up [--workers N] */
int cmd_status(int argc, char **argv);	/* sluice status [--json] */
int cmd_result(int argc, char **argv);	/* sluice result ID */
int cmd_cancel(int argc, char **argv);	/* sluice cancel ID */
int cmd_batch(int argc, char **argv);	/* sluice batch FILE.jsonl --out R.jsonl */
int cmd_scan(int argc, char **argv);	/* sluice scan [--mode M] [--json] [FILE|-] */
int cmd_assess(int argc, char **argv);	/* sluice assess FILE [--json] */
int cmd_audit(int argc, char **argv);
int cmd_session(int argc, char **argv);	/* sluice session ls|get|rm S */
int cmd_approvals(int argc, char **argv);	/* sluice approvals list|show|approve|deny */
int cmd_keygen(int argc, char **argv);	/* sluice keygen [--out DIR] [--tenant T] NAME */
int cmd_alerts(int argc, char **argv);	/* sluice alerts [--json] [--topic T] [--count N] */	/* sluice audit tail|export|verify */

#endif
