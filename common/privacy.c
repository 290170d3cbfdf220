/*
 * privacy — the filter engine: one Hyperscan database over every rule of
 * privacy_rules.c, a bounded streaming window, overlap resolution and the
 * four output modes.  Runs in the broker (pre-scan of submitted code), the
 * worker (every output before it leaves the host), and the CLI (sluice scan).
 * Input is untrusted and may be binary; nothing here trusts its length or
 * content beyond the bounds below.
 *
 * The stream window (all sizes are hard maxima):
 *
 *   pend: [ context | held back / not yet emitted ............. ]
 *          <= CTX     |<------- up to CARRY + PIECE ------------>|
 *          already    commit = pend_len - CARRY (or pend_len at finish)
 *          emitted
 *
 * Each round scans the whole window in Hyperscan block mode, validates the
 * candidates, drops findings that start in the context (handled last round),
 * applies findings that start before `commit` and emits everything up to
 * max(commit, end of the last applied finding).  The context keeps CTX bytes
 * of left context (for word boundaries and keywords such as "passport"). A
 * finding that starts before `commit` has CARRY bytes of right context, so a
 * match of up to PRIVACY_MAX_MATCH bytes is found whole, whatever the chunking.
 *
 * Overlap rule (deterministic): findings are ordered by start; when two
 * overlap, the winner is a secret over PII, then the longer span, then the
 * earlier rule in the table; the loser is dropped.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>
#include <sodium.h>

#include "common/err.h"
#include "common/log.h"
#include "common/privacy.h"
#include "common/privacy_rules.h"

#define CTX		4096		/* left context kept after emitting */
#define CARRY		PRIVACY_MAX_MATCH
#define PIECE		(256 * 1024)	/* new bytes per round */
#define WINDOW		(CTX + CARRY + PIECE)
#define MAX_CANDS	(1u << 18)	/* raw matches per round */
#define TOKEN_TEXT_MAX	64
#define REPEAT_RADIUS	1024		/* how far from a secret copies are sought */

/* ---- the database -------------------------------------------------------- */

static pthread_once_t db_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t db_lock = PTHREAD_MUTEX_INITIALIZER;
static hs_database_t *db;
static hs_scratch_t *db_scratch;	/* prototype, cloned per thread */
static int db_err = ERR_INTERNAL;
static pthread_key_t scratch_key;	/* a thread's idle scratch, freed at its exit */
static const struct privacy_rule *rules;
static size_t nrules;

static void
scratch_free(void *scratch)
{
	hs_free_scratch(scratch);
}

/* Scratch for a new stream: the calling thread's idle one when it has one,
 * else a fresh clone of the prototype.  A scratch serves one scan at a time,
 * so a thread with several live streams holds several. */
static hs_scratch_t *
scratch_take(void)
{
	hs_scratch_t *sc = pthread_getspecific(scratch_key);
	int rc;

	if (sc != NULL) {
		pthread_setspecific(scratch_key, NULL);
		return sc;
	}
	pthread_mutex_lock(&db_lock);
	rc = hs_clone_scratch(db_scratch, &sc);
	pthread_mutex_unlock(&db_lock);
	return rc == HS_SUCCESS ? sc : NULL;
}

/* Keeps one idle scratch per thread for its next stream; frees the rest. */
static void
scratch_give(hs_scratch_t *sc)
{
	if (pthread_getspecific(scratch_key) == NULL && pthread_setspecific(scratch_key, sc) == 0)
		return;
	hs_free_scratch(sc);
}

