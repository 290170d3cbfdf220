/*
 * endpoint — ZeroMQ endpoint strings: which one a client uses, which ones
 * stay on this host, and the socket address of the simple local ones.
 * libc only: the `sluice` front binary (client/front.c) links it without
 * ZeroMQ, and the full CLI, the broker and curve.c use the same rule.
 */
#ifndef SLUICE_ENDPOINT_H
#define SLUICE_ENDPOINT_H

#include <stdbool.h>
#include <sys/socket.h>

/* Environment variables naming a client's CURVE key files when no flag
 * does (common/curve.c); the front binary hands any CURVE to sluice-cli. */
#define CURVE_ENV_KEY		"SLUICE_CURVE_KEY"
#define CURVE_ENV_BROKER_KEY	"SLUICE_BROKER_KEY"

/* The broker's default front endpoint. */
#define ENDPOINT_DEFAULT "tcp://127.0.0.1:5555"

/* Resolves a client's endpoint: `ep` when not empty, else $SLUICE_BROKER
 * when not empty, else ENDPOINT_DEFAULT.  Borrowed. */
const char *endpoint_resolve(const char *ep);

/* True for endpoints that never leave this host: ipc://, inproc://, and
 * tcp:// on 127.0.0.0/8, ::1 or localhost.  A wildcard bind is not local. */
bool endpoint_is_local(const char *ep);

/* A connectable address: what endpoint_parse_local fills in. */
struct endpoint_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};

/* Parses the simple local endpoints a plain socket can connect to without
 * ZeroMQ: ipc://PATH (a path that fits sockaddr_un; "@name" is Linux's
 * abstract namespace, as in libzmq), tcp://A.B.C.D:PORT with A = 127,
 * tcp://localhost:PORT (127.0.0.1, as libzmq resolves it without IPv6) and
 * tcp://[::1]:PORT.  False for anything else (other hosts, names, source
 * addresses, wildcards, inproc://): the caller leaves those to ZeroMQ. */
bool endpoint_parse_local(const char *ep, struct endpoint_addr *out);

#endif
