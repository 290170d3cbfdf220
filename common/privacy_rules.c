/*
 * privacy_rules — what the privacy filter looks for.
 *
 * Each rule pairs a Hyperscan expression (compiled once, with
 * HS_FLAG_SOM_LEFTMOST, into the filter's single database) with an extent
 * function in C.  The expression is deliberately cheap: often only an anchor
 * (a vendor prefix, a context word such as "passport", "://").  The extent
 * function then checks the candidate (check digits, structure, placeholders)
 * and returns the minimal span to hide: the password and not the whole URL,
 * the token and not the header.
 *
 * Runs wherever the filter runs; the bytes are untrusted, possibly binary.
 * Every extent function reads only inside buf[0, len) and scans at most a
 * bounded distance (PRIVACY_MAX_MATCH) from the anchor.
 */
#include <string.h>

#include "common/privacy_pii.h"
#include "common/privacy_rules.h"
#include "common/privacy_text.h"

#define TOKEN_MAX	512	/* longest single token (API key, password) */
#define IDENT_MAX	64	/* longest identifier before an assignment */
#define VALUE_MAX	2048	/* longest assigned value (session tokens) */

/* ---- generic extents ---------------------------------------------------- */

/* The regex match itself, minus placeholders. */
static bool
ext_match(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)len;
	if (!privacy_rules_span_ok(b, from, to, 8))
		return false;
	return privacy_rules_set(sp, from, to);
}

/* The match extended over token characters (prefix tokens of any length). */
static bool
ext_token(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = privacy_text_extend(b, len, to, privacy_text_is_tok, TOKEN_MAX);

	if (!privacy_rules_span_ok(b, from, e, 16))
		return false;
	return privacy_rules_set(sp, from, e);
}

/* Like ext_token, and the random part must mix character classes. */
static bool
ext_token_mixed(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = privacy_text_extend(b, len, to, privacy_text_is_tok, TOKEN_MAX);

	if (!privacy_rules_span_ok(b, from, e, 16) || privacy_validate_classes(b + from + 2, e - from - 2) < 3)
		return false;
	return privacy_rules_set(sp, from, e);
}

/* ---- secrets ------------------------------------------------------------ */

static bool
ext_pem(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t lim = len - from > PRIVACY_MAX_MATCH ? from + PRIVACY_MAX_MATCH : len;
	size_t i, body = 0, e = 0;

	for (i = to; i + 8 <= lim; i++) {
		if (b[i] == '-' && memcmp(b + i, "-----END", 8) == 0) {
			size_t k = i + 8;
			while (k < lim && k - i < 80 && b[k] != '\n' && b[k] != '"' &&
			    !(b[k] == '-' && k + 5 <= lim && memcmp(b + k, "-----", 5) == 0))
				k++;
			if (k + 5 <= lim && memcmp(b + k, "-----", 5) == 0)
				e = k + 5;
			break;
		}
		if (privacy_text_is_alnum(b[i]) || b[i] == '+' || b[i] == '/')
			body++;
		else if (!privacy_text_is_space(b[i]) && b[i] != '=' && b[i] != '\\' && b[i] != ':' &&
		    b[i] != ',' && b[i] != '-' && b[i] != '.')
			break;
	}
	if (body < 24)
		return false;
	if (e == 0)
		e = i;
	sp->type = "private_key";
	if (privacy_text_contains_ci(b + from, to - from, "openssh"))
		sp->type = "openssh_private_key";
	else if (from >= 4 && privacy_text_contains_ci(b + (from > 48 ? from - 48 : 0),
	    from - (from > 48 ? from - 48 : 0), "private_key\""))
		sp->type = "google_service_account_key";
	return privacy_rules_set(sp, from, e);
}

static bool
ext_aws_id(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)len;
	if (privacy_validate_is_placeholder(b + from, to - from) ||
	    privacy_validate_is_placeholder(b + from + 4, to - from - 4))
		return false;
	return privacy_rules_set(sp, from, to);
}

