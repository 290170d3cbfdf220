/*
 * risk — CARS risk assessment: rules file -> Hyperscan databases ->
 * findings -> noisy-OR score -> level.
 *
 * Runs in the broker (every submission) and in the `sluice assess` CLI.
 * Trusts nothing it is given: the rules file and the config are parsed and
 * bounded like any input, and the code under assessment is arbitrary bytes
 * (NUL, invalid UTF-8, up to RISK_INPUT_MAX).
 *
 * One assessment:
 *   1. lex the raw code once to mark bytes inside // and block comments
 *      (strings, template literals and regex literals are skipped so that
 *      "http://" does not open a comment);
 *   2. scan the raw code with the multi-rule database, which reports
 *      match ends only (fast); for each match that can still change the
 *      verdict, rescan a short window before its end with that rule's own
 *      SOM_LEFTMOST database to find where it starts (line:col, boundary
 *      and comment checks);
 *   3. build a normalised copy (string concatenations joined, \x / \u
 *      escapes, String.fromCharCode(...) and atob("...") literals decoded)
 *      with a map back to raw offsets, and scan the rewritten regions of it
 *      the same way; only rules that did not match the raw code are taken
 *      from it;
 *   4. score: noisy-OR over distinct rules, 1 - prod(1 - w_rule), where
 *      w_rule is the largest effective weight among that rule's matches;
 *      then category floors; clamp to [0,1]; level from thresholds.
 * A match is dropped when its first byte is an identifier byte glued to an
 * identifier byte before it ([A-Za-z0-9_$]: `myeval(`, `$eval(`), and, for
 * patterns ending in \b, when its last byte is glued to one after it
 * (`Deno.env$x`); \b alone already rejects `Deno.envelope`.
 * Matches inside comments are kept at comment_discount x weight and do not
 * trigger floors, except deceptive_compliance and hardcoded_secret, which
 * count fully wherever they are (prompt injection lives in comments).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "common/log.h"
#include "common/risk.h"
#include "common/risk_rules.h"
#include "common/util.h"

#define RISK_RULES_FILE_MAX	(1u << 20)	/* bytes of a rules file */
#define RISK_CONF_FILE_MAX	(64u << 10)	/* bytes of a config file */
#define RISK_LINE_MAX		4096		/* bytes of one rules line */
#define RISK_POOL_MAX		16		/* idle workspaces kept */
#define RISK_WORK_KEEP		(256u << 10)	/* larger buffers are not kept */
#define RISK_CHANGES_MAX	256		/* rewritten regions tracked */
#define RISK_CHANGE_WINDOW	256		/* context scanned around one */
#define RISK_SOM_WINDOW_SMALL	256		/* bytes rescanned for a start */
#define RISK_SOM_WINDOW_LARGE	8192		/* ... if the first is too short */
#define RISK_SECRETS_MAX	64		/* secret spans remembered */
#define RISK_DECODE_MAX		4096		/* bytes of one atob literal */

static const char *const risk_cat_names[RISK_CAT__COUNT] = {
	"code_execution", "filesystem", "network", "exfiltration",
	"privilege_escalation", "deceptive_compliance", "resource_abuse",
	"hardcoded_secret",
};

struct risk_rule {
	char id[RISK_RULE_ID_MAX];
	enum risk_category cat;
	double weight;
	unsigned line;			/* in the rules file */
	bool end_guard;			/* pattern ends in \b: JS-aware end */
};

struct risk_work;

/* Idle workspaces (Hyperscan scratch plus buffers); risk_assess takes one
 * or builds one from the prototype scratch. */
struct risk_pool {
	pthread_mutex_t lock;
	struct risk_work *idle[RISK_POOL_MAX];
	size_t nidle;
};

static void risk_work_free(struct risk_work *w);

struct risk {
	struct risk_conf conf;
	struct risk_rule *rules;
	size_t nrules;
	hs_database_t *db;		/* all rules, end offsets only */
	hs_database_t **som;		/* per rule, leftmost start */
	hs_scratch_t *proto;
	struct risk_pool *pool;
};

/* ---- names and levels -------------------------------------------------- */

const char *
risk_level_name(enum risk_level level)
{
	switch (level) {
	case RISK_L1: return "L1";
	case RISK_L2: return "L2";
	case RISK_L3: return "L3";
	case RISK_L4: return "L4";
	}
	return "L?";
}

bool
risk_level_parse(const char *s, enum risk_level *out)
{
	if (s[0] == 'L' || s[0] == 'l')
		s++;
	if (s[0] >= '1' && s[0] <= '4' && s[1] == '\0') {
		*out = (enum risk_level)(s[0] - '0');
		return true;
	}
	return false;
}

const char *
risk_category_name(enum risk_category cat)
{
	if ((unsigned)cat >= RISK_CAT__COUNT)
		return "unknown";
	return risk_cat_names[cat];
}

bool
risk_category_parse(const char *s, enum risk_category *out)
{
	for (int i = 0; i < RISK_CAT__COUNT; i++) {
		if (strcmp(s, risk_cat_names[i]) == 0) {
			*out = (enum risk_category)i;
			return true;
		}
	}
	return false;
}

enum risk_level
risk_level_of(const struct risk_conf *conf, double score)
{
	if (score >= conf->threshold_l4)
		return RISK_L4;
	if (score >= conf->threshold_l3)
		return RISK_L3;
	if (score >= conf->threshold_l2)
		return RISK_L2;
	return RISK_L1;
}

/* Lowest score that maps to `level`. */
static double
risk_level_floor_score(const struct risk_conf *conf, enum risk_level level)
{
	switch (level) {
	case RISK_L4: return conf->threshold_l4;
	case RISK_L3: return conf->threshold_l3;
	case RISK_L2: return conf->threshold_l2;
	default: return 0.0;
	}
}

/* ---- configuration ----------------------------------------------------- */

void
risk_conf_default(struct risk_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->threshold_l2 = 0.3;
	conf->threshold_l3 = 0.5;
	conf->threshold_l4 = 0.8;
	for (int i = 0; i < RISK_CAT__COUNT; i++) {
		conf->multiplier[i] = 1.0;
		conf->floor[i] = RISK_L1;
	}
	conf->floor[RISK_CAT_PRIVILEGE_ESCALATION] = RISK_L3;
	conf->floor[RISK_CAT_DECEPTIVE_COMPLIANCE] = RISK_L3;
	conf->comment_discount = 0.25;
}

