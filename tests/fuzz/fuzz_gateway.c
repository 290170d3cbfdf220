/*
 * libFuzzer target for worker/gateway: the job's stdout stream, which mixes
 * program output and framed tool requests (0x1E "SLUICE-RPC " JSON "\n"),
 * fed in chunks whose size comes from the first input byte.  The pool has no
 * servers, so every well-formed call ends in a clean "not found" answer; what
 * is exercised is the framing, the JSON-RPC parsing and the bounds.
 * Invariant: every byte of program output that is not part of a request
 * reaches the sink, and the sink never sees more bytes than were fed.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "worker/gateway.h"
#include "worker/mcp_pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t sunk;

static void
sink(void *ctx, const void *bytes, size_t len)
{
	(void)ctx;
	(void)bytes;
	sunk += len;
}

static enum err
audit(void *ctx, const struct gateway_audit *rec)
{
	(void)ctx;
	(void)rec;
	return ERR_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mcp_pool *pool;
	static const char *const allow[] = { "*", NULL };
	struct gateway *gw;
	enum err e;
	char why[256];

	if (pool == NULL) {
		json_t *cfg = json_pack("{s:{}}", "mcpServers");
		pool = mcp_pool_new(cfg, &e, why, sizeof(why));
		json_decref(cfg);
		if (pool == NULL)
			abort();
	}
	if (size == 0)
		return 0;
	size_t chunk = (size_t)data[0] % 64 + 1;
	struct gateway_conf conf = { .job = "fuzz", .allow = allow, .audit = audit };
	if ((gw = gateway_new(pool, &conf, &e)) == NULL)
		return 0;
	sunk = 0;
	for (size_t off = 1; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		if (gateway_feed_stdout(gw, data + off, n, sink, NULL) == ERR_TOOBIG)
			break;
	}
	gateway_finish(gw, sink, NULL);
	if (sunk > size)
		abort();
	gateway_destroy(&gw);
	return 0;
}
