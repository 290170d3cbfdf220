/*
 * workspace — the job's /work on the host side.
 *
 * Runs in the worker (root).  The workspace is <parent>/<id>: a tmpfs with
 * size and nr_inodes limits (or a plain directory in --insecure-no-jail
 * mode), root owned by the jail's mapped user.  Input files are written
 * before the jail starts.  After the jail ends everything in it is untrusted:
 * the job may have left symlinks, hard links, fifos, deep trees or huge
 * files.  workspace_collect walks it with openat(O_NOFOLLOW) from directory
 * fds, keeps only regular files with one link, and stops at the count and
 * byte limits; workspace_destroy unmounts (or removes without following
 * links) and deletes the directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "worker/workspace.h"

#define WORKSPACE_MAX_DEPTH	16
#define WORKSPACE_PATH_MAX	1024

struct workspace {
	char *path;
	uid_t uid;
	gid_t gid;
	bool tmpfs;
	bool mounted;
	struct workspace_limits lim;
};

static bool
workspace_name_is_safe(const char *s)
{
	if (s[0] == '\0' || s[0] == '.' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* See workspace.h.  Returns a fresh workspace, or NULL with *err: ERR_INVAL
 * (bad id or limits), ERR_DUPLICATE (exists), ERR_IO (mkdir, mount, chown). */
struct workspace *
workspace_new(const char *parent, const char *id, uid_t uid, gid_t gid,
    const struct workspace_limits *lim, bool use_tmpfs, enum err *err, char *why, size_t whysz)
{
	struct workspace *ws;
	char opts[128], abs_parent[PATH_MAX];
	size_t len;

	/* the jail needs an absolute path: resolve a relative state dir */
	if (parent != NULL && parent[0] != '/' && parent[0] != '\0' &&
	    realpath(parent, abs_parent) != NULL)
		parent = abs_parent;
	if (parent == NULL || parent[0] != '/' || id == NULL || !workspace_name_is_safe(id) ||
	    lim->size_mb == 0 || lim->inodes == 0 || lim->size_mb > (1u << 20)) {
		snprintf(why, whysz, "bad workspace parent, id or limits");
		*err = ERR_INVAL;
		return NULL;
	}
	if ((ws = calloc(1, sizeof(*ws))) == NULL ||
	    (ws->path = malloc(len = strlen(parent) + strlen(id) + 2)) == NULL) {
		free(ws);
		snprintf(why, whysz, "out of memory");
		*err = ERR_NOMEM;
		return NULL;
	}
	snprintf(ws->path, len, "%s/%s", parent, id);
	ws->uid = uid;
	ws->gid = gid;
	ws->tmpfs = use_tmpfs;
	ws->lim = *lim;
	if (mkdir(ws->path, 0700) == -1) {
		snprintf(why, whysz, "mkdir %.200s: %s", ws->path, strerror(errno));
		*err = errno == EEXIST ? ERR_DUPLICATE : ERR_IO;
		free(ws->path);
		free(ws);
		return NULL;
	}
	if (use_tmpfs) {
		snprintf(opts, sizeof(opts), "size=%um,nr_inodes=%u,mode=0755,uid=%u,gid=%u",
		    lim->size_mb, lim->inodes, (unsigned)uid, (unsigned)gid);
		if (mount("tmpfs", ws->path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) == -1) {
			snprintf(why, whysz, "mount tmpfs on %.200s: %s", ws->path, strerror(errno));
			*err = ERR_IO;
			goto fail;
		}
		ws->mounted = true;
	} else if (chown(ws->path, uid, gid) == -1 || chmod(ws->path, 0755) == -1) {
		snprintf(why, whysz, "chown %.200s: %s", ws->path, strerror(errno));
		*err = ERR_IO;
		goto fail;
	}
	*err = ERR_OK;
	return ws;
fail:
	workspace_destroy(&ws);
	return NULL;
}

const char *
workspace_path(const struct workspace *ws)
{
	return ws->path;
}

