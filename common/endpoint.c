/*
 * endpoint — endpoint strings (endpoint.h).  Used by the CLI, the front
 * binary, the broker and curve.c; the strings come from flags and the
 * environment and are checked, never trusted.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "common/endpoint.h"

const char *
endpoint_resolve(const char *ep)
{
	const char *env = getenv("SLUICE_BROKER");

	if (ep != NULL && *ep != '\0')
		return ep;
	if (env != NULL && *env != '\0')
		return env;
	return ENDPOINT_DEFAULT;
}

bool
endpoint_is_local(const char *ep)
{
	static const char *const local[] = { "127.", "localhost:", "[::1]:", "::1:" };

	if (strncmp(ep, "ipc://", 6) == 0 || strncmp(ep, "inproc://", 9) == 0)
		return true;
	if (strncmp(ep, "tcp://", 6) != 0)
		return false;
	ep += 6;
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (strncmp(ep, local[i], strlen(local[i])) == 0)
			return true;
	return false;
}

/* A TCP port: 1..65535 in decimal digits only, nothing after it. */
static bool
parse_port(const char *s, in_port_t *out)
{
	unsigned long v = 0;
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 5 || s[n] != '\0')
		return false;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (v == 0 || v > 65535)
		return false;
	*out = htons((in_port_t)v);
	return true;
}

static bool
parse_ipc(const char *path, struct endpoint_addr *out)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&out->sa;
	size_t n = strlen(path);

	/* "*" asks libzmq to make up a name (binds only). */
	if (n == 0 || n >= sizeof(un->sun_path) || strcmp(path, "*") == 0)
		return false;
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, path, n);
	out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	if (path[0] == '@') {	/* abstract: no NUL terminator counted */
		un->sun_path[0] = '\0';
		out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	return true;
}

static bool
parse_tcp(const char *hostport, struct endpoint_addr *out)
{
	char host[64];
	const char *colon = strrchr(hostport, ':');
	size_t hlen;
	in_port_t port;

	if (colon == NULL || (hlen = (size_t)(colon - hostport)) == 0 || hlen >= sizeof(host) ||
	    !parse_port(colon + 1, &port))
		return false;
	memcpy(host, hostport, hlen);
	host[hlen] = '\0';
	memset(&out->sa, 0, sizeof(out->sa));
	if (strcmp(host, "[::1]") == 0) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->sa;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = port;
		out->len = sizeof(*s6);
		return true;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)&out->sa;
	s4->sin_family = AF_INET;
	s4->sin_port = port;
	out->len = sizeof(*s4);
	if (strcmp(host, "localhost") == 0) {
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return true;
	}
	/* inet_pton takes exactly four decimal parts: no "127.1", no hex. */
	return inet_pton(AF_INET, host, &s4->sin_addr) == 1 &&
	    (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
}

bool
endpoint_parse_local(const char *ep, struct endpoint_addr *out)
{
	if (strncmp(ep, "ipc://", 6) == 0)
		return parse_ipc(ep + 6, out);
	if (strncmp(ep, "tcp://", 6) == 0)
		return parse_tcp(ep + 6, out);
	return false;
}