static void
db_compile(void)
{
	const char **exprs = NULL;
	unsigned *flags = NULL, *ids = NULL;
	hs_compile_error_t *cerr = NULL;

	if (sodium_init() < 0) {
		log_warnx("privacy: libsodium failed to initialise");
		db_err = ERR_CRYPTO;
		return;
	}
	rules = privacy_rules_table(&nrules);
	exprs = calloc(nrules, sizeof(*exprs));
	flags = calloc(nrules, sizeof(*flags));
	ids = calloc(nrules, sizeof(*ids));
	if (exprs == NULL || flags == NULL || ids == NULL) {
		db_err = ERR_NOMEM;
		goto free_arrays;
	}
	for (size_t i = 0; i < nrules; i++) {
		exprs[i] = rules[i].regex;
		flags[i] = HS_FLAG_SOM_LEFTMOST;
		ids[i] = (unsigned)i;
	}
	if (hs_compile_multi(exprs, flags, ids, (unsigned)nrules,
	    HS_MODE_BLOCK, NULL, &db, &cerr) != HS_SUCCESS) {
		log_warnx("privacy: rule %d (%s) does not compile: %s", cerr->expression,
		    cerr->expression >= 0 ? rules[cerr->expression].type : "-", cerr->message);
		hs_free_compile_error(cerr);
		db_err = ERR_INTERNAL;
		goto free_arrays;
	}
	if (hs_alloc_scratch(db, &db_scratch) != HS_SUCCESS ||
	    pthread_key_create(&scratch_key, scratch_free) != 0) {
		if (db_scratch != NULL)
			hs_free_scratch(db_scratch);
		db_scratch = NULL;
		hs_free_database(db);
		db = NULL;
		db_err = ERR_NOMEM;
		goto free_arrays;
	}
	db_err = ERR_OK;
free_arrays:
	free(exprs);
	free(flags);
	free(ids);
}

int
privacy_init(void)
{
	pthread_once(&db_once, db_compile);
	return db_err;
}

/* ---- names --------------------------------------------------------------- */

const char *
privacy_kind_name(enum privacy_kind kind)
{
	return kind == PRIVACY_KIND_SECRET ? "secret" : "pii";
}

/* ---- token map ----------------------------------------------------------- */

struct token_entry {
	const char *type;
	uint8_t *value;
	size_t vlen;
	char token[TOKEN_TEXT_MAX];
	size_t toklen;
};

struct type_counter {
	const char *type;
	size_t next;
};

struct privacy_tokens {
	struct token_entry *entries;
	size_t n, max;
	uint32_t *slots;	/* open addressing: entry index + 1, 0 = empty */
	size_t nslots;
	struct type_counter counters[64];
	size_t ncounters;
};

