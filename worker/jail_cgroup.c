/*
 * jail_cgroup — memory, pids and cpu accounting of one jail.
 *
 * Runs in the worker (root).  Each job gets a group `sluice/<id>` below the
 * cgroup the worker itself is in (read from /proc/self/cgroup), so a worker
 * inside a container or a nested group stays inside its own budget.
 *
 *   cgroup v2 (when the unified hierarchy offers memory and pids):
 *     memory.max, memory.swap.max, pids.max; oom from memory.events
 *     "oom_kill", cpu from cpu.stat usage_usec, peak from memory.peak;
 *     cgroup.kill to kill.
 *   cgroup v1 fallback: memory.limit_in_bytes, memory.memsw.limit_in_bytes
 *     (when swap accounting exists), pids.max in the pids hierarchy; oom from
 *     memory.oom_control "oom_kill" (or memory.failcnt on old kernels), cpu
 *     from cpuacct.usage, peak from memory.max_usage_in_bytes.
 *
 * Reads only files the kernel writes; numbers are parsed with bounds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "common/log.h"
#include "worker/jail_int.h"

#define JAIL_CG_ROOT	"/sys/fs/cgroup"

static int
jail_cgroup_write(const char *dir, const char *file, const char *val)
{
	char path[JAIL_PATH_MAX];
	size_t len = strlen(val);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return errno;
	if (write(fd, val, len) != (ssize_t)len) {
		int e = errno;
		close(fd);
		return e;
	}
	close(fd);
	return 0;
}

/* Reads a small kernel file into buf (NUL-terminated).  Returns false if absent. */
static bool
jail_cgroup_read(const char *dir, const char *file, char *buf, size_t bufsz)
{
	char path[JAIL_PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, bufsz - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* The value of `key` in a "key value\n" file, or of the whole file if key is NULL. */
static bool
jail_cgroup_u64(const char *dir, const char *file, const char *key, uint64_t *out)
{
	char buf[4096], *p = buf, *end;
	size_t kl = key ? strlen(key) : 0;

	if (!jail_cgroup_read(dir, file, buf, sizeof(buf)))
		return false;
	if (key != NULL) {
		for (p = buf; p != NULL; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
			if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
				break;
		if (p == NULL)
			return false;
		p += kl + 1;
	}
	errno = 0;
	*out = strtoull(p, &end, 10);
	return errno == 0 && end != p;
}

static bool
jail_cgroup_is_fs(const char *path, long magic)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && (long)sf.f_type == magic;
}

/* The worker's own group in hierarchy `ctrl` ("" for v2) from /proc/self/cgroup. */
static bool
jail_cgroup_self(const char *ctrl, char *out, size_t outsz)
{
	char buf[4096], *line, *save = NULL;
	int fd;
	ssize_t n;

	if ((fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL)
			continue;
		*c2 = '\0';
		if (ctrl[0] == '\0' ? c1[1] == '\0' : false) {
			snprintf(out, outsz, "%s", c2 + 1);
			return true;
		}
		/* v1: the controller list, e.g. "cpu,cpuacct" */
		for (char *t = c1 + 1, *e; ctrl[0] != '\0' && *t; t = e ? e + 1 : t + strlen(t)) {
			e = strchr(t, ',');
			if ((e ? (size_t)(e - t) : strlen(t)) == strlen(ctrl) &&
			    strncmp(t, ctrl, strlen(ctrl)) == 0) {
				snprintf(out, outsz, "%s", c2 + 1);
				return true;
			}
		}
	}
	return false;
}

/* Makes <mount>/<self>/sluice/<id>; returns a fresh path or NULL. */
static char *
jail_cgroup_mkgroup(const char *mnt, const char *self, const char *id, int *e)
{
	char path[JAIL_PATH_MAX];

	snprintf(path, sizeof(path), "%s%s/sluice", mnt, strcmp(self, "/") == 0 ? "" : self);
	if (mkdir(path, 0755) == -1 && errno != EEXIST) {
		*e = errno;
		return NULL;
	}
	if ((size_t)snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", id) >=
	    sizeof(path) - strlen(path)) {
		*e = ENAMETOOLONG;
		return NULL;
	}
	if (mkdir(path, 0755) == -1) {
		*e = errno;
		return NULL;
	}
	return strdup(path);
}

static bool
jail_cgroup_is_file(const char *dir, const char *file)
{
	char path[JAIL_PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, W_OK) == 0;
}

/* Writes j->limits (memory, pids) into the job's group(s): when the group
 * is made (jail_new) and again when a warm jail gets its job's limits.
 * v1 wants memory <= memory+swap at every step: lowering writes memory
 * first, raising memory+swap first.  Returns ERR_OK or ERR_JAIL with the
 * reason (e.g. EBUSY: v1 could not reclaim down to a lower limit). */
enum err
jail_cgroup_set(struct jail *j, char *why, size_t whysz)
{
	char mem[32], pids[32];
	const char *file = "";
	bool raise = false;
	int e = 0;

	snprintf(mem, sizeof(mem), "%" PRIu64, (uint64_t)j->limits.memory_mb << 20);
	snprintf(pids, sizeof(pids), "%u", j->limits.pids);
	if (j->cg_version == JAIL_CG_V2) {
		e = jail_cgroup_write(j->cg_memory, file = "memory.max", mem);
		if (e == 0)
			e = jail_cgroup_write(j->cg_memory, file = "pids.max", pids);
	} else if (j->cg_version == JAIL_CG_V1) {
		e = jail_cgroup_write(j->cg_memory, file = "memory.limit_in_bytes", mem);
		if (e == EINVAL && j->cg_memsw)
			raise = true;	/* above memory+swap: that one first */
		else if (e != 0)
			goto fail;
		if (j->cg_memsw && jail_cgroup_write(j->cg_memory, "memory.memsw.limit_in_bytes", mem) != 0)
			j->cg_memsw = false;	/* no swap accounting after all */
		e = raise ? jail_cgroup_write(j->cg_memory, file, mem) : 0;
		if (e == 0)
			e = jail_cgroup_write(j->cg_pids, file = "pids.max", pids);
	}
	if (e == 0)
		return ERR_OK;
fail:
	snprintf(why, whysz, "cgroup: %s: %s", file, strerror(e));
	return ERR_JAIL;
}

/* A process of the job's group other than `not` (the jail's init): the job
 * itself, the only other process a jail runs.  0 when there is none. */
pid_t
jail_cgroup_member(const struct jail *j, pid_t not)
{
	char buf[8192], *p, *end;

	if (j->cg_memory == NULL || !jail_cgroup_read(j->cg_memory, "cgroup.procs", buf, sizeof(buf)))
		return 0;
	for (p = buf; *p; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0 && pid != (long)not && pid <= INT32_MAX)
			return (pid_t)pid;
		while (*end == '\n')
			end++;
	}
	return 0;
}

static enum err
jail_cgroup_fail(struct jail *j, const char *what, int e, char *why, size_t whysz)
{
	snprintf(why, whysz, "cgroup: %s: %s", what, strerror(e));
	jail_cgroup_cleanup(j);
	return ERR_JAIL;
}

static bool
jail_cgroup_v2_usable(const char *dir)
{
	char buf[512];

	return jail_cgroup_is_fs(dir, CGROUP2_SUPER_MAGIC) &&
	    jail_cgroup_read(dir, "cgroup.controllers", buf, sizeof(buf)) &&
	    strstr(buf, "memory") != NULL && strstr(buf, "pids") != NULL;
}

static enum err
jail_cgroup_prepare_v2(struct jail *j, const char *mnt, char *why, size_t whysz)
{
	char self[1024], parent[JAIL_PATH_MAX];
	int e = 0;

	if (!jail_cgroup_self("", self, sizeof(self)))
		return jail_cgroup_fail(j, "own cgroup v2 path", ENOENT, why, whysz);
	snprintf(parent, sizeof(parent), "%s%s/sluice", mnt, strcmp(self, "/") == 0 ? "" : self);
	j->cg_version = JAIL_CG_V2;
	if ((j->cg_memory = jail_cgroup_mkgroup(mnt, self, j->id, &e)) == NULL)
		return jail_cgroup_fail(j, "mkdir", e, why, whysz);
	/* controllers must be enabled for the children of sluice/ */
	if ((e = jail_cgroup_write(parent, "cgroup.subtree_control", "+memory +pids")) != 0)
		return jail_cgroup_fail(j, "enable memory+pids", e, why, whysz);
	(void)jail_cgroup_write(parent, "cgroup.subtree_control", "+cpu");
	(void)jail_cgroup_write(j->cg_memory, "memory.swap.max", "0");
	if (jail_cgroup_set(j, why, whysz) != ERR_OK) {
		jail_cgroup_cleanup(j);
		return ERR_JAIL;
	}
	return ERR_OK;
}

static enum err
jail_cgroup_prepare_v1(struct jail *j, char *why, size_t whysz)
{
	char self[1024];
	int e = 0;

	j->cg_version = JAIL_CG_V1;
	if (!jail_cgroup_is_fs(JAIL_CG_ROOT "/memory", CGROUP_SUPER_MAGIC) ||
	    !jail_cgroup_is_fs(JAIL_CG_ROOT "/pids", CGROUP_SUPER_MAGIC))
		return jail_cgroup_fail(j, "no v2 memory+pids and no v1 memory and pids hierarchies",
		    ENOENT, why, whysz);
	if (!jail_cgroup_self("memory", self, sizeof(self)))
		return jail_cgroup_fail(j, "own memory cgroup", ENOENT, why, whysz);
	if ((j->cg_memory = jail_cgroup_mkgroup(JAIL_CG_ROOT "/memory", self, j->id, &e)) == NULL)
		return jail_cgroup_fail(j, "mkdir memory group", e, why, whysz);
	if (!jail_cgroup_self("pids", self, sizeof(self)))
		return jail_cgroup_fail(j, "own pids cgroup", ENOENT, why, whysz);
	if ((j->cg_pids = jail_cgroup_mkgroup(JAIL_CG_ROOT "/pids", self, j->id, &e)) == NULL)
		return jail_cgroup_fail(j, "mkdir pids group", e, why, whysz);
	if (jail_cgroup_is_fs(JAIL_CG_ROOT "/cpuacct", CGROUP_SUPER_MAGIC) &&
	    jail_cgroup_self("cpuacct", self, sizeof(self)))
		j->cg_cpuacct = jail_cgroup_mkgroup(JAIL_CG_ROOT "/cpuacct", self, j->id, &e);

	j->cg_memsw = jail_cgroup_is_file(j->cg_memory, "memory.memsw.limit_in_bytes");
	if (jail_cgroup_set(j, why, whysz) != ERR_OK) {
		jail_cgroup_cleanup(j);
		return ERR_JAIL;
	}
	return ERR_OK;
}

/* Where a unified (v2) hierarchy may be mounted, in order of preference. */
static const char *const jail_cg_v2_mounts[] = { JAIL_CG_ROOT, JAIL_CG_ROOT "/unified" };

static int jail_cgroup_kill_procs(const char *dir);

/* The worker that made a jail group, from its name ("warm-<pid>-<n>" or
 * "<job id>-<pid>"); 0 when the name carries none (groups made before
 * names carried the worker's pid). */
static pid_t
jail_cgroup_owner(const char *name)
{
	const char *p = strncmp(name, "warm-", 5) == 0 ? name + 5 : strrchr(name, '-');
	long v = 0;

	if (p == NULL)
		return 0;
	if (*p == '-')
		p++;
	for (; *p >= '0' && *p <= '9' && v < 1L << 30; p++)
		v = v * 10 + (*p - '0');
	if (*p != '\0' && *p != '-')
		return 0;
	return (pid_t)v;
}

/* Removes from `dir` (a sluice/ group) the groups of workers that are gone:
 * their processes are orphans and get SIGKILL first (rmdir then usually
 * fails once and succeeds at the next start).  A group without an owner in
 * its name goes only when it has been there a minute (so never between a
 * jail's mkdir and its first process) and is empty.  Waits up to a second
 * per group for killed processes to leave it. */
static unsigned
jail_cgroup_sweep_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;
	time_t now = time(NULL);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char path[JAIL_PATH_MAX];
		struct stat st;
		pid_t owner;

		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		owner = jail_cgroup_owner(de->d_name);
		if (owner > 0) {
			if (owner == getpid() || kill(owner, 0) == 0 || errno != ESRCH)
				continue;	/* its worker runs (or the pid was reused) */
			/* Killed processes leave the group a moment later. */
			for (int tries = 0; tries < 100 && jail_cgroup_kill_procs(path) > 0; tries++)
				nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
		} else if (stat(path, &st) != 0 || now - st.st_mtime < 60) {
			continue;
		}
		if (rmdir(path) == 0)
			n++;
		else
			log_debug("cgroup %s not removed: %s", path, strerror(errno));
	}
	closedir(d);
	return n;
}

