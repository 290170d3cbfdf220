/*
 * util — clocks, random ids, parsing and bounded file I/O (see util.h).
 * Used by every process, from any thread.  Inputs (strings, files) are untrusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

int64_t
util_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
util_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
util_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Random bytes for ids: a per-thread pool of system CSPRNG output, refilled
 * UTIL_POOL_BYTES at a time (one getrandom per ~250 ids of 16 bytes instead
 * of one per id).  Ids are published, so the pool holds nothing secret; the
 * bytes handed out are wiped from it all the same.  The pool is a page of its
 * own marked MADV_WIPEONFORK: a child made by fork() or a raw clone() finds
 * it zeroed (left = 0) and refills before its first id, so it never repeats
 * its parent's ids, without a getpid() per id.  Where the kernel cannot wipe
 * on fork the pool remembers its pid and checks it; where no page can be had
 * every call asks getrandom.
 */
#define UTIL_POOL_PAGE 4096

struct rand_pool {
	size_t left;			/* unread bytes at the end of bytes[] */
	pid_t owner;			/* without WIPEONFORK: the filling process */
	bool wipes;			/* MADV_WIPEONFORK took */
	uint8_t bytes[UTIL_POOL_PAGE - 64];
};
_Static_assert(sizeof(struct rand_pool) <= UTIL_POOL_PAGE, "one page");

static pthread_key_t rand_pool_key;
static bool rand_pool_key_ok;		/* set once, by rand_pool_key_init */
static pthread_once_t rand_pool_once = PTHREAD_ONCE_INIT;
static __thread struct rand_pool *rand_pool;
static __thread bool rand_pool_none;	/* no page: getrandom every time */

/* At thread exit.  Runs on the exiting thread: a later destructor that
 * wants an id gets it from getrandom, not from the unmapped page. */
static void
rand_pool_unmap(void *p)
{
	rand_pool = NULL;
	rand_pool_none = true;
	if (p != NULL)
		munmap(p, UTIL_POOL_PAGE);
}

static void
rand_pool_key_init(void)
{
	rand_pool_key_ok = pthread_key_create(&rand_pool_key, rand_pool_unmap) == 0;
}

static enum err
getrandom_all(void *out, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom((uint8_t *)out + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return ERR_IO;
		got += (size_t)r;
	}
	return ERR_OK;
}

/* The calling thread's pool, mapped at its first use; NULL without one. */
static struct rand_pool *
rand_pool_get(void)
{
	struct rand_pool *p;

	if (rand_pool != NULL || rand_pool_none)
		return rand_pool;
	pthread_once(&rand_pool_once, rand_pool_key_init);
	if (!rand_pool_key_ok) {	/* (every thread: key 0 may be another's) */
		rand_pool_none = true;
		return NULL;
	}
	p = mmap(NULL, UTIL_POOL_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		rand_pool_none = true;
		return NULL;
	}
	if (pthread_setspecific(rand_pool_key, p) != 0) {
		munmap(p, UTIL_POOL_PAGE);
		rand_pool_none = true;
		return NULL;
	}
	rand_pool = p;
	return p;
}

enum err
util_random_bytes(void *out, size_t n)
{
	struct rand_pool *p = rand_pool_get();
	uint8_t *from;

	if (p == NULL || n > sizeof(p->bytes))
		return getrandom_all(out, n);
	/* A wiped page reads wipes = false, left = 0: refilled below. */
	if (p->left < n || (!p->wipes && p->owner != getpid())) {
		if (getrandom_all(p->bytes, sizeof(p->bytes)) != ERR_OK)
			return ERR_IO;
		p->left = sizeof(p->bytes);
		p->wipes = madvise(p, UTIL_POOL_PAGE, MADV_WIPEONFORK) == 0;
		p->owner = p->wipes ? 0 : getpid();
	}
	from = p->bytes + sizeof(p->bytes) - p->left;
	memcpy(out, from, n);
	memset(from, 0, n);
	p->left -= n;
	return ERR_OK;
}

