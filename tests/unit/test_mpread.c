/*
 * Unit tests for common/mpread: every msgpack type head, sign extension,
 * truncation of each head at every length, the reserved byte, mpread_skip's
 * depth limit and containers whose counts lie.  Inputs are hand-written bytes
 * copied into exact-size heap buffers, so ASan catches any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/mpread.h"

struct head_case {
	const char *name;
	const char *bytes;
	size_t len;
	enum mpread_kind kind;
	uint64_t u;		/* UINT value */
	int64_t i;		/* INT/UINT value */
	uint32_t count;		/* str/bin/ext length, array/map count */
};

#define B(s) s, sizeof(s) - 1

static const struct head_case heads[] = {
	{ "positive fixint 0", B("\x00"), MPREAD_UINT, 0, 0, 0 },
	{ "positive fixint 127", B("\x7f"), MPREAD_UINT, 127, 127, 0 },
	{ "negative fixint -1", B("\xff"), MPREAD_INT, 0, -1, 0 },
	{ "negative fixint -32", B("\xe0"), MPREAD_INT, 0, -32, 0 },
	{ "uint8", B("\xcc\xff"), MPREAD_UINT, 255, 255, 0 },
	{ "uint16", B("\xcd\xbe\xef"), MPREAD_UINT, 0xbeef, 0xbeef, 0 },
	{ "uint32", B("\xce\xde\xad\xbe\xef"), MPREAD_UINT, 0xdeadbeef, 0xdeadbeef, 0 },
	{ "uint64", B("\xcf\x01\x02\x03\x04\x05\x06\x07\x08"), MPREAD_UINT,
	    UINT64_C(0x0102030405060708), INT64_C(0x0102030405060708), 0 },
	{ "uint64 max", B("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"), MPREAD_UINT, UINT64_MAX, -1, 0 },
	{ "int8 -128", B("\xd0\x80"), MPREAD_INT, 0, -128, 0 },
	{ "int8 -1", B("\xd0\xff"), MPREAD_INT, 0, -1, 0 },
	{ "int8 +5", B("\xd0\x05"), MPREAD_UINT, 5, 5, 0 },
	{ "int16 -32768", B("\xd1\x80\x00"), MPREAD_INT, 0, -32768, 0 },
	{ "int16 -2", B("\xd1\xff\xfe"), MPREAD_INT, 0, -2, 0 },
	{ "int16 +32767", B("\xd1\x7f\xff"), MPREAD_UINT, 32767, 32767, 0 },
	{ "int32 min", B("\xd2\x80\x00\x00\x00"), MPREAD_INT, 0, INT32_MIN, 0 },
	{ "int32 -3", B("\xd2\xff\xff\xff\xfd"), MPREAD_INT, 0, -3, 0 },
	{ "int32 +1", B("\xd2\x00\x00\x00\x01"), MPREAD_UINT, 1, 1, 0 },
	{ "int64 min", B("\xd3\x80\x00\x00\x00\x00\x00\x00\x00"), MPREAD_INT, 0, INT64_MIN, 0 },
	{ "int64 -1", B("\xd3\xff\xff\xff\xff\xff\xff\xff\xff"), MPREAD_INT, 0, -1, 0 },
	{ "int64 max", B("\xd3\x7f\xff\xff\xff\xff\xff\xff\xff"), MPREAD_UINT, INT64_MAX, INT64_MAX,
	    0 },
	{ "float32", B("\xca\x3f\xc0\x00\x00"), MPREAD_FLOAT, 0, 0, 0 },
	{ "float64", B("\xcb\xc0\x04\x00\x00\x00\x00\x00\x00"), MPREAD_FLOAT, 0, 0, 0 },
	{ "fixstr empty", B("\xa0"), MPREAD_STR, 0, 0, 0 },
	{ "fixstr 3", B("\xa3" "abc"), MPREAD_STR, 0, 0, 3 },
	{ "fixstr 31", B("\xbf" "0123456789012345678901234567890"), MPREAD_STR, 0, 0, 31 },
	{ "str8", B("\xd9\x02" "hi"), MPREAD_STR, 0, 0, 2 },
	{ "str16", B("\xda\x00\x03" "abc"), MPREAD_STR, 0, 0, 3 },
	{ "str32", B("\xdb\x00\x00\x00\x01" "z"), MPREAD_STR, 0, 0, 1 },
	{ "bin8", B("\xc4\x01\x00"), MPREAD_BIN, 0, 0, 1 },
	{ "bin16", B("\xc5\x00\x02\x00\xff"), MPREAD_BIN, 0, 0, 2 },
	{ "bin32", B("\xc6\x00\x00\x00\x00"), MPREAD_BIN, 0, 0, 0 },
	{ "fixarray", B("\x93"), MPREAD_ARRAY, 0, 0, 3 },
	{ "fixarray 15", B("\x9f"), MPREAD_ARRAY, 0, 0, 15 },
	{ "array16", B("\xdc\x01\x00"), MPREAD_ARRAY, 0, 0, 256 },
	{ "array32", B("\xdd\xff\xff\xff\xff"), MPREAD_ARRAY, 0, 0, UINT32_MAX },
	{ "fixmap", B("\x82"), MPREAD_MAP, 0, 0, 2 },
	{ "fixmap 15", B("\x8f"), MPREAD_MAP, 0, 0, 15 },
	{ "map16", B("\xde\x00\x10"), MPREAD_MAP, 0, 0, 16 },
	{ "map32", B("\xdf\x00\x01\x00\x00"), MPREAD_MAP, 0, 0, 65536 },
	{ "fixext1", B("\xd4\x07\xaa"), MPREAD_EXT, 0, 0, 1 },
	{ "fixext2", B("\xd5\x07\xaa\xbb"), MPREAD_EXT, 0, 0, 2 },
	{ "fixext4", B("\xd6\x07\x01\x02\x03\x04"), MPREAD_EXT, 0, 0, 4 },
	{ "fixext8", B("\xd7\x07\x01\x02\x03\x04\x05\x06\x07\x08"), MPREAD_EXT, 0, 0, 8 },
	{ "fixext16", B("\xd8\x07" "0123456789abcdef"), MPREAD_EXT, 0, 0, 16 },
	{ "ext8", B("\xc7\x03\x07" "abc"), MPREAD_EXT, 0, 0, 3 },
	{ "ext16", B("\xc8\x00\x01\x07" "a"), MPREAD_EXT, 0, 0, 1 },
	{ "ext32", B("\xc9\x00\x00\x00\x02\x07" "ab"), MPREAD_EXT, 0, 0, 2 },
	{ "nil", B("\xc0"), MPREAD_NIL, 0, 0, 0 },
	{ "false", B("\xc2"), MPREAD_BOOL, 0, 0, 0 },
	{ "true", B("\xc3"), MPREAD_BOOL, 0, 0, 0 },
};