static uint64_t
fnv1a(const char *type, const void *v, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	const uint8_t *p = v;

	for (const char *t = type; *t != '\0'; t++)
		h = (h ^ (uint8_t)*t) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

struct privacy_tokens *
privacy_tokens_new(size_t max_entries, int *err)
{
	struct privacy_tokens *t;

	if (max_entries == 0 || max_entries > PRIVACY_TOKENS_MAX) {
		*err = ERR_INVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto fail;
	t->max = max_entries;
	t->nslots = 16;
	while (t->nslots < max_entries * 2)
		t->nslots *= 2;
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	t->entries = calloc(max_entries, sizeof(*t->entries));
	if (t->slots == NULL || t->entries == NULL)
		goto free_map;
	return t;
free_map:
	free(t->slots);
	free(t->entries);
	free(t);
fail:
	*err = ERR_NOMEM;
	return NULL;
}

void
privacy_tokens_destroy(struct privacy_tokens **tp)
{
	struct privacy_tokens *t;

	if (tp == NULL || *tp == NULL)
		return;
	t = *tp;
	for (size_t i = 0; i < t->n; i++) {
		sodium_memzero(t->entries[i].value, t->entries[i].vlen);
		free(t->entries[i].value);
	}
	free(t->entries);
	free(t->slots);
	free(t);
	*tp = NULL;
}

size_t
privacy_tokens_count(const struct privacy_tokens *t)
{
	return t == NULL ? 0 : t->n;
}

static size_t
type_next(struct privacy_tokens *t, const char *type)
{
	for (size_t i = 0; i < t->ncounters; i++)
		if (strcmp(t->counters[i].type, type) == 0)
			return ++t->counters[i].next;
	if (t->ncounters == sizeof(t->counters) / sizeof(t->counters[0]))
		return 0;
	t->counters[t->ncounters].type = type;
	t->counters[t->ncounters].next = 1;
	return t->counters[t->ncounters++].next;
}

int
privacy_tokens_get(struct privacy_tokens *t, const char *type, const void *value,
    size_t vlen, const char **token, size_t *toklen)
{
	uint64_t h;
	size_t slot, ord, k = 0;
	struct token_entry *e;
	char up[TOKEN_TEXT_MAX / 2];

	if (t == NULL || type == NULL || vlen == 0 || vlen > PRIVACY_MAX_MATCH)
		return ERR_INVAL;
	h = fnv1a(type, value, vlen);
	for (slot = h & (t->nslots - 1); t->slots[slot] != 0; slot = (slot + 1) & (t->nslots - 1)) {
		e = &t->entries[t->slots[slot] - 1];
		if (e->vlen == vlen && strcmp(e->type, type) == 0 &&
		    memcmp(e->value, value, vlen) == 0) {
			*token = e->token;
			*toklen = e->toklen;
			return ERR_OK;
		}
	}
	if (t->n == t->max)
		return ERR_TOOBIG;
	ord = type_next(t, type);
	if (ord == 0)
		return ERR_TOOBIG;
	for (const char *p = type; *p != '\0' && k + 1 < sizeof(up); p++)
		up[k++] = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p;
	up[k] = '\0';
	e = &t->entries[t->n];
	e->value = malloc(vlen);
	if (e->value == NULL)
		return ERR_NOMEM;
	memcpy(e->value, value, vlen);
	e->vlen = vlen;
	e->type = type;
	e->toklen = (size_t)snprintf(e->token, sizeof(e->token), "[%s_%zu]", up, ord);
	t->slots[slot] = (uint32_t)(t->n + 1);
	t->n++;
	*token = e->token;
	*toklen = e->toklen;
	return ERR_OK;
}

int
privacy_tokens_restore(const struct privacy_tokens *t, const char *token, size_t toklen,
    const void **value, size_t *vlen)
{
	if (t == NULL || token == NULL)
		return ERR_NOTFOUND;
	for (size_t i = 0; i < t->n; i++) {
		const struct token_entry *e = &t->entries[i];
		if (e->toklen == toklen && memcmp(e->token, token, toklen) == 0) {
			*value = e->value;
			*vlen = e->vlen;
			return ERR_OK;
		}
	}
	return ERR_NOTFOUND;
}

/* ---- stream ------------------------------------------------------------- */

struct cand {
	uint32_t rule;
	uint32_t from;
	uint32_t to;
};

struct span {
	uint32_t rule;
	uint32_t start;
	uint32_t end;
	const char *type;
};

struct privacy_stream {
	enum privacy_mode mode;
	struct privacy_tokens *tokens;
	uint8_t hash_key[PRIVACY_HASH_KEY_MAX];
	size_t hash_key_len;
	hs_scratch_t *scratch;

	uint8_t *pend;		/* grows to WINDOW bytes as input arrives */
	size_t pend_cap;
	size_t pend_len;
	size_t pend_used;	/* bytes of pend ever written: what to wipe */
	size_t ctx_len;		/* leading bytes already emitted */
	uint64_t base;		/* stream offset of pend[0] */

	struct cand *cands;
	size_t ncands, capcands;
	uint32_t *last;		/* per rule: index + 1 of its latest candidate */
	bool overflow;

	struct span *spans;
	size_t nspans, capspans;
	struct span *tmp;	/* merge sort scratch */
	size_t captmp;

	struct privacy_finding *findings;
	size_t nfindings, capfindings;
	bool truncated;
	size_t fallbacks;
	int failed;
};

static int
check_config(const struct privacy_config *cfg)
{
	if (cfg == NULL || (unsigned)cfg->mode > PRIVACY_MODE_REPORT)
		return ERR_INVAL;
	if (cfg->mode == PRIVACY_MODE_TOKENIZE && cfg->tokens == NULL)
		return ERR_INVAL;
	if (cfg->mode == PRIVACY_MODE_HASH && (cfg->hash_key == NULL ||
	    cfg->hash_key_len < PRIVACY_HASH_KEY_MIN || cfg->hash_key_len > PRIVACY_HASH_KEY_MAX))
		return ERR_INVAL;
	return ERR_OK;
}

struct privacy_stream *
privacy_stream_new(const struct privacy_config *cfg, int *err)
{
	struct privacy_stream *s;
	int rc;

	if ((rc = check_config(cfg)) != ERR_OK || (rc = privacy_init()) != ERR_OK) {
		*err = rc;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto fail;
	s->mode = cfg->mode;
	s->tokens = cfg->tokens;
	if (cfg->mode == PRIVACY_MODE_HASH) {
		memcpy(s->hash_key, cfg->hash_key, cfg->hash_key_len);
		s->hash_key_len = cfg->hash_key_len;
	}
	s->pend_cap = 4096;
	s->pend = malloc(s->pend_cap);
	s->last = calloc(nrules, sizeof(*s->last));
	if (s->pend == NULL || s->last == NULL)
		goto free_stream;
	if ((s->scratch = scratch_take()) == NULL)
		goto free_stream;
	return s;
free_stream:
	free(s->pend);
	free(s->last);
	free(s);
fail:
	*err = ERR_NOMEM;
	return NULL;
}

void
privacy_stream_destroy(struct privacy_stream **sp)
{
	struct privacy_stream *s;

	if (sp == NULL || *sp == NULL)
		return;
	s = *sp;
	if (s->scratch != NULL)
		scratch_give(s->scratch);
	if (s->pend != NULL)
		sodium_memzero(s->pend, s->pend_used);
	sodium_memzero(s->hash_key, sizeof(s->hash_key));
	free(s->pend);
	free(s->last);
	free(s->cands);
	free(s->spans);
	free(s->tmp);
	free(s->findings);
	free(s);
	*sp = NULL;
}

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to,
    unsigned int flags, void *ctx)
{
	struct privacy_stream *s = ctx;
	struct cand *c;

	(void)flags;
	if (s->last[id] != 0) {
		c = &s->cands[s->last[id] - 1];
		if (c->from == from) {
			if (to > c->to)
				c->to = (uint32_t)to;
			return 0;
		}
	}
	if (s->ncands == s->capcands) {
		size_t ncap = s->capcands == 0 ? 1024 : s->capcands * 2;
		struct cand *n;
		if (ncap > MAX_CANDS) {
			s->overflow = true;
			return 1;
		}
		n = realloc(s->cands, ncap * sizeof(*n));
		if (n == NULL) {
			s->overflow = true;
			return 1;
		}
		s->cands = n;
		s->capcands = ncap;
	}
	c = &s->cands[s->ncands++];
	c->rule = id;
	c->from = (uint32_t)from;
	c->to = (uint32_t)to;
	s->last[id] = (uint32_t)s->ncands;
	return 0;
}

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;
	return x->rule < y->rule ? -1 : (x->rule > y->rule);
}

/* Sorts s->spans by span_cmp: a bottom-up merge sort over a scratch array
 * kept by the stream (glibc's qsort allocates on every call). */
static int
sort_spans(struct privacy_stream *s)
{
	struct span *a = s->spans, *b;
	size_t n = s->nspans;

	if (n < 2)
		return ERR_OK;
	if (s->captmp < n) {
		struct span *t = realloc(s->tmp, n * sizeof(*t));
		if (t == NULL)
			return ERR_NOMEM;
		s->tmp = t;
		s->captmp = n;
	}
	b = s->tmp;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				b[k++] = span_cmp(&a[j], &a[i]) < 0 ? a[j++] : a[i++];
			while (i < mid)
				b[k++] = a[i++];
			while (j < hi)
				b[k++] = a[j++];
		}
		struct span *t = a;
		a = b;
		b = t;
	}
	if (a != s->spans)
		memcpy(s->spans, a, n * sizeof(*a));
	return ERR_OK;
}