enum err
util_random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char buf[64];

	if (nbytes > sizeof(buf))
		return ERR_INVAL;
	if (util_random_bytes(buf, nbytes) != ERR_OK)
		return ERR_IO;
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[buf[i] >> 4];
		out[2 * i + 1] = hex[buf[i] & 15];
	}
	out[2 * nbytes] = '\0';
	return ERR_OK;
}

size_t
util_strlcpy(char *dst, const char *src, size_t dstsz)
{
	size_t n = strnlen(src, dstsz - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}

size_t
util_fmt_i64(char *out, int64_t v)
{
	char tmp[UTIL_I64_CHARS];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0, len = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		out[len++] = '-';
	while (n > 0)
		out[len++] = tmp[--n];
	out[len] = '\0';
	return len;
}

bool
util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool
util_opt_u64(const char *prog, const char *flag, const char *arg, uint64_t min, uint64_t max,
    uint64_t *out)
{
	if (util_parse_u64(arg, min, max, out))
		return true;
	fprintf(stderr, "%s: --%s wants %llu..%llu\n", prog, flag, (unsigned long long)min,
	    (unsigned long long)max);
	return false;
}

int
util_open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	return fd;
}

FILE *
util_fopen_regular(const char *path)
{
	int fd = util_open_regular(path);
	FILE *f;

	if (fd < 0)
		return NULL;
	if ((f = fdopen(fd, "r")) == NULL) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return f;
}

/* Reads fd to its end (closing it) into a fresh NUL-terminated buffer. */
static enum err
util_read_fd(int fd, size_t max, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL;
	enum err e = ERR_OK;

	*out = NULL;
	if (fd < 0)
		return ERR_IO;
	for (;;) {
		ssize_t r;
		if (buf == NULL || n + 1 >= cap) {
			char *nb;
			if (buf != NULL)
				cap *= 2;
			if (max < SIZE_MAX - 2 && cap > max + 2)
				cap = max + 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				e = ERR_NOMEM;
				break;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = ERR_IO;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			e = ERR_TOOBIG;
			break;
		}
	}
	close(fd);
	if (e != ERR_OK) {
		free(buf);
		return e;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return ERR_OK;
}

enum err
util_read_file(const char *path, size_t max, char **out, size_t *len)
{
	return util_read_fd(open(path, O_RDONLY | O_CLOEXEC), max, out, len);
}

enum err
util_read_regular(const char *path, size_t max, char **out, size_t *len)
{
	int fd = util_open_regular(path);

	*out = NULL;
	if (fd < 0)
		return errno == EINVAL || errno == EISDIR ? ERR_INVAL : ERR_IO;
	return util_read_fd(fd, max, out, len);
}

long
util_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

enum err
util_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ERR_IO;
		p += w;
		len -= (size_t)w;
	}
	return ERR_OK;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t
utf8_seq(const unsigned char *p, size_t left)
{
	size_t n;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) { n = 2; cp = p[0] & 0x1f; }
	else if ((p[0] & 0xf0) == 0xe0) { n = 3; cp = p[0] & 0x0f; }
	else if ((p[0] & 0xf8) == 0xf0) { n = 4; cp = p[0] & 0x07; }
	else return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool
util_utf8_prefix(const char *p, size_t *n, size_t max)
{
	if (*n <= max)
		return false;
	*n = max;
	while (*n > 0 && ((unsigned char)p[*n] & 0xC0) == 0x80)
		(*n)--;
	return true;
}

void
util_utf8_repair(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t left = strlen(s);

	while (left > 0) {
		size_t n = utf8_seq(p, left);
		if (n == 0) {
			*p = '?';
			n = 1;
		}
		p += n;
		left -= n;
	}
}

char *
util_utf8_clean(const void *src, size_t len, size_t *outlen)
{
	const unsigned char *p = src;
	char *out, *o;

	if (len > (SIZE_MAX - 1) / 3 || (out = malloc(len * 3 + 1)) == NULL)
		return NULL;
	o = out;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(p + i, len - i);
		if (n == 0 || p[i] == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(o, p + i, n);
		o += n;
		i += n;
	}
	*o = '\0';
	*outlen = (size_t)(o - out);
	return out;
}
