/*
 * fuzz_risk — libFuzzer target for risk_assess: arbitrary bytes as code.
 * Checks the verdict's invariants (score in [0,1], level matches the
 * score or a floor, bounded findings, printable bounded excerpts, 1-based
 * positions) on top of the sanitizers' memory checks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/risk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct risk *fuzz_risk;
static struct risk_verdict fuzz_verdict;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct risk_verdict *v = &fuzz_verdict;
	struct risk_conf conf;
	enum err e;

	if (fuzz_risk == NULL) {
		fuzz_risk = risk_new(NULL, NULL, &e, NULL, 0);
		if (fuzz_risk == NULL)
			abort();
	}
	if (risk_assess(fuzz_risk, (const char *)data, size, v) != ERR_OK)
		abort();
	if (!(v->score >= 0.0 && v->score <= 1.0))
		abort();
	if (v->level < RISK_L1 || v->level > RISK_L4)
		abort();
	risk_conf_default(&conf);	/* floors lift the score too */
	if (risk_level_of(&conf, v->score) != v->level)
		abort();
	if (v->nfindings > RISK_FINDINGS_MAX || v->nfindings > v->total)
		abort();
	for (size_t i = 0; i < v->nfindings; i++) {
		const struct risk_finding *f = &v->findings[i];
		size_t n = strnlen(f->excerpt, sizeof(f->excerpt));

		if (n > RISK_EXCERPT_MAX || f->line < 1 || f->col < 1 ||
		    f->col > size || f->weight < 0.0 || f->weight > 1.0)
			abort();
		for (size_t k = 0; k < n; k++) {
			if (f->excerpt[k] < 0x20 || f->excerpt[k] > 0x7e)
				abort();
		}
	}
	return 0;
}