/* An exact-size heap copy: one byte past it is outside the allocation. */
static unsigned char *
dup_exact(const void *p, size_t len)
{
	unsigned char *d = malloc(len ? len : 1);

	assert_non_null(d);
	if (len > 0)
		memcpy(d, p, len);
	return d;
}

static void
test_every_head(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(heads) / sizeof(heads[0]); k++) {
		const struct head_case *c = &heads[k];
		unsigned char *buf = dup_exact(c->bytes, c->len);
		struct mpread r;
		struct mpread_item it;
		enum err e;

		mpread_init(&r, buf, c->len);
		e = mpread_next(&r, &it);
		if (e != ERR_OK || it.kind != c->kind)
			print_error("%s: err %d kind %d\n", c->name, e, it.kind);
		assert_int_equal(e, ERR_OK);
		assert_int_equal(it.kind, c->kind);
		/* scalars, str and bin are read whole; containers only their head */
		assert_int_equal(r.left, 0);
		assert_ptr_equal(r.p, buf + c->len);
		switch (c->kind) {
		case MPREAD_UINT:
			assert_true(it.u == c->u);
			assert_true(it.i == c->i);
			break;
		case MPREAD_INT:
			assert_true(it.i == c->i);
			break;
		case MPREAD_STR:
		case MPREAD_BIN:
		case MPREAD_EXT:
			assert_int_equal(it.len, c->count);
			assert_ptr_equal(it.ptr, buf + c->len - c->count);
			break;
		case MPREAD_ARRAY:
		case MPREAD_MAP:
			assert_int_equal(it.len, c->count);
			break;
		case MPREAD_BOOL:
			assert_int_equal(it.b, c->bytes[0] == '\xc3');
			break;
		case MPREAD_NIL:
		case MPREAD_FLOAT:
			break;
		}
		free(buf);
	}
}

static void
test_floats(void **state)
{
	struct mpread r;
	struct mpread_item it;

	(void)state;
	mpread_init(&r, "\xca\x3f\xc0\x00\x00", 5);
	assert_int_equal(mpread_next(&r, &it), ERR_OK);
	assert_true(it.f == 1.5);
	mpread_init(&r, "\xcb\xc0\x04\x00\x00\x00\x00\x00\x00", 9);
	assert_int_equal(mpread_next(&r, &it), ERR_OK);
	assert_true(it.f == -2.5);
}