static bool
ext_gitlab(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = to;

	while (e < len && e - from < TOKEN_MAX && (privacy_text_is_tok(b[e]) || b[e] == '.'))
		e++;
	while (e > to && b[e - 1] == '.')
		e--;
	if (!privacy_rules_span_ok(b, from, e, 20))
		return false;
	return privacy_rules_set(sp, from, e);
}

static bool
ext_slack(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = privacy_text_extend(b, len, to, privacy_text_is_tok, TOKEN_MAX), dashes = 0, run = 0, maxrun = 0;

	for (size_t i = from + 4; i < e; i++) {
		if (b[i] == '-')
			dashes++;
		run = privacy_text_is_digit(b[i]) ? run + 1 : 0;
		if (run > maxrun)
			maxrun = run;
	}
	if (e - from < 24 || dashes < 2 || maxrun < 5 || !privacy_rules_span_ok(b, from, e, 24))
		return false;
	return privacy_rules_set(sp, from, e);
}

static bool
ext_after_match(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = to;

	(void)from;
	while (e < len && e - to < TOKEN_MAX && (privacy_text_is_tok(b[e]) || b[e] == '/' || b[e] == '+'))
		e++;
	if (!privacy_rules_span_ok(b, to, e, 16))
		return false;
	return privacy_rules_set(sp, to, e);
}

static bool
ext_openai(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = privacy_text_extend(b, len, to, privacy_text_is_tok, TOKEN_MAX);

	if (privacy_text_prefix_ci(b, len, from, "sk-ant-") || !privacy_rules_span_ok(b, from, e, 20))
		return false;
	if (e - from >= 8 && memmem(b + from, e - from, "T3BlbkFJ", 8) != NULL)
		return privacy_rules_set(sp, from, e);
	if (e - from < 40 || privacy_validate_classes(b + from + 3, e - from - 3) < 3)
		return false;
	return privacy_rules_set(sp, from, e);
}

static bool
ext_anthropic(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = privacy_text_extend(b, len, to, privacy_text_is_tok, TOKEN_MAX);

	if (e - from < 90 || !privacy_rules_span_ok(b, from, e, 90))
		return false;
	return privacy_rules_set(sp, from, e);
}

static bool
ext_jwt(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = to;
	int dots = 1;

	while (e < len && e - from < PRIVACY_MAX_MATCH) {
		if (b[e] == '.') {
			if (dots == 2 || e + 1 >= len || !privacy_text_is_tok(b[e + 1]))
				break;
			dots++;
		} else if (!privacy_text_is_tok(b[e])) {
			break;
		}
		e++;
	}
	if (!privacy_validate_jwt(b + from, e - from))
		return false;
	return privacy_rules_set(sp, from, e);
}

static bool
ext_hf(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)len;
	if (privacy_validate_classes(b + from + 3, to - from - 3) < 2 ||
	    !privacy_rules_span_ok(b, from, to, 20))
		return false;
	return privacy_rules_set(sp, from, to);
}

/* "scheme://user:password@host" -> the password (or a lone user key). */
static bool
ext_url_auth(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	static const char *const db[] = {
		"postgres", "mysql", "mongodb", "redis", "amqp", "mssql", "sqlserver",
		"oracle", "clickhouse", "cassandra", "mariadb", "couchdb", "neo4j", "jdbc",
	};
	size_t i = to, colon = 0, at = 0, s0;

	while (i < len && i - to < TOKEN_MAX) {
		uint8_t c = b[i];
		if (c == '@') {
			at = i;
			break;
		}
		if (c == '/' || privacy_text_is_space(c) || c == '"' || c == '\'' || c == '<' || c == '>' ||
		    c == '`' || c == 0)
			return false;
		if (c == ':' && colon == 0)
			colon = i;
		i++;
	}
	if (at == 0 || colon == 0 || colon + 1 >= at || colon == to)
		return false;
	if (!privacy_rules_span_ok(b, colon + 1, at, 3) || b[colon + 1] == '[')
		return false;
	s0 = from;
	while (s0 > 0 && from - s0 < 24 && (privacy_text_is_alnum(b[s0 - 1]) || b[s0 - 1] == '+' ||
	    b[s0 - 1] == '.' || b[s0 - 1] == '-' || b[s0 - 1] == ':'))
		s0--;
	sp->type = "url_password";
	for (size_t k = 0; k < sizeof(db) / sizeof(db[0]); k++)
		if (privacy_text_contains_ci(b + s0, to - s0, db[k]))
			sp->type = "database_url_password";
	return privacy_rules_set(sp, colon + 1, at);
}