static void
risk_why(char *why, size_t whysz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
risk_why(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whysz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
}

/* Reads a whole file of at most `max` bytes into a fresh NUL-terminated
 * buffer. */
static enum err
risk_read_file(const char *path, size_t max, char **out, size_t *outlen,
    char *why, size_t whysz)
{
	FILE *f = util_fopen_regular(path);
	char *buf;
	size_t n;

	if (f == NULL) {
		int saved = errno;
		risk_why(why, whysz, "%s: %s", path,
		    saved == EINVAL ? "not a regular file" : strerror(saved));
		return saved == ENOENT ? ERR_NOTFOUND : ERR_IO;
	}
	buf = malloc(max + 2);
	if (buf == NULL) {
		fclose(f);
		risk_why(why, whysz, "%s: out of memory", path);
		return ERR_NOMEM;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		risk_why(why, whysz, "%s: read error", path);
		fclose(f);
		free(buf);
		return ERR_IO;
	}
	fclose(f);
	if (n > max) {
		risk_why(why, whysz, "%s: larger than %zu bytes", path, max);
		free(buf);
		return ERR_TOOBIG;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return ERR_OK;
}

static char *
risk_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static bool
risk_parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double d;

	if (*s == '\0')
		return false;
	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(d) || d < lo || d > hi)
		return false;
	*out = d;
	return true;
}

/* Applies one `key = value`; false if the key or value is bad. */
static bool
risk_conf_set(struct risk_conf *c, const char *key, const char *val,
    const char **what)
{
	enum risk_category cat;

	*what = "value";
	if (strcmp(key, "threshold.l2") == 0)
		return risk_parse_double(val, 0.0, 1.0, &c->threshold_l2);
	if (strcmp(key, "threshold.l3") == 0)
		return risk_parse_double(val, 0.0, 1.0, &c->threshold_l3);
	if (strcmp(key, "threshold.l4") == 0)
		return risk_parse_double(val, 0.0, 1.0, &c->threshold_l4);
	if (strcmp(key, "comment_discount") == 0)
		return risk_parse_double(val, 0.0, 1.0, &c->comment_discount);
	if (strncmp(key, "multiplier.", 11) == 0 &&
	    risk_category_parse(key + 11, &cat))
		return risk_parse_double(val, 0.0, 10.0, &c->multiplier[cat]);
	if (strncmp(key, "floor.", 6) == 0 && risk_category_parse(key + 6, &cat))
		return risk_level_parse(val, &c->floor[cat]);
	*what = "key";
	return false;
}

/* Thresholds must be strictly increasing inside (0,1]. */
static bool
risk_conf_is_valid(const struct risk_conf *c)
{
	return c->threshold_l2 > 0.0 && c->threshold_l2 < c->threshold_l3 &&
	    c->threshold_l3 < c->threshold_l4 && c->threshold_l4 <= 1.0;
}

enum err
risk_conf_load(const char *path, struct risk_conf *conf, char *why,
    size_t whysz)
{
	struct risk_conf c;
	char *text, *line, *next, *eq, *key, *val;
	const char *what;
	char esc[64];
	size_t len;
	unsigned lineno = 0;
	enum err e;

	if (path == NULL || conf == NULL)
		return ERR_INVAL;
	e = risk_read_file(path, RISK_CONF_FILE_MAX, &text, &len, why, whysz);
	if (e != ERR_OK)
		return e;
	risk_conf_default(&c);
	if (memchr(text, '\0', len) != NULL) {
		risk_why(why, whysz, "%s: NUL byte in file", path);
		goto bad;
	}
	for (line = text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		line = risk_trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL) {
			risk_why(why, whysz, "%s:%u: expected `key = value`: %s",
			    path, lineno, log_escape(esc, sizeof(esc), line,
			    strlen(line)));
			goto bad;
		}
		*eq = '\0';
		key = risk_trim(line);
		val = risk_trim(eq + 1);
		if (!risk_conf_set(&c, key, val, &what)) {
			risk_why(why, whysz, "%s:%u: bad %s for `%s`", path,
			    lineno, what, log_escape(esc, sizeof(esc), key,
			    strlen(key)));
			goto bad;
		}
	}
	free(text);
	if (!risk_conf_is_valid(&c)) {
		risk_why(why, whysz, "%s: thresholds must satisfy "
		    "0 < l2 < l3 < l4 <= 1", path);
		return ERR_CONFIG;
	}
	*conf = c;
	return ERR_OK;
bad:
	free(text);
	return ERR_CONFIG;
}

/* ---- rules ------------------------------------------------------------- */

static bool
risk_is_id_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Splits `line` at TABs into exactly `n` fields. */
static bool
risk_split(char *line, char **field, int n)
{
	int i = 0;

	field[i++] = line;
	for (char *p = line; *p != '\0'; p++) {
		if (*p != '\t')
			continue;
		if (i == n)
			return false;
		*p = '\0';
		field[i++] = p + 1;
	}
	return i == n;
}

/* Parses one non-comment rules line into rules[*n] and patterns[*n]. */
static enum err
risk_parse_rule(struct risk *r, char *line, unsigned lineno, char **patterns,
    char *why, size_t whysz)
{
	struct risk_rule *rule = &r->rules[r->nrules];
	char *f[5];
	size_t idlen;

	if (!risk_split(line, f, 5)) {
		risk_why(why, whysz, "rules line %u: expected 5 TAB-separated "
		    "fields (id category weight pattern description)", lineno);
		return ERR_CONFIG;
	}
	idlen = strlen(f[0]);
	if (idlen == 0 || idlen >= RISK_RULE_ID_MAX) {
		risk_why(why, whysz, "rules line %u: id must be 1..%d bytes",
		    lineno, RISK_RULE_ID_MAX - 1);
		return ERR_CONFIG;
	}
	for (size_t i = 0; i < idlen; i++) {
		if (!risk_is_id_char((unsigned char)f[0][i])) {
			risk_why(why, whysz, "rules line %u: bad character in "
			    "id", lineno);
			return ERR_CONFIG;
		}
	}
	for (size_t i = 0; i < r->nrules; i++) {
		if (strcmp(r->rules[i].id, f[0]) == 0) {
			risk_why(why, whysz, "rules line %u: duplicate id %s "
			    "(first on line %u)", lineno, f[0],
			    r->rules[i].line);
			return ERR_DUPLICATE;
		}
	}
	memcpy(rule->id, f[0], idlen + 1);
	if (!risk_category_parse(f[1], &rule->cat)) {
		risk_why(why, whysz, "rules line %u (%s): unknown category",
		    lineno, rule->id);
		return ERR_CONFIG;
	}
	if (!risk_parse_double(f[2], 0.0, 1.0, &rule->weight) ||
	    rule->weight <= 0.0) {
		risk_why(why, whysz, "rules line %u (%s): weight must be in "
		    "(0, 1]", lineno, rule->id);
		return ERR_CONFIG;
	}
	if (f[3][0] == '\0') {
		risk_why(why, whysz, "rules line %u (%s): empty pattern",
		    lineno, rule->id);
		return ERR_CONFIG;
	}
	patterns[r->nrules] = strdup(f[3]);
	if (patterns[r->nrules] == NULL)
		return ERR_NOMEM;
	rule->line = lineno;
	rule->end_guard = strlen(f[3]) >= 2 &&
	    strcmp(f[3] + strlen(f[3]) - 2, "\\b") == 0;
	r->nrules++;
	return ERR_OK;
}

