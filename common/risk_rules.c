/*
 * risk_rules — the default CARS rules (schemas/risk_rules.tsv) embedded in
 * the binary at build time with .incbin, so a broker needs no data file.
 * The bytes are ours (built from the repository); risk_new() still parses
 * them as untrusted text.  The Makefile must rebuild this object when the
 * .tsv changes.
 */
#include <stddef.h>

#include "common/risk_rules.h"

__asm__(
    ".section .rodata\n"
    ".balign 16\n"
    "risk_rules_tsv_start:\n"
    ".incbin \"schemas/risk_rules.tsv\"\n"
    "risk_rules_tsv_end:\n"
    ".byte 0\n"
    ".previous\n");

extern const char risk_rules_tsv_start[];
extern const char risk_rules_tsv_end[];

const char *
risk_rules_default(size_t *len)
{
	*len = (size_t)(risk_rules_tsv_end - risk_rules_tsv_start);
	return risk_rules_tsv_start;
}
