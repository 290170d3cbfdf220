/*
 * util — small helpers shared by every process: clocks, ids, bounded file
 * reads, number parsing (atoi is banned: these check range and trailing junk).
 */
#ifndef SLUICE_UTIL_H
#define SLUICE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

/* Monotonic and wall clocks in milliseconds / nanoseconds (and the
 * monotonic one in microseconds, for timings). */
int64_t util_now_ms(void);
int64_t util_now_us(void);
int64_t util_wall_ns(void);

/* Fills out[0..n-1] with bytes of the system CSPRNG, drawn from a
 * per-thread pool (one getrandom per ~4 KiB; a forked or cloned child never
 * sees its parent's bytes).  For ids, which are published.  Returns ERR_OK
 * or ERR_IO. */
enum err util_random_bytes(void *out, size_t n);

/* Writes 2*nbytes lowercase hex chars of fresh randomness (util_random_bytes)
 * plus a NUL into `out` (size >= 2*nbytes+1).  Returns ERR_OK, ERR_INVAL
 * (nbytes > 64) or ERR_IO. */
enum err util_random_hex(char *out, size_t nbytes);

/* Copies the string `src` into `dst` (dstsz > 0) truncated to dstsz - 1
 * bytes, as snprintf(dst, dstsz, "%s", src) would, without the formatter.
 * Returns the length written. */
size_t util_strlcpy(char *dst, const char *src, size_t dstsz);

/* Writes `v` in decimal (as "%lld") plus a NUL into `out`, which holds at
 * least UTIL_I64_CHARS bytes.  Returns the length written. */
#define UTIL_I64_CHARS 21
size_t util_fmt_i64(char *out, int64_t v);

/* Parses a whole decimal string into [min, max].  False on junk or range. */
bool util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* For command-line flags: parses `arg` like util_parse_u64; on failure
 * prints "PROG: --FLAG wants MIN..MAX" to stderr and returns false. */
bool util_opt_u64(const char *prog, const char *flag, const char *arg, uint64_t min, uint64_t max,
    uint64_t *out);

/* Reads a whole file of at most `max` bytes into a fresh NUL-terminated
 * buffer.  ERR_TOOBIG when larger, ERR_IO (errno set) when unreadable. */
enum err util_read_file(const char *path, size_t max, char **out, size_t *len);

/* Opens `path` read-only only if it is a regular file (a symlink to one
 * counts).  The open does not block on a FIFO or device named in its place
 * (O_NONBLOCK, which reads of a regular file ignore).  -1 with errno set:
 * EISDIR or EINVAL when it is not a regular file. */
int util_open_regular(const char *path);

/* util_open_regular as a stdio stream; NULL with errno. */
FILE *util_fopen_regular(const char *path);

/* util_read_file for files that must be regular (config, evidence): a FIFO,
 * device or directory in their place is ERR_INVAL at once, never a hang. */
enum err util_read_regular(const char *path, size_t max, char **out, size_t *len);

/* The resident memory (VmRSS) of process `pid` in kB, from /proc; -1 when
 * it is gone or has none (a zombie). */
long util_rss_kb(pid_t pid);

/* Writes all of buf to fd, retrying on EINTR and short writes. */
enum err util_write_all(int fd, const void *buf, size_t len);

/* At most `max` bytes of `p` (*n bytes), cut at a UTF-8 boundary: *n is
 * lowered; true when shortened. */
bool util_utf8_prefix(const char *p, size_t *n, size_t max);

/* In place: each byte that does not start a valid UTF-8 sequence becomes
 * '?' (a "%.200s" of a name can cut a character; the text goes into JSON). */
void util_utf8_repair(char *s);

/* Sanitises to valid UTF-8 (invalid bytes become U+FFFD): fresh buffer. */
char *util_utf8_clean(const void *p, size_t len, size_t *outlen);

#endif