/* Parses the rules text (modified in place) and compiles the database. */
static enum err
risk_compile(struct risk *r, char *text, size_t len, char *why, size_t whysz)
{
	char **patterns;
	unsigned *flags = NULL, *ids = NULL;
	hs_compile_error_t *cerr = NULL;
	char *line, *next;
	unsigned lineno = 0;
	enum err e = ERR_OK;

	patterns = calloc(RISK_RULES_MAX, sizeof(*patterns));
	r->rules = calloc(RISK_RULES_MAX, sizeof(*r->rules));
	if (patterns == NULL || r->rules == NULL) {
		e = ERR_NOMEM;
		goto out;
	}
	if (memchr(text, '\0', len) != NULL) {
		risk_why(why, whysz, "rules: NUL byte in file");
		e = ERR_CONFIG;
		goto out;
	}
	for (line = text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strlen(line) > RISK_LINE_MAX) {
			risk_why(why, whysz, "rules line %u: longer than %d "
			    "bytes", lineno, RISK_LINE_MAX);
			e = ERR_TOOBIG;
			goto out;
		}
		if (*line != '\0' && line[strlen(line) - 1] == '\r')
			line[strlen(line) - 1] = '\0';
		if (*risk_trim(line) == '\0' || *risk_trim(line) == '#')
			continue;
		if (r->nrules == RISK_RULES_MAX) {
			risk_why(why, whysz, "rules line %u: more than %d rules",
			    lineno, RISK_RULES_MAX);
			e = ERR_TOOBIG;
			goto out;
		}
		e = risk_parse_rule(r, line, lineno, patterns, why, whysz);
		if (e != ERR_OK)
			goto out;
	}
	if (r->nrules == 0) {
		risk_why(why, whysz, "rules: no rules");
		e = ERR_CONFIG;
		goto out;
	}
	flags = calloc(r->nrules, sizeof(*flags));
	ids = calloc(r->nrules, sizeof(*ids));
	if (flags == NULL || ids == NULL) {
		e = ERR_NOMEM;
		goto out;
	}
	r->som = calloc(r->nrules, sizeof(*r->som));
	if (r->som == NULL) {
		e = ERR_NOMEM;
		goto out;
	}
	for (unsigned i = 0; i < r->nrules; i++) {
		if (hs_compile(patterns[i], HS_FLAG_SOM_LEFTMOST |
		    HS_FLAG_MULTILINE, HS_MODE_BLOCK, NULL, &r->som[i], &cerr) !=
		    HS_SUCCESS) {
			risk_why(why, whysz, "rules line %u (%s): pattern: %s",
			    r->rules[i].line, r->rules[i].id, cerr->message);
			hs_free_compile_error(cerr);
			e = ERR_CONFIG;
			goto out;
		}
		flags[i] = HS_FLAG_MULTILINE;
		ids[i] = i;
	}
	if (hs_compile_multi((const char *const *)patterns, flags, ids,
	    (unsigned)r->nrules, HS_MODE_BLOCK, NULL, &r->db, &cerr) !=
	    HS_SUCCESS) {
		if (cerr->expression >= 0 &&
		    (size_t)cerr->expression < r->nrules) {
			const struct risk_rule *bad = &r->rules[cerr->expression];

			risk_why(why, whysz, "rules line %u (%s): pattern: %s",
			    bad->line, bad->id, cerr->message);
		} else
			risk_why(why, whysz, "rules: hyperscan: %s",
			    cerr->message);
		hs_free_compile_error(cerr);
		e = ERR_CONFIG;
		goto out;
	}
	/* one scratch fits the multi-rule and every per-rule database */
	if (hs_alloc_scratch(r->db, &r->proto) != HS_SUCCESS) {
		risk_why(why, whysz, "rules: cannot allocate scratch");
		e = ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < r->nrules; i++) {
		if (hs_alloc_scratch(r->som[i], &r->proto) != HS_SUCCESS) {
			risk_why(why, whysz, "rules: cannot allocate scratch");
			e = ERR_NOMEM;
			goto out;
		}
	}
out:
	if (patterns != NULL) {
		for (size_t i = 0; i < RISK_RULES_MAX; i++)
			free(patterns[i]);
	}
	free(patterns);
	free(flags);
	free(ids);
	return e;
}

struct risk *
risk_new(const char *rules_path, const struct risk_conf *conf, enum err *err,
    char *why, size_t whysz)
{
	struct risk *r;
	char *text = NULL;
	const char *def;
	size_t len;
	enum err e, dummy;

	if (err == NULL)
		err = &dummy;
	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (conf != NULL && !risk_conf_is_valid(conf)) {
		risk_why(why, whysz, "config: thresholds must satisfy "
		    "0 < l2 < l3 < l4 <= 1");
		*err = ERR_CONFIG;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		*err = ERR_NOMEM;
		return NULL;
	}
	if (conf != NULL)
		r->conf = *conf;
	else
		risk_conf_default(&r->conf);
	r->pool = calloc(1, sizeof(*r->pool));
	if (r->pool == NULL || pthread_mutex_init(&r->pool->lock, NULL) != 0) {
		free(r->pool);
		r->pool = NULL;
		e = ERR_NOMEM;
		goto fail;
	}
	if (rules_path != NULL) {
		e = risk_read_file(rules_path, RISK_RULES_FILE_MAX, &text, &len,
		    why, whysz);
		if (e != ERR_OK)
			goto fail;
	} else {
		def = risk_rules_default(&len);
		text = malloc(len + 1);
		if (text == NULL) {
			e = ERR_NOMEM;
			goto fail;
		}
		memcpy(text, def, len);
		text[len] = '\0';
	}
	e = risk_compile(r, text, len, why, whysz);
	free(text);
	if (e != ERR_OK)
		goto fail;
	*err = ERR_OK;
	return r;
fail:
	*err = e;
	risk_destroy(&r);
	return NULL;
}

