/*
 * privacy_validate — validators and exclusions for the privacy filter.
 *
 * Runs in every process that filters (broker pre-scan, worker output filter,
 * CLI scan).  Input is untrusted bytes from anywhere: every function reads
 * only inside [s, s + len), allocates nothing and never fails loudly; a
 * malformed candidate is simply "not valid".
 */
#include <math.h>
#include <string.h>

#include "common/privacy_text.h"
#include "common/privacy_validate.h"

#define PLACEHOLDER_SCAN 256	/* bytes of a value searched for placeholder words */

bool
privacy_validate_luhn(const uint8_t *s, size_t len)
{
	int sum = 0, ndigits = 0;
	bool dbl = false;

	for (size_t i = len; i-- > 0;) {
		int d;
		if (!privacy_text_is_digit(s[i]))
			continue;
		d = s[i] - '0';
		if (dbl) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
		dbl = !dbl;
		ndigits++;
	}
	return ndigits > 0 && sum % 10 == 0;
}

bool
privacy_validate_iban(const uint8_t *s, size_t len)
{
	uint8_t v[40];
	size_t n = 0;
	unsigned rem = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ' || s[i] == '-')
			continue;
		if (n == sizeof(v))
			return false;
		if (!privacy_text_is_digit(s[i]) && !privacy_text_is_upper(s[i]))
			return false;
		v[n++] = s[i];
	}
	if (n < 15 || n > 34 || !privacy_text_is_upper(v[0]) || !privacy_text_is_upper(v[1]) ||
	    !privacy_text_is_digit(v[2]) || !privacy_text_is_digit(v[3]))
		return false;
	/* Move the first four characters to the end, letters become 10..35. */
	for (size_t k = 0; k < n; k++) {
		uint8_t c = v[(k + 4) % n];
		if (privacy_text_is_digit(c))
			rem = (rem * 10 + (unsigned)(c - '0')) % 97;
		else
			rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
	}
	return rem == 1;
}

bool
privacy_validate_ssn(const uint8_t *s, size_t len)
{
	char d[9];
	size_t n = 0;
	int area, group, serial;

	for (size_t i = 0; i < len; i++) {
		if (!privacy_text_is_digit(s[i]))
			continue;
		if (n == sizeof(d))
			return false;
		d[n++] = (char)s[i];
	}
	if (n != 9)
		return false;
	area = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
	group = (d[3] - '0') * 10 + (d[4] - '0');
	serial = (d[5] - '0') * 1000 + (d[6] - '0') * 100 + (d[7] - '0') * 10 + (d[8] - '0');
	if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0)
		return false;
	/* All one digit (111-11-1111) and the ascending sample 123-45-6789. */
	if (memcmp(d, "123456789", 9) == 0)
		return false;
	for (size_t i = 1; i < 9; i++)
		if (d[i] != d[0])
			return true;
	return false;
}

static int
b64url_value(uint8_t c)
{
	if (privacy_text_is_upper(c))
		return c - 'A';
	if (privacy_text_is_lower(c))
		return c - 'a' + 26;
	if (privacy_text_is_digit(c))
		return c - '0' + 52;
	if (c == '-' || c == '+')
		return 62;
	if (c == '_' || c == '/')
		return 63;
	return -1;
}

/* Decodes up to `outcap` bytes of base64url; returns the decoded length or
 * -1 on a bad character. */
static long
b64url_decode(const uint8_t *s, size_t len, uint8_t *out, size_t outcap)
{
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int v;
		if (s[i] == '=')
			break;
		v = b64url_value(s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == outcap)
				return (long)n;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (long)n;
}

bool
privacy_validate_jwt(const uint8_t *s, size_t len)
{
	uint8_t hdr[512];
	const uint8_t *dot = memchr(s, '.', len);
	size_t hlen;
	long n;

	if (dot == NULL)
		return false;
	hlen = (size_t)(dot - s);
	if (hlen < 10 || dot + 1 >= s + len)
		return false;
	/* A payload segment of at least a few characters must follow. */
	{
		const uint8_t *p = dot + 1, *end = s + len;
		size_t plen = 0;
		while (p < end && *p != '.') {
			p++;
			plen++;
		}
		if (plen < 4)
			return false;
	}
	n = b64url_decode(s, hlen, hdr, sizeof(hdr));
	if (n < 8 || hdr[0] != '{')
		return false;
	for (long i = 0; i + 5 <= n; i++)
		if (memcmp(hdr + i, "\"alg\"", 5) == 0)
			return true;
	return false;
}

double
privacy_validate_entropy(const uint8_t *s, size_t len)
{
	/* H = log2(n) - sum(c * log2(c)) / n over the byte counts c: one log2
	 * per distinct byte, and only the bytes seen are visited. */
	uint32_t count[256];
	uint8_t seen[256];
	bool present[256] = { false };
	size_t distinct = 0;
	double sum = 0;

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = s[i];
		if (!present[c]) {
			present[c] = true;
			seen[distinct++] = c;
			count[c] = 0;
		}
		count[c]++;
	}
	for (size_t k = 0; k < distinct; k++) {
		double c = (double)count[seen[k]];
		sum += c * log2(c);
	}
	return log2((double)len) - sum / (double)len;
}

