/*
 * privacy_text — byte classes and small bounded scans shared by the privacy
 * filter's rule files (header only: these run once per input byte and must
 * inline).  Every function reads only inside the bounds it is given.
 */
#ifndef SLUICE_PRIVACY_TEXT_H
#define SLUICE_PRIVACY_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline bool
privacy_text_is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static inline bool
privacy_text_is_alpha(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool
privacy_text_is_alnum(uint8_t c)
{
	return privacy_text_is_digit(c) || privacy_text_is_alpha(c);
}

static inline bool
privacy_text_is_upper(uint8_t c)
{
	return c >= 'A' && c <= 'Z';
}

static inline bool
privacy_text_is_lower(uint8_t c)
{
	return c >= 'a' && c <= 'z';
}

static inline bool
privacy_text_is_hex(uint8_t c)
{
	return privacy_text_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline bool
privacy_text_is_word(uint8_t c)
{
	return privacy_text_is_alnum(c) || c == '_';
}

static inline bool
privacy_text_is_tok(uint8_t c)
{
	return privacy_text_is_alnum(c) || c == '_' || c == '-';
}

static inline bool
privacy_text_is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static inline uint8_t
privacy_text_lower(uint8_t c)
{
	return privacy_text_is_upper(c) ? (uint8_t)(c + 32) : c;
}

/* Extends from `i` while `pred` holds, at most `max` bytes. */
static inline size_t
privacy_text_extend(const uint8_t *b, size_t len, size_t i, bool (*pred)(uint8_t), size_t max)
{
	size_t lim = len - i > max ? i + max : len;

	while (i < lim && pred(b[i]))
		i++;
	return i;
}

static inline bool
privacy_text_prefix_ci(const uint8_t *b, size_t len, size_t i, const char *p)
{
	size_t n = strlen(p);

	if (len - i < n || i > len)
		return false;
	for (size_t k = 0; k < n; k++)
		if (privacy_text_lower(b[i + k]) != (uint8_t)p[k])
			return false;
	return true;
}

static inline bool
privacy_text_contains_ci(const uint8_t *s, size_t len, const char *needle)
{
	size_t nl = strlen(needle);

	for (size_t i = 0; i + nl <= len; i++)
		if (privacy_text_prefix_ci(s, len, i, needle))
			return true;
	return false;
}

static inline bool
privacy_text_is_quote(uint8_t c)
{
	return c == '"' || c == '\'' || c == '`';
}

#endif
