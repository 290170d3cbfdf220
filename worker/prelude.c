/*
 * prelude — worker/prelude.ts embedded with .incbin (see prelude.h).  The
 * Makefile rebuilds this object when the .ts changes.
 */
#include "worker/prelude.h"

__asm__(
    ".section .rodata\n"
    ".balign 16\n"
    "prelude_ts_start:\n"
    ".incbin \"worker/prelude.ts\"\n"
    "prelude_ts_end:\n"
    ".previous\n");

extern const char prelude_ts_start[];
extern const char prelude_ts_end[];

const char *
prelude_source(size_t *len)
{
	*len = (size_t)(prelude_ts_end - prelude_ts_start);
	return prelude_ts_start;
}