/* Opens (creating if asked) each directory of `rel` below dirfd without
 * following links.  Returns an fd of the last directory, or -1. */
static int
workspace_walk(int dirfd, char *rel, bool create, uid_t uid, gid_t gid, char **leaf)
{
	char *p = rel, *slash;
	int fd = dup(dirfd), next;

	while (fd != -1 && (slash = strchr(p, '/')) != NULL) {
		*slash = '\0';
		if (create && mkdirat(fd, p, 0755) == 0)
			(void)!fchownat(fd, p, uid, gid, AT_SYMLINK_NOFOLLOW);
		next = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		*slash = '/';
		close(fd);
		fd = next;
		p = slash + 1;
	}
	*leaf = p;
	return fd;
}

static bool
workspace_rel_is_safe(const char *rel)
{
	const char *p = rel;

	if (rel[0] == '\0' || rel[0] == '/' || strlen(rel) >= WORKSPACE_PATH_MAX)
		return false;
	while (*p) {		/* no empty, "." or ".." component */
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return rel[strlen(rel) - 1] != '/';
}

/* Opens the directory that holds `rel` (a copy the walk may cut), creating
 * the missing ones owned by the jail user; *leaf points at the last name.
 * Returns the directory's fd, or -1. */
static int
workspace_parent(struct workspace *ws, char *rel, char **leaf)
{
	int root, dir;

	if ((root = open(ws->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	dir = workspace_walk(root, rel, true, ws->uid, ws->gid, leaf);
	close(root);
	return dir;
}

/* See workspace.h.  Returns ERR_OK, ERR_INVAL (unsafe path), ERR_IO. */
enum err
workspace_put(struct workspace *ws, const char *rel, const void *data, size_t len)
{
	char buf[WORKSPACE_PATH_MAX], *leaf;
	int dir, fd;
	enum err e = ERR_IO;

	if (!workspace_rel_is_safe(rel))
		return ERR_INVAL;
	snprintf(buf, sizeof(buf), "%s", rel);
	if ((dir = workspace_parent(ws, buf, &leaf)) == -1)
		return ERR_IO;
	fd = openat(dir, leaf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	close(dir);
	if (fd == -1)
		return ERR_IO;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)data + off, len - off);
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			e = (n == -1 && errno == ENOSPC) ? ERR_TOOBIG : ERR_IO;
			goto out;
		}
		off += (size_t)n;
	}
	if (fchown(fd, ws->uid, ws->gid) == -1)
		goto out;
	e = ERR_OK;
out:
	close(fd);
	return e;
}

/* See workspace.h.  Returns ERR_OK, ERR_INVAL (unsafe path), ERR_IO. */
enum err
workspace_mkdir(struct workspace *ws, const char *rel)
{
	char buf[WORKSPACE_PATH_MAX], *leaf;
	int dir;

	if (!workspace_rel_is_safe(rel) || strlen(rel) + 2 > sizeof(buf))
		return ERR_INVAL;
	snprintf(buf, sizeof(buf), "%s/", rel);
	if ((dir = workspace_parent(ws, buf, &leaf)) == -1)
		return ERR_IO;
	close(dir);
	return ERR_OK;
}

struct workspace_harvest {
	const char *const *skip;
	struct workspace_file *files;
	size_t n;
	uint64_t bytes;
	const struct workspace_limits *lim;
	bool truncated;
};

static bool
workspace_skipped(const struct workspace_harvest *h, const char *rel)
{
	for (size_t i = 0; h->skip != NULL && h->skip[i] != NULL; i++)
		if (strcmp(h->skip[i], rel) == 0)
			return true;
	return false;
}

/* Reads one regular, single-link file; false only on out-of-memory. */
static bool
workspace_take(struct workspace_harvest *h, int dirfd, const char *name, const char *rel)
{
	struct workspace_file *f;
	struct stat st;
	size_t want, got = 0;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return true;			/* a symlink (ELOOP) or gone */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_nlink != 1)
		goto skip;			/* fifo, device, hard link */
	if (h->n == h->lim->max_files || h->bytes + (uint64_t)st.st_size > h->lim->max_bytes) {
		h->truncated = true;
		goto skip;
	}
	want = (size_t)st.st_size;
	f = &h->files[h->n];
	if ((f->path = strdup(rel)) == NULL || (f->data = malloc(want ? want : 1)) == NULL) {
		free(f->path);
		close(fd);
		return false;
	}
	while (got < want) {
		ssize_t n = read(fd, f->data + got, want - got);
		if (n <= 0)
			break;		/* shrank under us: keep what we have */
		got += (size_t)n;
	}
	f->len = got;
	h->bytes += got;
	h->n++;
skip:
	close(fd);
	return true;
}