/* Strips quotes and braces from both ends of [*s, *e). */
static void
strip_wrap(const uint8_t *b, size_t *s, size_t *e)
{
	while (*s < *e && (privacy_text_is_quote(b[*s]) || b[*s] == '{'))
		(*s)++;
	while (*e > *s && (privacy_text_is_quote(b[*e - 1]) || b[*e - 1] == '}'))
		(*e)--;
}

static bool
cred_value_ok(const uint8_t *b, size_t s, size_t e)
{
	if (e <= s || e - s < 4 || b[s] == '[' || b[s] == '<' || b[s] == '$')
		return false;
	return privacy_rules_span_ok(b, s, e, 4);
}

/* curl -u / --user USER:PASS -> PASS (or USER when PASS is empty). */
static bool
ext_cli_user(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t s = to, e, colon = 0, us, ue, ps, pe;

	if (from > 0 && !privacy_text_is_space(b[from - 1]) && !privacy_text_is_quote(b[from - 1]))
		return false;
	if (s < len && (b[s] == '<' || b[s] == '['))
		return false;
	e = s;
	while (e < len && e - s < TOKEN_MAX && !privacy_text_is_space(b[e]))
		e++;
	for (size_t i = s; i < e; i++) {
		if (b[i] == ':') {
			colon = i;
			break;
		}
	}
	if (colon == 0)
		return false;
	us = s;
	ue = colon;
	ps = colon + 1;
	pe = e;
	strip_wrap(b, &us, &ue);
	strip_wrap(b, &ps, &pe);
	if (pe > ps)
		return cred_value_ok(b, ps, pe) ? privacy_rules_set(sp, ps, pe) : false;
	return cred_value_ok(b, us, ue) ? privacy_rules_set(sp, us, ue) : false;
}

static bool
is_header_value(uint8_t c)
{
	return !privacy_text_is_space(c) && c != '"' && c != '\'' && c != ',' && c != ';' && c != '\\' &&
	    c != 0;
}

/* Authorization / API-key headers: skip an optional scheme, take the value. */
static bool
ext_header(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t s = to, e;

	(void)from;
	while (s < len && (b[s] == ' ' || b[s] == '\t' || b[s] == '"'))
		s++;
	e = privacy_text_extend(b, len, s, is_header_value, TOKEN_MAX);
	/* "Bearer xyz", "Basic xyz", "Token xyz": a word then a space and more. */
	if (e < len && b[e] == ' ' && e - s <= 12) {
		size_t v = e;
		bool basic = e - s == 5 && privacy_text_prefix_ci(b, len, s, "basic");
		while (v < len && b[v] == ' ')
			v++;
		if (v < len && is_header_value(b[v])) {
			size_t ve = privacy_text_extend(b, len, v, is_header_value, TOKEN_MAX);
			sp->type = basic ? "basic_auth" : "bearer_token";
			if (ve - v < 8 || privacy_validate_classes(b + v, ve - v) < 2 ||
			    !cred_value_ok(b, v, ve))
				return false;
			return privacy_rules_set(sp, v, ve);
		}
	}
	if (e - s < 8 || privacy_validate_classes(b + s, e - s) < 2 || !cred_value_ok(b, s, e))
		return false;
	return privacy_rules_set(sp, s, e);
}

/* "Bearer <token>" anywhere. */
static bool
ext_bearer(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = privacy_text_extend(b, len, to, is_header_value, TOKEN_MAX);

	(void)from;
	if (e - to < 16 || privacy_validate_classes(b + to, e - to) < 2 ||
	    !cred_value_ok(b, to, e))
		return false;
	return privacy_rules_set(sp, to, e);
}

/* ---- keyword assignments: password = "...", apiKey: ..., ----------------- */

