/*
 * zmtp — ZMTP 3.x client side (layout in zmtp.h).  Runs in the `sluice`
 * front binary.  Trusts nothing the peer sends: lengths are checked before
 * use, every wait has a deadline, and a frame's buffer grows with the bytes
 * that really arrived, never to a size the peer merely announced.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "client/zmtp.h"
#include "common/util.h"

#define FLAG_MORE	0x01
#define FLAG_LONG	0x02
#define FLAG_COMMAND	0x04
#define RBUF_SIZE	(64 * 1024)
#define GROW_FIRST	(64 * 1024)	/* first allocation of a large frame */

struct zmtp {
	int fd;
	size_t frame_max;
	size_t rpos, rlen;		/* unread bytes: rbuf[rpos..rlen) */
	unsigned char rbuf[RBUF_SIZE];
};

/* Milliseconds left until `deadline` for poll(): -1 forever, 0 when past. */
static int
left_ms(int64_t deadline)
{
	int64_t left;

	if (deadline == ZMTP_FOREVER)
		return -1;
	left = deadline - util_now_ms();
	if (left <= 0)
		return 0;
	return left > 60000 ? 60000 : (int)left;
}

/* Waits until fd is ready for `events`: ERR_OK, ERR_TIMEOUT or ERR_IO. */
static enum err
wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int ms = left_ms(deadline);
		int n;

		if (ms == 0 && deadline != ZMTP_FOREVER)
			return ERR_TIMEOUT;
		n = poll(&p, 1, ms);
		if (n > 0)
			return ERR_OK;	/* readable, writable, or an error read() will report */
		if (n < 0 && errno != EINTR)
			return ERR_IO;
	}
}

int
zmtp_connect(const struct endpoint_addr *a, int64_t deadline)
{
	int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, soerr = 0;
	socklen_t sl = sizeof(soerr);
	enum err e;

	if (fd < 0)
		return -1;
	if (a->sa.ss_family != AF_UNIX)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&a->sa, a->len) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	if ((e = wait_fd(fd, POLLOUT, deadline)) != ERR_OK) {
		errno = e == ERR_TIMEOUT ? ETIMEDOUT : errno;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		goto fail;
	if (soerr == 0)
		return fd;
	errno = soerr;
fail:
	soerr = errno;
	close(fd);
	errno = soerr;
	return -1;
}

struct zmtp *
zmtp_new(int fd, size_t frame_max)
{
	struct zmtp *z = malloc(sizeof(*z));

	if (z == NULL) {
		close(fd);
		return NULL;
	}
	z->fd = fd;
	z->frame_max = frame_max;
	z->rpos = z->rlen = 0;
	return z;
}

void
zmtp_destroy(struct zmtp **zp)
{
	if (zp == NULL || *zp == NULL)
		return;
	close((*zp)->fd);
	free(*zp);
	*zp = NULL;
}

void
zmtp_msg_clear(struct zmtp_msg *m)
{
	for (size_t i = 0; i < ZMTP_PARTS_MAX; i++) {
		free(m->part[i]);
		m->part[i] = NULL;
		m->len[i] = 0;
	}
	m->nframes = 0;
}

/* ---- bytes in and out ---------------------------------------------------- */

/* Reads what is there (at least one byte) into `dst` (up to `cap`). */
static enum err
read_some(struct zmtp *z, void *dst, size_t cap, size_t *got, int64_t deadline, char *why,
    size_t whysz)
{
	for (;;) {
		ssize_t n = read(z->fd, dst, cap);
		enum err e;

		if (n > 0) {
			*got = (size_t)n;
			return ERR_OK;
		}
		if (n == 0) {
			snprintf(why, whysz, "the broker closed the connection");
			return ERR_IO;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(why, whysz, "connection to the broker lost: %s", strerror(errno));
			return ERR_IO;
		}
		if ((e = wait_fd(z->fd, POLLIN, deadline)) != ERR_OK) {
			snprintf(why, whysz, e == ERR_TIMEOUT ? "timed out" : "poll: %s",
			    strerror(errno));
			return e;
		}
	}
}

/* Copies exactly `n` bytes into `dst` (NULL: drops them), from the buffer
 * first, then straight from the socket for long runs. */
static enum err
read_exact(struct zmtp *z, unsigned char *dst, size_t n, int64_t deadline, char *why,
    size_t whysz)
{
	while (n > 0) {
		size_t got;
		enum err e;

		if (z->rpos < z->rlen) {
			size_t k = z->rlen - z->rpos < n ? z->rlen - z->rpos : n;
			if (dst != NULL) {
				memcpy(dst, z->rbuf + z->rpos, k);
				dst += k;
			}
			z->rpos += k;
			n -= k;
			continue;
		}
		z->rpos = z->rlen = 0;
		if (dst != NULL && n >= RBUF_SIZE) {
			if ((e = read_some(z, dst, n, &got, deadline, why, whysz)) != ERR_OK)
				return e;
			dst += got;
			n -= got;
			continue;
		}
		if ((e = read_some(z, z->rbuf, RBUF_SIZE, &got, deadline, why, whysz)) != ERR_OK)
			return e;
		z->rlen = got;
	}
	return ERR_OK;
}

