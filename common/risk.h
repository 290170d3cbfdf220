/*
 * risk — CARS risk assessment of submitted code (issue 4).
 *
 * A rules file (schemas/risk_rules.tsv, embedded as the default) is compiled
 * once into one Hyperscan database; risk_assess() scans a code buffer (and a
 * de-obfuscated copy of it), turns the matches into findings and combines
 * them into a score in [0,1] and a level L1..L4.  See docs/RISK.md for the
 * rules format, the score formula, floors and known limits.
 *
 * A compiled `struct risk` is immutable: risk_assess() may be called from
 * several threads at once (Hyperscan scratch and buffers come from a
 * locked pool of workspaces).
 */
#ifndef SLUICE_RISK_H
#define SLUICE_RISK_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define RISK_FINDINGS_MAX	64		/* findings kept in a verdict */
#define RISK_EXCERPT_MAX	80		/* bytes of excerpt, without NUL */
#define RISK_RULE_ID_MAX	32		/* bytes of rule id, with NUL */
#define RISK_RULES_MAX		512		/* rules in one file */
#define RISK_INPUT_MAX		(8u << 20)	/* largest buffer risk_assess takes */

enum risk_category {
	RISK_CAT_CODE_EXECUTION,
	RISK_CAT_FILESYSTEM,
	RISK_CAT_NETWORK,
	RISK_CAT_EXFILTRATION,
	RISK_CAT_PRIVILEGE_ESCALATION,
	RISK_CAT_DECEPTIVE_COMPLIANCE,
	RISK_CAT_RESOURCE_ABUSE,
	RISK_CAT_HARDCODED_SECRET,
	RISK_CAT__COUNT
};

enum risk_level {
	RISK_L1 = 1,	/* auto-approve */
	RISK_L2 = 2,	/* auto-approve with logging */
	RISK_L3 = 3,	/* human approval */
	RISK_L4 = 4	/* block and alert */
};

/* Tunables; risk_conf_default() fills the documented defaults. */
struct risk_conf {
	/* Lower score bound of L2, L3, L4 (strictly increasing, in (0,1]). */
	double threshold_l2;		/* default 0.3 */
	double threshold_l3;		/* default 0.5 */
	double threshold_l4;		/* default 0.8 */
	/* Multiplies every rule weight of the category; in [0,10]. */
	double multiplier[RISK_CAT__COUNT];	/* default 1.0 */
	/* Any counted finding of the category lifts the level to at least this. */
	enum risk_level floor[RISK_CAT__COUNT];	/* default L1; priv-esc L3,
						   deceptive_compliance L3 */
	/* Weight factor for code-category matches inside comments; in [0,1]. */
	double comment_discount;	/* default 0.25 */
};

struct risk_finding {
	char rule[RISK_RULE_ID_MAX];	/* rule id from the rules file */
	enum risk_category category;
	double weight;			/* effective: rule weight x multiplier
					   (x comment_discount in a comment) */
	unsigned line;			/* 1-based */
	unsigned col;			/* 1-based, in bytes */
	bool in_comment;		/* match lies in a // or block comment */
	bool deobfuscated;		/* found only in the normalised copy */
	char excerpt[RISK_EXCERPT_MAX + 1];	/* escaped, secrets masked */
};

struct risk_verdict {
	double score;			/* [0,1] */
	enum risk_level level;
	size_t nfindings;		/* entries used in findings[] */
	size_t total;			/* all matches, kept or not (approximate
					   beyond RISK_FINDINGS_MAX: see
					   docs/RISK.md) */
	struct risk_finding findings[RISK_FINDINGS_MAX];	/* by position */
};

struct risk;

/* Fills `conf` with the defaults documented above. */
void risk_conf_default(struct risk_conf *conf);

/* Reads a `key = value` file (see docs/RISK.md for keys) over the defaults
 * into `conf`.  Returns ERR_OK, ERR_IO/ERR_NOTFOUND (cannot read),
 * ERR_TOOBIG, or ERR_CONFIG with the offending line named in `why`. */
enum err risk_conf_load(const char *path, struct risk_conf *conf,
    char *why, size_t whysz);

/* Compiles the rules at `rules_path` (NULL: the embedded default) with
 * `conf` (NULL: defaults; copied, not kept).  Returns a fresh object owned by
 * the caller (free with risk_destroy), or NULL with *err set and a reason in
 * `why` (bad line, duplicate id, regex error naming the rule). */
struct risk *risk_new(const char *rules_path, const struct risk_conf *conf,
    enum err *err, char *why, size_t whysz);

/* Frees `*rp` (NULL is fine) and sets it to NULL. */
void risk_destroy(struct risk **rp);

/* Number of compiled rules. */
size_t risk_rule_count(const struct risk *r);

/* Assesses `len` bytes of `code` (any bytes; NUL allowed) into `out`, which
 * is overwritten.  Thread-safe.  Returns ERR_OK, ERR_INVAL (NULL arguments),
 * ERR_TOOBIG (len > RISK_INPUT_MAX), ERR_NOMEM or ERR_INTERNAL (scan failed);
 * on error `out` is cleared to an L4 verdict with score 1 (fail closed). */
enum err risk_assess(const struct risk *r, const char *code, size_t len,
    struct risk_verdict *out);

/* Resets `v` to an empty L1 verdict with score 0. */
void risk_verdict_clear(struct risk_verdict *v);

/* "L1".."L4"; "L?" for anything else.  Static string. */
const char *risk_level_name(enum risk_level level);

/* Parses "L1".."L4" (or "1".."4"); false on anything else. */
bool risk_level_parse(const char *s, enum risk_level *out);

/* "code_execution", ...; "unknown" out of range.  Static string. */
const char *risk_category_name(enum risk_category cat);

/* Parses a category name; false if unknown. */
bool risk_category_parse(const char *s, enum risk_category *out);

/* Maps `score` to a level with the thresholds of `conf`. */
enum risk_level risk_level_of(const struct risk_conf *conf, double score);

#endif
