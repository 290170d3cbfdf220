/*
 * mpjson — a nested msgpack value (a RAW wire field) as a jansson value.
 */
#ifndef SLUICE_MPJSON_H
#define SLUICE_MPJSON_H

#include <jansson.h>
#include <stddef.h>

/* A fresh JSON value for one msgpack value of `len` bytes, nested at most 8
 * deep; NULL when malformed, too deep, or followed by trailing bytes.  Map
 * keys must be strings; bin becomes a string (invalid UTF-8 -> U+FFFD). */
json_t *mpjson_decode(const void *p, size_t len);

#endif
