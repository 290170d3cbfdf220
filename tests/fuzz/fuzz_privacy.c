/*
 * fuzz_privacy — libFuzzer target for the privacy filter.  Feeds the input to
 * the one-shot API (redact mode, then report mode) and to the streaming API
 * split at an offset derived from the data, and checks that both agree and
 * that every finding lies inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/privacy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	uint8_t *p;
	size_t len, cap;
};

static int
sink_append(void *arg, const void *bytes, size_t len)
{
	struct sink *s = arg;

	if (s->len + len > s->cap) {
		size_t ncap = (s->len + len) * 2 + 64;
		uint8_t *n = realloc(s->p, ncap);
		if (n == NULL)
			return ERR_NOMEM;
		s->p = n;
		s->cap = ncap;
	}
	memcpy(s->p + s->len, bytes, len);
	s->len += len;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct privacy_config cfg = { .mode = PRIVACY_MODE_REDACT };
	struct privacy_result r = { 0 }, rep = { 0 };
	struct privacy_stream *s;
	struct sink out = { NULL, 0, 0 };
	size_t split = size > 0 ? data[0] * size / 256 : 0, n;
	const struct privacy_finding *f;
	int err;

	if (privacy_scan(&cfg, data, size, &r) != ERR_OK)
		abort();
	for (size_t i = 0; i < r.nfindings; i++)
		if (r.findings[i].start >= r.findings[i].end || r.findings[i].end > size)
			abort();
	cfg.mode = PRIVACY_MODE_REPORT;
	if (privacy_scan(&cfg, data, size, &rep) != ERR_OK || rep.len != size ||
	    memcmp(rep.text, data, size) != 0 || rep.nfindings != r.nfindings)
		abort();
	cfg.mode = PRIVACY_MODE_REDACT;
	if ((s = privacy_stream_new(&cfg, &err)) == NULL)
		abort();
	if (privacy_stream_feed(s, data, split, sink_append, &out) != ERR_OK ||
	    privacy_stream_feed(s, data + split, size - split, sink_append, &out) != ERR_OK ||
	    privacy_stream_finish(s, sink_append, &out) != ERR_OK)
		abort();
	f = privacy_stream_findings(s, &n, NULL);
	/* Inputs smaller than the window give the same result however split. */
	if (n != r.nfindings || out.len != r.len || (out.len > 0 && memcmp(out.p, r.text, r.len) != 0))
		abort();
	(void)f;
	privacy_stream_destroy(&s);
	privacy_result_clear(&r);
	privacy_result_clear(&rep);
	free(out.p);
	return 0;
}
