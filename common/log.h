/*
 * log — operator logging (not audit: audit events live in schemas/ and the
 * broker's store).  Lines go to stderr as
 *     2026-11-26T05:40:01.123Z sluice-broker[1234] warn: message
 * log_warn appends strerror(errno); log_warnx does not.  Untrusted bytes must
 * pass through log_escape before they reach a format string argument.
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* A rate limit for one kind of noisy line: at most one line per interval,
 * then a count of what was suppressed. Zero-initialise. */
struct log_limit {
	time_t last;
	unsigned long suppressed;
};

void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);
/* Parses "error|warn|info|debug"; returns false on anything else. */
bool log_parse_level(const char *s, enum log_level *out);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warnx, but at most once per `interval` seconds for this limit. */
void log_limited(struct log_limit *lim, int interval, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes a printable, bounded rendering of `len` untrusted bytes into `out`
 * (always NUL-terminated, at most `outsz` - 1 chars; "..." marks a cut).
 * Returns `out`. */
const char *log_escape(char *out, size_t outsz, const void *bytes, size_t len);

#endif
