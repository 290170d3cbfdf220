/*
 * workspace — PLACEHOLDER: a plain directory per job (no tmpfs quota).
 * The tmpfs-backed workspace replaces this file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "worker/workspace.h"

struct workspace {
	char path[4096];
	struct workspace_limits lim;
};

struct workspace *
workspace_new(const char *parent, const char *id, uid_t uid, gid_t gid,
    const struct workspace_limits *lim, bool use_tmpfs, enum err *err, char *why, size_t whysz)
{
	struct workspace *ws = calloc(1, sizeof(*ws));

	(void)uid; (void)gid; (void)use_tmpfs;
	if (ws == NULL) {
		*err = ERR_NOMEM;
		return NULL;
	}
	ws->lim = *lim;
	snprintf(ws->path, sizeof(ws->path), "%s/%s", parent, id);
	if (mkdir(ws->path, 0700) != 0) {
		snprintf(why, whysz, "mkdir %s: %s", ws->path, strerror(errno));
		*err = ERR_IO;
		free(ws);
		return NULL;
	}
	return ws;
}

const char *
workspace_path(const struct workspace *ws)
{
	return ws->path;
}

enum err
workspace_put(struct workspace *ws, const char *rel, const void *data, size_t len)
{
	char p[4200];
	int fd;
	enum err e;

	snprintf(p, sizeof(p), "%s/%s", ws->path, rel);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
		return ERR_IO;
	e = util_write_all(fd, data, len);
	close(fd);
	return e;
}

enum err
workspace_collect(struct workspace *ws, const char *const *skip, struct workspace_file **files,
    size_t *nfiles, bool *truncated)
{
	(void)ws; (void)skip;
	*files = NULL;
	*nfiles = 0;
	*truncated = false;
	return ERR_OK;
}

void
workspace_files_free(struct workspace_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(files[i].path);
		free(files[i].data);
	}
	free(files);
}

static void
rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char p[4200];

	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			struct stat st;
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
			if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
				rm_tree(p);
			else
				unlink(p);
		}
		closedir(d);
	}
	rmdir(path);
}

void
workspace_destroy(struct workspace **wsp)
{
	if (wsp == NULL || *wsp == NULL)
		return;
	rm_tree((*wsp)->path);
	free(*wsp);
	*wsp = NULL;
}
