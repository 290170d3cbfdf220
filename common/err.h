/*
 * err — the one error enum of sluice, shared by every process.
 *
 * Values are part of the wire protocol (error replies carry them) and are never
 * renumbered: new values go at the end, retired ones stay reserved.
 */
#ifndef SLUICE_ERR_H
#define SLUICE_ERR_H

enum err {
	ERR_OK = 0,
	ERR_NOMEM = 1,		/* allocation failed */
	ERR_INVAL = 2,		/* invalid argument or field value */
	ERR_PROTO = 3,		/* malformed message: bad header, unknown command */
	ERR_VERSION = 4,	/* unsupported protocol version */
	ERR_TRUNCATED = 5,	/* input ended inside a value */
	ERR_TRAILING = 6,	/* bytes left after a complete value */
	ERR_TYPE = 7,		/* a field has the wrong type */
	ERR_TOOBIG = 8,		/* a size or count exceeds its bound */
	ERR_MISSING = 9,	/* a required field is absent */
	ERR_BUSY = 10,		/* queue full: retry later */
	ERR_IO = 11,		/* system call failed (see errno in the log) */
	ERR_TIMEOUT = 12,	/* a deadline passed */
	ERR_NOTFOUND = 13,	/* no such job, file or key */
	ERR_JAIL = 14,		/* the sandbox could not be built */
	ERR_DB = 15,		/* storage error */
	ERR_CRYPTO = 16,	/* hashing, signing or verification failed */
	ERR_DENIED = 17,	/* refused by policy */
	ERR_CONFIG = 18,	/* bad configuration */
	ERR_INTERNAL = 19,	/* a bug: an invariant did not hold */
	ERR_SHUTDOWN = 20,	/* the process is stopping */
	ERR_DUPLICATE = 21,	/* the key or name exists already */
	ERR__COUNT
};

/* Returns a static, human-readable description; never NULL. */
const char *err_str(int e);

/* Returns the stable short name ("ERR_BUSY" without the prefix: "busy"). */
const char *err_name(int e);

#endif