/* See jail.h. */
void
jail_sweep_cgroups(void)
{
	static const char *const v1[] = { "memory", "pids", "cpuacct" };
	char self[1024], dir[JAIL_PATH_MAX];
	unsigned n = 0;

	for (size_t i = 0; i < 2; i++) {
		const char *mnt = jail_cg_v2_mounts[i];
		if (!jail_cgroup_v2_usable(mnt) || !jail_cgroup_self("", self, sizeof(self)))
			continue;
		snprintf(dir, sizeof(dir), "%s%s/sluice", mnt, strcmp(self, "/") == 0 ? "" : self);
		n += jail_cgroup_sweep_dir(dir);
	}
	for (size_t i = 0; i < 3; i++) {
		char mnt[64];
		snprintf(mnt, sizeof(mnt), "%s/%s", JAIL_CG_ROOT, v1[i]);
		if (!jail_cgroup_is_fs(mnt, CGROUP_SUPER_MAGIC) || !jail_cgroup_self(v1[i], self, sizeof(self)))
			continue;
		snprintf(dir, sizeof(dir), "%s%s/sluice", mnt, strcmp(self, "/") == 0 ? "" : self);
		n += jail_cgroup_sweep_dir(dir);
	}
	if (n > 0)
		log_info("removed %u cgroups left behind by workers that are gone", n);
}

