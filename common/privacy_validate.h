/*
 * privacy_validate — the checks behind the privacy filter's rules: check
 * digits (Luhn, IBAN mod-97), SSN number rules, JWT header decoding, Shannon
 * entropy and the placeholder / non-secret exclusions.  Pure functions over
 * borrowed bytes; internal to common/privacy*.c.
 */
#ifndef SLUICE_PRIVACY_VALIDATE_H
#define SLUICE_PRIVACY_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when the digits of `s` (other bytes skipped) pass the Luhn check. */
bool privacy_validate_luhn(const uint8_t *s, size_t len);
/* True when `s` (spaces skipped) is an IBAN: 2 letters, 2 digits, 11..30
 * alphanumerics in upper case, and the mod-97 remainder is 1. */
bool privacy_validate_iban(const uint8_t *s, size_t len);
/* True for a US SSN given as 9 digits (separators skipped): area not 000,
 * 666 or 9xx; group not 00; serial not 0000; not a well-known sample. */
bool privacy_validate_ssn(const uint8_t *s, size_t len);
/* True when `s` is a JWT whose header base64url-decodes to a JSON object
 * naming "alg" and whose payload segment is present. */
bool privacy_validate_jwt(const uint8_t *s, size_t len);
/* Shannon entropy of `s` in bits per byte (0 for an empty string). */
double privacy_validate_entropy(const uint8_t *s, size_t len);
/* True for obvious non-secrets: placeholders (YOUR_API_KEY, xxxx, <token>,
 * $VAR, {{ v }}, [VALUE], changeme, ***), values with fewer than 3 distinct
 * characters and documented example values (AKIAIOSFODNN7EXAMPLE). */
bool privacy_validate_is_placeholder(const uint8_t *s, size_t len);
/* True for values that look like versions or times rather than secrets:
 * 1.2.3, v2.0.1-rc1, rc0.13.0_2023..., ISO timestamps. */
bool privacy_validate_is_benign_id(const uint8_t *s, size_t len);
/* True for a 40- or 64-hex lower-case digest (git SHA-1 / SHA-256). */
bool privacy_validate_is_git_sha(const uint8_t *s, size_t len);
/* True for a canonical UUID (36 chars, one letter case). */
bool privacy_validate_is_uuid(const uint8_t *s, size_t len);
/* Number of character classes (lower, upper, digit, other) present. */
int privacy_validate_classes(const uint8_t *s, size_t len);

#endif