void
risk_destroy(struct risk **rp)
{
	struct risk *r;

	if (rp == NULL || *rp == NULL)
		return;
	r = *rp;
	if (r->pool != NULL) {
		for (size_t i = 0; i < r->pool->nidle; i++)
			risk_work_free(r->pool->idle[i]);
		pthread_mutex_destroy(&r->pool->lock);
		free(r->pool);
	}
	hs_free_scratch(r->proto);
	hs_free_database(r->db);
	if (r->som != NULL) {
		for (size_t i = 0; i < r->nrules; i++)
			hs_free_database(r->som[i]);
		free(r->som);
	}
	free(r->rules);
	free(r);
	*rp = NULL;
}

size_t
risk_rule_count(const struct risk *r)
{
	return r == NULL ? 0 : r->nrules;
}

/* ---- lexing: which bytes are comments ---------------------------------- */

/* Bytes that may continue a JavaScript identifier (ASCII view). */
static bool
risk_is_ident(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '$';
}

/* Whether a '/' after `prev` (last non-space code byte) starts a regex. */
static bool
risk_slash_is_regex(unsigned char prev)
{
	return prev == 0 || strchr("(,=:[!&|?{};+-*%<>~^", prev) != NULL;
}

/* Bytes the comment lexer stops at; everything else is skipped in bulk. */
static const unsigned char risk_lex_special[256] = {
	['/'] = 1, ['\''] = 1, ['"'] = 1, ['`'] = 1,
};

/* The last non-blank byte before s[i], or 0 at the start. */
static unsigned char
risk_prev_byte(const unsigned char *s, size_t i)
{
	while (i > 0) {
		unsigned char c = s[--i];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return c;
	}
	return 0;
}

/* Index after the string literal opened by the quote at s[i]. */
static size_t
risk_skip_string(const unsigned char *s, size_t len, size_t i)
{
	unsigned char q = s[i];
	size_t j;

	for (j = i + 1; j < len && s[j] != q; j++) {
		if (s[j] == '\\')
			j++;
		else if (s[j] == '\n' && q != '`')
			break;
	}
	return j < len ? j + 1 : len;
}

/* Index after the regex literal opened by the slash at s[i]. */
static size_t
risk_skip_regex(const unsigned char *s, size_t len, size_t i)
{
	bool cls = false;
	size_t j;

	for (j = i + 1; j < len && s[j] != '\n'; j++) {
		if (s[j] == '\\')
			j++;
		else if (s[j] == '[')
			cls = true;
		else if (s[j] == ']')
			cls = false;
		else if (s[j] == '/' && !cls)
			break;
	}
	return j < len ? j + 1 : len;
}

/* Sets cmt[i] = 1 for every byte of a // or block comment in `s`. */
static void
risk_mark_comments(const unsigned char *s, size_t len, unsigned char *cmt)
{
	const unsigned char *p;
	size_t i = 0, j;

	memset(cmt, 0, len);
	while (i < len) {
		while (i < len && !risk_lex_special[s[i]])
			i++;
		if (i == len)
			break;
		if (s[i] == '/' && i + 1 < len && s[i + 1] == '/') {
			p = memchr(s + i, '\n', len - i);
			j = p != NULL ? (size_t)(p - s) : len;
		} else if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
			p = memmem(s + i + 2, len - i - 2, "*/", 2);
			j = p != NULL ? (size_t)(p - s) + 2 : len;
		} else if (s[i] != '/') {
			i = risk_skip_string(s, len, i);
			continue;
		} else if (risk_slash_is_regex(risk_prev_byte(s, i))) {
			i = risk_skip_regex(s, len, i);
			continue;
		} else {
			i++;
			continue;
		}
		memset(cmt + i, 1, j - i);
		i = j;
	}
}

/* ---- normalisation ----------------------------------------------------- */