int
privacy_validate_classes(const uint8_t *s, size_t len)
{
	bool lo = false, up = false, dg = false, ot = false;

	for (size_t i = 0; i < len; i++) {
		if (privacy_text_is_lower(s[i]))
			lo = true;
		else if (privacy_text_is_upper(s[i]))
			up = true;
		else if (privacy_text_is_digit(s[i]))
			dg = true;
		else
			ot = true;
	}
	return lo + up + dg + ot;
}

bool
privacy_validate_is_placeholder(const uint8_t *s, size_t len)
{
#define WORD(w) { w, sizeof(w) - 1 }
	/* Sorted by first byte; first_word[c] is 1 + the index of the first
	 * word starting with c (0: none). */
	static const struct {
		const char *text;
		size_t len;
	} words[] = {
		WORD("****"), WORD("akiaiosfodnn7example"), WORD("changeme"), WORD("change_me"),
		WORD("dummy"), WORD("example_key"), WORD("insert_"), WORD("placeholder"),
		WORD("redacted"), WORD("replace_me"),
		WORD("wjalrxutnfemi/k7mdeng/bpxrficyexamplekey"), WORD("xxxxx"), WORD("your_"),
		WORD("your-"), WORD("yourapi"),
	};
#undef WORD
	static const uint8_t first_word[256] = {
		['*'] = 1, ['a'] = 2, ['c'] = 3, ['d'] = 5, ['e'] = 6, ['i'] = 7, ['p'] = 8,
		['r'] = 9, ['w'] = 11, ['x'] = 12, ['y'] = 13,
	};
	const size_t nwords = sizeof(words) / sizeof(words[0]);
	size_t n = len < PLACEHOLDER_SCAN ? len : PLACEHOLDER_SCAN;
	bool seen[256] = { false };
	int distinct = 0;

	if (len == 0)
		return true;
	/* The words are looked for, ignoring case, in the start of the value;
	 * this runs for most candidates of the filter, so one table look-up
	 * decides whether a byte can start a word at all. */
	for (size_t i = 0; i < n; i++) {
		uint8_t c = privacy_text_lower(s[i]);
		if (first_word[c] == 0)
			continue;
		for (size_t k = first_word[c] - 1u; k < nwords && (uint8_t)words[k].text[0] == c; k++) {
			size_t j = 1, wl = words[k].len;
			if (wl > n - i)
				continue;
			while (j < wl && privacy_text_lower(s[i + j]) == (uint8_t)words[k].text[j])
				j++;
			if (j == wl)
				return true;
		}
	}
	/* Variables and templates: $VAR, ${VAR}, %(name)s, {{ v }}, <token>. */
	if (s[0] == '$' || s[0] == '%' || (len >= 2 && s[0] == '{' && s[1] == '{') ||
	    (s[0] == '<' && s[len - 1] == '>') || (s[0] == '[' && s[len - 1] == ']'))
		return true;
	for (size_t i = 0; i < len && distinct < 3; i++) {
		if (!seen[s[i]]) {
			seen[s[i]] = true;
			distinct++;
		}
	}
	return distinct < 3;
}

bool
privacy_validate_is_uuid(const uint8_t *s, size_t len)
{
	bool lo = false, up = false;

	if (len != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!privacy_text_is_hex(s[i])) {
			return false;
		} else if (privacy_text_is_lower(s[i])) {
			lo = true;
		} else if (privacy_text_is_upper(s[i])) {
			up = true;
		}
	}
	/* Generated UUIDs are all lower or all upper case. */
	return !(lo && up);
}

bool
privacy_validate_is_git_sha(const uint8_t *s, size_t len)
{
	size_t i;

	if (len != 40 && len != 64)
		return false;
	for (i = 0; i < len && privacy_text_is_hex(s[i]) && !privacy_text_is_upper(s[i]); i++)
		;
	return i == len;
}

bool
privacy_validate_is_benign_id(const uint8_t *s, size_t len)
{
	size_t i, digits = 0, dots = 0;

	/* Version strings: v1.2.3, 1.2.3-rc1, rc0.13.0_20230412_0712-SNAPSHOT. */
	i = 0;
	while (i < len && (privacy_text_is_lower(s[i]) || privacy_text_is_upper(s[i])) && i < 3)
		i++;
	if (i < len && privacy_text_is_digit(s[i])) {
		size_t j;
		for (j = i; j < len && (privacy_text_is_digit(s[j]) || s[j] == '.'); j++) {
			digits += privacy_text_is_digit(s[j]);
			dots += s[j] == '.';
		}
		if (dots >= 2 && digits >= 3)
			return true;
	}
	/* ISO timestamps: 2024-01-02T03:04:05... */
	if (len >= 19 && privacy_text_is_digit(s[0]) && privacy_text_is_digit(s[3]) && s[4] == '-' && s[7] == '-' &&
	    (s[10] == 'T' || s[10] == ' ') && s[13] == ':')
		return true;
	return false;
}
