/*
 * libFuzzer target for gateway_lean_schema (worker/gateway.c): the tool
 * definitions an MCP server sends (its inputSchema / outputSchema) are
 * rewritten for detail "full".  The input is any JSON text (jansson's own
 * parser and depth limit first).  Invariants: no crash or leak; the result
 * dumps as JSON; a top-level object loses "$schema" and never gains keys.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "worker/gateway.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr), *out;
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
	json_decref(in);
	return 0;
}
