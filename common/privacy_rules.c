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

#include "common/privacy_rules.h"
#include "common/privacy_validate.h"

#define TOKEN_MAX	512	/* longest single token (API key, password) */
#define IDENT_MAX	64	/* longest identifier before an assignment */
#define VALUE_MAX	2048	/* longest assigned value (session tokens) */

/* ---- character classes -------------------------------------------------- */

static bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_alnum(uint8_t c)
{
	return is_digit(c) || is_alpha(c);
}

static bool
is_upper(uint8_t c)
{
	return c >= 'A' && c <= 'Z';
}

static bool
is_lower(uint8_t c)
{
	return c >= 'a' && c <= 'z';
}

static bool
is_hex(uint8_t c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
is_word(uint8_t c)
{
	return is_alnum(c) || c == '_';
}

static bool
is_tok(uint8_t c)
{
	return is_alnum(c) || c == '_' || c == '-';
}

static bool
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static uint8_t
lower(uint8_t c)
{
	return is_upper(c) ? (uint8_t)(c + 32) : c;
}

/* Extends from `i` while `pred` holds, at most `max` bytes. */
static size_t
extend(const uint8_t *b, size_t len, size_t i, bool (*pred)(uint8_t), size_t max)
{
	size_t lim = len - i > max ? i + max : len;

	while (i < lim && pred(b[i]))
		i++;
	return i;
}

static bool
has_prefix_ci(const uint8_t *b, size_t len, size_t i, const char *p)
{
	size_t n = strlen(p);

	if (len - i < n || i > len)
		return false;
	for (size_t k = 0; k < n; k++)
		if (lower(b[i + k]) != (uint8_t)p[k])
			return false;
	return true;
}

static bool
contains_ci(const uint8_t *s, size_t len, const char *needle)
{
	size_t nl = strlen(needle);

	for (size_t i = 0; i + nl <= len; i++)
		if (has_prefix_ci(s, len, i, needle))
			return true;
	return false;
}

/* A token is a secret candidate when it is no placeholder. */
static bool
span_ok(const uint8_t *b, size_t s, size_t e, size_t minlen)
{
	return e > s && e - s >= minlen && !privacy_validate_is_placeholder(b + s, e - s);
}

static bool
set(struct privacy_span *sp, size_t s, size_t e)
{
	sp->start = s;
	sp->end = e;
	return true;
}

/* ---- generic extents ---------------------------------------------------- */

/* The regex match itself, minus placeholders. */
static bool
ext_match(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)len;
	if (!span_ok(b, from, to, 8))
		return false;
	return set(sp, from, to);
}

/* The match extended over token characters (prefix tokens of any length). */
static bool
ext_token(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = extend(b, len, to, is_tok, TOKEN_MAX);

	if (!span_ok(b, from, e, 16))
		return false;
	return set(sp, from, e);
}

/* Like ext_token, and the random part must mix character classes. */
static bool
ext_token_mixed(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = extend(b, len, to, is_tok, TOKEN_MAX);

	if (!span_ok(b, from, e, 16) || privacy_validate_classes(b + from + 2, e - from - 2) < 3)
		return false;
	return set(sp, from, e);
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
		if (is_alnum(b[i]) || b[i] == '+' || b[i] == '/')
			body++;
		else if (!is_space(b[i]) && b[i] != '=' && b[i] != '\\' && b[i] != ':' &&
		    b[i] != ',' && b[i] != '-' && b[i] != '.')
			break;
	}
	if (body < 24)
		return false;
	if (e == 0)
		e = i;
	sp->type = "private_key";
	if (contains_ci(b + from, to - from, "openssh"))
		sp->type = "openssh_private_key";
	else if (from >= 4 && contains_ci(b + (from > 48 ? from - 48 : 0),
	    from - (from > 48 ? from - 48 : 0), "private_key\""))
		sp->type = "google_service_account_key";
	return set(sp, from, e);
}

static bool
ext_aws_id(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)len;
	if (privacy_validate_is_placeholder(b + from, to - from) ||
	    privacy_validate_is_placeholder(b + from + 4, to - from - 4))
		return false;
	return set(sp, from, to);
}

static bool
ext_gitlab(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = to;

	while (e < len && e - from < TOKEN_MAX && (is_tok(b[e]) || b[e] == '.'))
		e++;
	while (e > to && b[e - 1] == '.')
		e--;
	if (!span_ok(b, from, e, 20))
		return false;
	return set(sp, from, e);
}