static bool
is_ident(uint8_t c)
{
	return privacy_text_is_word(c) || c == '-' || c == '.';
}

/* A word and its length: the keyword tables run for most candidates, so
 * their lengths are not recomputed each time. */
struct word {
	const char *text;
	size_t len;
};
#define WORD(w) { w, sizeof(w) - 1 }

static bool
ends_with_ci(const uint8_t *s, size_t len, const struct word *suffix)
{
	return len >= suffix->len && privacy_text_prefix_ci(s, len, len - suffix->len, suffix->text);
}

/* Identifiers that name something about a secret, not the secret. */
static bool
ident_excluded(const uint8_t *id, size_t n)
{
	static const struct word suffixes[] = {
		WORD("id"), WORD("name"), WORD("file"), WORD("path"), WORD("url"), WORD("uri"),
		WORD("length"), WORD("len"), WORD("size"), WORD("type"), WORD("count"),
		WORD("version"), WORD("format"), WORD("mode"), WORD("variable"), WORD("var"),
		WORD("prefix"), WORD("field"), WORD("header"), WORD("ttl"), WORD("expiry"),
		WORD("expires"), WORD("time"), WORD("timeout"), WORD("enabled"), WORD("source"),
		WORD("required"), WORD("hint"), WORD("label"), WORD("policy"), WORD("endpoint"),
		WORD("algorithm"), WORD("selector"), WORD("chars"), WORD("min"), WORD("max"),
		WORD("env"), WORD("key_id"), WORD("keyid"), WORD("ref"), WORD("dir"),
		WORD("location"), WORD("provider"), WORD("method"), WORD("scope"), WORD("user"),
		WORD("username"), WORD("store"), WORD("manager"), WORD("class"), WORD("input"),
		WORD("button"), WORD("form"), WORD("event"), WORD("handler"),
	};

	if (privacy_text_contains_ci(id, n, "public") || privacy_text_contains_ci(id, n, "pubkey"))
		return true;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t sl = suffixes[i].len;
		if (sl > n || privacy_text_lower(id[n - 1]) != (uint8_t)suffixes[i].text[sl - 1])
			continue;
		if (ends_with_ci(id, n, &suffixes[i]) &&
		    (n == sl || !privacy_text_is_lower(id[n - sl]) || !privacy_text_is_lower(id[n - sl - 1]) ||
		    id[n - sl - 1] == '_' || sl >= 4))
			return true;
	}
	return false;
}

/* Values that are code or words rather than secrets. */
static bool
value_is_code(const uint8_t *b, size_t s, size_t e, const uint8_t *id, size_t idn)
{
	static const struct word words[] = {
		WORD("true"), WORD("false"), WORD("null"), WORD("none"), WORD("nil"),
		WORD("undefined"), WORD("required"), WORD("optional"), WORD("string"),
		WORD("password"), WORD("secret"), WORD("token"), WORD("example"), WORD("test"),
		WORD("sample"),
	};
	size_t n = e - s;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (n == words[i].len && privacy_text_prefix_ci(b, e, s, words[i].text))
			return true;
	/* x = Foo.secret_length: the value repeats the identifier. */
	if (idn >= 4) {
		for (size_t i = 0; i + idn <= n; i++) {
			size_t k = 0;
			while (k < idn && privacy_text_lower(b[s + i + k]) == privacy_text_lower(id[k]))
				k++;
			if (k == idn)
				return true;
		}
	}
	return false;
}

static const char *
keyword_type(const uint8_t *id, size_t n)
{
	if (privacy_text_contains_ci(id, n, "aws") && privacy_text_contains_ci(id, n, "secret"))
		return "aws_secret_access_key";
	if (privacy_text_contains_ci(id, n, "pass") || privacy_text_contains_ci(id, n, "pwd") ||
	    privacy_text_contains_ci(id, n, "secret"))
		return "password_assignment";
	return "secret_assignment";
}