static int
risk_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
risk_b64(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static size_t
risk_skip_ws(const unsigned char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i;
}

static bool
risk_is_quote(unsigned char c)
{
	return c == '\'' || c == '"' || c == '`';
}

/* Output of the normaliser: bytes plus, per byte, its raw offset.  The
 * output never grows past the input (every rewrite shrinks). */
struct risk_span {
	size_t off, end;
};

struct risk_norm {
	unsigned char *out;
	uint32_t *map;
	size_t n;
	struct risk_span *chg;	/* rewritten output regions, merged */
	size_t nchg;
	bool chg_all;		/* too many regions: scan everything */
};

/* Records that output bytes [from, nm->n) came from a rewrite. */
static void
risk_norm_changed(struct risk_norm *nm, size_t from)
{
	struct risk_span *last = nm->nchg ? &nm->chg[nm->nchg - 1] : NULL;

	if (last != NULL && from <= last->end + 2 * RISK_CHANGE_WINDOW) {
		last->end = nm->n;
		return;
	}
	if (nm->nchg == RISK_CHANGES_MAX) {
		nm->chg_all = true;
		return;
	}
	nm->chg[nm->nchg++] = (struct risk_span){ from, nm->n };
}

static void
risk_norm_put(struct risk_norm *nm, unsigned char c, size_t raw)
{
	nm->out[nm->n] = c;
	nm->map[nm->n] = (uint32_t)raw;
	nm->n++;
}

/* `'ab' + 'cd'`: at a closing quote followed by + and an opening quote,
 * returns the index after the opening quote (0 if no join). */
static size_t
risk_norm_join(const unsigned char *s, size_t len, size_t i)
{
	size_t j = risk_skip_ws(s, len, i + 1);

	if (j >= len || s[j] != '+')
		return 0;
	j = risk_skip_ws(s, len, j + 1);
	if (j >= len || !risk_is_quote(s[j]))
		return 0;
	return j + 1;
}

/* `\xHH`, `\uHHHH`, `\u{H..}` naming an ASCII byte; returns the length of
 * the escape (0 if none) and the byte in *c. */
static size_t
risk_norm_escape(const unsigned char *s, size_t len, size_t i,
    unsigned char *c)
{
	unsigned v = 0;
	size_t j;

	if (i + 3 < len && s[i + 1] == 'x' && risk_hex(s[i + 2]) >= 0 &&
	    risk_hex(s[i + 3]) >= 0) {
		*c = (unsigned char)(risk_hex(s[i + 2]) * 16 +
		    risk_hex(s[i + 3]));
		return 4;
	}
	if (i + 2 < len && s[i + 1] == 'u' && s[i + 2] == '{') {
		for (j = i + 3; j < len && j < i + 9 && risk_hex(s[j]) >= 0; j++)
			v = v * 16 + (unsigned)risk_hex(s[j]);
		if (j < len && s[j] == '}' && j > i + 3 && v < 0x80) {
			*c = (unsigned char)v;
			return j + 1 - i;
		}
		return 0;
	}
	if (i + 5 < len && s[i + 1] == 'u') {
		for (j = i + 2; j < i + 6; j++) {
			if (risk_hex(s[j]) < 0)
				return 0;
			v = v * 16 + (unsigned)risk_hex(s[j]);
		}
		if (v < 0x80) {
			*c = (unsigned char)v;
			return 6;
		}
	}
	return 0;
}

/* `String.fromCharCode(101, 118, 0x61)` with ASCII codes: emits the text as
 * a "..." literal and returns the length consumed (0 if not applicable). */
static size_t
risk_norm_charcode(const unsigned char *s, size_t len, size_t i,
    struct risk_norm *nm)
{
	static const char head[] = "String.fromCharCode(";
	unsigned char txt[64];
	size_t j, n = 0, hl = sizeof(head) - 1;

	if (len - i < hl || memcmp(s + i, head, hl) != 0)
		return 0;
	j = i + hl;
	for (;;) {
		unsigned v = 0;
		size_t start;
		bool hex = false;

		j = risk_skip_ws(s, len, j);
		if (j + 1 < len && s[j] == '0' && (s[j + 1] == 'x' ||
		    s[j + 1] == 'X')) {
			hex = true;
			j += 2;
		}
		start = j;
		while (j < len && j - start < 4 && (hex ? risk_hex(s[j]) >= 0 :
		    (s[j] >= '0' && s[j] <= '9'))) {
			v = v * (hex ? 16 : 10) + (unsigned)(hex ?
			    risk_hex(s[j]) : s[j] - '0');
			j++;
		}
		if (j == start || v >= 0x80 || n == sizeof(txt))
			return 0;
		txt[n++] = (unsigned char)v;
		j = risk_skip_ws(s, len, j);
		if (j < len && s[j] == ',') {
			j++;
			continue;
		}
		if (j < len && s[j] == ')')
			break;
		return 0;
	}
	/* consumed >= hl + 2*n + 1 > n + 2 bytes: the output shrinks */
	risk_norm_put(nm, '"', i);
	for (size_t k = 0; k < n; k++)
		risk_norm_put(nm, txt[k], i);
	risk_norm_put(nm, '"', i);
	return j + 1 - i;
}

/* `atob("ZXZhbA==")`: emits the decoded bytes as a "..." literal and returns
 * the length consumed (0 if not applicable). */
static size_t
risk_norm_atob(const unsigned char *s, size_t len, size_t i,
    struct risk_norm *nm)
{
	size_t j, k, end, bits = 0;
	unsigned acc = 0;
	unsigned char q;

	if (len - i < 5 || memcmp(s + i, "atob(", 5) != 0 ||
	    (i > 0 && risk_is_ident(s[i - 1])))
		return 0;
	j = risk_skip_ws(s, len, i + 5);
	if (j >= len || !risk_is_quote(s[j]))
		return 0;
	q = s[j++];
	for (end = j; end < len && end - j <= RISK_DECODE_MAX &&
	    (risk_b64(s[end]) >= 0 || s[end] == '='); end++)
		;
	if (end >= len || s[end] != q || end == j)
		return 0;
	k = risk_skip_ws(s, len, end + 1);
	if (k >= len || s[k] != ')')
		return 0;
	/* 4 chars -> 3 bytes; plus 2 quotes < "atob(" + 2 quotes + ")" */
	risk_norm_put(nm, '"', i);
	for (size_t p = j; p < end && s[p] != '='; p++) {
		acc = (acc << 6) | (unsigned)risk_b64(s[p]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			risk_norm_put(nm, (unsigned char)(acc >> bits), p);
			acc &= (1u << bits) - 1;
		}
	}
	risk_norm_put(nm, '"', i);
	return k + 1 - i;
}

/* Bytes where a rewrite may start (or, for '(', end its name). */
static const unsigned char risk_norm_special[256] = {
	['\''] = 1, ['"'] = 1, ['`'] = 1, ['\\'] = 1, ['('] = 1,
};

/* At the '(' in s[p], if the output ends with a verbatim copy of `name`
 * (an identifier of its own), retracts it and returns its raw start. */
static bool
risk_norm_named(const unsigned char *s, size_t p, struct risk_norm *nm,
    const char *name, size_t *start)
{
	size_t n = strlen(name);

	if (p < n || nm->n < n || memcmp(s + p - n, name, n) != 0 ||
	    nm->map[nm->n - n] != p - n || nm->map[nm->n - 1] != p - 1 ||
	    (p > n && risk_is_ident(s[p - n - 1])))
		return false;
	*start = p - n;
	nm->n -= n;
	return true;
}

/* Builds the normalised copy; returns true if it differs from the input. */
static bool
risk_normalise(const unsigned char *s, size_t len, struct risk_norm *nm)
{
	size_t i = 0, j, used, at, start, keep;
	unsigned char c;

	nm->n = 0;
	nm->nchg = 0;
	nm->chg_all = false;
	while (i < len) {
		for (j = i; j < len && !risk_norm_special[s[j]]; j++)
			;
		memcpy(nm->out + nm->n, s + i, j - i);
		for (size_t k = i; k < j; k++)
			nm->map[nm->n + k - i] = (uint32_t)k;
		nm->n += j - i;
		i = j;
		if (i == len)
			break;
		at = nm->n;
		used = 0;
		if (risk_is_quote(s[i]) &&
		    (used = risk_norm_join(s, len, i)) != 0)
			used -= i;
		else if (s[i] == '\\' &&
		    (used = risk_norm_escape(s, len, i, &c)) != 0)
			risk_norm_put(nm, c, i);
		else if (s[i] == '(') {
			keep = nm->n;
			if (risk_norm_named(s, i, nm, "String.fromCharCode",
			    &start) && (used = risk_norm_charcode(s, len, start,
			    nm)) != 0)
				used -= i - start;
			else if ((nm->n = keep, risk_norm_named(s, i, nm, "atob",
			    &start)) && (used = risk_norm_atob(s, len, start,
			    nm)) != 0)
				used -= i - start;
			else
				nm->n = keep;
			if (used != 0)	/* the change starts at the name */
				at = keep - (i - start);
		}
		if (used != 0) {
			i += used;
			risk_norm_changed(nm, at);
			continue;
		}
		risk_norm_put(nm, s[i], i);
		i++;
	}
	return nm->nchg > 0 || nm->chg_all;
}

/* ---- scanning ---------------------------------------------------------- */

struct risk_rule_state {
	double best;		/* largest effective weight seen */
	size_t last_from;	/* raw start of the last counted match */
	bool seen;		/* matched at all */
	bool counted;		/* matched outside a comment */
	bool raw;		/* matched in the raw pass */
	bool saturated;		/* full weight in the raw pass: repeats add
				   nothing but a count */
};

struct risk_hit {
	size_t off, end;	/* raw offsets */
	unsigned rule;
	double weight;
	bool comment, deob, repeat;
};

struct risk_scan {
	const struct risk *r;
	const unsigned char *raw;
	size_t rawlen;
	const unsigned char *cmt;	/* per raw byte: in a comment */
	const unsigned char *buf;	/* the buffer being scanned */
	size_t len;
	const uint32_t *map;		/* NULL in the raw pass */
	size_t base;			/* offset of the scanned slice in buf */
	hs_scratch_t *som_scratch;	/* for the start-of-match rescans */
	struct risk_rule_state *st;
	struct risk_hit hits[RISK_FINDINGS_MAX];
	size_t nhits;
	size_t total;
	struct risk_span secrets[RISK_SECRETS_MAX];
	size_t nsecrets;
	bool secrets_overflow;
};

static bool
risk_cat_scans_comments(enum risk_category cat)
{
	return cat == RISK_CAT_DECEPTIVE_COMPLIANCE ||
	    cat == RISK_CAT_HARDCODED_SECRET;
}

static void
risk_keep_hit(struct risk_scan *sc, const struct risk_hit *h)
{
	if (sc->nhits < RISK_FINDINGS_MAX) {
		sc->hits[sc->nhits++] = *h;
		return;
	}
	if (h->repeat)
		return;
	/* full: a rule's first match displaces some rule's repeat */
	for (size_t i = 0; i < sc->nhits; i++) {
		if (sc->hits[i].repeat) {
			sc->hits[i] = *h;
			return;
		}
	}
}

/* Start-of-match search: the leftmost start of a match ending at `want`. */
struct risk_som {
	unsigned long long want, best;
};

static int
risk_on_start(unsigned int id, unsigned long long from,
    unsigned long long to, unsigned int flags, void *ctx)
{
	struct risk_som *som = ctx;

	(void)id;
	(void)flags;
	if (to == som->want && from < som->best)
		som->best = from;
	return 0;
}

/* Finds where the match of rule `id` ending at `to` starts by rescanning a
 * short window before it with the rule's SOM database (a small window
 * first, a large one if the match may begin before it).  If the start
 * lies before the large window, returns the window's start and clears
 * *exact. */
static size_t
risk_find_start(struct risk_scan *sc, unsigned int id, size_t to,
    bool *exact)
{
	static const size_t windows[] = { RISK_SOM_WINDOW_SMALL,
	    RISK_SOM_WINDOW_LARGE };
	struct risk_som som;
	size_t ws = 0;

	for (size_t k = 0; k < 2; k++) {
		ws = to > windows[k] ? to - windows[k] : 0;
		som = (struct risk_som){ to - ws, ULLONG_MAX };
		if (hs_scan(sc->r->som[id], (const char *)sc->buf + ws,
		    (unsigned)(to - ws), 0, sc->som_scratch, risk_on_start,
		    &som) != HS_SUCCESS)
			return to;
		if (som.best != ULLONG_MAX && (som.best > 0 || ws == 0))
			break;
	}
	/* not found: the match begins before the window; report it there */
	*exact = som.best != ULLONG_MAX;
	return som.best == ULLONG_MAX ? ws : ws + (size_t)som.best;
}

static int
risk_on_match(unsigned int id, unsigned long long from,
    unsigned long long to, unsigned int flags, void *ctx)
{
	struct risk_scan *sc = ctx;
	const struct risk_rule *rule;
	struct risk_rule_state *st;
	struct risk_hit h;
	bool exact = true;
	double w;

	(void)flags;
	(void)from;		/* the fast database reports ends only */
	to += sc->base;
	if (id >= sc->r->nrules || to == 0 || to > sc->len)
		return 0;
	rule = &sc->r->rules[id];
	st = &sc->st[id];
	if (sc->map != NULL && st->raw)
		return 0;	/* the raw pass has this rule already */
	if (rule->end_guard && risk_is_ident(sc->buf[to - 1]) &&
	    to < sc->len && risk_is_ident(sc->buf[to]))
		return 0;
	if (st->saturated && sc->nhits == RISK_FINDINGS_MAX) {
		/* a repeat that can change neither the score, the floors nor
		 * the list: count it without the start-of-match rescan */
		sc->total++;
		return 0;
	}
	from = risk_find_start(sc, id, to, &exact);
	if (from >= to)
		return 0;
	/* token boundaries the regex could not express */
	if (exact && risk_is_ident(sc->buf[from]) && from > 0 &&
	    risk_is_ident(sc->buf[from - 1]))
		return 0;
	memset(&h, 0, sizeof(h));
	h.rule = id;
	h.off = sc->map != NULL ? sc->map[from] : from;
	h.end = sc->map != NULL ? sc->map[to - 1] + 1 : to;
	h.deob = sc->map != NULL;
	if (st->seen && st->last_from == h.off)
		return 0;	/* same match, longer end */
	h.comment = sc->cmt[h.off] && !risk_cat_scans_comments(rule->cat);
	w = rule->weight * sc->r->conf.multiplier[rule->cat];
	if (h.comment)
		w *= sc->r->conf.comment_discount;
	h.weight = w > 1.0 ? 1.0 : w;
	h.repeat = st->seen;
	if (h.weight > st->best)
		st->best = h.weight;
	if (!h.comment)
		st->counted = true;
	st->saturated = !h.comment && sc->map == NULL &&
	    rule->cat != RISK_CAT_HARDCODED_SECRET;
	st->seen = true;
	st->raw = st->raw || sc->map == NULL;
	st->last_from = h.off;
	sc->total++;
	if (rule->cat == RISK_CAT_HARDCODED_SECRET) {
		if (sc->nsecrets < RISK_SECRETS_MAX)
			sc->secrets[sc->nsecrets++] =
			    (struct risk_span){ h.off, h.end };
		else
			sc->secrets_overflow = true;
	}
	risk_keep_hit(sc, &h);
	return 0;
}

/* ---- verdict ----------------------------------------------------------- */

static bool
risk_is_token(unsigned char c)
{
	return risk_is_ident(c) || c == '-' || c == '+' || c == '/' ||
	    c == '=';
}

/* Masks secrets in win[0..n) (a copy of raw[base..base+n)): the spans of
 * hardcoded_secret matches, and any token of >= 16 bytes mixing letters and
 * digits (>= 12 bytes if secret spans overflowed).  Keeps 4 bytes of each. */
static void
risk_mask(const struct risk_scan *sc, size_t base, unsigned char *win,
    size_t n)
{
	size_t min = sc->secrets_overflow ? 12 : 16;

	for (size_t k = 0; k < sc->nsecrets; k++) {
		const struct risk_span *sp = &sc->secrets[k];
		size_t end = sp->end;

		/* patterns match a fixed-length prefix: mask the whole token */
		while (end < sc->rawlen && risk_is_token(sc->raw[end]))
			end++;
		for (size_t p = sp->off + 4; p < end; p++) {
			if (p >= base && p < base + n)
				win[p - base] = '*';
		}
	}
	for (size_t i = 0; i < n;) {
		size_t a = base + i, b, p;
		bool digit = false, alpha = false;

		if (!risk_is_token(sc->raw[a])) {
			i++;
			continue;
		}
		while (a > 0 && risk_is_token(sc->raw[a - 1]))
			a--;
		for (b = a; b < sc->rawlen && risk_is_token(sc->raw[b]); b++) {
			digit |= sc->raw[b] >= '0' && sc->raw[b] <= '9';
			alpha |= (sc->raw[b] | 0x20) >= 'a' &&
			    (sc->raw[b] | 0x20) <= 'z';
		}
		if (b - a >= min && digit && alpha) {
			for (p = a + 4; p < b; p++) {
				if (p >= base && p < base + n)
					win[p - base] = '*';
			}
		}
		i = b - base;
	}
}

/* Renders `n` bytes printable into out[outsz] (NUL-terminated): tabs as
 * spaces, other control and non-ASCII bytes as \xHH; "..." marks a cut. */
static void
risk_escape(char *out, size_t outsz, const unsigned char *b, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		size_t need = (b[i] >= 0x20 && b[i] < 0x7f) || b[i] == '\t' ?
		    1 : 4;

		if (o + need + 1 > outsz || (i + 1 < n && o + need + 4 > outsz)) {
			while (o + 4 > outsz)
				o--;
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 1)
			out[o++] = b[i] == '\t' ? ' ' : (char)b[i];
		else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[b[i] >> 4];
			out[o++] = hex[b[i] & 15];
		}
	}
	out[o] = '\0';
}

