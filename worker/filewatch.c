/*
 * filewatch — fanotify on a job's workspace (see filewatch.h).
 *
 * Runs in sluice-worker (root: fanotify needs CAP_SYS_ADMIN), on the poll
 * thread.  Trusts the kernel's event records; treats the paths they lead to
 * as untrusted text (the job chose the names): only the part below the
 * workspace is kept, bounded, and a name that is too long is cut.
 *
 * Each event carries an fd opened by the kernel on the file.  Its path comes
 * from /proc/self/fd: the host path (<state>/<job>/rel) when the access came
 * through the worker's mount, or "/work/rel" when it came through the jail's
 * bind mount (a mount outside our namespace is named from its own root).
 *
 * Records: at most FILEWATCH_MAX (path, op) pairs; past that the watcher
 * says it overflowed, like the kernel queue.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "worker/filewatch.h"

#define FILEWATCH_MAX		1024
#define FILEWATCH_REL_MAX	255

enum fw_op { FW_READ, FW_WRITE };
static const char *const op_names[] = { "read", "write" };

struct fw_record {
	char rel[FILEWATCH_REL_MAX + 1];
	enum fw_op op;
	uint64_t bytes;
};

struct filewatch {
	int fd;
	char root[PATH_MAX];
	size_t rootlen;
	pid_t self;
	bool overflowed;
	struct fw_record *rec;
	size_t n;
};

struct filewatch *
filewatch_new(const char *root, bool whole_fs, enum err *err, char *why, size_t whysz)
{
	struct filewatch *fw;
	unsigned int how = FAN_MARK_ADD | (whole_fs ? FAN_MARK_FILESYSTEM : 0);
	uint64_t mask = FAN_ACCESS | FAN_MODIFY | FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE |
	    (whole_fs ? 0 : FAN_EVENT_ON_CHILD);

	if ((fw = calloc(1, sizeof(*fw))) == NULL ||
	    (fw->rec = calloc(FILEWATCH_MAX, sizeof(*fw->rec))) == NULL) {
		free(fw);
		*err = ERR_NOMEM;
		snprintf(why, whysz, "out of memory");
		return NULL;
	}
	fw->self = getpid();
	if (realpath(root, fw->root) == NULL) {
		*err = ERR_IO;
		snprintf(why, whysz, "workspace %.200s: %s", root, strerror(errno));
		goto fail;
	}
	fw->rootlen = strlen(fw->root);
	fw->fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK,
	    O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NOATIME);
	if (fw->fd == -1) {
		*err = errno == EPERM || errno == ENOSYS || errno == EINVAL ? ERR_DENIED : ERR_IO;
		snprintf(why, whysz, "fanotify_init: %s", strerror(errno));
		goto fail;
	}
	if (fanotify_mark(fw->fd, how, mask, AT_FDCWD, fw->root) == -1) {
		*err = errno == EPERM || errno == EINVAL ? ERR_DENIED : ERR_IO;
		snprintf(why, whysz, "fanotify_mark %.200s: %s", fw->root, strerror(errno));
		close(fw->fd);
		goto fail;
	}
	*err = ERR_OK;
	return fw;
fail:
	free(fw->rec);
	free(fw);
	return NULL;
}

/* The part of an event file's path below the workspace, or NULL. */
static const char *
fw_relative(const struct filewatch *fw, const char *path)
{
	if (strncmp(path, fw->root, fw->rootlen) == 0 && path[fw->rootlen] == '/')
		return path + fw->rootlen + 1;
	if (strncmp(path, "/work/", 6) == 0)
		return path + 6;
	return NULL;
}

static void
fw_note(struct filewatch *fw, const char *rel, enum fw_op op, uint64_t bytes)
{
	struct fw_record *r;

	for (size_t i = 0; i < fw->n; i++) {
		r = &fw->rec[i];
		if (r->op == op && strncmp(r->rel, rel, FILEWATCH_REL_MAX) == 0) {
			if (op == FW_WRITE || bytes > r->bytes)
				r->bytes = bytes;	/* writes: size at the last close */
			return;
		}
	}
	if (fw->n == FILEWATCH_MAX) {
		fw->overflowed = true;
		return;
	}
	r = &fw->rec[fw->n++];
	snprintf(r->rel, sizeof(r->rel), "%s", rel);
	r->op = op;
	r->bytes = bytes;
}

static void
fw_event(struct filewatch *fw, const struct fanotify_event_metadata *ev)
{
	char link[64], path[PATH_MAX];
	const char *rel;
	struct stat st;
	ssize_t n;

	if (ev->mask & FAN_Q_OVERFLOW)
		fw->overflowed = true;
	if (ev->fd < 0)
		return;
	if (ev->pid == fw->self || fstat(ev->fd, &st) == -1 || !S_ISREG(st.st_mode))
		goto done;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", ev->fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		goto done;
	path[n] = '\0';
	if (n > 10 && strcmp(path + n - 10, " (deleted)") == 0)
		path[n - 10] = '\0';
	if ((rel = fw_relative(fw, path)) == NULL || *rel == '\0')
		goto done;
	if (ev->mask & (FAN_MODIFY | FAN_CLOSE_WRITE))
		fw_note(fw, rel, FW_WRITE, (uint64_t)st.st_size);
	if (ev->mask & (FAN_ACCESS | FAN_CLOSE_NOWRITE))
		fw_note(fw, rel, FW_READ, (uint64_t)st.st_size);
done:
	close(ev->fd);
}