/* True when `a` beats `b` under the overlap rule. */
static bool
span_beats(const struct span *a, const struct span *b)
{
	if (rules[a->rule].kind != rules[b->rule].kind)
		return rules[a->rule].kind == PRIVACY_KIND_SECRET;
	if (a->end - a->start != b->end - b->start)
		return a->end - a->start > b->end - b->start;
	return a->rule < b->rule;
}

static int
push_span(struct privacy_stream *s, const struct span *sp)
{
	if (s->nspans == s->capspans) {
		size_t ncap = s->capspans < 64 ? 64 : s->capspans * 2;
		struct span *n = realloc(s->spans, ncap * sizeof(*n));
		if (n == NULL)
			return ERR_NOMEM;
		s->spans = n;
		s->capspans = ncap;
	}
	s->spans[s->nspans++] = *sp;
	return ERR_OK;
}

/* How common a byte is in ordinary text (0 rare .. 3 very common). */
static const uint8_t byte_commonness[256] = {
	[' '] = 3, ['e'] = 3, ['t'] = 3, ['a'] = 3, ['o'] = 3, ['i'] = 3, ['n'] = 3,
	['s'] = 3, ['r'] = 3, ['h'] = 3, ['l'] = 3,
	['b'] = 2, ['c'] = 2, ['d'] = 2, ['f'] = 2, ['g'] = 2, ['j'] = 2, ['k'] = 2,
	['m'] = 2, ['p'] = 2, ['q'] = 2, ['u'] = 2, ['v'] = 2, ['w'] = 2, ['x'] = 2,
	['y'] = 2, ['z'] = 2,
	['\n'] = 1, ['"'] = 1, [','] = 1, ['.'] = 1, [':'] = 1, ['_'] = 1, ['-'] = 1,
};

