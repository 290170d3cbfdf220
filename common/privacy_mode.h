/*
 * privacy_mode — the names of the privacy filter's output modes.  Kept apart
 * from privacy.c (Hyperscan, libsodium) so that the libc-only `sluice` front
 * binary can validate --privacy-mode exactly as the full CLI does.
 */
#ifndef SLUICE_PRIVACY_MODE_H
#define SLUICE_PRIVACY_MODE_H

#include <stdbool.h>

enum privacy_mode {
	PRIVACY_MODE_REDACT = 0,	/* [REDACTED:email] */
	PRIVACY_MODE_TOKENIZE = 1,	/* [EMAIL_1]; secrets redacted */
	PRIVACY_MODE_HASH = 2,		/* [HASH:email:1a2b3c4d5e6f]; secrets redacted */
	PRIVACY_MODE_REPORT = 3,	/* text unchanged, findings only */
};

/* Parses "redact|tokenize|hash|report".  Returns false on anything else. */
bool privacy_mode_parse(const char *s, enum privacy_mode *out);
/* Bit of `mode` in a set of modes (an allow-list). */
#define PRIVACY_MODE_BIT(mode)	(1u << (unsigned)(mode))
/* The modes a deployment allows by default: everything but report, which
 * lets raw data out and must be allowed explicitly. */
#define PRIVACY_MODES_DEFAULT	(PRIVACY_MODE_BIT(PRIVACY_MODE_REDACT) | \
	PRIVACY_MODE_BIT(PRIVACY_MODE_TOKENIZE) | PRIVACY_MODE_BIT(PRIVACY_MODE_HASH))

/* Parses a comma-separated list of modes ("redact,tokenize,hash") into a
 * set of PRIVACY_MODE_BIT()s.  Returns false on an empty list, an empty
 * item or an unknown name (*out is then unchanged). */
bool privacy_mode_list_parse(const char *s, unsigned *out);
/* Returns the static name of a mode ("redact"), "unknown" when invalid. */
const char *privacy_mode_name(enum privacy_mode mode);

#endif