void
filewatch_drain(struct filewatch *fw)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	ssize_t len;

	if (fw == NULL)
		return;
	for (int rounds = 0; rounds < 64; rounds++) {
		const struct fanotify_event_metadata *ev = (const void *)buf;
		len = read(fw->fd, buf, sizeof(buf));
		if (len <= 0)
			return;		/* EAGAIN: nothing more queued */
		for (; FAN_EVENT_OK(ev, len); ev = FAN_EVENT_NEXT(ev, len))
			if (ev->vers == FANOTIFY_METADATA_VERSION)
				fw_event(fw, ev);
			else if (ev->fd >= 0)
				close(ev->fd);
	}
}

static bool
fw_seen(const struct filewatch *fw, const char *rel, enum fw_op op)
{
	for (size_t i = 0; fw != NULL && i < fw->n; i++)
		if (fw->rec[i].op == op && strcmp(fw->rec[i].rel, rel) == 0)
			return true;
	return false;
}

bool
filewatch_was_read(const struct filewatch *fw, const char *rel)
{
	return fw_seen(fw, rel, FW_READ);
}

bool
filewatch_was_written(const struct filewatch *fw, const char *rel)
{
	return fw_seen(fw, rel, FW_WRITE);
}

bool
filewatch_overflowed(const struct filewatch *fw)
{
	return fw != NULL && fw->overflowed;
}

void
filewatch_each(const struct filewatch *fw,
    void (*fn)(void *arg, const char *rel, const char *op, uint64_t bytes), void *arg)
{
	for (size_t i = 0; fw != NULL && i < fw->n; i++)
		fn(arg, fw->rec[i].rel, op_names[fw->rec[i].op], fw->rec[i].bytes);
}

/*
 * Closing a fanotify group waits for an SRCU grace period: ~10 ms on this
 * kind of machine (strace of a worker under load: 100 closes, 0.97 s), and
 * the poll thread that would wait serves every slot of the worker.  So the
 * group's fd goes to a closer thread, through a pipe (one atomic 4-byte
 * write); if that thread or pipe cannot be had, or CLOSER_MAX fds already
 * wait (the thread closes ~100 a second: more jobs than that would pile up
 * fds), the fd is closed here, as before.
 */
#define CLOSER_MAX 64
static int closer_pipe[2] = { -1, -1 };
static unsigned closer_queued;		/* __atomic */
static pthread_once_t closer_once = PTHREAD_ONCE_INIT;

static void *
closer_main(void *arg)
{
	int fd;
	ssize_t n;

	(void)arg;
	pthread_setname_np(pthread_self(), "sluice-fclose");
	for (;;) {
		if ((n = read(closer_pipe[0], &fd, sizeof(fd))) == (ssize_t)sizeof(fd)) {
			close(fd);
			__atomic_sub_fetch(&closer_queued, 1, __ATOMIC_RELAXED);
		} else if (n == -1 && errno == EINTR)
			continue;
		else
			break;		/* cannot happen: the write end is never closed */
	}
	return NULL;
}

static void
closer_start(void)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	int rc;

	if (pipe2(closer_pipe, O_CLOEXEC) != 0) {
		closer_pipe[0] = closer_pipe[1] = -1;
		return;
	}
	fcntl(closer_pipe[1], F_SETFL, O_NONBLOCK);
	/* no signal is for this thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, closer_main, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(closer_pipe[0]);
		close(closer_pipe[1]);
		closer_pipe[0] = closer_pipe[1] = -1;
	}
}

static void
close_later(int fd)
{
	pthread_once(&closer_once, closer_start);
	if (closer_pipe[1] != -1 &&
	    __atomic_add_fetch(&closer_queued, 1, __ATOMIC_RELAXED) <= CLOSER_MAX) {
		if (write(closer_pipe[1], &fd, sizeof(fd)) == (ssize_t)sizeof(fd))
			return;
	}
	if (closer_pipe[1] != -1)
		__atomic_sub_fetch(&closer_queued, 1, __ATOMIC_RELAXED);
	close(fd);
}

void
filewatch_reset(struct filewatch *fw)
{
	filewatch_drain(fw);
	fw->n = 0;
	fw->overflowed = false;
}

void
filewatch_destroy(struct filewatch **fwp)
{
	struct filewatch *fw;

	if (fwp == NULL || (fw = *fwp) == NULL)
		return;
	close_later(fw->fd);
	free(fw->rec);
	free(fw);
	*fwp = NULL;
}