/* Fills f->excerpt from the line holding the hit. */
static void
risk_excerpt(const struct risk_scan *sc, const struct risk_hit *h,
    size_t line_start, struct risk_finding *f)
{
	unsigned char win[RISK_EXCERPT_MAX];
	size_t start = line_start, n = 0;

	if (h->off - line_start > 24)
		start = h->off - 24;
	while (start + n < sc->rawlen && n < sizeof(win) &&
	    sc->raw[start + n] != '\n') {
		win[n] = sc->raw[start + n];
		n++;
	}
	risk_mask(sc, start, win, n);
	risk_escape(f->excerpt, sizeof(f->excerpt), win, n);
}

static int
risk_hit_cmp(const void *a, const void *b)
{
	const struct risk_hit *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static void
risk_findings(struct risk_scan *sc, struct risk_verdict *v)
{
	size_t pos = 0, line_start = 0;
	unsigned line = 1;

	qsort(sc->hits, sc->nhits, sizeof(sc->hits[0]), risk_hit_cmp);
	for (size_t i = 0; i < sc->nhits; i++) {
		const struct risk_hit *h = &sc->hits[i];
		const struct risk_rule *rule = &sc->r->rules[h->rule];
		struct risk_finding *f = &v->findings[v->nfindings++];
		const unsigned char *nl;

		memset(f, 0, sizeof(*f));

		while (pos < h->off &&
		    (nl = memchr(sc->raw + pos, '\n', h->off - pos)) != NULL) {
			line++;
			pos = (size_t)(nl - sc->raw) + 1;
			line_start = pos;
		}
		pos = h->off;
		memcpy(f->rule, rule->id, sizeof(f->rule));
		f->category = rule->cat;
		f->weight = h->weight;
		f->line = line;
		f->col = (unsigned)(h->off - line_start + 1);
		f->in_comment = h->comment;
		f->deobfuscated = h->deob;
		risk_excerpt(sc, h, line_start, f);
	}
}

/* Noisy-OR over distinct rules, then floors. */
static void
risk_score(const struct risk_scan *sc, struct risk_verdict *v)
{
	const struct risk_conf *c = &sc->r->conf;
	enum risk_level floor = RISK_L1;
	double keep = 1.0, score;

	for (size_t i = 0; i < sc->r->nrules; i++) {
		const struct risk_rule_state *st = &sc->st[i];

		if (!st->seen)
			continue;
		keep *= 1.0 - st->best;
		if (st->counted && st->best > 0.0 &&
		    c->floor[sc->r->rules[i].cat] > floor)
			floor = c->floor[sc->r->rules[i].cat];
	}
	score = 1.0 - keep;
	if (score < 0.0 || !isfinite(score))
		score = 0.0;
	if (score > 1.0)
		score = 1.0;
	v->level = risk_level_of(c, score);
	if (floor > v->level) {
		v->level = floor;
		if (score < risk_level_floor_score(c, floor))
			score = risk_level_floor_score(c, floor);
	}
	v->score = score;
}

/* An empty L1 verdict with score 0; findings[] is not touched (a verdict
 * holds ~13 KiB of findings, nearly always unused): each finding is zeroed
 * when it is filled (risk_findings). */
static void
risk_verdict_init(struct risk_verdict *v)
{
	v->score = 0.0;
	v->level = RISK_L1;
	v->nfindings = 0;
	v->total = 0;
}

void
risk_verdict_clear(struct risk_verdict *v)
{
	if (v == NULL)
		return;
	/* Only the findings in use hold anything (risk_verdict_init). */
	memset(v->findings, 0, (v->nfindings < RISK_FINDINGS_MAX ? v->nfindings :
	    RISK_FINDINGS_MAX) * sizeof(v->findings[0]));
	risk_verdict_init(v);
}

static void
risk_fail_closed(struct risk_verdict *v)
{
	risk_verdict_init(v);
	v->score = 1.0;
	v->level = RISK_L4;
}

/* ---- workspaces ------------------------------------------------------- */

/* Everything one assessment needs besides the input, reused across calls
 * through the pool so that the hot path does not allocate. */
struct risk_work {
	hs_scratch_t *scratch;
	hs_scratch_t *som_scratch;
	struct risk_scan sc;
	struct risk_rule_state *st;	/* nrules entries */
	struct risk_span chg[RISK_CHANGES_MAX];
	unsigned char *cmt;		/* cap bytes */
	unsigned char *norm;		/* cap bytes */
	uint32_t *map;			/* cap entries */
	size_t cap;
};

static void
risk_work_drop_buffers(struct risk_work *w)
{
	free(w->cmt);
	free(w->norm);
	free(w->map);
	w->cmt = w->norm = NULL;
	w->map = NULL;
	w->cap = 0;
}

static void
risk_work_free(struct risk_work *w)
{
	if (w == NULL)
		return;
	risk_work_drop_buffers(w);
	hs_free_scratch(w->scratch);
	hs_free_scratch(w->som_scratch);
	free(w->st);
	free(w);
}

/* Takes an idle workspace or builds one; sized for `len` input bytes. */
static struct risk_work *
risk_work_take(const struct risk *r, size_t len)
{
	struct risk_work *w = NULL;

	pthread_mutex_lock(&r->pool->lock);
	if (r->pool->nidle > 0)
		w = r->pool->idle[--r->pool->nidle];
	pthread_mutex_unlock(&r->pool->lock);
	if (w == NULL) {
		w = calloc(1, sizeof(*w));
		if (w == NULL)
			return NULL;
		w->st = calloc(r->nrules, sizeof(*w->st));
		if (w->st == NULL ||
		    hs_clone_scratch(r->proto, &w->scratch) != HS_SUCCESS ||
		    hs_clone_scratch(r->proto, &w->som_scratch) != HS_SUCCESS) {
			risk_work_free(w);
			return NULL;
		}
	}
	if (w->cap < len + 1) {
		risk_work_drop_buffers(w);
		w->cmt = malloc(len + 1);
		w->norm = malloc(len + 1);
		w->map = malloc((len + 1) * sizeof(*w->map));
		if (w->cmt == NULL || w->norm == NULL || w->map == NULL) {
			risk_work_free(w);
			return NULL;
		}
		w->cap = len + 1;
	}
	/* hits[] and secrets[] are written before they are read (up to
	 * nhits, nsecrets): only the rest of the scan state is zeroed. */
	memset(&w->sc, 0, offsetof(struct risk_scan, hits));
	w->sc.nhits = 0;
	w->sc.total = 0;
	w->sc.nsecrets = 0;
	w->sc.secrets_overflow = false;
	memset(w->st, 0, r->nrules * sizeof(*w->st));
	return w;
}

/* Returns `w` to the pool (large buffers are released first). */
static void
risk_work_give(const struct risk *r, struct risk_work *w)
{
	if (w->cap > RISK_WORK_KEEP)
		risk_work_drop_buffers(w);
	pthread_mutex_lock(&r->pool->lock);
	if (r->pool->nidle < RISK_POOL_MAX) {
		r->pool->idle[r->pool->nidle++] = w;
		w = NULL;
	}
	pthread_mutex_unlock(&r->pool->lock);
	risk_work_free(w);
}

/* Scans the rewritten regions of the normalised copy (each with
 * RISK_CHANGE_WINDOW bytes of context), or all of it if there are many. */
static bool
risk_scan_norm(const struct risk *r, struct risk_work *w,
    const struct risk_norm *nm)
{
	struct risk_scan *sc = &w->sc;
	size_t a, b;

	sc->buf = nm->out;
	sc->len = nm->n;
	sc->map = nm->map;
	if (nm->chg_all) {
		sc->base = 0;
		return hs_scan(r->db, (const char *)nm->out, (unsigned)nm->n, 0,
		    w->scratch, risk_on_match, sc) == HS_SUCCESS;
	}
	for (size_t i = 0; i < nm->nchg; i++) {
		a = nm->chg[i].off > RISK_CHANGE_WINDOW ?
		    nm->chg[i].off - RISK_CHANGE_WINDOW : 0;
		b = nm->chg[i].end + RISK_CHANGE_WINDOW;
		if (b > nm->n)
			b = nm->n;
		if (a >= b)
			continue;
		sc->base = a;
		if (hs_scan(r->db, (const char *)nm->out + a, (unsigned)(b - a),
		    0, w->scratch, risk_on_match, sc) != HS_SUCCESS)
			return false;
	}
	return true;
}

enum err
risk_assess(const struct risk *r, const char *code, size_t len,
    struct risk_verdict *out)
{
	struct risk_work *w;
	struct risk_scan *sc;
	struct risk_norm nm;
	enum err e = ERR_OK;
	/* hs_scan wants a non-NULL pointer even for 0 bytes */
	static const char empty[1] = "";

	if (out == NULL)
		return ERR_INVAL;
	if (r == NULL || (code == NULL && len > 0)) {
		risk_fail_closed(out);
		return ERR_INVAL;
	}
	if (len > RISK_INPUT_MAX) {
		risk_fail_closed(out);
		return ERR_TOOBIG;
	}
	if (code == NULL)
		code = empty;
	risk_verdict_init(out);
	w = risk_work_take(r, len);
	if (w == NULL) {
		risk_fail_closed(out);
		return ERR_NOMEM;
	}
	sc = &w->sc;
	sc->r = r;
	sc->st = w->st;
	sc->som_scratch = w->som_scratch;
	sc->raw = (const unsigned char *)code;
	sc->rawlen = len;
	sc->cmt = w->cmt;
	risk_mark_comments(sc->raw, len, w->cmt);

	sc->buf = sc->raw;
	sc->len = len;
	if (hs_scan(r->db, code, (unsigned)len, 0, w->scratch, risk_on_match,
	    sc) != HS_SUCCESS) {
		e = ERR_INTERNAL;
		goto out;
	}
	nm = (struct risk_norm){ .out = w->norm, .map = w->map, .chg = w->chg };
	if (risk_normalise(sc->raw, len, &nm) && !risk_scan_norm(r, w, &nm)) {
		e = ERR_INTERNAL;
		goto out;
	}
	risk_score(sc, out);
	risk_findings(sc, out);
	out->total = sc->total;
out:
	risk_work_give(r, w);
	if (e != ERR_OK)
		risk_fail_closed(out);
	return e;
}
