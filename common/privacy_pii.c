/*
 * privacy_pii — extent functions of the privacy filter's PII rules (email,
 * phone, SSN, card, IBAN, IP, MAC, passport, driver's licence, bank account,
 * date of birth, street address, ZIP / postcode).  Each one takes a
 * Hyperscan candidate, validates it (check digits, ranges, context words)
 * and narrows it to the span to hide.  Runs wherever the filter runs; input
 * is untrusted and possibly binary: reads stay inside buf[0, len) and within
 * a bounded distance of the candidate.
 */
#include <string.h>

#include "common/privacy_pii.h"
#include "common/privacy_text.h"

static bool
is_local(uint8_t c)
{
	return privacy_text_is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

static bool
is_domain(uint8_t c)
{
	return privacy_text_is_alnum(c) || c == '.' || c == '-';
}

/* Anchor "x@y": local part to the left, domain with a TLD to the right. */
bool
privacy_pii_email(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t at = from, s = at, e, lastdot = 0;

	(void)to;
	while (s > 0 && at - s < 64 && is_local(b[s - 1]))
		s--;
	while (s < at && b[s] == '.')
		s++;
	if (s == at || (s > 0 && is_local(b[s - 1])))
		return false;
	e = privacy_text_extend(b, len, at + 1, is_domain, 253);
	while (e > at + 1 && (b[e - 1] == '.' || b[e - 1] == '-'))
		e--;
	for (size_t i = at + 1; i < e; i++)
		if (b[i] == '.')
			lastdot = i;
	if (lastdot == 0 || e - lastdot - 1 < 2 || !privacy_text_is_alpha(b[lastdot + 1]))
		return false;
	return privacy_rules_set(sp, s, e);
}

bool
privacy_pii_phone_us(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t d = 0, first = 0;

	(void)len;
	for (size_t i = from; i < to; i++) {
		if (!privacy_text_is_digit(b[i]))
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
	if (from > 0 && (privacy_text_is_alnum(b[from - 1]) || b[from - 1] == '-' || b[from - 1] == '.'))
		return false;
	return privacy_rules_set(sp, from, to);
}

bool
privacy_pii_phone_intl(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t d = 0;

	if (to < len && privacy_text_is_alnum(b[to]))
		return false;
	while (to > from && !privacy_text_is_digit(b[to - 1]))
		to--;
	for (size_t i = from; i < to; i++)
		d += privacy_text_is_digit(b[i]);
	if (d < 8 || d > 15)
		return false;
	return privacy_rules_set(sp, from, to);
}

/* After a context word: skip up to `skip` non-digit bytes on the same line,
 * then take a run of digits and the separators in `seps`. */
static bool
digits_after(const uint8_t *b, size_t len, size_t to, size_t skip, const char *seps,
    size_t *s, size_t *e, size_t *ndigits)
{
	size_t i = to, n = 0;

	while (i < len && i - to < skip && !privacy_text_is_digit(b[i]) && b[i] != '\n')
		i++;
	if (i >= len || !privacy_text_is_digit(b[i]) || (i > 0 && privacy_text_is_alpha(b[i - 1])))
		return false;
	*s = i;
	while (i < len && i - *s < 40) {
		if (privacy_text_is_digit(b[i]))
			n++;
		else if (!(b[i] != 0 && strchr(seps, b[i]) != NULL && i + 1 < len &&
		    privacy_text_is_digit(b[i + 1])))
			break;
		i++;
	}
	if (i < len && privacy_text_is_alpha(b[i]))
		return false;
	*e = i;
	*ndigits = n;
	return true;
}

bool
privacy_pii_phone_ctx(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	static const char *const not_phone[] = {
		"card", "account", "passport", "licen", "routing", "serial", "ssn",
		"social", "order", "invoice", "tracking", "version", "iban",
	};
	size_t s, e, n, w0 = from > 24 ? from - 24 : 0;

	for (size_t i = 0; i < sizeof(not_phone) / sizeof(not_phone[0]); i++)
		if (privacy_text_contains_ci(b + w0, from - w0, not_phone[i]))
			return false;
	if (!digits_after(b, len, to, 16, " -.()", &s, &e, &n) || n < 7 || n > 12)
		return false;
	if (s > 0 && b[s - 1] == '+')
		s--;
	return privacy_rules_set(sp, s, e);
}

bool
privacy_pii_ssn(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)len;
	if (!privacy_validate_ssn(b + from, to - from))
		return false;
	return privacy_rules_set(sp, from, to);
}

bool
privacy_pii_ssn_ctx(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t s, e, n;

	(void)from;
	if (!digits_after(b, len, to, 20, "- .", &s, &e, &n) || n != 9 ||
	    !privacy_validate_ssn(b + s, e - s))
		return false;
	sp->type = "us_ssn";
	return privacy_rules_set(sp, s, e);
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

bool
privacy_pii_card(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	char d[20];
	size_t pos[20], n = 0, i = from;
	uint8_t sep = 0;

	(void)to;
	if (from > 0 && (privacy_text_is_alnum(b[from - 1]) || b[from - 1] == '+' || b[from - 1] == '-' ||
	    b[from - 1] == '.'))
		return false;
	while (i < len && n < 20) {
		if (privacy_text_is_digit(b[i])) {
			d[n] = (char)b[i];
			pos[n++] = i + 1;
			i++;
			continue;
		}
		if ((b[i] == ' ' || b[i] == '-') && i + 1 < len && privacy_text_is_digit(b[i + 1]) &&
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
		if (e < len && privacy_text_is_alnum(b[e]))
			continue;
		if (e < len && k < n && !(b[e] == ' ' || b[e] == '-'))
			continue;
		if (!card_prefix_ok(d, k) || !privacy_validate_luhn(b + from, e - from))
			continue;
		return privacy_rules_set(sp, from, e);
	}
	return false;
}

bool
privacy_pii_iban(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t ends[40], ne = 0, i = from, n = 0;

	(void)to;
	if (from > 0 && privacy_text_is_alnum(b[from - 1]))
		return false;
	while (i < len && n < 34) {
		if (privacy_text_is_digit(b[i]) || privacy_text_is_upper(b[i])) {
			n++;
			i++;
			if (i >= len || !(privacy_text_is_digit(b[i]) || privacy_text_is_upper(b[i])))
				ends[ne++] = i;
			continue;
		}
		if ((b[i] == ' ' || b[i] == '-') && i + 1 < len &&
		    (privacy_text_is_digit(b[i + 1]) || privacy_text_is_upper(b[i + 1])) && ne < 39) {
			i++;
			continue;
		}
		break;
	}
	if (i < len && n < 34 && privacy_text_is_alnum(b[i]))
		ends[ne++] = i;
	while (ne-- > 0) {
		size_t e = ends[ne];
		if (e < len && (privacy_text_is_lower(b[e]) || ((privacy_text_is_digit(b[e]) || privacy_text_is_upper(b[e])) && e == i && n < 34)))
			continue;
		if (privacy_validate_iban(b + from, e - from))
			return privacy_rules_set(sp, from, e);
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
	while (s > 0 && e - s < 8 && privacy_text_is_alpha(b[s - 1]))
		s--;
	return (e - s == 1 && privacy_text_lower(b[s]) == 'v') || (e - s == 3 && privacy_text_prefix_ci(b, e, s, "ver")) ||
	    (e - s == 7 && privacy_text_prefix_ci(b, e, s, "version"));
}

bool
privacy_pii_ipv4(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)len;
	if (after_version_word(b, from))
		return false;
	if (from > 0 && (b[from - 1] == '.' || privacy_text_is_alnum(b[from - 1])) &&
	    !(from >= 2 && b[from - 1] == ':'))
		if (b[from - 1] == '.' && from >= 2 && privacy_text_is_digit(b[from - 2]))
			return false;
	return privacy_rules_set(sp, from, to);
}

static bool
is_v6char(uint8_t c)
{
	return privacy_text_is_hex(c) || c == ':' || c == '.';
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
		while (k < n && privacy_text_is_hex(s[k]) && hex < 5) {
			k++;
			hex++;
		}
		if (k < n && s[k] == '.') {	/* IPv4 tail */
			int parts = 0;
			size_t j = i;
			while (j < n) {
				int v = 0, nd = 0;
				while (j < n && privacy_text_is_digit(s[j]) && nd < 4) {
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

bool
privacy_pii_ipv6(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t s = from, e = to, z;

	while (s > 0 && from - s < 48 && is_v6char(b[s - 1]))
		s--;
	while (e < len && e - s < 48 && is_v6char(b[e]))
		e++;
	/* A letter or '_' glued to either end: an identifier (std::cout). */
	if ((s > 0 && (privacy_text_is_word(b[s - 1]))) || (e < len && (privacy_text_is_alpha(b[e]) || b[e] == '_')))
		return false;
	while (e > s && b[e - 1] == '.')
		e--;
	if (!ipv6_parse(b + s, e - s))
		return false;
	z = e;
	if (z < len && b[z] == '%') {	/* zone index: fe80::1%eth0 */
		size_t k = privacy_text_extend(b, len, z + 1, privacy_text_is_word, 16);
		if (k > z + 1)
			e = k;
	}
	return privacy_rules_set(sp, s, e);
}

bool
privacy_pii_mac(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	bool zero = true, ff = true;

	(void)len;
	for (size_t i = from; i < to; i++) {
		if (!privacy_text_is_hex(b[i]))
			continue;
		zero &= b[i] == '0';
		ff &= b[i] == 'f' || b[i] == 'F';
	}
	if (zero || ff)
		return false;
	return privacy_rules_set(sp, from, to);
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
		if (!privacy_text_is_alnum(b[i]) || (i > 0 && privacy_text_is_alnum(b[i - 1]))) {
			i++;
			continue;
		}
		while (e < len && e - i <= maxlen && (privacy_text_is_digit(b[e]) || privacy_text_is_upper(b[e]) ||
		    (b[e] == '-' && e + 1 < len && privacy_text_is_alnum(b[e + 1])))) {
			dg += privacy_text_is_digit(b[e]);
			e++;
		}
		if (e - i >= minlen && e - i <= maxlen && dg >= mindigits &&
		    (e >= len || !privacy_text_is_alnum(b[e])))
			return privacy_rules_set(sp, i, e);
		i = e > i ? e : i + 1;
	}
	return false;
}

bool
privacy_pii_passport(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)from;
	return id_after(b, len, to, 32, 6, 9, 5, sp);
}

bool
privacy_pii_licence(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)from;
	return id_after(b, len, to, 32, 5, 20, 4, sp);
}

bool
privacy_pii_bank(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t s, e, n;

	(void)from;
	if (!digits_after(b, len, to, 24, "- ", &s, &e, &n) || n < 8 || n > 17)
		return false;
	return privacy_rules_set(sp, s, e);
}

bool
privacy_pii_zip(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	size_t s, e, n;

	(void)from;
	if (digits_after(b, len, to, 16, "-", &s, &e, &n) && (n == 5 || n == 9) &&
	    (n == 5 ? e - s == 5 : e - s == 10))
		return privacy_rules_set(sp, s, e);
	/* UK / Canadian postcodes: SW1A 1AA, K1A 0B1. */
	for (size_t i = to; i < len && i - to < 16 && b[i] != '\n'; i++) {
		size_t a = i, d1 = 0, d2 = 0, k;
		if (!privacy_text_is_upper(b[i]) || (i > 0 && privacy_text_is_alnum(b[i - 1])))
			continue;
		for (k = a; k < len && k - a < 5 && (privacy_text_is_upper(b[k]) || privacy_text_is_digit(b[k])); k++)
			d1 += privacy_text_is_digit(b[k]);
		if (k - a < 2 || k - a > 4 || d1 == 0 || k + 4 > len || b[k] != ' ')
			continue;
		for (size_t j = k + 1; j < k + 4; j++) {
			if (!privacy_text_is_upper(b[j]) && !privacy_text_is_digit(b[j]))
				return false;
			d2 += privacy_text_is_digit(b[j]);
		}
		if (d2 == 0 || (k + 4 < len && privacy_text_is_alnum(b[k + 4])))
			return false;
		return privacy_rules_set(sp, a, k + 4);
	}
	return false;
}

bool
privacy_pii_zip_state(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)len;
	(void)b;
	return privacy_rules_set(sp, from + 5, to);
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

	while (*i < len && privacy_text_is_digit(b[*i]) && n < maxd) {
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
		if (privacy_text_prefix_ci(b, len, *i, m[k])) {
			*i += 3;
			while (*i < len && privacy_text_is_alpha(b[*i]))
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

	if (privacy_text_is_alpha(b[i])) {
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
	if (d < 0 || (k < len && privacy_text_is_digit(b[k])))
		return false;
	if (a >= 1000 ? !date_ok(a, c, d) : !(date_ok(d < 100 ? d + 1900 : d, a, c) ||
	    date_ok(d < 100 ? d + 1900 : d, c, a)))
		return false;
	*end = k;
	return true;
}

bool
privacy_pii_dob(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)from;
	for (size_t i = to; i < len && i - to < 24 && b[i] != '\n'; i++) {
		size_t e;
		if (i > 0 && privacy_text_is_alnum(b[i - 1]))
			continue;
		if (privacy_text_is_alnum(b[i]) && date_at(b, len, i, &e))
			return privacy_rules_set(sp, i, e);
	}
	return false;
}

bool
privacy_pii_address(const uint8_t *b, size_t len, size_t from, size_t to, struct privacy_span *sp)
{
	(void)len;
	if (from > 0 && (privacy_text_is_alnum(b[from - 1]) || b[from - 1] == '.' || b[from - 1] == '-'))
		return false;
	return privacy_rules_set(sp, from, to);
}