/* Returns the first copy of needle[0, n) (n >= 8) in [p, end), or NULL.
 * memchr looks for the rarest of the needle's first 8 bytes (a digit or
 * capital rather than a vowel), then 8 bytes are compared in one load and
 * only then the rest: on a 2 KiB haystack this beats memmem, whose set-up
 * dominates. */
static const uint8_t *
find_copy(const uint8_t *p, const uint8_t *end, const uint8_t *needle, size_t n)
{
	size_t k = 0;
	uint64_t head, at;
	const uint8_t *q;

	if ((size_t)(end - p) < n)
		return NULL;
	for (size_t i = 1; i < 8; i++)
		if (byte_commonness[needle[i]] < byte_commonness[needle[k]])
			k = i;
	memcpy(&head, needle, 8);
	for (q = p + k; (size_t)(end - q) >= n - k;) {
		const uint8_t *m = memchr(q, needle[k], (size_t)(end - q) - (n - k) + 1);
		if (m == NULL)
			return NULL;
		memcpy(&at, m - k, 8);
		if (at == head && memcmp(m - k + 8, needle + 8, n - 8) == 0)
			return m - k;
		q = m + 1;
	}
	return NULL;
}

/* A secret found once is hidden wherever else it appears nearby
 * (`token = 'abc...' | 'abc...'`): copies within REPEAT_RADIUS bytes become
 * findings too.  CTX >= 2 * REPEAT_RADIUS keeps this independent of where
 * the window falls: a copy's source is always inside the window. */
static int
add_repeats(struct privacy_stream *s)
{
	size_t n = s->nspans;

	for (size_t i = 0; i < n; i++) {
		struct span sp = s->spans[i];
		size_t vlen = sp.end - sp.start;
		const uint8_t *p, *end;
		if (rules[sp.rule].kind != PRIVACY_KIND_SECRET || vlen < 8)
			continue;
		/* Sorted: the same bytes found by several rules are sought once. */
		if (i > 0 && s->spans[i - 1].start == sp.start && s->spans[i - 1].end == sp.end &&
		    rules[s->spans[i - 1].rule].kind == PRIVACY_KIND_SECRET)
			continue;
		p = s->pend + (sp.start > REPEAT_RADIUS ? sp.start - REPEAT_RADIUS : 0);
		end = s->pend + (s->pend_len - sp.end > REPEAT_RADIUS ? sp.end + REPEAT_RADIUS :
		    s->pend_len);
		while (p < end) {
			const uint8_t *m = find_copy(p, end, s->pend + sp.start, vlen);
			struct span rep = sp;
			int rc;
			if (m == NULL)
				break;
			rep.start = (uint32_t)(m - s->pend);
			rep.end = (uint32_t)(rep.start + vlen);
			p = m + vlen;
			if (rep.start == sp.start || rep.start < s->ctx_len)
				continue;
			if ((rc = push_span(s, &rep)) != ERR_OK)
				return rc;
		}
	}
	return ERR_OK;
}

