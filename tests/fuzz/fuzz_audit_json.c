/*
 * fuzz_audit_json — libFuzzer target for the two audit decoders: the JSON
 * line form (audit_event_from_json, fed by evidence packs) and the canonical
 * msgpack form (audit_decode, fed by the store).  The first input byte picks
 * the decoder.  Whatever decodes must re-encode, decode again to the same
 * bytes, and hash without error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/audit.h"
#include "common/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check_round_trip(const struct audit_event *ev)
{
	static uint8_t a[AUDIT_CANON_MAX], b[AUDIT_CANON_MAX];
	struct audit_event back;
	uint8_t h[AUDIT_HASH_LEN];
	size_t alen, blen;
	char *line;

	if (audit_encode(ev, true, a, sizeof(a), &alen) != ERR_OK)
		abort();
	if (audit_decode(a, alen, &back) != ERR_OK)
		abort();
	if (audit_encode(&back, true, b, sizeof(b), &blen) != ERR_OK ||
	    alen != blen || memcmp(a, b, alen) != 0)
		abort();
	if (audit_event_compute_hash(&back, h) != ERR_OK)
		abort();
	if ((line = audit_event_to_json(&back)) == NULL)
		abort();
	free(line);
	audit_event_clear(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_event ev;
	char why[256];

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		if (audit_event_from_json((const char *)data + 1, size - 1, &ev, why,
		    sizeof(why)) == ERR_OK) {
			fuzz_check_round_trip(&ev);
			audit_event_clear(&ev);
		}
	} else {
		if (audit_decode(data + 1, size - 1, &ev) == ERR_OK) {
			fuzz_check_round_trip(&ev);
			audit_event_clear(&ev);
		}
	}
	return 0;
}
