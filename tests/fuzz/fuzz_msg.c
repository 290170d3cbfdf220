/*
 * libFuzzer target for common/msg: msg_decode on arbitrary header and body
 * frames, and the round-trip invariant on whatever it accepts.
 *
 * Input layout: byte 0 chooses where the header frame ends (0..7 bytes), the
 * rest is the body frame.
 *
 *   +-------+----------------------+--------------------------------+
 *   | split | header (split % 8 B) | body (everything after)        |
 *   +-------+----------------------+--------------------------------+
 *
 * A decoded message must re-encode, decode again to the same fields, and
 * re-encode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Dies loudly so libFuzzer records the input. */
static void
check(int ok)
{
	if (!ok)
		abort();
}

static void
check_same_fields(const struct msg *a, const struct msg *b)
{
	check(msg_cmd(a) == msg_cmd(b));
	for (int i = 0; i < MSG_F__COUNT; i++) {
		enum msg_field f = (enum msg_field)i;
		size_t la, lb;
		const void *pa = msg_bin(a, f, &la), *pb = msg_bin(b, f, &lb);

		check(msg_has(a, f) == msg_has(b, f));
		check(msg_u64(a, f, 0) == msg_u64(b, f, 0));
		check(msg_i64(a, f, 0) == msg_i64(b, f, 0));
		check(la == lb && (pa == NULL) == (pb == NULL));
		check(la == 0 || memcmp(pa, pb, la) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char hdr1[MSG_HEADER_LEN], hdr2[MSG_HEADER_LEN];
	unsigned char *body1 = NULL, *body2 = NULL;
	size_t hlen, len1, len2;
	struct msg *m1 = NULL, *m2 = NULL;
	char why[128];

	if (size < 1)
		return 0;
	hlen = data[0] % 8;
	if (hlen > size - 1)
		hlen = size - 1;
	if (msg_decode(data + 1, hlen, data + 1 + hlen, size - 1 - hlen, &m1, why,
	    sizeof(why)) != ERR_OK) {
		check(m1 == NULL && why[0] != '\0');
		return 0;
	}
	check(msg_encode(m1, hdr1, &body1, &len1) == ERR_OK);
	check(msg_decode(hdr1, sizeof(hdr1), body1, len1, &m2, why, sizeof(why)) == ERR_OK);
	check_same_fields(m1, m2);
	check(msg_encode(m2, hdr2, &body2, &len2) == ERR_OK);
	check(memcmp(hdr1, hdr2, sizeof(hdr1)) == 0);
	check(len1 == len2 && memcmp(body1, body2, len1) == 0);
	free(body1);
	free(body2);
	msg_destroy(&m1);
	msg_destroy(&m2);
	return 0;
}