/* Scans the window and leaves the accepted findings, sorted, in s->spans. */
static int
find_spans(struct privacy_stream *s)
{
	size_t kept = 0, before;
	bool repeats;
	int rc;

	s->ncands = 0;
	s->nspans = 0;
	s->overflow = false;
	memset(s->last, 0, nrules * sizeof(*s->last));
	if (s->pend_len > 0 && hs_scan(db, (const char *)s->pend, (unsigned)s->pend_len, 0,
	    s->scratch, on_match, s) != HS_SUCCESS && !s->overflow)
		return ERR_INTERNAL;
	if (s->overflow)
		return ERR_TOOBIG;
	if (s->capspans < s->ncands) {
		struct span *n = realloc(s->spans, s->ncands * sizeof(*n));
		if (n == NULL)
			return ERR_NOMEM;
		s->spans = n;
		s->capspans = s->ncands;
	}
	for (size_t i = 0; i < s->ncands; i++) {
		const struct cand *c = &s->cands[i];
		struct privacy_span sp = { 0, 0, rules[c->rule].type };
		if (!rules[c->rule].extent(s->pend, s->pend_len, c->from, c->to, &sp))
			continue;
		if (sp.end <= sp.start || sp.end > s->pend_len)
			continue;
		s->spans[s->nspans++] = (struct span){ c->rule, (uint32_t)sp.start,
		    (uint32_t)sp.end, sp.type };
	}
	/* Findings in the context were handled last round; they still name
	 * secrets whose nearby copies must be hidden.  Sorted first so that
	 * add_repeats skips duplicates; sorted again only if it added any. */
	if ((rc = sort_spans(s)) != ERR_OK)
		return rc;
	before = s->nspans;
	if ((rc = add_repeats(s)) != ERR_OK)
		return rc;
	for (size_t i = 0; i < s->nspans; i++)
		if (s->spans[i].start >= s->ctx_len)
			s->spans[kept++] = s->spans[i];
	repeats = s->nspans > before;
	s->nspans = kept;
	kept = 0;
	if (repeats && (rc = sort_spans(s)) != ERR_OK)
		return rc;
	for (size_t i = 0; i < s->nspans; i++) {
		struct span *cur = &s->spans[i];
		if (kept > 0 && cur->start < s->spans[kept - 1].end) {
			if (span_beats(cur, &s->spans[kept - 1]))
				s->spans[kept - 1] = *cur;
			continue;
		}
		s->spans[kept++] = *cur;
	}
	s->nspans = kept;
	return ERR_OK;
}

static int
record(struct privacy_stream *s, const struct span *sp)
{
	struct privacy_finding *f;

	if (s->nfindings == PRIVACY_MAX_FINDINGS) {
		s->truncated = true;
		return ERR_OK;
	}
	if (s->nfindings == s->capfindings) {
		size_t ncap = s->capfindings == 0 ? 64 : s->capfindings * 2;
		struct privacy_finding *n;
		if (ncap > PRIVACY_MAX_FINDINGS)
			ncap = PRIVACY_MAX_FINDINGS;
		n = realloc(s->findings, ncap * sizeof(*n));
		if (n == NULL)
			return ERR_NOMEM;
		s->findings = n;
		s->capfindings = ncap;
	}
	f = &s->findings[s->nfindings++];
	f->type = sp->type;
	f->kind = rules[sp->rule].kind;
	f->start = s->base + sp->start;
	f->end = s->base + sp->end;
	return ERR_OK;
}