/* Unquoted value up to the end of the line, without trailing , ; quotes. */
static size_t
rest_of_line(const uint8_t *b, size_t len, size_t i)
{
	size_t e = i;

	while (e < len && e - i < VALUE_MAX && b[e] != '\n' && b[e] != '\r' && b[e] != 0)
		e++;
	while (e > i && (b[e - 1] == ',' || b[e - 1] == ';' || privacy_text_is_quote(b[e - 1]) ||
	    privacy_text_is_space(b[e - 1])))
		e--;
	return e;
}

/* Finds the value of an assignment whose identifier spans [is, ie):
 *   name = value, name: value, name := "v", name == "v", name("v"),
 *   name { "v" }, "name", "v", name "v", <name>v</name>. */
static bool
assignment_value(const uint8_t *b, size_t len, size_t is, size_t ie, size_t *vs,
    size_t *ve, bool *quoted)
{
	size_t i = ie, ws = 0;
	bool colon = false, eq = false, open = false, weak = false;
	uint8_t q;

	if (is > 0 && b[is - 1] == '<' && i < len && b[i] == '>') {	/* XML element */
		size_t k = i + 1;
		while (k < len && k - i < VALUE_MAX && b[k] != '<' && b[k] != '\n')
			k++;
		if (k >= len || b[k] != '<')
			return false;
		*vs = i + 1;
		*ve = k;
		while (*vs < *ve && (b[*vs] == '{' || privacy_text_is_space(b[*vs])))
			(*vs)++;
		while (*ve > *vs && (b[*ve - 1] == '}' || privacy_text_is_space(b[*ve - 1])))
			(*ve)--;
		*quoted = true;
		return *ve > *vs;
	}
	if (i < len && (b[i] == '"' || b[i] == '\''))
		i++;
	if (i < len && b[i] == '[') {	/* char secret[25] = */
		while (i < len && i - ie < 16 && b[i] != ']')
			i++;
		if (i < len && b[i] == ']')
			i++;
	}
	while (i < len && ws < 16 && privacy_text_is_space(b[i])) {
		i++;
		ws++;
	}
	if (i >= len)
		return false;
	if (b[i] == ':' && !(i + 1 < len && b[i + 1] == '=')) {
		i++;
		colon = true;
	} else if (b[i] == '=' || b[i] == ':' || b[i] == '!') {
		while (i < len && (b[i] == '=' || b[i] == ':' || b[i] == '!' || b[i] == '>'))
			i++;
		eq = true;
	} else if (b[i] == '(' || b[i] == '{' || b[i] == ',') {
		i++;
		open = true;
	} else if (b[i] == '-' && ws > 0 && i + 1 < len && b[i + 1] == ' ') {
		i++;
		weak = true;
	} else if (ws > 0 && privacy_text_is_quote(b[i])) {
		weak = true;
	} else {
		return false;
	}
	ws = 0;
	while (i < len && ws < 32 && (b[i] == ' ' || b[i] == '\t' || (open && privacy_text_is_space(b[i])))) {
		i++;
		ws++;
	}
	if (i < len && b[i] == '@')
		i++;
	if (i >= len)
		return false;
	q = b[i];
	if (privacy_text_is_quote(q)) {
		size_t k = i + 1;
		while (k < len && k - i <= VALUE_MAX && b[k] != q && b[k] != '\n')
			k++;
		if (k >= len || b[k] != q)
			return false;
		*vs = i + 1;
		*ve = k;
		*quoted = true;
		return true;
	}
	if (open || weak || !(colon || eq) || b[i] == '\n' || b[i] == '\r')
		return false;
	*vs = i;
	*quoted = false;
	if (colon) {		/* YAML-ish: the rest of the line */
		*ve = rest_of_line(b, len, i);
		return *ve > *vs;
	}
	*ve = i;
	while (*ve < len && *ve - i < TOKEN_MAX && !privacy_text_is_space(b[*ve]) && b[*ve] != 0)
		(*ve)++;
	while (*ve > *vs && (b[*ve - 1] == ',' || b[*ve - 1] == ';' || privacy_text_is_quote(b[*ve - 1])))
		(*ve)--;
	return *ve > *vs;
}