static bool
ext_slack(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = extend(b, len, to, is_tok, TOKEN_MAX), dashes = 0, run = 0, maxrun = 0;

	for (size_t i = from + 4; i < e; i++) {
		if (b[i] == '-')
			dashes++;
		run = is_digit(b[i]) ? run + 1 : 0;
		if (run > maxrun)
			maxrun = run;
	}
	if (e - from < 24 || dashes < 2 || maxrun < 5 || !span_ok(b, from, e, 24))
		return false;
	return set(sp, from, e);
}

static bool
ext_after_match(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = to;

	(void)from;
	while (e < len && e - to < TOKEN_MAX && (is_tok(b[e]) || b[e] == '/' || b[e] == '+'))
		e++;
	if (!span_ok(b, to, e, 16))
		return false;
	return set(sp, to, e);
}

static bool
ext_openai(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = extend(b, len, to, is_tok, TOKEN_MAX);

	if (has_prefix_ci(b, len, from, "sk-ant-") || !span_ok(b, from, e, 20))
		return false;
	if (e - from >= 8 && memmem(b + from, e - from, "T3BlbkFJ", 8) != NULL)
		return set(sp, from, e);
	if (e - from < 40 || privacy_validate_classes(b + from + 3, e - from - 3) < 3)
		return false;
	return set(sp, from, e);
}

static bool
ext_anthropic(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = extend(b, len, to, is_tok, TOKEN_MAX);

	if (e - from < 90 || !span_ok(b, from, e, 90))
		return false;
	return set(sp, from, e);
}

static bool
ext_jwt(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = to;
	int dots = 1;

	while (e < len && e - from < PRIVACY_MAX_MATCH) {
		if (b[e] == '.') {
			if (dots == 2 || e + 1 >= len || !is_tok(b[e + 1]))
				break;
			dots++;
		} else if (!is_tok(b[e])) {
			break;
		}
		e++;
	}
	if (!privacy_validate_jwt(b + from, e - from))
		return false;
	return set(sp, from, e);
}

static bool
ext_hf(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)len;
	if (privacy_validate_classes(b + from + 3, to - from - 3) < 2 ||
	    !span_ok(b, from, to, 20))
		return false;
	return set(sp, from, to);
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
		if (c == '/' || is_space(c) || c == '"' || c == '\'' || c == '<' || c == '>' ||
		    c == '`' || c == 0)
			return false;
		if (c == ':' && colon == 0)
			colon = i;
		i++;
	}
	if (at == 0 || colon == 0 || colon + 1 >= at || colon == to)
		return false;
	if (!span_ok(b, colon + 1, at, 3) || b[colon + 1] == '[')
		return false;
	s0 = from;
	while (s0 > 0 && from - s0 < 24 && (is_alnum(b[s0 - 1]) || b[s0 - 1] == '+' ||
	    b[s0 - 1] == '.' || b[s0 - 1] == '-' || b[s0 - 1] == ':'))
		s0--;
	sp->type = "url_password";
	for (size_t k = 0; k < sizeof(db) / sizeof(db[0]); k++)
		if (contains_ci(b + s0, to - s0, db[k]))
			sp->type = "database_url_password";
	return set(sp, colon + 1, at);
}

static bool
is_quote(uint8_t c)
{
	return c == '"' || c == '\'' || c == '`';
}

/* Strips quotes and braces from both ends of [*s, *e). */
static void
strip_wrap(const uint8_t *b, size_t *s, size_t *e)
{
	while (*s < *e && (is_quote(b[*s]) || b[*s] == '{'))
		(*s)++;
	while (*e > *s && (is_quote(b[*e - 1]) || b[*e - 1] == '}'))
		(*e)--;
}

static bool
cred_value_ok(const uint8_t *b, size_t s, size_t e)
{
	if (e <= s || e - s < 4 || b[s] == '[' || b[s] == '<' || b[s] == '$')
		return false;
	return span_ok(b, s, e, 4);
}

/* curl -u / --user USER:PASS -> PASS (or USER when PASS is empty). */
static bool
ext_cli_user(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t s = to, e, colon = 0, us, ue, ps, pe;

	if (from > 0 && !is_space(b[from - 1]) && !is_quote(b[from - 1]))
		return false;
	if (s < len && (b[s] == '<' || b[s] == '['))
		return false;
	e = s;
	while (e < len && e - s < TOKEN_MAX && !is_space(b[e]))
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
		return cred_value_ok(b, ps, pe) ? set(sp, ps, pe) : false;
	return cred_value_ok(b, us, ue) ? set(sp, us, ue) : false;
}

