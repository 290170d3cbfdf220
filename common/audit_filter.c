/*
 * audit_filter — privacy filter for audit event details, with a memo.
 * Runs in the broker's loop thread (one filter per loop; not thread-safe).
 *
 * Most details texts repeat: {"worker":"host-1"} for every execution_start
 * on a worker, the same risk_assessment for the same code, the same
 * execution_end for every successful job.  The filter (a Hyperscan scan plus
 * validators) is deterministic, so a text it once passed unchanged passes
 * unchanged again.  The memo keeps such texts, whole, in a direct-mapped
 * table and compares exactly (memcmp), so a hit is never a guess: any text
 * not byte-identical to one already found clean is scanned.  Texts with
 * findings are not kept (their redaction is rare and scanned every time).
 *
 * The memo holds only texts that go into the audit store as they are, so it
 * keeps nothing the store does not.  Bounded: MEMO_SLOTS texts of at most
 * MEMO_TEXT_MAX bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/audit.h"
#include "common/audit_filter.h"
#include "common/err.h"
#include "common/privacy.h"

#define MEMO_SLOTS	256		/* power of two */
#define MEMO_TEXT_MAX	1024		/* longer texts are always scanned */

struct memo_slot {
	char *text;			/* NULL: empty */
	size_t len;
	uint64_t hash;
};

struct audit_filter {
	struct memo_slot slot[MEMO_SLOTS];
	size_t hits;
};

static const char redacted[] = "{\"redacted\":true}";

struct audit_filter *
audit_filter_new(void)
{
	return calloc(1, sizeof(struct audit_filter));
}

void
audit_filter_destroy(struct audit_filter **fp)
{
	if (fp == NULL || *fp == NULL)
		return;
	for (size_t i = 0; i < MEMO_SLOTS; i++)
		free((*fp)->slot[i].text);
	free(*fp);
	*fp = NULL;
}

size_t
audit_filter_hits(const struct audit_filter *f)
{
	return f->hits;
}

/* FNV-1a, 64 bits: picks the slot; equality is decided by memcmp. */
static uint64_t
memo_hash(const char *p, size_t len)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static bool
memo_has(const struct audit_filter *f, const char *text, size_t len, uint64_t h)
{
	const struct memo_slot *m = &f->slot[h & (MEMO_SLOTS - 1)];

	return m->text != NULL && m->hash == h && m->len == len && memcmp(m->text, text, len) == 0;
}

/* Remembers a clean text; out of memory only means no memo. */
static void
memo_put(struct audit_filter *f, const char *text, size_t len, uint64_t h)
{
	struct memo_slot *m = &f->slot[h & (MEMO_SLOTS - 1)];
	char *copy = malloc(len + 1);

	if (copy == NULL)
		return;
	memcpy(copy, text, len + 1);
	free(m->text);
	*m = (struct memo_slot){ copy, len, h };
}

void
audit_filter_details(struct audit_filter *f, struct audit_event *ev, char **text)
{
	struct privacy_config pc = { .mode = PRIVACY_MODE_REDACT };
	struct privacy_result pr = { 0 };
	size_t len = strlen(*text);
	bool memo = len <= MEMO_TEXT_MAX;
	uint64_t h = memo ? memo_hash(*text, len) : 0;

	if (memo && memo_has(f, *text, len, h)) {
		f->hits++;
		if (audit_event_take_details(ev, text) == ERR_OK)
			return;
	} else if (privacy_scan(&pc, *text, len, &pr) == ERR_OK && pr.nfindings == 0) {
		if (memo)
			memo_put(f, *text, len, h);
		audit_event_take_details(ev, text);
	} else if (pr.text != NULL && audit_event_set_details(ev, pr.text, pr.len) != ERR_OK) {
		audit_event_set_details(ev, redacted, sizeof(redacted) - 1);
	}
	privacy_result_clear(&pr);
	free(*text);
	*text = NULL;
}