/* "VALUE" == apikey: the value stands before the identifier. */
static bool
reverse_value(const uint8_t *b, size_t is, size_t *vs, size_t *ve)
{
	size_t i = is;
	uint8_t q;

	while (i > 0 && b[i - 1] == ' ')
		i--;
	if (i < 2 || b[i - 1] != '=' || (b[i - 2] != '=' && b[i - 2] != '!'))
		return false;
	while (i > 0 && (b[i - 1] == '=' || b[i - 1] == '!'))
		i--;
	while (i > 0 && b[i - 1] == ' ')
		i--;
	if (i == 0 || !privacy_text_is_quote(b[i - 1]))
		return false;
	q = b[i - 1];
	*ve = i - 1;
	i = *ve;
	while (i > 0 && *ve - i < TOKEN_MAX && b[i - 1] != q && b[i - 1] != '\n')
		i--;
	if (i == 0 || b[i - 1] != q)
		return false;
	*vs = i;
	return true;
}

static bool
ext_keyword(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t is = from, ie = to, vs = 0, ve = 0, idn;
	bool quoted = false;
	const uint8_t *id;

	/* The keyword must sit at a component boundary of its identifier. */
	if (from > 0 && privacy_text_is_lower(b[from - 1]) && !privacy_text_is_upper(b[from]))
		return false;
	if (from > 0 && privacy_text_is_lower(b[from - 1]) && privacy_text_is_upper(b[from]) == false)
		return false;
	if (to < len && privacy_text_is_lower(b[to]))
		return false;
	while (is > 0 && from - is < IDENT_MAX && is_ident(b[is - 1]))
		is--;
	while (ie < len && ie - to < IDENT_MAX && is_ident(b[ie]))
		ie++;
	while (ie > to && b[ie - 1] == '.')
		ie--;
	id = b + is;
	idn = ie - is;
	if (!assignment_value(b, len, is, ie, &vs, &ve, &quoted)) {
		size_t qs = is;
		if (qs > 0 && privacy_text_is_quote(b[qs - 1]))
			qs--;
		if (!reverse_value(b, qs, &vs, &ve))
			return false;
		quoted = true;
	}
	if (ident_excluded(id, idn))
		return false;
	if (ve - vs < 4 || !privacy_rules_span_ok(b, vs, ve, 4))
		return false;
	{
		bool alnum = false;
		for (size_t i = vs; i < ve; i++)
			alnum |= privacy_text_is_alnum(b[i]);
		if (!alnum)
			return false;
	}
	if (privacy_validate_is_benign_id(b + vs, ve - vs) || value_is_code(b, vs, ve, id, idn))
		return false;
	/* An unquoted call or constructor is code: getPassword(), new Foo(). */
	if (!quoted && (b[ve - 1] == ')' || privacy_text_prefix_ci(b, ve, vs, "new ")))
		return false;
	sp->type = keyword_type(id, idn);
	if (strcmp(sp->type, "password_assignment") != 0) {
		/* API keys and tokens are random: ask for length and entropy. */
		if (ve - vs < 16 || privacy_validate_entropy(b + vs, ve - vs) < 3.0)
			return false;
		/* "session" alone is a common word: only long, random values. */
		if (privacy_text_contains_ci(id, idn, "session") && (ve - vs < 32 ||
		    privacy_validate_entropy(b + vs, ve - vs) < 4.5))
			return false;
	}
	if (!quoted && ve - vs < 6)
		return false;
	return privacy_rules_set(sp, vs, ve);
}

/* ---- the table ---------------------------------------------------------- */

#define SECRET PRIVACY_KIND_SECRET
#define PII PRIVACY_KIND_PII

