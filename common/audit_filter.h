/*
 * audit_filter — the privacy filter for audit event details, with a memo of
 * the detail texts it has passed unchanged.  Used by the broker's loop.
 */
#ifndef SLUICE_AUDIT_FILTER_H
#define SLUICE_AUDIT_FILTER_H

#include <stddef.h>

struct audit_event;
struct audit_filter;

/* A fresh filter (the caller's, free with audit_filter_destroy); NULL on
 * out-of-memory. */
struct audit_filter *audit_filter_new(void);
void audit_filter_destroy(struct audit_filter **fp);

/*
 * Puts the details text *text (from audit_details_canonical; ownership
 * passes in, *text is NULL afterwards) into ev through the privacy filter
 * (redact mode): unchanged when the filter finds nothing, else its redacted
 * text, or {"redacted":true} if that is not a valid details text.  If the
 * filter fails, ev gets no details.  The result is byte for byte what
 * privacy_scan gives; a text seen clean before is not scanned again.
 */
void audit_filter_details(struct audit_filter *f, struct audit_event *ev, char **text);

/* Memo hits so far (for tests and metrics). */
size_t audit_filter_hits(const struct audit_filter *f);

#endif