/* Every proper prefix of every head (that has more than one byte) is
 * ERR_TRUNCATED; a container head is complete on its own. */
static void
test_every_head_truncated(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(heads) / sizeof(heads[0]); k++) {
		const struct head_case *c = &heads[k];

		for (size_t n = 0; n < c->len; n++) {
			unsigned char *buf = dup_exact(c->bytes, n);
			struct mpread r;
			struct mpread_item it;
			enum err e;

			mpread_init(&r, buf, n);
			e = mpread_next(&r, &it);
			if (e != ERR_TRUNCATED)
				print_error("%s cut to %zu: err %d\n", c->name, n, e);
			assert_int_equal(e, ERR_TRUNCATED);
			free(buf);
		}
	}
}

static void
test_reserved_byte(void **state)
{
	struct mpread r;
	struct mpread_item it;

	(void)state;
	mpread_init(&r, "\xc1", 1);
	assert_int_equal(mpread_next(&r, &it), ERR_TYPE);
	mpread_init(&r, "\xc1", 1);
	assert_int_equal(mpread_skip(&r, 8), ERR_TYPE);
	mpread_init(&r, "\x92\xc0\xc1", 3);
	assert_int_equal(mpread_skip(&r, 8), ERR_TYPE);
}

/* Every byte 0x00..0xff opens some head; only 0xc1 is refused outright. */
static void
test_every_first_byte(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		unsigned char buf[40];
		struct mpread r;
		struct mpread_item it;
		enum err e;

		memset(buf, 0, sizeof(buf));
		buf[0] = (unsigned char)c;
		mpread_init(&r, buf, sizeof(buf));
		e = mpread_next(&r, &it);
		assert_int_equal(e, c == 0xc1 ? ERR_TYPE : ERR_OK);
		assert_true(r.left < sizeof(buf) || c == 0xc1);
	}
}

static void
test_huge_lengths(void **state)
{
	static const char *claims[] = {
		"\xdb\xff\xff\xff\xff", "\xc6\xff\xff\xff\xff", "\xc9\xff\xff\xff\xff\x01",
		"\xda\xff\xff", "\xc5\xff\xff", "\xd9\xff", "\xc4\xff", "\xc7\xff\x01",
	};

	(void)state;
	for (size_t k = 0; k < sizeof(claims) / sizeof(claims[0]); k++) {
		size_t len = strlen(claims[k]) + 3;
		unsigned char *buf = calloc(1, len);
		struct mpread r;
		struct mpread_item it;

		assert_non_null(buf);
		memcpy(buf, claims[k], strlen(claims[k]));
		mpread_init(&r, buf, len);
		assert_int_equal(mpread_next(&r, &it), ERR_TRUNCATED);
		mpread_init(&r, buf, len);
		assert_int_equal(mpread_skip(&r, 8), ERR_TRUNCATED);
		free(buf);
	}
}

/* [[...[nil]...]] with `depth` arrays, in an exact-size buffer. */
static unsigned char *
nested(unsigned depth, unsigned char head, size_t *len)
{
	unsigned char *buf = malloc(depth * 2 + 1);
	size_t n = 0;

	assert_non_null(buf);
	for (unsigned d = 0; d < depth; d++) {
		buf[n++] = head;
		if (head == 0x81)
			buf[n++] = 0xc0;	/* map key */
	}
	buf[n++] = 0xc0;
	*len = n;
	return buf;
}

static void
test_skip_depth(void **state)
{
	(void)state;
	for (unsigned limit = 0; limit <= 9; limit++) {
		for (unsigned depth = 0; depth <= 10; depth++) {
			static const unsigned char heads_[] = { 0x91, 0x81 };
			for (size_t h = 0; h < sizeof(heads_); h++) {
				size_t len;
				unsigned char *buf = nested(depth, heads_[h], &len);
				struct mpread r;
				enum err e;

				mpread_init(&r, buf, len);
				e = mpread_skip(&r, limit);
				if (depth <= limit) {
					assert_int_equal(e, ERR_OK);
					assert_int_equal(r.left, 0);
				} else {
					assert_int_equal(e, ERR_TOOBIG);
				}
				free(buf);
			}
		}
	}
	/* very deep input cannot exhaust the stack */
	{
		size_t len;
		unsigned char *buf = nested(100000, 0x91, &len);
		struct mpread r;

		mpread_init(&r, buf, len);
		assert_int_equal(mpread_skip(&r, 8), ERR_TOOBIG);
		free(buf);
	}
}