static bool
is_header_value(uint8_t c)
{
	return !is_space(c) && c != '"' && c != '\'' && c != ',' && c != ';' && c != '\\' &&
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
	e = extend(b, len, s, is_header_value, TOKEN_MAX);
	/* "Bearer xyz", "Basic xyz", "Token xyz": a word then a space and more. */
	if (e < len && b[e] == ' ' && e - s <= 12) {
		size_t v = e;
		bool basic = e - s == 5 && has_prefix_ci(b, len, s, "basic");
		while (v < len && b[v] == ' ')
			v++;
		if (v < len && is_header_value(b[v])) {
			size_t ve = extend(b, len, v, is_header_value, TOKEN_MAX);
			sp->type = basic ? "basic_auth" : "bearer_token";
			if (ve - v < 8 || privacy_validate_classes(b + v, ve - v) < 2 ||
			    !cred_value_ok(b, v, ve))
				return false;
			return set(sp, v, ve);
		}
	}
	if (e - s < 8 || privacy_validate_classes(b + s, e - s) < 2 || !cred_value_ok(b, s, e))
		return false;
	return set(sp, s, e);
}

/* "Bearer <token>" anywhere. */
static bool
ext_bearer(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t e = extend(b, len, to, is_header_value, TOKEN_MAX);

	(void)from;
	if (e - to < 16 || privacy_validate_classes(b + to, e - to) < 2 ||
	    !cred_value_ok(b, to, e))
		return false;
	return set(sp, to, e);
}

/* ---- keyword assignments: password = "...", apiKey: ..., ----------------- */

static bool
is_ident(uint8_t c)
{
	return is_word(c) || c == '-' || c == '.';
}

static bool
ends_with_ci(const uint8_t *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && has_prefix_ci(s, len, len - n, suffix);
}

/* Identifiers that name something about a secret, not the secret. */
static bool
ident_excluded(const uint8_t *id, size_t n)
{
	static const char *const suffixes[] = {
		"id", "name", "file", "path", "url", "uri", "length", "len", "size", "type",
		"count", "version", "format", "mode", "variable", "var", "prefix", "field",
		"header", "ttl", "expiry", "expires", "time", "timeout", "enabled", "source",
		"required", "hint", "label", "policy", "endpoint", "algorithm", "selector",
		"chars", "min", "max", "env", "key_id", "keyid", "ref", "dir", "location",
		"provider", "method", "scope", "user", "username", "store", "manager",
		"class", "input", "button", "form", "event", "handler",
	};

	if (contains_ci(id, n, "public") || contains_ci(id, n, "pubkey"))
		return true;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t sl = strlen(suffixes[i]);
		if (sl > n || lower(id[n - 1]) != (uint8_t)suffixes[i][sl - 1])
			continue;
		if (ends_with_ci(id, n, suffixes[i]) &&
		    (n == sl || !is_lower(id[n - sl]) || !is_lower(id[n - sl - 1]) ||
		    id[n - sl - 1] == '_' || sl >= 4))
			return true;
	}
	return false;
}

