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
#include "common/privacy_validate.h"

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

/* Fills `sp` with [s, e); returns true (for `return privacy_rules_set(...)`). */
static inline bool
privacy_rules_set(struct privacy_span *sp, size_t s, size_t e)
{
	sp->start = s;
	sp->end = e;
	return true;
}

/* True when [s, e) is at least `minlen` bytes and no placeholder. */
static inline bool
privacy_rules_span_ok(const uint8_t *b, size_t s, size_t e, size_t minlen)
{
	return e > s && e - s >= minlen && !privacy_validate_is_placeholder(b + s, e - s);
}

/* Returns the static rule table and its length in *n. */
const struct privacy_rule *privacy_rules_table(size_t *n);

#endif