/* Writes the replacement text for one finding into out (NUL-terminated). */
static size_t
replacement(struct privacy_stream *s, const struct span *sp, char *out, size_t outsz)
{
	static const char redacted[] = "[REDACTED:";
	const uint8_t *v = s->pend + sp->start;
	size_t vlen = sp->end - sp->start, tl;
	int n;

	if (rules[sp->rule].kind == PRIVACY_KIND_PII && s->mode == PRIVACY_MODE_TOKENIZE) {
		const char *tok;
		size_t toklen;
		if (privacy_tokens_get(s->tokens, sp->type, v, vlen, &tok, &toklen) == ERR_OK &&
		    toklen < outsz) {
			memcpy(out, tok, toklen);
			out[toklen] = '\0';
			return toklen;
		}
		s->fallbacks++;
	} else if (rules[sp->rule].kind == PRIVACY_KIND_PII && s->mode == PRIVACY_MODE_HASH) {
		uint8_t h[16];
		crypto_generichash(h, sizeof(h), v, vlen, s->hash_key, s->hash_key_len);
		n = snprintf(out, outsz, "[HASH:%s:%02x%02x%02x%02x%02x%02x]", sp->type,
		    h[0], h[1], h[2], h[3], h[4], h[5]);
		return n < 0 ? 0 : ((size_t)n >= outsz ? outsz - 1 : (size_t)n);
	}
	/* "[REDACTED:type]" without snprintf: this runs for every finding.
	 * Types are short static names; outsz is 128. */
	tl = strlen(sp->type);
	if (sizeof(redacted) + tl + 1 > outsz)
		tl = outsz - sizeof(redacted) - 1;
	memcpy(out, redacted, sizeof(redacted) - 1);
	memcpy(out + sizeof(redacted) - 1, sp->type, tl);
	out[sizeof(redacted) - 1 + tl] = ']';
	out[sizeof(redacted) + tl] = '\0';
	return sizeof(redacted) + tl;
}

/* One round over the window; `final` flushes everything. */
static int
process(struct privacy_stream *s, bool final,
    int (*emit)(void *arg, const void *bytes, size_t len), void *arg)
{
	size_t commit, cursor, keep;
	int rc;

	if ((rc = find_spans(s)) != ERR_OK)
		return rc;
	commit = final ? s->pend_len : s->pend_len - CARRY;
	cursor = s->ctx_len;
	for (size_t i = 0; i < s->nspans; i++) {
		const struct span *sp = &s->spans[i];
		char rep[128];
		size_t rlen;
		if (sp->start >= commit)
			break;
		if ((rc = record(s, sp)) != ERR_OK)
			return rc;
		if (s->mode == PRIVACY_MODE_REPORT)
			continue;
		if (sp->start > cursor && (rc = emit(arg, s->pend + cursor, sp->start - cursor)) != 0)
			return rc;
		rlen = replacement(s, sp, rep, sizeof(rep));
		if ((rc = emit(arg, rep, rlen)) != 0)
			return rc;
		cursor = sp->end;
		if (cursor > commit)
			commit = cursor;
	}
	if (s->mode == PRIVACY_MODE_REPORT && s->nspans > 0) {
		for (size_t i = 0; i < s->nspans && s->spans[i].start < commit; i++)
			if (s->spans[i].end > commit)
				commit = s->spans[i].end;
	}
	if (commit > cursor && (rc = emit(arg, s->pend + cursor, commit - cursor)) != 0)
		return rc;
	/* Keep CTX bytes of left context and everything not yet emitted. */
	keep = commit < CTX ? commit : CTX;
	memmove(s->pend, s->pend + commit - keep, s->pend_len - commit + keep);
	s->base += commit - keep;
	s->pend_len = s->pend_len - commit + keep;
	s->ctx_len = keep;
	return ERR_OK;
}

int
privacy_stream_feed(struct privacy_stream *s, const void *bytes, size_t len,
    int (*emit)(void *arg, const void *bytes, size_t len), void *arg)
{
	const uint8_t *p = bytes;

	if (s == NULL || emit == NULL || (len > 0 && bytes == NULL))
		return ERR_INVAL;
	if (s->failed != ERR_OK)
		return s->failed;
	while (len > 0) {
		size_t n = WINDOW - s->pend_len;
		if (n > len)
			n = len;
		if (s->pend_len + n > s->pend_cap) {
			/* Small inputs stay small: grow (and wipe the old copy). */
			size_t ncap = s->pend_cap;
			uint8_t *np;
			while (ncap < s->pend_len + n)
				ncap *= 2;
			if (ncap > WINDOW)
				ncap = WINDOW;
			if ((np = malloc(ncap)) == NULL) {
				s->failed = ERR_NOMEM;
				return ERR_NOMEM;
			}
			memcpy(np, s->pend, s->pend_len);
			sodium_memzero(s->pend, s->pend_used);
			s->pend_used = s->pend_len;
			free(s->pend);
			s->pend = np;
			s->pend_cap = ncap;
		}
		memcpy(s->pend + s->pend_len, p, n);
		s->pend_len += n;
		if (s->pend_used < s->pend_len)
			s->pend_used = s->pend_len;
		p += n;
		len -= n;
		if (s->pend_len == WINDOW) {
			int rc = process(s, false, emit, arg);
			if (rc != ERR_OK) {
				s->failed = rc;
				return rc;
			}
		}
	}
	return ERR_OK;
}

