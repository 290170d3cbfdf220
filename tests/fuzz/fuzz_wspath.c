/*
 * libFuzzer target for common/wspath: the `files` field parser over
 * arbitrary bytes.  On success every path must be normalised (relative, no
 * empty, "." or ".." component, no control byte, within the limits), no two
 * may clash, and every data slice must lie inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/wspath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
	if (!ok)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wspath_input *in;
	size_t n;
	char why[256], again[WSPATH_MAX + 1];

	if (wspath_inputs_parse(data, size, &wspath_limits_default, WSPATH_PUBLIC, &in, &n, why,
	    sizeof(why)) != ERR_OK) {
		check(in == NULL && n == 0 && why[0] != '\0');
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(in[i].path);
		check(len > 0 && len <= WSPATH_MAX && in[i].path[0] != '/');
		check(wspath_normalize(in[i].path, len, again, why, sizeof(why)) == ERR_OK);
		check(strcmp(again, in[i].path) == 0);		/* normalising is idempotent */
		check(!wspath_is_reserved(in[i].path));
		check(in[i].len == 0 || (in[i].data >= data && in[i].data + in[i].len <= data + size));
		for (size_t k = 0; k < i; k++)
			check(strcmp(in[k].path, in[i].path) != 0);
	}
	free(in);
	return 0;
}
