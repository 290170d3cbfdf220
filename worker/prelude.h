/*
 * prelude — the in-jail MCP prelude (worker/prelude.ts), embedded in the
 * worker binary so that a deployed worker needs no source tree.
 */
#ifndef SLUICE_PRELUDE_H
#define SLUICE_PRELUDE_H

#include <stddef.h>

/* The prelude's TypeScript source (static, not NUL-terminated: use len). */
const char *prelude_source(size_t *len);

#endif
