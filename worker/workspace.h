/*
 * workspace — the job's /work, seen from the host.
 *
 * A size- and inode-limited tmpfs mounted by the worker under its state dir
 * (plain directory in --insecure-no-jail mode), filled with the job's input
 * files before the jail starts, harvested for output files after it ends,
 * then unmounted and removed.  Harvesting never follows a symlink and never
 * returns a file with more than one link.
 */
#ifndef SLUICE_WORKSPACE_H
#define SLUICE_WORKSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct workspace_limits {
	uint32_t size_mb;	/* tmpfs size */
	uint32_t inodes;	/* tmpfs nr_inodes */
	uint32_t max_files;	/* output files returned at most */
	uint64_t max_bytes;	/* output bytes returned at most (all files) */
};

/* One output file, fresh, owned by the caller of workspace_collect. */
struct workspace_file {
	char *path;		/* relative to /work */
	unsigned char *data;
	size_t len;
};

struct workspace;

/* Creates the workspace under `parent` for job `id`, owned by uid/gid (the
 * jail's mapped user on the host).  `use_tmpfs` false gives a plain dir. */
struct workspace *workspace_new(const char *parent, const char *id, uid_t uid, gid_t gid,
    const struct workspace_limits *lim, bool use_tmpfs, enum err *err, char *why, size_t whysz);

/* Host path of the workspace root (borrowed). */
const char *workspace_path(const struct workspace *ws);

/* Writes one input file (relative path, already validated) into the workspace. */
enum err workspace_put(struct workspace *ws, const char *rel, const void *data, size_t len);

/* Creates directory `rel` (and its parents) owned by the jail's user. */
enum err workspace_mkdir(struct workspace *ws, const char *rel);

/* Collects regular files left in the workspace (skipping `skip`, e.g. the
 * program itself), bounded by the limits.  Sets *truncated when some were cut. */
enum err workspace_collect(struct workspace *ws, const char *const *skip,
    struct workspace_file **files, size_t *nfiles, bool *truncated);
void workspace_files_free(struct workspace_file *files, size_t n);

/* Unmounts and removes everything.  Accepts NULL; clears *wsp. */
void workspace_destroy(struct workspace **wsp);

#endif
