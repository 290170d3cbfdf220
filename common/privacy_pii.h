/*
 * privacy_pii — extent functions of the PII rules (see privacy_rules.h for
 * the contract: validate the candidate [from, to) in buf[0, len), fill `sp`
 * with the span to hide and return true, or return false).  Internal to
 * common/privacy*.c.
 */
#ifndef SLUICE_PRIVACY_PII_H
#define SLUICE_PRIVACY_PII_H

#include "common/privacy_rules.h"

bool privacy_pii_email(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_phone_us(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_phone_intl(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_phone_ctx(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_ssn(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_ssn_ctx(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_card(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_iban(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_ipv4(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_ipv6(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_mac(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_passport(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_licence(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_bank(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_zip(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_zip_state(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_dob(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);
bool privacy_pii_address(const uint8_t *buf, size_t len, size_t from, size_t to,
    struct privacy_span *sp);

#endif