static bool
workspace_scan(struct workspace_harvest *h, int dirfd, const char *prefix, int depth)
{
	char rel[WORKSPACE_PATH_MAX];
	struct dirent *de;
	DIR *d;
	int sub;
	bool ok = true;

	if (depth > WORKSPACE_MAX_DEPTH) {
		h->truncated = true;
		close(dirfd);
		return true;
	}
	if ((d = fdopendir(dirfd)) == NULL) {
		close(dirfd);
		return true;
	}
	while (ok && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(rel, sizeof(rel), "%s%s%s", prefix, prefix[0] ? "/" : "",
		    de->d_name) >= sizeof(rel)) {
			h->truncated = true;
			continue;
		}
		if (de->d_type == DT_DIR) {
			sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub != -1)
				ok = workspace_scan(h, sub, rel, depth + 1);
		} else if ((de->d_type == DT_REG || de->d_type == DT_UNKNOWN) &&
		    !workspace_skipped(h, rel)) {
			ok = workspace_take(h, dirfd, de->d_name, rel);
		}
	}
	closedir(d);
	return ok;
}

/* See workspace.h.  *files is fresh (free with workspace_files_free).
 * Returns ERR_OK, ERR_NOMEM or ERR_IO. */
enum err
workspace_collect(struct workspace *ws, const char *const *skip,
    struct workspace_file **files, size_t *nfiles, bool *truncated)
{
	struct workspace_harvest h = { skip, NULL, 0, 0, &ws->lim, false };
	int root;

	*files = NULL;
	*nfiles = 0;
	*truncated = false;
	if (ws->lim.max_files > 0 &&
	    (h.files = calloc(ws->lim.max_files, sizeof(*h.files))) == NULL)
		return ERR_NOMEM;
	if ((root = open(ws->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		free(h.files);
		return ERR_IO;
	}
	if (!workspace_scan(&h, root, "", 0)) {
		workspace_files_free(h.files, h.n);
		return ERR_NOMEM;
	}
	*files = h.files;
	*nfiles = h.n;
	*truncated = h.truncated;
	return ERR_OK;
}

void
workspace_files_free(struct workspace_file *files, size_t n)
{
	if (files == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(files[i].path);
		free(files[i].data);
	}
	free(files);
}

/* Removes everything below dirfd without following links. */
static void
workspace_rm_tree(int dirfd, int depth)
{
	struct dirent *de;
	DIR *d;
	int sub;

	if ((d = fdopendir(dirfd)) == NULL) {
		close(dirfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd, de->d_name, 0) == 0)
			continue;
		if (depth < 64 && (sub = openat(dirfd, de->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1)
			workspace_rm_tree(sub, depth + 1);
		(void)unlinkat(dirfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

/* See workspace.h. */
void
workspace_destroy(struct workspace **wsp)
{
	struct workspace *ws;
	int fd;

	if (wsp == NULL || (ws = *wsp) == NULL)
		return;
	if (ws->mounted && umount2(ws->path, MNT_DETACH) == -1)
		log_warn("workspace: umount %s", ws->path);
	if ((fd = open(ws->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) != -1)
		workspace_rm_tree(fd, 0);
	if (rmdir(ws->path) == -1 && errno != ENOENT)
		log_warn("workspace: rmdir %s", ws->path);
	free(ws->path);
	free(ws);
	*wsp = NULL;
}
