/*
 * risk_rules — access to the default rules file embedded at build time.
 */
#ifndef SLUICE_RISK_RULES_H
#define SLUICE_RISK_RULES_H

#include <stddef.h>

/* Returns the embedded schemas/risk_rules.tsv (static, NUL-terminated) and
 * stores its length, without the NUL, in *len.  Never fails. */
const char *risk_rules_default(size_t *len);

#endif