/* Parent, in jail_new: creates the job's groups and sets the limits.
 * Returns ERR_OK or ERR_JAIL with the reason; nothing is left behind. */
enum err
jail_cgroup_prepare(struct jail *j, char *why, size_t whysz)
{

	for (size_t i = 0; i < 2; i++) {
		if (!jail_cgroup_v2_usable(jail_cg_v2_mounts[i]))
			continue;
		if (jail_cgroup_prepare_v2(j, jail_cg_v2_mounts[i], why, whysz) == ERR_OK)
			return ERR_OK;
		/* e.g. the controllers are not delegated to our group: try v1 */
		if (!jail_cgroup_is_fs(JAIL_CG_ROOT "/memory", CGROUP_SUPER_MAGIC))
			return ERR_JAIL;
		log_warnx("%s; falling back to cgroup v1", why);
		break;
	}
	return jail_cgroup_prepare_v1(j, why, whysz);
}

/* Parent, after the clone: moves the child into the job's groups. */
enum err
jail_cgroup_parent(struct jail *j, char *why, size_t whysz)
{
	char pid[16];
	const char *dirs[] = { j->cg_memory, j->cg_pids, j->cg_cpuacct };
	int e;

	snprintf(pid, sizeof(pid), "%d", (int)j->pid);
	for (size_t i = 0; i < 3; i++) {
		if (dirs[i] == NULL)
			continue;
		if ((e = jail_cgroup_write(dirs[i], "cgroup.procs", pid)) != 0) {
			snprintf(why, whysz, "cgroup: move into %.200s: %s", dirs[i], strerror(e));
			return ERR_JAIL;
		}
	}
	return ERR_OK;
}