int
privacy_stream_finish(struct privacy_stream *s,
    int (*emit)(void *arg, const void *bytes, size_t len), void *arg)
{
	int rc;

	if (s == NULL || emit == NULL)
		return ERR_INVAL;
	if (s->failed != ERR_OK)
		return s->failed;
	rc = process(s, true, emit, arg);
	if (rc != ERR_OK)
		s->failed = rc;
	return rc;
}

const struct privacy_finding *
privacy_stream_findings(const struct privacy_stream *s, size_t *n, bool *truncated)
{
	*n = s->nfindings;
	if (truncated != NULL)
		*truncated = s->truncated;
	return s->findings;
}

size_t
privacy_stream_token_fallbacks(const struct privacy_stream *s)
{
	return s->fallbacks;
}

/* ---- one shot ----------------------------------------------------------- */

struct outbuf {
	char *p;
	size_t len, cap;
};

static int
append(void *arg, const void *bytes, size_t len)
{
	struct outbuf *o = arg;

	if (len > PRIVACY_MAX_OUTPUT - o->len)
		return ERR_TOOBIG;
	if (o->len + len + 1 > o->cap) {
		size_t ncap = o->cap == 0 ? 4096 : o->cap;
		char *n;
		while (ncap < o->len + len + 1)
			ncap *= 2;
		if (ncap > PRIVACY_MAX_OUTPUT + 1)
			ncap = PRIVACY_MAX_OUTPUT + 1;
		n = realloc(o->p, ncap);
		if (n == NULL)
			return ERR_NOMEM;
		o->p = n;
		o->cap = ncap;
	}
	memcpy(o->p + o->len, bytes, len);
	o->len += len;
	return 0;
}

int
privacy_scan(const struct privacy_config *cfg, const void *in, size_t len,
    struct privacy_result *out)
{
	struct privacy_stream *s;
	struct outbuf o = { NULL, 0, 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > 0 && in == NULL)
		return ERR_INVAL;
	if ((s = privacy_stream_new(cfg, &rc)) == NULL)
		return rc;
	if (len > PRIVACY_MAX_OUTPUT) {
		rc = ERR_TOOBIG;
		goto destroy_stream;
	}
	o.cap = len + len / 8 + 64;
	if ((o.p = malloc(o.cap)) == NULL) {
		rc = ERR_NOMEM;
		goto destroy_stream;
	}
	if ((rc = privacy_stream_feed(s, in, len, append, &o)) != ERR_OK ||
	    (rc = privacy_stream_finish(s, append, &o)) != ERR_OK)
		goto free_output;
	o.p[o.len] = '\0';
	out->text = o.p;
	out->len = o.len;
	out->findings = s->findings;
	out->nfindings = s->nfindings;
	out->findings_truncated = s->truncated;
	out->token_fallbacks = s->fallbacks;
	s->findings = NULL;	/* handed to the caller */
	privacy_stream_destroy(&s);
	return ERR_OK;
free_output:
	sodium_memzero(o.p, o.len);
	free(o.p);
destroy_stream:
	privacy_stream_destroy(&s);
	return rc;
}

void
privacy_result_clear(struct privacy_result *r)
{
	if (r == NULL)
		return;
	if (r->text != NULL)
		sodium_memzero(r->text, r->len);
	free(r->text);
	free(r->findings);
	memset(r, 0, sizeof(*r));
}

size_t
privacy_summary(const struct privacy_finding *f, size_t n, struct privacy_count *out,
    size_t outcap)
{
	size_t nout = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k;
		for (k = 0; k < nout; k++)
			if (strcmp(out[k].type, f[i].type) == 0)
				break;
		if (k < nout) {
			out[k].count++;
		} else if (nout < outcap) {
			out[nout].type = f[i].type;
			out[nout].count = 1;
			nout++;
		}
	}
	return nout;
}