/* Values that are code or words rather than secrets. */
static bool
value_is_code(const uint8_t *b, size_t s, size_t e, const uint8_t *id, size_t idn)
{
	static const char *const words[] = {
		"true", "false", "null", "none", "nil", "undefined", "required", "optional",
		"string", "password", "secret", "token", "example", "test", "sample",
	};
	size_t n = e - s;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (n == strlen(words[i]) && has_prefix_ci(b, e, s, words[i]))
			return true;
	/* x = Foo.secret_length: the value repeats the identifier. */
	if (idn >= 4) {
		for (size_t i = 0; i + idn <= n; i++)
			if (has_prefix_ci(b, e, s + i, "") && n >= idn) {
				size_t k = 0;
				while (k < idn && lower(b[s + i + k]) == lower(id[k]))
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
	if (contains_ci(id, n, "aws") && contains_ci(id, n, "secret"))
		return "aws_secret_access_key";
	if (contains_ci(id, n, "pass") || contains_ci(id, n, "pwd") ||
	    contains_ci(id, n, "secret"))
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
	while (e > i && (b[e - 1] == ',' || b[e - 1] == ';' || is_quote(b[e - 1]) ||
	    is_space(b[e - 1])))
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
		while (*vs < *ve && (b[*vs] == '{' || is_space(b[*vs])))
			(*vs)++;
		while (*ve > *vs && (b[*ve - 1] == '}' || is_space(b[*ve - 1])))
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
	while (i < len && ws < 16 && is_space(b[i])) {
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
	} else if (ws > 0 && is_quote(b[i])) {
		weak = true;
	} else {
		return false;
	}
	ws = 0;
	while (i < len && ws < 32 && (b[i] == ' ' || b[i] == '\t' || (open && is_space(b[i])))) {
		i++;
		ws++;
	}
	if (i < len && b[i] == '@')
		i++;
	if (i >= len)
		return false;
	q = b[i];
	if (is_quote(q)) {
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
	while (*ve < len && *ve - i < TOKEN_MAX && !is_space(b[*ve]) && b[*ve] != 0)
		(*ve)++;
	while (*ve > *vs && (b[*ve - 1] == ',' || b[*ve - 1] == ';' || is_quote(b[*ve - 1])))
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
	if (i == 0 || !is_quote(b[i - 1]))
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
	if (from > 0 && is_lower(b[from - 1]) && !is_upper(b[from]))
		return false;
	if (from > 0 && is_lower(b[from - 1]) && is_upper(b[from]) == false)
		return false;
	if (to < len && is_lower(b[to]))
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
		if (qs > 0 && is_quote(b[qs - 1]))
			qs--;
		if (!reverse_value(b, qs, &vs, &ve))
			return false;
		quoted = true;
	}
	if (ident_excluded(id, idn))
		return false;
	if (ve - vs < 4 || !span_ok(b, vs, ve, 4))
		return false;
	{
		bool alnum = false;
		for (size_t i = vs; i < ve; i++)
			alnum |= is_alnum(b[i]);
		if (!alnum)
			return false;
	}
	if (privacy_validate_is_benign_id(b + vs, ve - vs) || value_is_code(b, vs, ve, id, idn))
		return false;
	/* An unquoted call or constructor is code: getPassword(), new Foo(). */
	if (!quoted && (b[ve - 1] == ')' || has_prefix_ci(b, ve, vs, "new ")))
		return false;
	sp->type = keyword_type(id, idn);
	if (strcmp(sp->type, "password_assignment") != 0) {
		/* API keys and tokens are random: ask for length and entropy. */
		if (ve - vs < 16 || privacy_validate_entropy(b + vs, ve - vs) < 3.0)
			return false;
		/* "session" alone is a common word: only long, random values. */
		if (contains_ci(id, idn, "session") && (ve - vs < 32 ||
		    privacy_validate_entropy(b + vs, ve - vs) < 4.5))
			return false;
	}
	if (!quoted && ve - vs < 6)
		return false;
	return set(sp, vs, ve);
}

/* ---- PII ---------------------------------------------------------------- */

static bool
is_local(uint8_t c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static bool
is_domain(uint8_t c)
{
	return is_alnum(c) || c == '.' || c == '-';
}

/* Anchor "x@y": local part to the left, domain with a TLD to the right. */
static bool
ext_email(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t at = from, s = at, e, lastdot = 0;

	(void)to;
	while (s > 0 && at - s < 64 && is_local(b[s - 1]))
		s--;
	while (s < at && b[s] == '.')
		s++;
	if (s == at || (s > 0 && is_local(b[s - 1])))
		return false;
	e = extend(b, len, at + 1, is_domain, 253);
	while (e > at + 1 && (b[e - 1] == '.' || b[e - 1] == '-'))
		e--;
	for (size_t i = at + 1; i < e; i++)
		if (b[i] == '.')
			lastdot = i;
	if (lastdot == 0 || e - lastdot - 1 < 2 || !is_alpha(b[lastdot + 1]))
		return false;
	return set(sp, s, e);
}

static bool
ext_phone_us(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t d = 0, first = 0;

	(void)len;
	for (size_t i = from; i < to; i++) {
		if (!is_digit(b[i]))
			continue;
		if (d == 0 && b[i] == '1' && (from + 1 < to) && b[from] == '+') {
			d++;
			continue;
		}
		if (first == 0)
			first = i;
		d++;
	}
	if (first == 0 || b[first] < '2')
		return false;
	if (from > 0 && (is_alnum(b[from - 1]) || b[from - 1] == '-' || b[from - 1] == '.'))
		return false;
	return set(sp, from, to);
}

static bool
ext_phone_intl(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t d = 0;

	if (to < len && is_alnum(b[to]))
		return false;
	while (to > from && !is_digit(b[to - 1]))
		to--;
	for (size_t i = from; i < to; i++)
		d += is_digit(b[i]);
	if (d < 8 || d > 15)
		return false;
	return set(sp, from, to);
}

/* After a context word: skip up to `skip` non-digit bytes on the same line,
 * then take a run of digits and the separators in `seps`. */
static bool
digits_after(const uint8_t *b, size_t len, size_t to, size_t skip, const char *seps,
    size_t *s, size_t *e, size_t *ndigits)
{
	size_t i = to, n = 0;

	while (i < len && i - to < skip && !is_digit(b[i]) && b[i] != '\n')
		i++;
	if (i >= len || !is_digit(b[i]) || (i > 0 && is_alpha(b[i - 1])))
		return false;
	*s = i;
	while (i < len && i - *s < 40) {
		if (is_digit(b[i]))
			n++;
		else if (!(b[i] != 0 && strchr(seps, b[i]) != NULL && i + 1 < len &&
		    is_digit(b[i + 1])))
			break;
		i++;
	}
	if (i < len && is_alpha(b[i]))
		return false;
	*e = i;
	*ndigits = n;
	return true;
}

static bool
ext_phone_ctx(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	static const char *const not_phone[] = {
		"card", "account", "passport", "licen", "routing", "serial", "ssn",
		"social", "order", "invoice", "tracking", "version", "iban",
	};
	size_t s, e, n, w0 = from > 24 ? from - 24 : 0;

	for (size_t i = 0; i < sizeof(not_phone) / sizeof(not_phone[0]); i++)
		if (contains_ci(b + w0, from - w0, not_phone[i]))
			return false;
	if (!digits_after(b, len, to, 16, " -.()", &s, &e, &n) || n < 7 || n > 12)
		return false;
	if (s > 0 && b[s - 1] == '+')
		s--;
	return set(sp, s, e);
}

static bool
ext_ssn(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)len;
	if (!privacy_validate_ssn(b + from, to - from))
		return false;
	return set(sp, from, to);
}

static bool
ext_ssn_ctx(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t s, e, n;

	(void)from;
	if (!digits_after(b, len, to, 20, "- .", &s, &e, &n) || n != 9 ||
	    !privacy_validate_ssn(b + s, e - s))
		return false;
	sp->type = "us_ssn";
	return set(sp, s, e);
}

static bool
card_prefix_ok(const char *d, size_t n)
{
	int p2 = (d[0] - '0') * 10 + (d[1] - '0');

	switch (d[0]) {
	case '1':	/* UATP */
		return n == 15;
	case '2':	/* Mastercard 2221-2720 */
		return n == 16;
	case '3':	/* Amex 34/37, Diners 30/36/38/39, JCB 35 */
		return (p2 == 34 || p2 == 37) ? n == 15 : (p2 == 35 ? n >= 16 : n >= 14);
	case '4':	/* Visa */
		return n == 13 || n == 16 || n == 19;
	case '5':	/* Mastercard 51-55, Maestro and others 50, 56-58 */
		return n >= 12;
	case '6':	/* Discover, UnionPay, Maestro */
		return n >= 12;
	default:
		return false;
	}
}

static bool
ext_card(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	char d[20];
	size_t pos[20], n = 0, i = from;
	uint8_t sep = 0;

	(void)to;
	if (from > 0 && (is_alnum(b[from - 1]) || b[from - 1] == '+' || b[from - 1] == '-' ||
	    b[from - 1] == '.'))
		return false;
	while (i < len && n < 20) {
		if (is_digit(b[i])) {
			d[n] = (char)b[i];
			pos[n++] = i + 1;
			i++;
			continue;
		}
		if ((b[i] == ' ' || b[i] == '-') && i + 1 < len && is_digit(b[i + 1]) &&
		    (sep == 0 || sep == b[i])) {
			sep = b[i];
			i++;
			continue;
		}
		break;
	}
	/* Longest candidate first; it must end where the digits stop or at a
	 * separator. */
	for (size_t k = n > 19 ? 19 : n; k >= 12; k--) {
		size_t e = pos[k - 1];
		if (e < len && is_alnum(b[e]))
			continue;
		if (e < len && k < n && !(b[e] == ' ' || b[e] == '-'))
			continue;
		if (!card_prefix_ok(d, k) || !privacy_validate_luhn(b + from, e - from))
			continue;
		return set(sp, from, e);
	}
	return false;
}

static bool
ext_iban(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t ends[40], ne = 0, i = from, n = 0;

	(void)to;
	if (from > 0 && is_alnum(b[from - 1]))
		return false;
	while (i < len && n < 34) {
		if (is_digit(b[i]) || is_upper(b[i])) {
			n++;
			i++;
			if (i >= len || !(is_digit(b[i]) || is_upper(b[i])))
				ends[ne++] = i;
			continue;
		}
		if ((b[i] == ' ' || b[i] == '-') && i + 1 < len &&
		    (is_digit(b[i + 1]) || is_upper(b[i + 1])) && ne < 39) {
			i++;
			continue;
		}
		break;
	}
	if (i < len && n < 34 && is_alnum(b[i]))
		ends[ne++] = i;
	while (ne-- > 0) {
		size_t e = ends[ne];
		if (e < len && (is_lower(b[e]) || ((is_digit(b[e]) || is_upper(b[e])) && e == i && n < 34)))
			continue;
		if (privacy_validate_iban(b + from, e - from))
			return set(sp, from, e);
	}
	return false;
}

/* True when the word before `at` (skipping blanks, ':' and '=') is a
 * version marker: "version 1.2.3.4", "v=10.0.0.1". */
static bool
after_version_word(const uint8_t *b, size_t at)
{
	size_t e = at, s;

	while (e > 0 && at - e < 4 && (b[e - 1] == ' ' || b[e - 1] == ':' || b[e - 1] == '='))
		e--;
	s = e;
	while (s > 0 && e - s < 8 && is_alpha(b[s - 1]))
		s--;
	return (e - s == 1 && lower(b[s]) == 'v') || (e - s == 3 && has_prefix_ci(b, e, s, "ver")) ||
	    (e - s == 7 && has_prefix_ci(b, e, s, "version"));
}

static bool
ext_ipv4(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)len;
	if (after_version_word(b, from))
		return false;
	if (from > 0 && (b[from - 1] == '.' || is_alnum(b[from - 1])) &&
	    !(from >= 2 && b[from - 1] == ':'))
		if (b[from - 1] == '.' && from >= 2 && is_digit(b[from - 2]))
			return false;
	return set(sp, from, to);
}

static bool
is_v6char(uint8_t c)
{
	return is_hex(c) || c == ':' || c == '.';
}

/* Parses an IPv6 address (with an optional dotted IPv4 tail). */
static bool
ipv6_parse(const uint8_t *s, size_t n)
{
	size_t groups = 0, i = 0;
	bool dcolon = false;

	if (n < 2)
		return false;
	if (s[0] == ':') {
		if (s[1] != ':')
			return false;
		dcolon = true;
		i = 2;
		if (i == n)
			return false;
	}
	while (i < n) {
		size_t k = i, hex = 0;
		while (k < n && is_hex(s[k]) && hex < 5) {
			k++;
			hex++;
		}
		if (k < n && s[k] == '.') {	/* IPv4 tail */
			int parts = 0;
			size_t j = i;
			while (j < n) {
				int v = 0, nd = 0;
				while (j < n && is_digit(s[j]) && nd < 4) {
					v = v * 10 + (s[j] - '0');
					j++;
					nd++;
				}
				if (nd == 0 || nd > 3 || v > 255)
					return false;
				parts++;
				if (j < n && s[j] == '.')
					j++;
				else
					break;
			}
			if (parts != 4 || j != n)
				return false;
			groups += 2;
			i = n;
			break;
		}
		if (hex == 0 || hex > 4)
			return false;
		groups++;
		i = k;
		if (i == n)
			break;
		if (s[i] != ':')
			return false;
		i++;
		if (i < n && s[i] == ':') {
			if (dcolon)
				return false;
			dcolon = true;
			i++;
			if (i == n)
				break;
		} else if (i == n) {
			return false;
		}
	}
	return dcolon ? groups <= 7 && groups >= 1 : groups == 8;
}

static bool
ext_ipv6(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t s = from, e = to, z;

	while (s > 0 && from - s < 48 && is_v6char(b[s - 1]))
		s--;
	while (e < len && e - s < 48 && is_v6char(b[e]))
		e++;
	/* A letter or '_' glued to either end: an identifier (std::cout). */
	if ((s > 0 && (is_word(b[s - 1]))) || (e < len && (is_alpha(b[e]) || b[e] == '_')))
		return false;
	while (e > s && b[e - 1] == '.')
		e--;
	if (!ipv6_parse(b + s, e - s))
		return false;
	z = e;
	if (z < len && b[z] == '%') {	/* zone index: fe80::1%eth0 */
		size_t k = extend(b, len, z + 1, is_word, 16);
		if (k > z + 1)
			e = k;
	}
	return set(sp, s, e);
}

static bool
ext_mac(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	bool zero = true, ff = true;

	(void)len;
	for (size_t i = from; i < to; i++) {
		if (!is_hex(b[i]))
			continue;
		zero &= b[i] == '0';
		ff &= b[i] == 'f' || b[i] == 'F';
	}
	if (zero || ff)
		return false;
	return set(sp, from, to);
}

/* After a context word, the first token of 5..20 [A-Z0-9-] bytes with at
 * least `mindigits` digits within `skip` bytes on the same line. */
static bool
id_after(const uint8_t *b, size_t len, size_t to, size_t skip, size_t minlen, size_t maxlen,
    size_t mindigits, struct privacy_span *sp)
{
	size_t i = to;

	while (i < len && i - to < skip && b[i] != '\n') {
		size_t e = i, dg = 0;
		if (!is_alnum(b[i]) || (i > 0 && is_alnum(b[i - 1]))) {
			i++;
			continue;
		}
		while (e < len && e - i <= maxlen && (is_digit(b[e]) || is_upper(b[e]) ||
		    (b[e] == '-' && e + 1 < len && is_alnum(b[e + 1])))) {
			dg += is_digit(b[e]);
			e++;
		}
		if (e - i >= minlen && e - i <= maxlen && dg >= mindigits &&
		    (e >= len || !is_alnum(b[e])))
			return set(sp, i, e);
		i = e > i ? e : i + 1;
	}
	return false;
}

static bool
ext_passport(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)from;
	return id_after(b, len, to, 32, 6, 9, 5, sp);
}