static void
test_skip_values(void **state)
{
	/* {"a": [1, "xy", {}, bin8(2)], "b": ext8} then a trailing nil */
	static const unsigned char v[] = { 0x82, 0xa1, 'a', 0x94, 0x01, 0xa2, 'x', 'y', 0x80, 0xc4,
		0x02, 0x00, 0x00, 0xa1, 'b', 0xc7, 0x01, 0x05, 0x00, 0xc0 };
	unsigned char *buf = dup_exact(v, sizeof(v));
	struct mpread r;

	(void)state;
	mpread_init(&r, buf, sizeof(v));
	assert_int_equal(mpread_skip(&r, 8), ERR_OK);
	assert_int_equal(r.left, 1);
	assert_int_equal(mpread_skip(&r, 0), ERR_OK);	/* a scalar needs no depth */
	assert_int_equal(r.left, 0);
	assert_int_equal(mpread_skip(&r, 8), ERR_TRUNCATED);
	/* every proper prefix is truncated */
	for (size_t n = 0; n < sizeof(v) - 1; n++) {
		unsigned char *cut = dup_exact(v, n);
		mpread_init(&r, cut, n);
		assert_int_equal(mpread_skip(&r, 8), ERR_TRUNCATED);
		free(cut);
	}
	free(buf);
}

/* Counts that claim more elements than bytes remain fail at once. */
static void
test_skip_lying_counts(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
	} lies[] = {
		{ B("\x93\xc0\xc0") },
		{ B("\x82\xc0\xc0\xc0") },
		{ B("\xdc\xff\xff\xc0") },
		{ B("\xdd\xff\xff\xff\xff\xc0\xc0") },
		{ B("\xde\xff\xff\xc0") },
		{ B("\xdf\xff\xff\xff\xff\xc0") },
		{ B("\xdf\x80\x00\x00\x00\xc0") },	/* 2*count overflows 32 bits */
		{ B("\x91\xdd\xff\xff\xff\xff") },
	};

	(void)state;
	for (size_t k = 0; k < sizeof(lies) / sizeof(lies[0]); k++) {
		unsigned char *buf = dup_exact(lies[k].bytes, lies[k].len);
		struct mpread r;

		mpread_init(&r, buf, lies[k].len);
		assert_int_equal(mpread_skip(&r, 8), ERR_TRUNCATED);
		free(buf);
	}
}

static void
test_helpers(void **state)
{
	struct mpread r;
	uint64_t u = 0;
	const unsigned char *p;
	uint32_t len;

	(void)state;
	mpread_init(&r, "\xcd\x01\x00", 3);
	assert_int_equal(mpread_u64(&r, &u), ERR_OK);
	assert_int_equal(u, 256);
	mpread_init(&r, "\xd0\x05", 2);
	assert_int_equal(mpread_u64(&r, &u), ERR_OK);
	assert_int_equal(u, 5);
	mpread_init(&r, "\xff", 1);
	assert_int_equal(mpread_u64(&r, &u), ERR_TYPE);
	mpread_init(&r, "\xa1x", 2);
	assert_int_equal(mpread_u64(&r, &u), ERR_TYPE);
	mpread_init(&r, "\xcd\x01", 2);
	assert_int_equal(mpread_u64(&r, &u), ERR_TRUNCATED);

	mpread_init(&r, "\xa2hi\xc4\x01z", 6);
	assert_int_equal(mpread_bytes(&r, &p, &len), ERR_OK);
	assert_int_equal(len, 2);
	assert_memory_equal(p, "hi", 2);
	assert_int_equal(mpread_bytes(&r, &p, &len), ERR_OK);
	assert_int_equal(len, 1);
	assert_memory_equal(p, "z", 1);
	assert_int_equal(mpread_bytes(&r, &p, &len), ERR_TRUNCATED);
	mpread_init(&r, "\x01", 1);
	assert_int_equal(mpread_bytes(&r, &p, &len), ERR_TYPE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_head),
		cmocka_unit_test(test_floats),
		cmocka_unit_test(test_every_head_truncated),
		cmocka_unit_test(test_reserved_byte),
		cmocka_unit_test(test_every_first_byte),
		cmocka_unit_test(test_huge_lengths),
		cmocka_unit_test(test_skip_depth),
		cmocka_unit_test(test_skip_values),
		cmocka_unit_test(test_skip_lying_counts),
		cmocka_unit_test(test_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
