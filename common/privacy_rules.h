/*
 * privacy_rules — the rule table of the privacy filter: for each rule a type,
 * a kind, a Hyperscan expression that finds a candidate and an extent
 * function that validates it and narrows it to the span that must be hidden.
 * Internal to common/privacy*.c.
 */
#ifndef SLUICE_PRIVACY_RULES_H
#define SLUICE_PRIVACY_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/privacy.h"

/* A validated span; `type` starts as the rule's type and may be refined. */
struct privacy_span {
	size_t start;
	size_t end;
	const char *type;
};

struct privacy_rule {
	const char *type;
	enum privacy_kind kind;
	const char *regex;
	/* Validates the candidate [from, to) found in buf[0, len) (`to` is the
	 * longest match end for this start).  Returns true and fills `sp` when
	 * it is a finding.  Reads only inside buf. */
	bool (*extent)(const uint8_t *buf, size_t len, size_t from, size_t to,
	    struct privacy_span *sp);
};

/* Returns the static rule table and its length in *n. */
const struct privacy_rule *privacy_rules_table(size_t *n);

#endif
