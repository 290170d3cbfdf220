/*
 * libFuzzer target for the two renderings of a tool an MCP server sends
 * (worker/gateway.c): gateway_lean_schema (detail "full": its inputSchema /
 * outputSchema rewritten) and gateway_signature (detail "signature": the
 * whole definition as one TypeScript-like line).  The input is any JSON text
 * (jansson's own parser and depth limit first); the signature is rendered
 * for it as a definition and for {inputSchema: it, outputSchema: it}.
 * Invariants: no crash or leak; the lean result dumps as JSON and a
 * top-level object loses "$schema" and never gains keys; a signature is
 * never NULL, starts with the name, is at most GATEWAY_SIGNATURE_MAX bytes
 * of valid UTF-8 without control characters.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker/gateway.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_signature(const json_t *def)
{
	char *sig = gateway_signature("srv.tool", def);
	json_t *valid;

	if (sig == NULL || strncmp(sig, "srv.tool(", 9) != 0 || strlen(sig) > GATEWAY_SIGNATURE_MAX)
		abort();
	for (const char *p = sig; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	if ((valid = json_string(sig)) == NULL)	/* NULL: not UTF-8 */
		abort();
	json_decref(valid);
	free(sig);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr), *out, *def;
	char *text;

	if (in == NULL)
		return 0;
	if ((out = gateway_lean_schema(in)) == NULL)
		abort();
	if (json_is_object(in)) {
		if (!json_is_object(out) || json_object_get(out, "$schema") != NULL ||
		    json_object_size(out) > json_object_size(in))
			abort();
	}
	if ((text = json_dumps(out, JSON_ENCODE_ANY | JSON_COMPACT)) == NULL)
		abort();
	free(text);
	json_decref(out);

	check_signature(in);
	if ((def = json_pack("{s:O, s:O}", "inputSchema", in, "outputSchema", in)) == NULL)
		abort();
	check_signature(def);
	json_decref(def);
	json_decref(in);
	return 0;
}
