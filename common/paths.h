/*
 * paths — locating sluice's own files: sibling binaries and the pinned Deno.
 */
#ifndef SLUICE_PATHS_H
#define SLUICE_PATHS_H

#include <stdbool.h>
#include <sys/types.h>
#include <stddef.h>

/* Directory of the running executable into `out`.  False on failure. */
bool paths_exe_dir(char *out, size_t outsz);

/* Replaces this process with the sibling binary `name` (in the running
 * executable's directory), same argv.  Returns only on failure, with errno
 * set and that binary's path in `path` (for the message). */
void paths_exec_sibling(const char *name, char **argv, char *path, size_t pathsz);

/* The Deno binary: $SLUICE_DENO, else node_modules/deno/deno beside the
 * source tree the binary was built in (build/bin/../../), resolved to an
 * absolute real path.  False with a reason in `why` when none is found. */
bool paths_deno(char *out, size_t outsz, char *why, size_t whysz);

/* mkdir -p with mode 0700 for created components.  False (errno) on failure;
 * an existing `path` that is not a directory is ENOTDIR. */
bool paths_mkdirs(const char *path);

/* Creates (or truncates) file `rel` (relative, already checked: no "..")
 * below directory `dir` (made when missing), making the directories on the
 * way (0700), without following a symlink anywhere below `dir`: each part is
 * opened from its parent's fd with O_NOFOLLOW.  An fd open for writing, or
 * -1 with errno (ELOOP or ENOTDIR: a symlink or a file is in the way). */
int paths_create_beneath(const char *dir, const char *rel, mode_t mode);

/* Writes len bytes as file `rel` below `dir` (paths_create_beneath, 0644);
 * false with errno. */
bool paths_write_beneath(const char *dir, const char *rel, const void *data, size_t len);

/* What went wrong, for a message: strerror(err), or "a symlink or a file is
 * in the way" for what paths_create_beneath refuses. */
const char *paths_beneath_error(int err);

#endif