/* SIGKILLs every process in the job's group(s); returns how many were left. */
static int
jail_cgroup_kill_procs(const char *dir)
{
	char buf[8192], *p, *end;
	int n = 0;

	if (dir == NULL || !jail_cgroup_read(dir, "cgroup.procs", buf, sizeof(buf)))
		return 0;
	for (p = buf; *p; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 1) {
			kill((pid_t)pid, SIGKILL);
			n++;
		}
		while (*end == '\n')
			end++;
	}
	return n;
}

/* Kills everything in the job's cgroup (cgroup.kill on v2). */
void
jail_cgroup_kill(struct jail *j)
{
	if (j->cg_version == JAIL_CG_V2 && jail_cgroup_write(j->cg_memory, "cgroup.kill", "1") == 0)
		return;
	/* v1: every process of the jail is in both groups (jail_cgroup_parent
	 * moved init into both before it went on; nothing in the jail can
	 * move a process): the pids group is read only when the memory group
	 * yields nobody. */
	if (jail_cgroup_kill_procs(j->cg_memory) == 0)
		jail_cgroup_kill_procs(j->cg_pids);
}

/* Fills oom, cpu_ms and max_rss_kb from the group's counters. */
void
jail_cgroup_outcome(const struct jail *j, struct jail_outcome *out)
{
	uint64_t v;

	if (j->cg_version == JAIL_CG_V2) {
		if (jail_cgroup_u64(j->cg_memory, "memory.events", "oom_kill", &v) && v > 0)
			out->oom = true;
		if (jail_cgroup_u64(j->cg_memory, "cpu.stat", "usage_usec", &v))
			out->cpu_ms = v / 1000;
		if (jail_cgroup_u64(j->cg_memory, "memory.peak", NULL, &v))
			out->max_rss_kb = v / 1024;
	} else if (j->cg_version == JAIL_CG_V1) {
		if (jail_cgroup_u64(j->cg_memory, "memory.oom_control", "oom_kill", &v)) {
			if (v > 0)
				out->oom = true;
		} else if (jail_cgroup_u64(j->cg_memory, "memory.failcnt", NULL, &v) && v > 0) {
			out->oom = true;
		}
		if (j->cg_cpuacct && jail_cgroup_u64(j->cg_cpuacct, "cpuacct.usage", NULL, &v))
			out->cpu_ms = v / 1000000;
		if (jail_cgroup_u64(j->cg_memory, j->cg_memsw ? "memory.memsw.max_usage_in_bytes" :
		    "memory.max_usage_in_bytes", NULL, &v))
			out->max_rss_kb = v / 1024;
	}
}

static void
jail_cgroup_remove(char **dirp)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	if (*dirp == NULL)
		return;
	for (int i = 0; i < 200; i++) {		/* up to 2 s for the dying to leave */
		if (rmdir(*dirp) == 0 || errno == ENOENT)
			break;
		if (errno != EBUSY) {
			log_warn("cgroup: rmdir %s", *dirp);
			break;
		}
		jail_cgroup_kill_procs(*dirp);
		nanosleep(&ts, NULL);
	}
	free(*dirp);
	*dirp = NULL;
}

/* Kills what is left and removes the groups.  Idempotent. */
void
jail_cgroup_cleanup(struct jail *j)
{
	if (j->cg_version == JAIL_CG_NONE)
		return;
	jail_cgroup_kill(j);
	jail_cgroup_remove(&j->cg_memory);
	jail_cgroup_remove(&j->cg_pids);
	jail_cgroup_remove(&j->cg_cpuacct);
	j->cg_version = JAIL_CG_NONE;
}
