/*
 * jail_ns — the namespaces of a jail.
 *
 * Runs in the worker and in the jail's init.  The clone creates user, pid,
 * mount, network, ipc and uts namespaces at once; the cgroup namespace is
 * entered by the child after the parent has moved it into its job cgroup, so
 * that the job's cgroup is the namespace root.  The network namespace gets
 * no interface but a loopback that stays down: the job has no network.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "worker/jail_int.h"

#define JAIL_HOSTNAME "sluice"

/* Returns the CLONE_NEW* flags of the clone that starts a jail. */
int
jail_ns_clone_flags(void)
{
	return CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC |
	    CLONE_NEWUTS;
}

/* Child: names the uts namespace and enters a cgroup namespace. */
int
jail_ns_enter(const struct jail *j, const char **step)
{
	*step = "sethostname";
	if (sethostname(JAIL_HOSTNAME, strlen(JAIL_HOSTNAME)) == -1)
		return errno;
	*step = "setdomainname";
	if (setdomainname(JAIL_HOSTNAME, strlen(JAIL_HOSTNAME)) == -1)
		return errno;
	if (j->cg_version != JAIL_CG_NONE) {
		*step = "unshare(CLONE_NEWCGROUP)";
		if (unshare(CLONE_NEWCGROUP) == -1)
			return errno;
	}
	return 0;
}
