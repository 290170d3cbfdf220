/*
 * paths — locating sluice's own files: sibling binaries and the pinned Deno.
 */
#ifndef SLUICE_PATHS_H
#define SLUICE_PATHS_H

#include <stdbool.h>
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

#endif
