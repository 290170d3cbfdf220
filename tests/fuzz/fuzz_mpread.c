/*
 * libFuzzer target for common/mpread: mpread_skip with the codec's depth
 * limit, then a walk of mpread_next over the same bytes.  Checks that the
 * cursor only moves forward, stays inside the input, and that str/bin/ext
 * payloads lie inside it too.
 */
#include <stdint.h>
#include <stdlib.h>

#include "common/mpread.h"

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
	const unsigned char *end = data + size;
	struct mpread r;
	struct mpread_item it;

	mpread_init(&r, data, size);
	if (mpread_skip(&r, 8) == ERR_OK)
		check(r.p + r.left == end);

	mpread_init(&r, data, size);
	while (r.left > 0) {
		const unsigned char *before = r.p;

		if (mpread_next(&r, &it) != ERR_OK)
			break;
		check(r.p > before && r.p + r.left == end);
		if (it.kind == MPREAD_STR || it.kind == MPREAD_BIN || it.kind == MPREAD_EXT)
			check(it.ptr >= (const unsigned char *)data && it.ptr + it.len <= r.p);
	}
	return 0;
}