static bool
ext_licence(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)from;
	return id_after(b, len, to, 32, 5, 20, 4, sp);
}

static bool
ext_bank(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t s, e, n;

	(void)from;
	if (!digits_after(b, len, to, 24, "- ", &s, &e, &n) || n < 8 || n > 17)
		return false;
	return set(sp, s, e);
}

static bool
ext_zip(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t s, e, n;

	(void)from;
	if (digits_after(b, len, to, 16, "-", &s, &e, &n) && (n == 5 || n == 9) &&
	    (n == 5 ? e - s == 5 : e - s == 10))
		return set(sp, s, e);
	/* UK / Canadian postcodes: SW1A 1AA, K1A 0B1. */
	for (size_t i = to; i < len && i - to < 16 && b[i] != '\n'; i++) {
		size_t a = i, d1 = 0, d2 = 0, k;
		if (!is_upper(b[i]) || (i > 0 && is_alnum(b[i - 1])))
			continue;
		for (k = a; k < len && k - a < 5 && (is_upper(b[k]) || is_digit(b[k])); k++)
			d1 += is_digit(b[k]);
		if (k - a < 2 || k - a > 4 || d1 == 0 || k + 4 > len || b[k] != ' ')
			continue;
		for (size_t j = k + 1; j < k + 4; j++) {
			if (!is_upper(b[j]) && !is_digit(b[j]))
				return false;
			d2 += is_digit(b[j]);
		}
		if (d2 == 0 || (k + 4 < len && is_alnum(b[k + 4])))
			return false;
		return set(sp, a, k + 4);
	}
	return false;
}

