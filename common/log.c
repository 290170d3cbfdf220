/*
 * log — operator logging to stderr with levels and rate limits.
 * Used by every process.  Trusts its format strings (ours), never the
 * arguments: callers escape untrusted bytes with log_escape first.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/log.h"

static const char *log_prog = "sluice";
static enum log_level log_level = LOG_LEVEL_INFO;

static const char *const log_names[] = { "error", "warn", "info", "debug" };

void
log_init(const char *progname, enum log_level level)
{
	log_prog = progname;
	log_level = level;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

bool
log_parse_level(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (strcmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

static void
log_vline(enum log_level lvl, int errnum, const char *fmt, va_list ap)
{
	char msg[1024], stamp[32];
	struct timeval tv;
	struct tm tm;

	if (lvl > log_level)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum)
		fprintf(stderr, "%s.%03ldZ %s[%d] %s: %s: %s\n", stamp,
		    (long)(tv.tv_usec / 1000), log_prog, (int)getpid(),
		    log_names[lvl], msg, strerror(errnum));
	else
		fprintf(stderr, "%s.%03ldZ %s[%d] %s: %s\n", stamp,
		    (long)(tv.tv_usec / 1000), log_prog, (int)getpid(),
		    log_names[lvl], msg);
}

#define LOG_BODY(lvl, errnum)                    \
	va_list ap;                              \
	va_start(ap, fmt);                       \
	log_vline((lvl), (errnum), fmt, ap);     \
	va_end(ap)

void log_error(const char *fmt, ...) { int e = errno; LOG_BODY(LOG_LEVEL_ERROR, 0); errno = e; }
void log_warn(const char *fmt, ...) { int e = errno; LOG_BODY(LOG_LEVEL_WARN, e); errno = e; }
void log_warnx(const char *fmt, ...) { int e = errno; LOG_BODY(LOG_LEVEL_WARN, 0); errno = e; }
void log_info(const char *fmt, ...) { int e = errno; LOG_BODY(LOG_LEVEL_INFO, 0); errno = e; }
void log_debug(const char *fmt, ...) { int e = errno; LOG_BODY(LOG_LEVEL_DEBUG, 0); errno = e; }

void
log_limited(struct log_limit *lim, int interval, const char *fmt, ...)
{
	time_t now = time(NULL);
	va_list ap;

	if (lim->last != 0 && now - lim->last < interval) {
		lim->suppressed++;
		return;
	}
	if (lim->suppressed > 0)
		log_warnx("(%lu similar lines suppressed)", lim->suppressed);
	lim->last = now;
	lim->suppressed = 0;
	va_start(ap, fmt);
	log_vline(LOG_LEVEL_WARN, 0, fmt, ap);
	va_end(ap);
}

const char *
log_escape(char *out, size_t outsz, const void *bytes, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b = bytes;
	size_t o = 0;

	if (outsz == 0)
		return out;
	for (size_t i = 0; i < len; i++) {
		if (o + 5 >= outsz) {	/* room for "\xNN" or "..." plus NUL */
			if (outsz >= 4) {
				o = o > outsz - 4 ? outsz - 4 : o;
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\') {
			out[o++] = (char)b[i];
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[b[i] >> 4];
			out[o++] = hex[b[i] & 15];
		}
	}
	out[o] = '\0';
	return out;
}