/* Writes all of iov[0..n) (advancing it). */
static enum err
write_all(struct zmtp *z, struct iovec *iov, size_t n, int64_t deadline)
{
	while (n > 0) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = n };
		ssize_t w = sendmsg(z->fd, &mh, MSG_NOSIGNAL);
		enum err e;

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return ERR_IO;
			if ((e = wait_fd(z->fd, POLLOUT, deadline)) != ERR_OK)
				return e;
			continue;
		}
		size_t done = (size_t)w;
		while (n > 0 && done >= iov->iov_len) {
			done -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + done;
			iov->iov_len -= done;
		}
	}
	return ERR_OK;
}

/* Frame flags and size in `hdr` (9 bytes): returns its length. */
static size_t
frame_header(unsigned char *hdr, unsigned flags, size_t len)
{
	if (len <= 255) {
		hdr[0] = (unsigned char)flags;
		hdr[1] = (unsigned char)len;
		return 2;
	}
	hdr[0] = (unsigned char)(flags | FLAG_LONG);
	for (int i = 0; i < 8; i++)
		hdr[1 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	return 9;
}

enum err
zmtp_send(struct zmtp *z, const struct zmtp_part *parts, size_t n, int64_t deadline)
{
	unsigned char hdr[ZMTP_PARTS_MAX + 2][9];
	struct iovec iov[2 * (ZMTP_PARTS_MAX + 2)];

	if (n == 0 || n > ZMTP_PARTS_MAX + 2)
		return ERR_INVAL;
	for (size_t i = 0; i < n; i++) {
		iov[2 * i].iov_base = hdr[i];
		iov[2 * i].iov_len = frame_header(hdr[i], i + 1 < n ? FLAG_MORE : 0, parts[i].len);
		iov[2 * i + 1].iov_base = (void *)parts[i].data;
		iov[2 * i + 1].iov_len = parts[i].len;
	}
	return write_all(z, iov, 2 * n, deadline);
}

static enum err
send_command(struct zmtp *z, const unsigned char *body, size_t len, int64_t deadline)
{
	unsigned char hdr[9];
	struct iovec iov[2] = {
		{ hdr, frame_header(hdr, FLAG_COMMAND, len) }, { (void *)body, len },
	};
	return write_all(z, iov, 2, deadline);
}

/* ---- frames -------------------------------------------------------------- */

struct frame_head {
	bool more, command;
	uint64_t size;
};

static enum err
read_head(struct zmtp *z, struct frame_head *h, int64_t deadline, char *why, size_t whysz)
{
	unsigned char b[8];
	enum err e;

	if ((e = read_exact(z, b, 1, deadline, why, whysz)) != ERR_OK)
		return e;
	if (b[0] & ~(FLAG_MORE | FLAG_LONG | FLAG_COMMAND)) {
		snprintf(why, whysz, "reserved frame flags 0x%02x", b[0]);
		return ERR_PROTO;
	}
	h->more = (b[0] & FLAG_MORE) != 0;
	h->command = (b[0] & FLAG_COMMAND) != 0;
	if (h->command && h->more) {
		snprintf(why, whysz, "a command frame with MORE set");
		return ERR_PROTO;
	}
	if (b[0] & FLAG_LONG) {
		if ((e = read_exact(z, b, 8, deadline, why, whysz)) != ERR_OK)
			return e;
		h->size = 0;
		for (int i = 0; i < 8; i++)
			h->size = h->size << 8 | b[i];
	} else {
		if ((e = read_exact(z, b, 1, deadline, why, whysz)) != ERR_OK)
			return e;
		h->size = b[0];
	}
	if (h->command ? h->size > ZMTP_COMMAND_MAX : h->size > z->frame_max) {
		snprintf(why, whysz, "a %s of %llu bytes (over %zu)", h->command ? "command" : "frame",
		    (unsigned long long)h->size, h->command ? (size_t)ZMTP_COMMAND_MAX : z->frame_max);
		return ERR_TOOBIG;
	}
	return ERR_OK;
}

/* Reads a body of h->size bytes into a fresh buffer (one NUL past the end),
 * grown as the bytes arrive. */
static enum err
read_body(struct zmtp *z, size_t size, unsigned char **out, int64_t deadline, char *why,
    size_t whysz)
{
	size_t cap = size < GROW_FIRST ? size : GROW_FIRST, have = 0;
	unsigned char *buf = malloc(cap + 1), *nb;
	enum err e;

	*out = NULL;
	if (buf == NULL)
		goto nomem;
	while (have < size) {
		if (have == cap) {
			cap = size - cap < cap ? size : 2 * cap;
			if ((nb = realloc(buf, cap + 1)) == NULL)
				goto nomem;
			buf = nb;
		}
		if ((e = read_exact(z, buf + have, cap - have, deadline, why, whysz)) != ERR_OK) {
			free(buf);
			return e;
		}
		have = cap;
	}
	buf[size] = '\0';
	*out = buf;
	return ERR_OK;
nomem:
	free(buf);
	snprintf(why, whysz, "out of memory for a frame of %zu bytes", size);
	return ERR_NOMEM;
}

/* Printable copy of untrusted text for a message. */
static void
printable(char *dst, size_t dstsz, const unsigned char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < dstsz; i++)
		dst[o++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	dst[o] = '\0';
}

/* The command name of body[0..len): false when malformed. */
static bool
command_name(const unsigned char *body, size_t len, const unsigned char **name, size_t *nlen)
{
	if (len < 1 || body[0] == 0 || (size_t)body[0] > len - 1)
		return false;
	*name = body + 1;
	*nlen = body[0];
	return true;
}

static bool
is_name(const unsigned char *name, size_t nlen, const char *want)
{
	return nlen == strlen(want) && memcmp(name, want, nlen) == 0;
}

/* ERROR: reason-length, reason. */
static enum err
peer_error(const unsigned char *rest, size_t len, char *why, size_t whysz)
{
	char reason[256];

	if (len < 1 || (size_t)rest[0] > len - 1) {
		snprintf(why, whysz, "a malformed ERROR command");
		return ERR_PROTO;
	}
	printable(reason, sizeof(reason), rest + 1, rest[0]);
	snprintf(why, whysz, "the broker refused the connection: %s", reason);
	return ERR_DENIED;
}

/* PING: TTL (2 bytes), context (0..16 bytes); answered with PONG + context. */
static enum err
answer_ping(struct zmtp *z, const unsigned char *rest, size_t len, char *why, size_t whysz)
{
	unsigned char pong[1 + 4 + 16];

	if (len < 2 || len - 2 > 16) {
		snprintf(why, whysz, "a malformed PING command");
		return ERR_PROTO;
	}
	pong[0] = 4;
	memcpy(pong + 1, "PONG", 4);
	memcpy(pong + 5, rest + 2, len - 2);
	if (send_command(z, pong, 5 + len - 2, util_now_ms() + 2000) != ERR_OK) {
		snprintf(why, whysz, "cannot answer the broker's PING");
		return ERR_IO;
	}
	return ERR_OK;
}

/* READY's properties: every one well-formed, Socket-Type one a DEALER may
 * talk to (ZMTP 3.0 23/ZMTP: DEALER, REP, ROUTER). */
static enum err
check_ready(const unsigned char *p, size_t len, char *why, size_t whysz)
{
	static const char *const peers[] = { "ROUTER", "DEALER", "REP" };
	bool typed = false;

	while (len > 0) {
		size_t nlen = p[0], vlen;
		const unsigned char *name = p + 1, *value;

		if (nlen == 0 || nlen + 1 + 4 > len)
			goto malformed;
		vlen = (size_t)p[1 + nlen] << 24 | (size_t)p[2 + nlen] << 16 |
		    (size_t)p[3 + nlen] << 8 | p[4 + nlen];
		if (vlen > len - (nlen + 5))
			goto malformed;
		value = p + nlen + 5;
		if (nlen == 11 && strncasecmp((const char *)name, "Socket-Type", 11) == 0) {
			bool fits = false;
			for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
				fits |= vlen == strlen(peers[i]) && memcmp(value, peers[i], vlen) == 0;
			if (!fits || typed) {
				char t[32];
				printable(t, sizeof(t), value, vlen);
				snprintf(why, whysz, "the peer is a %s socket, not a broker front", t);
				return ERR_PROTO;
			}
			typed = true;
		}
		p += nlen + 5 + vlen;
		len -= nlen + 5 + vlen;
	}
	if (!typed) {
		snprintf(why, whysz, "READY without a Socket-Type");
		return ERR_PROTO;
	}
	return ERR_OK;
malformed:
	snprintf(why, whysz, "a malformed READY property");
	return ERR_PROTO;
}

/* ---- handshake ----------------------------------------------------------- */

static const unsigned char ready_cmd[] = {
	5, 'R', 'E', 'A', 'D', 'Y',
	11, 'S', 'o', 'c', 'k', 'e', 't', '-', 'T', 'y', 'p', 'e', 0, 0, 0, 6,
	'D', 'E', 'A', 'L', 'E', 'R',
	8, 'I', 'd', 'e', 'n', 't', 'i', 't', 'y', 0, 0, 0, 0,
};

enum err
zmtp_handshake(struct zmtp *z, int64_t deadline, char *why, size_t whysz)
{
	unsigned char mine[ZMTP_GREETING_LEN] = { 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 1,
		'N', 'U', 'L', 'L' };
	unsigned char peer[ZMTP_GREETING_LEN], *body = NULL;
	static const unsigned char null_mech[20] = { 'N', 'U', 'L', 'L' };
	struct iovec iov = { mine, sizeof(mine) };
	struct frame_head h;
	const unsigned char *name;
	size_t nlen;
	enum err e;

	if ((e = write_all(z, &iov, 1, deadline)) != ERR_OK) {
		snprintf(why, whysz, e == ERR_TIMEOUT ? "the greeting timed out" :
		    "cannot send the greeting: %s", strerror(errno));
		return e;
	}
	if ((e = read_exact(z, peer, sizeof(peer), deadline, why, whysz)) != ERR_OK)
		return e;
	if (peer[0] != 0xff || (peer[9] & 1) == 0 || peer[10] < 3) {
		snprintf(why, whysz, "the peer does not speak ZMTP 3");
		return ERR_VERSION;
	}
	if (memcmp(peer + 12, null_mech, sizeof(null_mech)) != 0) {
		char mech[21];
		printable(mech, sizeof(mech), peer + 12, strnlen((const char *)peer + 12, 20));
		snprintf(why, whysz, "the broker wants the %s mechanism (CURVE: give --curve-key "
		    "and --broker-key)", mech);
		return ERR_DENIED;
	}
	if ((e = send_command(z, ready_cmd, sizeof(ready_cmd), deadline)) != ERR_OK) {
		snprintf(why, whysz, "cannot send READY");
		return e;
	}
	if ((e = read_head(z, &h, deadline, why, whysz)) != ERR_OK)
		return e;
	if (!h.command) {
		snprintf(why, whysz, "a message before READY");
		return ERR_PROTO;
	}
	if ((e = read_body(z, (size_t)h.size, &body, deadline, why, whysz)) != ERR_OK)
		return e;
	if (!command_name(body, (size_t)h.size, &name, &nlen)) {
		snprintf(why, whysz, "a malformed command");
		e = ERR_PROTO;
	} else if (is_name(name, nlen, "READY")) {
		e = check_ready(name + nlen, (size_t)h.size - 1 - nlen, why, whysz);
	} else if (is_name(name, nlen, "ERROR")) {
		e = peer_error(name + nlen, (size_t)h.size - 1 - nlen, why, whysz);
	} else {
		snprintf(why, whysz, "an unexpected command before READY");
		e = ERR_PROTO;
	}
	free(body);
	return e;
}

/* ---- messages ------------------------------------------------------------ */

/* A command after the handshake: PING is answered, ERROR ends the
 * connection, anything else (PONG, a future command) is ignored. */
static enum err
command(struct zmtp *z, const struct frame_head *h, int64_t deadline, char *why, size_t whysz)
{
	unsigned char *body;
	const unsigned char *name;
	size_t nlen, len = (size_t)h->size;
	enum err e;

	if ((e = read_body(z, len, &body, deadline, why, whysz)) != ERR_OK)
		return e;
	if (!command_name(body, len, &name, &nlen)) {
		snprintf(why, whysz, "a malformed command");
		e = ERR_PROTO;
	} else if (is_name(name, nlen, "PING")) {
		e = answer_ping(z, name + nlen, len - 1 - nlen, why, whysz);
	} else if (is_name(name, nlen, "ERROR")) {
		e = peer_error(name + nlen, len - 1 - nlen, why, whysz);
	}
	free(body);
	return e;
}

enum err
zmtp_recv(struct zmtp *z, struct zmtp_msg *m, int64_t deadline, char *why, size_t whysz)
{
	struct frame_head h;
	enum err e;

	zmtp_msg_clear(m);
	for (;;) {
		if ((e = read_head(z, &h, deadline, why, whysz)) != ERR_OK)
			goto fail;
		if (h.command) {
			if (m->nframes > 0) {
				snprintf(why, whysz, "a command inside a multipart message");
				e = ERR_PROTO;
				goto fail;
			}
			if ((e = command(z, &h, deadline, why, whysz)) != ERR_OK)
				goto fail;
			continue;
		}
		if (m->nframes < ZMTP_PARTS_MAX) {
			e = read_body(z, (size_t)h.size, &m->part[m->nframes], deadline, why, whysz);
			m->len[m->nframes] = (size_t)h.size;
		} else {
			e = read_exact(z, NULL, (size_t)h.size, deadline, why, whysz);
		}
		if (e != ERR_OK)
			goto fail;
		m->nframes++;
		if (!h.more)
			return ERR_OK;
	}
fail:
	zmtp_msg_clear(m);
	return e;
}