static bool
ext_zip_state(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)len;
	(void)b;
	return set(sp, from + 5, to);
}

static bool
date_ok(int y, int m, int d)
{
	return y >= 1900 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static int
num_at(const uint8_t *b, size_t len, size_t *i, int maxd)
{
	int v = 0, n = 0;

	while (*i < len && is_digit(b[*i]) && n < maxd) {
		v = v * 10 + (b[*i] - '0');
		(*i)++;
		n++;
	}
	return n == 0 ? -1 : v;
}

static int
month_name(const uint8_t *b, size_t len, size_t *i)
{
	static const char *const m[] = {
		"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
	};

	for (int k = 0; k < 12; k++) {
		if (has_prefix_ci(b, len, *i, m[k])) {
			*i += 3;
			while (*i < len && is_alpha(b[*i]))
				(*i)++;
			if (*i < len && b[*i] == '.')
				(*i)++;
			return k + 1;
		}
	}
	return -1;
}

/* A date at b[i]: 1990-05-17, 05/17/1990, 17.05.1990, May 17, 1990, 17 May 1990. */
static bool
date_at(const uint8_t *b, size_t len, size_t i, size_t *end)
{
	size_t k = i;
	int a, c, d;

	if (is_alpha(b[i])) {
		int m = month_name(b, len, &k);
		if (m < 0 || k >= len || b[k] != ' ')
			return false;
		k++;
		d = num_at(b, len, &k, 2);
		if (k < len && b[k] == ',')
			k++;
		while (k < len && b[k] == ' ')
			k++;
		a = num_at(b, len, &k, 4);
		if (!date_ok(a, m, d))
			return false;
		*end = k;
		return true;
	}
	a = num_at(b, len, &k, 4);
	if (a < 0 || k >= len)
		return false;
	if (b[k] == ' ' && k - i <= 2) {	/* 17 May 1990 */
		size_t j = k + 1;
		int m = month_name(b, len, &j);
		if (m < 0 || j >= len || b[j] != ' ')
			return false;
		j++;
		c = num_at(b, len, &j, 4);
		if (!date_ok(c, m, a))
			return false;
		*end = j;
		return true;
	}
	if (b[k] != '-' && b[k] != '/' && b[k] != '.')
		return false;
	k++;
	c = num_at(b, len, &k, 2);
	if (c < 0 || k >= len || (b[k] != '-' && b[k] != '/' && b[k] != '.'))
		return false;
	k++;
	d = num_at(b, len, &k, 4);
	if (d < 0 || (k < len && is_digit(b[k])))
		return false;
	if (a >= 1000 ? !date_ok(a, c, d) : !(date_ok(d < 100 ? d + 1900 : d, a, c) ||
	    date_ok(d < 100 ? d + 1900 : d, c, a)))
		return false;
	*end = k;
	return true;
}

static bool
ext_dob(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)from;
	for (size_t i = to; i < len && i - to < 24 && b[i] != '\n'; i++) {
		size_t e;
		if (i > 0 && is_alnum(b[i - 1]))
			continue;
		if (is_alnum(b[i]) && date_at(b, len, i, &e))
			return set(sp, i, e);
	}
	return false;
}