static const struct privacy_rule rules[] = {
	/* secrets: vendor formats */
	{ "private_key", SECRET, "-----BEGIN[A-Z0-9 ]{0,30}PRIVATE KEY( BLOCK)?-----", ext_pem },
	{ "aws_access_key_id", SECRET,
	    "\\b(AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}\\b", ext_aws_id },
	{ "github_token", SECRET, "\\bgh[pousr]_[A-Za-z0-9]{36}", ext_token },
	{ "github_token", SECRET, "\\bgithub_pat_[A-Za-z0-9_]{22}", ext_token },
	{ "gitlab_token", SECRET,
	    "\\bgl(pat|dt|rt|ptt|ft|cbt|imt|oas|soat|agent|ffct)-[A-Za-z0-9_.-]{20}", ext_gitlab },
	{ "slack_token", SECRET, "\\bxox[abposer]-[0-9A-Za-z-]{8}", ext_slack },
	{ "slack_token", SECRET, "\\bxapp-\\d-[A-Z0-9]{8}", ext_token },
	{ "slack_webhook", SECRET, "hooks\\.slack\\.com/(services|workflows|triggers)/", ext_after_match },
	{ "stripe_key", SECRET, "\\b[rs]k_(live|test|prod)_[A-Za-z0-9]{10}", ext_token },
	{ "openai_key", SECRET, "\\bsk-[A-Za-z0-9_-]{20}", ext_openai },
	{ "anthropic_key", SECRET, "\\bsk-ant-(api|admin|sid)\\d\\d-[A-Za-z0-9_-]{20}", ext_anthropic },
	{ "google_api_key", SECRET, "\\bAIza[0-9A-Za-z_-]{35}", ext_match },
	{ "jwt", SECRET, "\\beyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{4}", ext_jwt },
	{ "npm_token", SECRET, "\\bnpm_[A-Za-z0-9]{36}", ext_token },
	{ "npm_token", SECRET, "_authToken=", ext_after_match },
	{ "pypi_token", SECRET, "\\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{16}", ext_token },
	{ "huggingface_token", SECRET, "\\bhf_[A-Za-z]{34}\\b", ext_hf },
	{ "sendgrid_key", SECRET, "\\bSG\\.[A-Za-z0-9_-]{20,24}\\.[A-Za-z0-9_-]{39,50}", ext_match },
	{ "twilio_key", SECRET, "\\bSK[0-9a-fA-F]{32}\\b", ext_match },
	{ "mailchimp_key", SECRET, "\\b[0-9a-f]{32}-us\\d{1,2}\\b", ext_match },
	{ "telegram_bot_token", SECRET, "\\b\\d{8,10}:AA[A-Za-z0-9_-]{32}", ext_token },
	{ "vendor_token", SECRET,
	    "\\b(dapi[0-9a-f]{32}|do[por]_v1_[a-f0-9]{64}|dp\\.(pt|st|sa|ct|scim|audit)\\.[A-Za-z0-9]{40}"
	    "|shp(at|ca|pa|ss)_[a-fA-F0-9]{32}|sntry[us]_[A-Za-z0-9]{32}|lin_api_[A-Za-z0-9]{40}"
	    "|pul-[a-f0-9]{40}|HRKU-[A-Za-z0-9_-]{30}|pscale_(pw|tkn|oauth)_[A-Za-z0-9_.-]{32}"
	    "|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32}|ya29\\.[A-Za-z0-9_-]{30}"
	    "|hv[sb]\\.[A-Za-z0-9_-]{24}|AGE-SECRET-KEY-1[0-9A-Z]{58}|key-[0-9a-f]{32}"
	    "|[a-z0-9]{14}\\.atlasv1\\.[A-Za-z0-9_=-]{40}|dckr_pat_[A-Za-z0-9_-]{27}"
	    "|rubygems_[a-f0-9]{48}|CLOJARS_[a-z0-9]{60})", ext_token },
	{ "vault_token", SECRET, "\\bs\\.[A-Za-z0-9]{24}\\b", ext_token_mixed },
	{ "azure_client_secret", SECRET, "\\b[A-Za-z0-9_~.]{3}\\dQ~[A-Za-z0-9_~.-]{31,34}", ext_match },
	{ "discord_bot_token", SECRET,
	    "\\b[MNO][A-Za-z0-9_-]{23,27}\\.[A-Za-z0-9_-]{6}\\.[A-Za-z0-9_-]{27,40}", ext_match },
	{ "azure_storage_key", SECRET, "\\b[A-Za-z0-9+/]{86}==", ext_match },
	/* secrets: credentials in URLs, command lines, headers, assignments */
	{ "url_password", SECRET, "[A-Za-z0-9]://", ext_url_auth },
	{ "basic_auth", SECRET, "(-u|--user)[ \\t]+", ext_cli_user },
	{ "bearer_token", SECRET, "(?i)\\bauthorization\"?\\s*[:=]\\s*\"?", ext_header },
	{ "bearer_token", SECRET,
	    "(?i)(-H|--header)\\s+['\"][A-Za-z0-9-]{0,40}(key|token)[A-Za-z0-9-]{0,20}\\s*:", ext_header },
	{ "bearer_token", SECRET, "(?i)\\bbearer\\s+", ext_bearer },
	{ "secret_assignment", SECRET,
	    "(?i)(pass|passwd|password|pwd|secret|secrete|token|apikey|api_key|api-key|accesskey"
	    "|access_key|access-key|accountkey|account_key|privatekey|private_key|private-key"
	    "|credential|credentials|creds|auth|session)", ext_keyword },
	/* PII */
	{ "email", PII, "@[A-Za-z0-9]", privacy_pii_email },
	{ "phone", PII, "(\\+1[ .-]?)?(\\(\\d{3}\\)[ .-]?|\\b\\d{3}[ .-])\\d{3}[ .-]\\d{4}\\b", privacy_pii_phone_us },
	{ "phone", PII, "\\+[1-9]\\d{0,2}[ .-]?(\\(\\d{1,4}\\)[ .-]?)?\\d{1,5}([ .-]?\\d{1,5}){1,5}", privacy_pii_phone_intl },
	{ "phone", PII, "(?i)\\b(phone|tel|telephone|mobile|cell|fax|number|whatsapp)\\b", privacy_pii_phone_ctx },
	{ "us_ssn", PII, "\\b\\d{3}-\\d{2}-\\d{4}\\b|\\b\\d{3}\\.\\d{2}\\.\\d{4}\\b|\\b\\d{3} \\d{2} \\d{4}\\b", privacy_pii_ssn },
	{ "us_ssn", PII, "(?i)\\b(ssn|social security( number)?)\\b", privacy_pii_ssn_ctx },
	{ "credit_card", PII, "\\b\\d{4}[ -]?\\d{2}", privacy_pii_card },
	{ "iban", PII, "\\b[A-Z]{2}\\d{2}[ -]?[A-Z0-9]{4}", privacy_pii_iban },
	{ "ipv4", PII,
	    "\\b(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}\\b", privacy_pii_ipv4 },
	{ "ipv6", PII, "::|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:", privacy_pii_ipv6 },
	{ "mac_address", PII,
	    "\\b[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}\\b|\\b[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){5}\\b"
	    "|\\b[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}\\b", privacy_pii_mac },
	{ "passport", PII, "(?i)\\b(passport|travel document)", privacy_pii_passport },
	{ "drivers_licence", PII,
	    "(?i)\\b(driver'?s?[ -]?licen[cs]e|driving licen[cs]e|DL (number|no\\.?|#))", privacy_pii_licence },
	{ "bank_account", PII,
	    "(?i)\\b(bank account|account (number|no\\.?|#)|acct\\.?( no\\.?| #| number)?|routing number)",
	    privacy_pii_bank },
	{ "date_of_birth", PII,
	    "(?i)\\b(date of birth|dob|d\\.o\\.b\\.?|birth ?date|birthday|born( on)?)\\b", privacy_pii_dob },
	{ "street_address", PII,
	    "\\b\\d{1,6} ([A-Z][a-z]+ ){1,4}(Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr"
	    "|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq)\\b\\.?", privacy_pii_address },
	{ "zip_code", PII, "(?i)\\b(zip( ?code)?|postal code|post ?code)\\b", privacy_pii_zip },
	{ "zip_code", PII,
	    ", (A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[DLNA]|K[SY]|LA|M[EDAINSOT]|N[EVHJMYCD]|O[HKR]|PA|RI"
	    "|S[CD]|T[NX]|UT|V[TA]|W[AVIY]) \\d{5}(-\\d{4})?\\b", privacy_pii_zip_state },
};

const struct privacy_rule *
privacy_rules_table(size_t *n)
{
	*n = sizeof(rules) / sizeof(rules[0]);
	return rules;
}
