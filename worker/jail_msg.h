/*
 * jail_msg — the records a jail's init writes on its status pipe to the
 * worker (worker/jail.c before the job runs, then sluice-jail-init,
 * worker/init/main.c).  Fixed size; the worker range-checks the type.
 *
 *   FAIL    errno + step name: a setup step failed; the jail is dead.
 *   STARTED the job's execve succeeded and init is sluice-jail-init.
 *   EXIT    the job's wait status and the syscall seccomp denied, if one
 *           was (init exits right after).
 */
#ifndef SLUICE_JAIL_MSG_H
#define SLUICE_JAIL_MSG_H

enum jail_msg_type { JAIL_MSG_FAIL = 1, JAIL_MSG_STARTED, JAIL_MSG_EXIT };

struct jail_msg {
	int type;
	int err;		/* FAIL: errno */
	int status;		/* EXIT: wait status of the job */
	int sysnr;		/* EXIT: syscall denied by seccomp, or -1 */
	char step[48];		/* FAIL: which step */
};

#endif