static bool
ext_address(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)len;
	if (from > 0 && (is_alnum(b[from - 1]) || b[from - 1] == '.' || b[from - 1] == '-'))
		return false;
	return set(sp, from, to);
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
	{ "email", PII,
"@[A-Za-z0-9]", ext_email },
	{ "phone", PII, "(\\+1[ .-]?)?(\\(\\d{3}\\)[ .-]?|\\b\\d{3}[ .-])\\d{3}[ .-]\\d{4}\\b", ext_phone_us },
	{ "phone", PII, "\\+[1-9]\\d{0,2}[ .-]?(\\(\\d{1,4}\\)[ .-]?)?\\d{1,5}([ .-]?\\d{1,5}){1,5}", ext_phone_intl },
	{ "phone", PII, "(?i)\\b(phone|tel|telephone|mobile|cell|fax|number|whatsapp)\\b", ext_phone_ctx },
	{ "us_ssn", PII, "\\b\\d{3}-\\d{2}-\\d{4}\\b|\\b\\d{3}\\.\\d{2}\\.\\d{4}\\b|\\b\\d{3} \\d{2} \\d{4}\\b", ext_ssn },
	{ "us_ssn", PII, "(?i)\\b(ssn|social security( number)?)\\b", ext_ssn_ctx },
	{ "credit_card", PII, "\\b\\d{4}[ -]?\\d{2}", ext_card },
	{ "iban", PII, "\\b[A-Z]{2}\\d{2}[ -]?[A-Z0-9]{4}", ext_iban },
	{ "ipv4", PII,
	    "\\b(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}\\b", ext_ipv4 },
	{ "ipv6", PII, "::|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:", ext_ipv6 },
	{ "mac_address", PII,
	    "\\b[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}\\b|\\b[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){5}\\b"
	    "|\\b[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}\\b", ext_mac },
	{ "passport", PII, "(?i)\\b(passport|travel document)", ext_passport },
	{ "drivers_licence", PII,
	    "(?i)\\b(driver'?s?[ -]?licen[cs]e|driving licen[cs]e|DL (number|no\\.?|#))", ext_licence },
	{ "bank_account", PII,
	    "(?i)\\b(bank account|account (number|no\\.?|#)|acct\\.?( no\\.?| #| number)?|routing number)",
	    ext_bank },
	{ "date_of_birth", PII,
	    "(?i)\\b(date of birth|dob|d\\.o\\.b\\.?|birth ?date|birthday|born( on)?)\\b", ext_dob },
	{ "street_address", PII,
	    "\\b\\d{1,6} ([A-Z][a-z]+ ){1,4}(Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr"
	    "|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq)\\b\\.?", ext_address },
	{ "zip_code", PII, "(?i)\\b(zip( ?code)?|postal code|post ?code)\\b", ext_zip },
	{ "zip_code", PII,
	    ", (A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[DLNA]|K[SY]|LA|M[EDAINSOT]|N[EVHJMYCD]|O[HKR]|PA|RI"
	    "|S[CD]|T[NX]|UT|V[TA]|W[AVIY]) \\d{5}(-\\d{4})?\\b", ext_zip_state },
};

const struct privacy_rule *
privacy_rules_table(size_t *n)
{
	*n = sizeof(rules) / sizeof(rules[0]);
	return rules;
}
