/*
 * mpread — bounded msgpack reader over untrusted bytes (see mpread.h).
 * Runs in every process that decodes wire messages.  Trusts nothing in the
 * input; never allocates.
 */
#include <string.h>

#include "common/mpread.h"

void
mpread_init(struct mpread *r, const void *buf, size_t len)
{
	r->p = buf;
	r->left = len;
}

static bool
take(struct mpread *r, size_t n, const unsigned char **out)
{
	if (r->left < n)
		return false;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return true;
}

static uint64_t
be(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Reads an n-byte big-endian length or value. */
static bool
take_be(struct mpread *r, size_t n, uint64_t *v)
{
	const unsigned char *p;
	if (!take(r, n, &p))
		return false;
	*v = be(p, n);
	return true;
}

/* Reads a payload of `len` bytes for str/bin/ext. */
static enum err
payload(struct mpread *r, struct mpread_item *it, enum mpread_kind kind, uint64_t len)
{
	it->kind = kind;
	it->len = (uint32_t)len;
	if (!take(r, (size_t)len, &it->ptr))
		return ERR_TRUNCATED;
	return ERR_OK;
}

enum err
mpread_next(struct mpread *r, struct mpread_item *it)
{
	const unsigned char *p;
	uint64_t v;
	unsigned char c;

	memset(it, 0, sizeof(*it));
	if (!take(r, 1, &p))
		return ERR_TRUNCATED;
	c = *p;
	if (c <= 0x7f) {
		it->kind = MPREAD_UINT;
		it->u = c;
		it->i = c;
		return ERR_OK;
	}
	if (c >= 0xe0) {
		it->kind = MPREAD_INT;
		it->i = (int8_t)c;
		return ERR_OK;
	}
	if ((c & 0xf0) == 0x80) {
		it->kind = MPREAD_MAP;
		it->len = c & 0x0f;
		return ERR_OK;
	}
	if ((c & 0xf0) == 0x90) {
		it->kind = MPREAD_ARRAY;
		it->len = c & 0x0f;
		return ERR_OK;
	}
	if ((c & 0xe0) == 0xa0)
		return payload(r, it, MPREAD_STR, c & 0x1f);

	switch (c) {
	case 0xc0:
		it->kind = MPREAD_NIL;
		return ERR_OK;
	case 0xc2:
	case 0xc3:
		it->kind = MPREAD_BOOL;
		it->b = c == 0xc3;
		return ERR_OK;
	case 0xc4: case 0xc5: case 0xc6:	/* bin 8/16/32 */
		if (!take_be(r, (size_t)1 << (c - 0xc4), &v))
			return ERR_TRUNCATED;
		return payload(r, it, MPREAD_BIN, v);
	case 0xd9: case 0xda: case 0xdb:	/* str 8/16/32 */
		if (!take_be(r, (size_t)1 << (c - 0xd9), &v))
			return ERR_TRUNCATED;
		return payload(r, it, MPREAD_STR, v);
	case 0xc7: case 0xc8: case 0xc9:	/* ext 8/16/32 */
		if (!take_be(r, (size_t)1 << (c - 0xc7), &v))
			return ERR_TRUNCATED;
		if (!take(r, 1, &p))
			return ERR_TRUNCATED;
		return payload(r, it, MPREAD_EXT, v);
	case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:	/* fixext */
		if (!take(r, 1, &p))
			return ERR_TRUNCATED;
		return payload(r, it, MPREAD_EXT, (uint64_t)1 << (c - 0xd4));
	case 0xca:
	case 0xcb: {
		size_t n = c == 0xca ? 4 : 8;
		if (!take_be(r, n, &v))
			return ERR_TRUNCATED;
		it->kind = MPREAD_FLOAT;
		if (n == 4) {
			uint32_t w = (uint32_t)v;
			float f;
			memcpy(&f, &w, sizeof(f));
			it->f = f;
		} else {
			memcpy(&it->f, &v, sizeof(it->f));
		}
		return ERR_OK;
	}
	case 0xcc: case 0xcd: case 0xce: case 0xcf:	/* uint 8..64 */
		if (!take_be(r, (size_t)1 << (c - 0xcc), &v))
			return ERR_TRUNCATED;
		it->kind = MPREAD_UINT;
		it->u = v;
		it->i = (int64_t)v;
		return ERR_OK;
	case 0xd0: case 0xd1: case 0xd2: case 0xd3: {	/* int 8..64 */
		size_t n = (size_t)1 << (c - 0xd0);
		if (!take_be(r, n, &v))
			return ERR_TRUNCATED;
		if (n < 8 && (v >> (n * 8 - 1)) & 1)
			v |= ~(uint64_t)0 << (n * 8);	/* sign-extend */
		it->i = (int64_t)v;
		if (it->i >= 0) {
			it->kind = MPREAD_UINT;
			it->u = (uint64_t)it->i;
		} else {
			it->kind = MPREAD_INT;
		}
		return ERR_OK;
	}
	case 0xdc: case 0xdd:
		if (!take_be(r, c == 0xdc ? 2 : 4, &v))
			return ERR_TRUNCATED;
		it->kind = MPREAD_ARRAY;
		it->len = (uint32_t)v;
		return ERR_OK;
	case 0xde: case 0xdf:
		if (!take_be(r, c == 0xde ? 2 : 4, &v))
			return ERR_TRUNCATED;
		it->kind = MPREAD_MAP;
		it->len = (uint32_t)v;
		return ERR_OK;
	default:	/* 0xc1 is never used */
		return ERR_TYPE;
	}
}

enum err
mpread_skip(struct mpread *r, unsigned max_depth)
{
	struct mpread_item it;
	enum err e;
	uint64_t n;

	if ((e = mpread_next(r, &it)) != ERR_OK)
		return e;
	if (it.kind != MPREAD_ARRAY && it.kind != MPREAD_MAP)
		return ERR_OK;
	if (max_depth == 0)
		return ERR_TOOBIG;
	n = it.kind == MPREAD_MAP ? (uint64_t)it.len * 2 : it.len;
	/* Each element takes at least one byte: a count beyond what is left
	 * is a lie, reject before looping. */
	if (n > r->left)
		return ERR_TRUNCATED;
	for (uint64_t k = 0; k < n; k++)
		if ((e = mpread_skip(r, max_depth - 1)) != ERR_OK)
			return e;
	return ERR_OK;
}

enum err
mpread_u64(struct mpread *r, uint64_t *out)
{
	struct mpread_item it;
	enum err e;

	if ((e = mpread_next(r, &it)) != ERR_OK)
		return e;
	if (it.kind != MPREAD_UINT)
		return ERR_TYPE;
	*out = it.u;
	return ERR_OK;
}

enum err
mpread_bytes(struct mpread *r, const unsigned char **out, uint32_t *len)
{
	struct mpread_item it;
	enum err e;

	if ((e = mpread_next(r, &it)) != ERR_OK)
		return e;
	if (it.kind != MPREAD_STR && it.kind != MPREAD_BIN)
		return ERR_TYPE;
	*out = it.ptr;
	*len = it.len;
	return ERR_OK;
}
