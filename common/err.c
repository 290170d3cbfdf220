/*
 * err — descriptions and names for the error enum (common/err.h).
 * Linked into every process; trusts nothing: unknown values get a fallback.
 */
#include <stddef.h>

#include "common/err.h"

static const struct {
	const char *name;
	const char *text;
} err_table[ERR__COUNT] = {
	[ERR_OK] = { "ok", "success" },
	[ERR_NOMEM] = { "nomem", "out of memory" },
	[ERR_INVAL] = { "inval", "invalid argument" },
	[ERR_PROTO] = { "proto", "malformed message" },
	[ERR_VERSION] = { "version", "unsupported protocol version" },
	[ERR_TRUNCATED] = { "truncated", "input truncated" },
	[ERR_TRAILING] = { "trailing", "trailing bytes after message" },
	[ERR_TYPE] = { "type", "field has the wrong type" },
	[ERR_TOOBIG] = { "toobig", "size or count exceeds its limit" },
	[ERR_MISSING] = { "missing", "required field missing" },
	[ERR_BUSY] = { "busy", "busy, retry later" },
	[ERR_IO] = { "io", "input/output error" },
	[ERR_TIMEOUT] = { "timeout", "timed out" },
	[ERR_NOTFOUND] = { "notfound", "not found" },
	[ERR_JAIL] = { "jail", "sandbox setup failed" },
	[ERR_DB] = { "db", "storage error" },
	[ERR_CRYPTO] = { "crypto", "cryptographic operation failed" },
	[ERR_DENIED] = { "denied", "denied by policy" },
	[ERR_CONFIG] = { "config", "bad configuration" },
	[ERR_INTERNAL] = { "internal", "internal error" },
	[ERR_SHUTDOWN] = { "shutdown", "shutting down" },
	[ERR_DUPLICATE] = { "duplicate", "already exists" },
};

const char *
err_str(int e)
{
	if (e < 0 || e >= ERR__COUNT || err_table[e].text == NULL)
		return "unknown error";
	return err_table[e].text;
}

const char *
err_name(int e)
{
	if (e < 0 || e >= ERR__COUNT || err_table[e].name == NULL)
		return "unknown";
	return err_table[e].name;
}
