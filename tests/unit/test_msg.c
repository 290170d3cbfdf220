/*
 * Unit tests for common/msg: the wire codec built from schemas/fields.def and
 * schemas/messages.def.  Covers the round trip of every command with every
 * field it accepts, and the decoder's refusal of each kind of bad input
 * (header, command, body shape, truncation, trailing bytes, keys, types,
 * bounds, NUL in text, missing fields, hostile RAW values and lengths).
 * Bodies for the bad cases are packed by hand with msgpack-c's packer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/msg.h"
#include "common/util.h"

/* Every command, and the fields messages.def says it may carry. */
struct cmd_spec {
	enum msg_cmd cmd;
	uint64_t required;
	uint64_t allowed;
};

#define F(x) (UINT64_C(1) << MSG_F_##x)
static const struct cmd_spec specs[] = {
#define MSG(nm, code, dir, req, opt) { MSG_##nm, (req), (req) | (opt) },
#include "schemas/messages.def"
#undef MSG
};
#undef F
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

/* Small RAW values: a map {"a": [1, -2, "x"]} and a nil. */
static const unsigned char raw_sample[] = { 0x81, 0xa1, 'a', 0x93, 0x01, 0xfe, 0xa1, 'x' };

#define BIN_SAMPLE "b\0i\xffn"
#define BIN_SAMPLE_LEN 5

static bool
is_set(uint64_t mask, int f)
{
	return (mask >> f & 1) != 0;
}

/* Sets field f of m to a typical in-bound value with the setter of its type. */
static enum err
set_sample(struct msg *m, enum msg_field f)
{
	switch (msg_field_type(f)) {
	case MSG_T_U64:
		return msg_set_u64(m, f, msg_field_max(f));
	case MSG_T_I64:
		return msg_set_i64(m, f, -(int64_t)msg_field_max(f));
	case MSG_T_BOOL:
		return msg_set_bool(m, f, true);
	case MSG_T_STR: {
		/* The key itself, cut to the field's bound (e.g. "level" is 4). */
		char v[64];
		snprintf(v, sizeof(v) < msg_field_max(f) + 1 ? sizeof(v) : (size_t)msg_field_max(f) + 1,
		    "%s", msg_field_key(f));
		return msg_set_str(m, f, v);
	}
	case MSG_T_BIN:
		return msg_set_bin(m, f, BIN_SAMPLE, BIN_SAMPLE_LEN);
	case MSG_T_RAW:
		return msg_set_raw(m, f, raw_sample, sizeof(raw_sample));
	}
	return ERR_INTERNAL;
}

/* A message of `cmd` with every field the setters accept; the accepted
 * fields are returned in *mask. */
static struct msg *
full_msg(enum msg_cmd cmd, uint64_t *mask)
{
	struct msg *m = msg_new(cmd);

	assert_non_null(m);
	*mask = 0;
	for (int f = 0; f < MSG_F__COUNT; f++)
		if (set_sample(m, (enum msg_field)f) == ERR_OK)
			*mask |= UINT64_C(1) << f;
	return m;
}

static void
assert_same_fields(const struct msg *a, const struct msg *b)
{
	for (int i = 0; i < MSG_F__COUNT; i++) {
		enum msg_field f = (enum msg_field)i;
		const void *pa, *pb;
		size_t la, lb;

		assert_int_equal(msg_has(a, f), msg_has(b, f));
		if (!msg_has(a, f))
			continue;
		assert_int_equal(msg_u64(a, f, 7), msg_u64(b, f, 8));
		assert_int_equal(msg_i64(a, f, 7), msg_i64(b, f, 8));
		assert_int_equal(msg_bool(a, f, false), msg_bool(b, f, true));
		pa = msg_bin(a, f, &la);
		pb = msg_bin(b, f, &lb);
		assert_int_equal(la, lb);
		if (la > 0)
			assert_memory_equal(pa, pb, la);
	}
}

struct encoded {
	unsigned char hdr[MSG_HEADER_LEN];
	unsigned char *body;
	size_t len;
};

static void
encode_ok(const struct msg *m, struct encoded *enc)
{
	assert_int_equal(msg_encode(m, enc->hdr, &enc->body, &enc->len), ERR_OK);
}

static enum err
decode(const struct encoded *enc, struct msg **out, char *why, size_t whysz)
{
	return msg_decode(enc->hdr, sizeof(enc->hdr), enc->body, enc->len, out, why, whysz);
}

/* Decodes a hand-made body under a valid header of `cmd`; expects failure
 * with `want` and a reason. */
static void
assert_body_rejected(enum msg_cmd cmd, const void *body, size_t len, enum err want)
{
	const unsigned char hdr[MSG_HEADER_LEN] = { 'S', 'L', MSG_VERSION, (unsigned char)cmd };
	struct msg *m = (struct msg *)1;
	char why[256] = "";
	enum err e = msg_decode(hdr, sizeof(hdr), body, len, &m, why, sizeof(why));

	if (e != want)
		print_error("cmd %s: got %s (%s), want %s\n", msg_cmd_name(cmd), err_name(e), why,
		    err_name(want));
	assert_int_equal(e, want);
	assert_null(m);
	assert_true(why[0] != '\0');
}

static void
assert_body_accepted(enum msg_cmd cmd, const void *body, size_t len)
{
	const unsigned char hdr[MSG_HEADER_LEN] = { 'S', 'L', MSG_VERSION, (unsigned char)cmd };
	struct msg *m = NULL;
	char why[256] = "";
	enum err e = msg_decode(hdr, sizeof(hdr), body, len, &m, why, sizeof(why));

	if (e != ERR_OK)
		print_error("cmd %s: %s (%s)\n", msg_cmd_name(cmd), err_name(e), why);
	assert_int_equal(e, ERR_OK);
	assert_non_null(m);
	msg_destroy(&m);
}

/* ---- hand-packed bodies ---- */

struct body {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static void
body_init(struct body *b)
{
	msgpack_sbuffer_init(&b->sb);
	msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
}

static void
body_free(struct body *b)
{
	msgpack_sbuffer_destroy(&b->sb);
}

static void
pack_key(struct body *b, const char *key)
{
	msgpack_pack_str(&b->pk, strlen(key));
	msgpack_pack_str_body(&b->pk, key, strlen(key));
}

static void
pack_sample_value(struct body *b, enum msg_field f)
{
	switch (msg_field_type(f)) {
	case MSG_T_U64:
		msgpack_pack_uint64(&b->pk, msg_field_max(f));
		break;
	case MSG_T_I64:
		msgpack_pack_int64(&b->pk, -(int64_t)msg_field_max(f));
		break;
	case MSG_T_BOOL:
		msgpack_pack_false(&b->pk);
		break;
	case MSG_T_STR:
		msgpack_pack_str(&b->pk, 2);
		msgpack_pack_str_body(&b->pk, "ok", 2);
		break;
	case MSG_T_BIN:
		msgpack_pack_bin(&b->pk, BIN_SAMPLE_LEN);
		msgpack_pack_bin_body(&b->pk, BIN_SAMPLE, BIN_SAMPLE_LEN);
		break;
	case MSG_T_RAW:
		msgpack_sbuffer_write(&b->sb, (const char *)raw_sample, sizeof(raw_sample));
		break;
	}
}

/* Packs a map of every required field of `spec` except `skip` (-1: none),
 * with room for `extra` more entries that the caller packs next. */
static void
pack_required(struct body *b, const struct cmd_spec *spec, int skip, unsigned extra)
{
	unsigned n = extra;

	for (int f = 0; f < MSG_F__COUNT; f++)
		n += is_set(spec->required, f) && f != skip;
	msgpack_pack_map(&b->pk, n);
	for (int f = 0; f < MSG_F__COUNT; f++) {
		if (!is_set(spec->required, f) || f == skip)
			continue;
		pack_key(b, msg_field_key((enum msg_field)f));
		pack_sample_value(b, (enum msg_field)f);
	}
}

/* The first command that allows field f (every field is used somewhere). */
static const struct cmd_spec *
spec_allowing(int f)
{
	for (size_t i = 0; i < NSPECS; i++)
		if (is_set(specs[i].allowed, f))
			return &specs[i];
	fail_msg("field %s is in no message", msg_field_key((enum msg_field)f));
	return NULL;
}

typedef void (*pack_fn)(struct body *b, enum msg_field f);

/* Decodes {required fields of a command allowing f, f: pack(f)}. */
static enum err
try_field_value(enum msg_field f, pack_fn pack, enum err want)
{
	const struct cmd_spec *spec = spec_allowing(f);
	struct body b;

	body_init(&b);
	pack_required(&b, spec, f, 1);
	pack_key(&b, msg_field_key(f));
	pack(&b, f);
	if (want == ERR_OK)
		assert_body_accepted(spec->cmd, b.sb.data, b.sb.size);
	else
		assert_body_rejected(spec->cmd, b.sb.data, b.sb.size, want);
	body_free(&b);
	return want;
}

/* ---- round trip ---- */

static void
test_setters_follow_messages_def(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSPECS; i++) {
		uint64_t mask;
		struct msg *m = full_msg(specs[i].cmd, &mask);

		assert_int_equal(msg_cmd(m), specs[i].cmd);
		if (mask != specs[i].allowed)
			print_error("%s: setters took %#llx, messages.def says %#llx\n",
			    msg_cmd_name(specs[i].cmd), (unsigned long long)mask,
			    (unsigned long long)specs[i].allowed);
		assert_int_equal(mask, specs[i].allowed);
		msg_destroy(&m);
		assert_null(m);
	}
	msg_destroy(NULL);
}

static void
test_round_trip_every_command(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSPECS; i++) {
		uint64_t mask;
		struct msg *m = full_msg(specs[i].cmd, &mask), *back = NULL;
		struct encoded enc;
		char why[256] = "";

		encode_ok(m, &enc);
		assert_int_equal(enc.hdr[0], 'S');
		assert_int_equal(enc.hdr[1], 'L');
		assert_int_equal(enc.hdr[2], MSG_VERSION);
		assert_int_equal(enc.hdr[3], specs[i].cmd);
		assert_int_equal(decode(&enc, &back, why, sizeof(why)), ERR_OK);
		assert_non_null(back);
		assert_int_equal(msg_cmd(back), specs[i].cmd);
		assert_same_fields(m, back);
		for (int f = 0; f < MSG_F__COUNT; f++)
			assert_int_equal(msg_has(back, (enum msg_field)f), is_set(mask, f));
		msg_destroy(&back);
		free(enc.body);
		msg_destroy(&m);
	}
}

static void
test_round_trip_values(void **state)
{
	struct msg *m = msg_new(MSG_DONE), *back = NULL;
	struct encoded enc;
	char why[256];
	size_t len;

	(void)state;
	assert_int_equal(msg_set_str(m, MSG_F_ID, "j-1"), ERR_OK);
	assert_int_equal(msg_set_str(m, MSG_F_STATUS, ""), ERR_OK);
	assert_int_equal(msg_set_i64(m, MSG_F_EXIT_CODE, 255), ERR_OK);
	assert_int_equal(msg_set_bool(m, MSG_F_TRUNCATED, false), ERR_OK);
	assert_int_equal(msg_set_u64(m, MSG_F_WALL_MS, UINT64_MAX), ERR_OK);
	assert_int_equal(msg_set_u64(m, MSG_F_CPU_MS, 0), ERR_OK);
	assert_int_equal(msg_set_bin(m, MSG_F_STDOUT, "", 0), ERR_OK);
	encode_ok(m, &enc);
	assert_int_equal(decode(&enc, &back, why, sizeof(why)), ERR_OK);
	assert_same_fields(m, back);
	assert_string_equal(msg_str(back, MSG_F_STATUS, "dflt"), "");
	assert_int_equal(msg_i64(back, MSG_F_EXIT_CODE, 0), 255);
	assert_false(msg_bool(back, MSG_F_TRUNCATED, true));
	assert_true(msg_u64(back, MSG_F_WALL_MS, 0) == UINT64_MAX);
	assert_int_equal(msg_u64(back, MSG_F_CPU_MS, 9), 0);
	assert_non_null(msg_bin(back, MSG_F_STDOUT, &len));
	assert_int_equal(len, 0);
	/* absent fields give the defaults */
	assert_false(msg_has(back, MSG_F_STDERR));
	assert_null(msg_bin(back, MSG_F_STDERR, &len));
	assert_int_equal(len, 0);
	assert_string_equal(msg_str(back, MSG_F_REASON, "none"), "none");
	assert_int_equal(msg_u64(back, MSG_F_MAX_RSS_KB, 42), 42);
	assert_false(msg_has(back, MSG_F__COUNT));
	msg_destroy(&back);
	free(enc.body);
	msg_destroy(&m);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(msg_cmd_name(MSG_SUBMIT), "SUBMIT");
	assert_string_equal(msg_cmd_name(MSG_STATUS_REPLY), "STATUS_REPLY");
	assert_string_equal(msg_cmd_name(MSG_NONE), "?");
	assert_string_equal(msg_field_key(MSG_F_DONE_COUNT), "done");
	assert_string_equal(msg_field_key(MSG_F__COUNT), "?");
	assert_null(msg_new(MSG_NONE));
	assert_null(msg_new((enum msg_cmd)0xee));
}

/* ---- header and body shape ---- */

static void
test_decode_bad_header(void **state)
{
	uint64_t mask;
	struct msg *m = full_msg(MSG_CANCEL, &mask), *out = (struct msg *)1;
	struct encoded enc;
	unsigned char hdr[MSG_HEADER_LEN + 1];
	char why[256];

	(void)state;
	encode_ok(m, &enc);
	memcpy(hdr, enc.hdr, MSG_HEADER_LEN);
	hdr[MSG_HEADER_LEN] = 0;
	for (size_t n = 0; n <= MSG_HEADER_LEN + 1; n++) {
		if (n == MSG_HEADER_LEN)
			continue;
		why[0] = '\0';
		assert_int_equal(msg_decode(hdr, n, enc.body, enc.len, &out, why, sizeof(why)),
		    ERR_PROTO);
		assert_null(out);
		assert_true(why[0] != '\0');
	}
	hdr[0] = 's';
	assert_int_equal(msg_decode(hdr, 4, enc.body, enc.len, &out, why, sizeof(why)), ERR_PROTO);
	hdr[0] = 'S';
	hdr[1] = 'X';
	assert_int_equal(msg_decode(hdr, 4, enc.body, enc.len, &out, why, sizeof(why)), ERR_PROTO);
	hdr[1] = 'L';
	for (unsigned v = 0; v < 256; v++) {
		if (v == MSG_VERSION)
			continue;
		hdr[2] = (unsigned char)v;
		assert_int_equal(msg_decode(hdr, 4, enc.body, enc.len, &out, why, sizeof(why)),
		    ERR_VERSION);
		assert_null(out);
	}
	hdr[2] = MSG_VERSION;
	/* every byte that is not a command */
	for (unsigned c = 0; c < 256; c++) {
		bool known = false;
		for (size_t i = 0; i < NSPECS; i++)
			known |= (unsigned)specs[i].cmd == c;
		if (known)
			continue;
		hdr[3] = (unsigned char)c;
		why[0] = '\0';
		assert_int_equal(msg_decode(hdr, 4, enc.body, enc.len, &out, why, sizeof(why)),
		    ERR_PROTO);
		assert_non_null(strstr(why, "command"));
	}
	/* a CANCEL body under a STATUS header: required field missing, id not allowed */
	hdr[3] = MSG_STATUS;
	assert_int_equal(msg_decode(hdr, 4, enc.body, enc.len, &out, why, sizeof(why)), ERR_PROTO);
	free(enc.body);
	msg_destroy(&m);
}

static void
test_decode_body_not_map(void **state)
{
	static const unsigned char array[] = { 0x91, 0xa2, 'i', 'd' };
	static const unsigned char nil[] = { 0xc0 };
	static const unsigned char str[] = { 0xa2, 'i', 'd' };
	static const unsigned char reserved[] = { 0xc1 };

	(void)state;
	assert_body_rejected(MSG_HEARTBEAT, array, sizeof(array), ERR_TYPE);
	assert_body_rejected(MSG_HEARTBEAT, nil, sizeof(nil), ERR_TYPE);
	assert_body_rejected(MSG_HEARTBEAT, str, sizeof(str), ERR_TYPE);
	assert_body_rejected(MSG_HEARTBEAT, reserved, sizeof(reserved), ERR_TYPE);
	assert_body_rejected(MSG_HEARTBEAT, "", 0, ERR_TRUNCATED);
	assert_body_rejected(MSG_HEARTBEAT, NULL, 0, ERR_TRUNCATED);
	/* HEARTBEAT needs nothing: an empty map is a whole message */
	assert_body_accepted(MSG_HEARTBEAT, "\x80", 1);
}

static void
test_decode_every_truncation(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSPECS; i++) {
		uint64_t mask;
		struct msg *m = full_msg(specs[i].cmd, &mask), *out;
		struct encoded enc;
		char why[256];

		encode_ok(m, &enc);
		for (size_t n = 0; n < enc.len; n++) {
			/* a fresh copy of exactly n bytes, so ASan sees any overread */
			unsigned char *cut = malloc(n ? n : 1);
			enum err e;

			assert_non_null(cut);
			memcpy(cut, enc.body, n);
			out = (struct msg *)1;
			why[0] = '\0';
			e = msg_decode(enc.hdr, MSG_HEADER_LEN, cut, n, &out, why, sizeof(why));
			if (e == ERR_OK)
				print_error("%s: prefix of %zu/%zu bytes decoded\n",
				    msg_cmd_name(specs[i].cmd), n, enc.len);
			assert_int_not_equal(e, ERR_OK);
			assert_null(out);
			assert_true(why[0] != '\0');
			free(cut);
		}
		free(enc.body);
		msg_destroy(&m);
	}
}

static void
test_decode_trailing(void **state)
{
	uint64_t mask;
	struct msg *m = full_msg(MSG_RESULT, &mask);
	struct encoded enc;
	unsigned char *longer;

	(void)state;
	encode_ok(m, &enc);
	longer = malloc(enc.len + 2);
	assert_non_null(longer);
	memcpy(longer, enc.body, enc.len);
	longer[enc.len] = 0xc0;
	assert_body_rejected(MSG_RESULT, longer, enc.len + 1, ERR_TRAILING);
	longer[enc.len + 1] = 0x80;
	assert_body_rejected(MSG_RESULT, longer, enc.len + 2, ERR_TRAILING);
	/* a second whole map after the first */
	assert_body_rejected(MSG_HEARTBEAT, "\x80\x80", 2, ERR_TRAILING);
	free(longer);
	free(enc.body);
	msg_destroy(&m);
}

/* ---- keys ---- */

static void
test_decode_unknown_key(void **state)
{
	const struct cmd_spec *spec = spec_allowing(MSG_F_CODE);
	struct body b;

	(void)state;
	body_init(&b);
	pack_required(&b, spec, -1, 1);
	pack_key(&b, "bogus");
	msgpack_pack_uint64(&b.pk, 1);
	assert_body_rejected(spec->cmd, b.sb.data, b.sb.size, ERR_PROTO);
	body_free(&b);

	/* a key of fields.def that this command does not take, for every command */
	for (size_t i = 0; i < NSPECS; i++) {
		int f;
		for (f = 0; f < MSG_F__COUNT && is_set(specs[i].allowed, f); f++)
			;
		assert_true(f < MSG_F__COUNT);
		body_init(&b);
		pack_required(&b, &specs[i], -1, 1);
		pack_key(&b, msg_field_key((enum msg_field)f));
		pack_sample_value(&b, (enum msg_field)f);
		assert_body_rejected(specs[i].cmd, b.sb.data, b.sb.size, ERR_PROTO);
		body_free(&b);
	}

	/* a key that is a prefix or extension of a real one; a non-string key */
	body_init(&b);
	msgpack_pack_map(&b.pk, 1);
	pack_key(&b, "fre");
	msgpack_pack_uint64(&b.pk, 1);
	assert_body_rejected(MSG_HEARTBEAT, b.sb.data, b.sb.size, ERR_PROTO);
	body_free(&b);
	body_init(&b);
	msgpack_pack_map(&b.pk, 1);
	pack_key(&b, "freee");
	msgpack_pack_uint64(&b.pk, 1);
	assert_body_rejected(MSG_HEARTBEAT, b.sb.data, b.sb.size, ERR_PROTO);
	body_free(&b);
	body_init(&b);
	msgpack_pack_map(&b.pk, 1);
	msgpack_pack_uint64(&b.pk, 1);
	msgpack_pack_uint64(&b.pk, 1);
	assert_body_rejected(MSG_HEARTBEAT, b.sb.data, b.sb.size, ERR_TYPE);
	body_free(&b);
	/* a bin key is not a string key */
	body_init(&b);
	msgpack_pack_map(&b.pk, 1);
	msgpack_pack_bin(&b.pk, 4);
	msgpack_pack_bin_body(&b.pk, "free", 4);
	msgpack_pack_uint64(&b.pk, 1);
	assert_body_rejected(MSG_HEARTBEAT, b.sb.data, b.sb.size, ERR_TYPE);
	body_free(&b);
}

/* DONE_ACK carries the job id and nothing else; `resent` goes on DONE
 * only (a worker's copy), never on the ack.  A DONE with `resent` is what
 * a broker from before DONE_ACK rejects as an unknown key. */
static void
test_done_ack(void **state)
{
	struct msg *m = msg_new(MSG_DONE_ACK), *back = NULL;
	struct encoded enc;
	struct body b;
	char why[256];

	(void)state;
	assert_int_equal(msg_cmd(m), MSG_DONE_ACK);
	assert_string_equal(msg_cmd_name(MSG_DONE_ACK), "DONE_ACK");
	assert_int_equal(msg_set_str(m, MSG_F_ID, "0123456789abcdef0123456789abcdef"), ERR_OK);
	assert_int_equal(msg_set_bool(m, MSG_F_RESENT, true), ERR_INVAL);
	encode_ok(m, &enc);
	assert_int_equal(decode(&enc, &back, why, sizeof(why)), ERR_OK);
	assert_string_equal(msg_str(back, MSG_F_ID, ""), "0123456789abcdef0123456789abcdef");
	msg_destroy(&back);
	free(enc.body);
	msg_destroy(&m);

	body_init(&b);	/* no id */
	msgpack_pack_map(&b.pk, 0);
	assert_body_rejected(MSG_DONE_ACK, b.sb.data, b.sb.size, ERR_MISSING);
	body_free(&b);
	body_init(&b);	/* an id and `resent` */
	msgpack_pack_map(&b.pk, 2);
	pack_key(&b, "id");
	pack_sample_value(&b, MSG_F_ID);
	pack_key(&b, "resent");
	msgpack_pack_true(&b.pk);
	assert_body_rejected(MSG_DONE_ACK, b.sb.data, b.sb.size, ERR_PROTO);
	body_free(&b);
	body_init(&b);	/* an id that is not a string */
	msgpack_pack_map(&b.pk, 1);
	pack_key(&b, "id");
	msgpack_pack_uint64(&b.pk, 7);
	assert_body_rejected(MSG_DONE_ACK, b.sb.data, b.sb.size, ERR_TYPE);
	body_free(&b);

	/* DONE takes `resent` as a bool only. */
	body_init(&b);
	msgpack_pack_map(&b.pk, 3);
	pack_key(&b, "id");
	pack_sample_value(&b, MSG_F_ID);
	pack_key(&b, "status");
	pack_sample_value(&b, MSG_F_STATUS);
	pack_key(&b, "resent");
	msgpack_pack_true(&b.pk);
	assert_body_accepted(MSG_DONE, b.sb.data, b.sb.size);
	body_free(&b);
	body_init(&b);
	msgpack_pack_map(&b.pk, 3);
	pack_key(&b, "id");
	pack_sample_value(&b, MSG_F_ID);
	pack_key(&b, "status");
	pack_sample_value(&b, MSG_F_STATUS);
	pack_key(&b, "resent");
	msgpack_pack_uint64(&b.pk, 1);
	assert_body_rejected(MSG_DONE, b.sb.data, b.sb.size, ERR_TYPE);
	body_free(&b);
}

static void
test_decode_duplicate_key(void **state)
{
	(void)state;
	for (int f = 0; f < MSG_F__COUNT; f++) {
		const struct cmd_spec *spec = spec_allowing(f);
		struct body b;

		body_init(&b);
		pack_required(&b, spec, f, 2);
		pack_key(&b, msg_field_key((enum msg_field)f));
		pack_sample_value(&b, (enum msg_field)f);
		pack_key(&b, msg_field_key((enum msg_field)f));
		pack_sample_value(&b, (enum msg_field)f);
		assert_body_rejected(spec->cmd, b.sb.data, b.sb.size, ERR_PROTO);
		body_free(&b);
	}
}

/* ---- types ---- */

static void
pack_str_1(struct body *b, enum msg_field f)
{
	(void)f;
	msgpack_pack_str(&b->pk, 1);
	msgpack_pack_str_body(&b->pk, "1", 1);
}

static void
pack_int_1(struct body *b, enum msg_field f)
{
	(void)f;
	msgpack_pack_uint64(&b->pk, 1);
}

static void
pack_minus_1(struct body *b, enum msg_field f)
{
	(void)f;
	msgpack_pack_int64(&b->pk, -1);
}

static void
pack_true(struct body *b, enum msg_field f)
{
	(void)f;
	msgpack_pack_true(&b->pk);
}

static void
pack_nil(struct body *b, enum msg_field f)
{
	(void)f;
	msgpack_pack_nil(&b->pk);
}

static void
pack_float(struct body *b, enum msg_field f)
{
	(void)f;
	msgpack_pack_double(&b->pk, 1.0);
}

static void
pack_array(struct body *b, enum msg_field f)
{
	(void)f;
	msgpack_pack_array(&b->pk, 1);
	msgpack_pack_uint64(&b->pk, 1);
}

static void
pack_ext(struct body *b, enum msg_field f)
{
	(void)f;
	msgpack_pack_ext(&b->pk, 1, 5);
	msgpack_pack_ext_body(&b->pk, "\x01", 1);
}

#define T(x) (1u << MSG_T_##x)
/* Each kind of value, and the field types that take it (RAW takes any one
 * well-formed value). */
static const struct {
	pack_fn pack;
	unsigned accepted_by;
} typed_values[] = {
	{ pack_int_1, T(U64) | T(I64) | T(RAW) },
	{ pack_minus_1, T(I64) | T(RAW) },
	{ pack_true, T(BOOL) | T(RAW) },
	{ pack_nil, T(RAW) },
	{ pack_float, T(RAW) },
	{ pack_str_1, T(STR) | T(BIN) | T(RAW) },
	{ pack_array, T(RAW) },
	{ pack_ext, T(RAW) },
};

static void
test_decode_wrong_type(void **state)
{
	(void)state;
	for (int i = 0; i < MSG_F__COUNT; i++) {
		enum msg_field f = (enum msg_field)i;
		unsigned t = 1u << msg_field_type(f);

		for (size_t k = 0; k < sizeof(typed_values) / sizeof(typed_values[0]); k++)
			try_field_value(f, typed_values[k].pack,
			    (typed_values[k].accepted_by & t) ? ERR_OK : ERR_TYPE);
		try_field_value(f, pack_sample_value, ERR_OK);
	}
}
#undef T

/* An I64 accepts a positive value sent as msgpack uint; a STR a msgpack bin. */
static void
test_decode_equivalent_encodings(void **state)
{
	struct body b;
	struct msg *m = NULL;
	const unsigned char hdr[4] = { 'S', 'L', MSG_VERSION, MSG_EVENT };
	char why[256];

	(void)state;
	try_field_value(MSG_F_EXIT_CODE, pack_int_1, ERR_OK);
	try_field_value(MSG_F_EXIT_CODE, pack_minus_1, ERR_OK);
	body_init(&b);
	msgpack_pack_map(&b.pk, 2);
	pack_key(&b, "id");
	msgpack_pack_bin(&b.pk, 3);
	msgpack_pack_bin_body(&b.pk, "j-9", 3);
	pack_key(&b, "type");
	msgpack_pack_str(&b.pk, 2);
	msgpack_pack_str_body(&b.pk, "up", 2);
	assert_int_equal(msg_decode(hdr, 4, b.sb.data, b.sb.size, &m, why, sizeof(why)), ERR_OK);
	assert_string_equal(msg_str(m, MSG_F_ID, NULL), "j-9");
	assert_string_equal(msg_str(m, MSG_F_EVTYPE, NULL), "up");
	msg_destroy(&m);
	body_free(&b);
}

/* ---- bounds ---- */

static uint64_t bound_len;

static void
pack_u64_over(struct body *b, enum msg_field f)
{
	msgpack_pack_uint64(&b->pk, msg_field_max(f) + 1);
}

static void
pack_i64_over(struct body *b, enum msg_field f)
{
	msgpack_pack_int64(&b->pk, (int64_t)msg_field_max(f) + 1);
}

static void
pack_i64_under(struct body *b, enum msg_field f)
{
	msgpack_pack_int64(&b->pk, -(int64_t)msg_field_max(f) - 1);
}

static void
pack_i64_max(struct body *b, enum msg_field f)
{
	msgpack_pack_int64(&b->pk, (int64_t)msg_field_max(f));
}

static void
pack_int64_min(struct body *b, enum msg_field f)
{
	(void)f;
	msgpack_pack_int64(&b->pk, INT64_MIN);
}

static void
pack_uint64_max(struct body *b, enum msg_field f)
{
	(void)f;
	msgpack_pack_uint64(&b->pk, UINT64_MAX);
}

/* A str or bin of bound_len bytes of 'a'. */
static void
pack_long_bytes(struct body *b, enum msg_field f)
{
	char *p = malloc(bound_len ? bound_len : 1);

	assert_non_null(p);
	memset(p, 'a', bound_len);
	if (msg_field_type(f) == MSG_T_STR) {
		msgpack_pack_str(&b->pk, bound_len);
		msgpack_pack_str_body(&b->pk, p, bound_len);
	} else {
		msgpack_pack_bin(&b->pk, bound_len);
		msgpack_pack_bin_body(&b->pk, p, bound_len);
	}
	free(p);
}

/* A RAW [bin] whose whole encoding is bound_len bytes (bound_len >= 6). */
static void
pack_long_raw(struct body *b, enum msg_field f)
{
	uint64_t inner = bound_len - 1 - (bound_len - 1 > 65535 + 3 ? 5 : 3);
	char *p = malloc(inner ? inner : 1);

	(void)f;
	assert_non_null(p);
	memset(p, 'r', inner);
	msgpack_pack_array(&b->pk, 1);
	msgpack_pack_bin(&b->pk, inner);
	msgpack_pack_bin_body(&b->pk, p, inner);
	free(p);
}

static void
test_decode_bounds(void **state)
{
	(void)state;
	for (int i = 0; i < MSG_F__COUNT; i++) {
		enum msg_field f = (enum msg_field)i;
		uint64_t max = msg_field_max(f);

		switch (msg_field_type(f)) {
		case MSG_T_U64:
			try_field_value(f, pack_uint64_max, max == UINT64_MAX ? ERR_OK : ERR_TOOBIG);
			if (max < UINT64_MAX)
				try_field_value(f, pack_u64_over, ERR_TOOBIG);
			break;
		case MSG_T_I64:
			try_field_value(f, pack_i64_max, ERR_OK);
			try_field_value(f, pack_i64_over, ERR_TOOBIG);
			try_field_value(f, pack_i64_under, ERR_TOOBIG);
			try_field_value(f, pack_int64_min, ERR_TOOBIG);
			try_field_value(f, pack_uint64_max, ERR_TOOBIG);
			break;
		case MSG_T_BOOL:
			break;
		case MSG_T_STR:
		case MSG_T_BIN:
			bound_len = max;
			try_field_value(f, pack_long_bytes, ERR_OK);
			bound_len = max + 1;
			try_field_value(f, pack_long_bytes, ERR_TOOBIG);
			break;
		case MSG_T_RAW:
			bound_len = max;
			try_field_value(f, pack_long_raw, ERR_OK);
			bound_len = max + 1;
			try_field_value(f, pack_long_raw, ERR_TOOBIG);
			break;
		}
	}
}

static void
pack_str_with_nul(struct body *b, enum msg_field f)
{
	(void)f;
	msgpack_pack_str(&b->pk, 3);
	msgpack_pack_str_body(&b->pk, "a\0b", 3);
}

static void
pack_bin_with_nul(struct body *b, enum msg_field f)
{
	(void)f;
	msgpack_pack_bin(&b->pk, 1);
	msgpack_pack_bin_body(&b->pk, "", 1);
}

static void
test_decode_nul_in_text(void **state)
{
	(void)state;
	for (int i = 0; i < MSG_F__COUNT; i++) {
		enum msg_field f = (enum msg_field)i;

		if (msg_field_type(f) == MSG_T_STR) {
			try_field_value(f, pack_str_with_nul, ERR_INVAL);
			try_field_value(f, pack_bin_with_nul, ERR_INVAL);
		} else if (msg_field_type(f) == MSG_T_BIN) {
			try_field_value(f, pack_str_with_nul, ERR_OK);
		}
	}
}

static void
test_decode_missing_required(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSPECS; i++) {
		for (int f = 0; f < MSG_F__COUNT; f++) {
			struct body b;

			if (!is_set(specs[i].required, f))
				continue;
			body_init(&b);
			pack_required(&b, &specs[i], f, 0);
			assert_body_rejected(specs[i].cmd, b.sb.data, b.sb.size, ERR_MISSING);
			body_free(&b);
		}
	}
}

/* ---- RAW values ---- */

/* `depth` nested arrays around a nil: [[[...nil...]]]. */
static void
pack_nested(struct body *b, unsigned depth)
{
	for (unsigned d = 0; d < depth; d++)
		msgpack_pack_array(&b->pk, 1);
	msgpack_pack_nil(&b->pk);
}

static void
pack_depth_8(struct body *b, enum msg_field f)
{
	(void)f;
	pack_nested(b, 8);
}

static void
pack_depth_9(struct body *b, enum msg_field f)
{
	(void)f;
	pack_nested(b, 9);
}

static void
pack_maps_depth_9(struct body *b, enum msg_field f)
{
	(void)f;
	for (int d = 0; d < 9; d++) {
		msgpack_pack_map(&b->pk, 1);
		pack_key(b, "k");
	}
	msgpack_pack_nil(&b->pk);
}

static void
pack_reserved_inside(struct body *b, enum msg_field f)
{
	(void)f;
	msgpack_pack_array(&b->pk, 2);
	msgpack_pack_nil(&b->pk);
	msgpack_sbuffer_write(&b->sb, "\xc1", 1);
}

/* An array that claims 3 elements but holds 1, as the last value of the map. */
static void
pack_short_array(struct body *b, enum msg_field f)
{
	(void)f;
	msgpack_pack_array(&b->pk, 3);
	msgpack_pack_nil(&b->pk);
}

static void
pack_array32_lie(struct body *b, enum msg_field f)
{
	(void)f;
	msgpack_sbuffer_write(&b->sb, "\xdd\xff\xff\xff\xff\xc0", 6);
}

static void
test_decode_raw_malformed(void **state)
{
	(void)state;
	for (int i = 0; i < MSG_F__COUNT; i++) {
		enum msg_field f = (enum msg_field)i;

		if (msg_field_type(f) != MSG_T_RAW)
			continue;
		try_field_value(f, pack_depth_8, ERR_OK);
		try_field_value(f, pack_depth_9, ERR_TOOBIG);
		try_field_value(f, pack_maps_depth_9, ERR_TOOBIG);
		try_field_value(f, pack_reserved_inside, ERR_TYPE);
		try_field_value(f, pack_short_array, ERR_TRUNCATED);
		try_field_value(f, pack_array32_lie, ERR_TRUNCATED);
	}
}

/* ---- hostile lengths ---- */

static void
test_decode_huge_claims(void **state)
{
	/* map32 of 2^32-1 entries, then one tiny entry */
	static const unsigned char map32[] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa2, 'i', 'd', 0xa1, 'x' };
	/* map16 of 65535 entries */
	static const unsigned char map16[] = { 0xde, 0xff, 0xff, 0xa2, 'i', 'd', 0xa1, 'x' };
	/* map of 15 entries holding one */
	static const unsigned char fixmap[] = { 0x8f, 0xa2, 'i', 'd', 0xa1, 'x' };
	/* {"id": str32 claiming 4 GiB - 1 bytes} */
	static const unsigned char str32[] = { 0x81, 0xa2, 'i', 'd', 0xdb, 0xff, 0xff, 0xff, 0xff, 'x' };
	/* {"code": bin32 claiming 4 GiB - 1 bytes} */
	static const unsigned char bin32[] = { 0x81, 0xa4, 'c', 'o', 'd', 'e', 0xc6, 0xff, 0xff, 0xff,
		0xff, 'x' };
	/* a key claiming 4 GiB - 1 bytes */
	static const unsigned char key32[] = { 0x81, 0xdb, 0xff, 0xff, 0xff, 0xff, 'i', 'd' };

	(void)state;
	assert_body_rejected(MSG_CANCEL, map32, sizeof(map32), ERR_TOOBIG);
	assert_body_rejected(MSG_CANCEL, map16, sizeof(map16), ERR_TOOBIG);
	assert_body_rejected(MSG_CANCEL, fixmap, sizeof(fixmap), ERR_TRUNCATED);
	assert_body_rejected(MSG_CANCEL, str32, sizeof(str32), ERR_TRUNCATED);
	assert_body_rejected(MSG_SUBMIT, bin32, sizeof(bin32), ERR_TRUNCATED);
	assert_body_rejected(MSG_CANCEL, key32, sizeof(key32), ERR_TRUNCATED);
	/* a body longer than MSG_BODY_MAX is refused before it is read */
	assert_body_rejected(MSG_CANCEL, map32, (size_t)MSG_BODY_MAX + 1, ERR_TOOBIG);
}

/* ---- setters and encoder ---- */

static void
test_setters_reject(void **state)
{
	struct msg *m = msg_new(MSG_SUBMIT);
	static const unsigned char bad_raw[] = { 0x92, 0xc0 };
	static const unsigned char trailing_raw[] = { 0x90, 0xc0 };
	char *big;

	(void)state;
	assert_non_null(m);
	/* fields SUBMIT does not take */
	assert_int_equal(msg_set_str(m, MSG_F_ID, "j"), ERR_INVAL);
	assert_int_equal(msg_set_bool(m, MSG_F_TRUNCATED, true), ERR_INVAL);
	assert_int_equal(msg_set_i64(m, MSG_F_EXIT_CODE, 0), ERR_INVAL);
	assert_int_equal(msg_set_u64(m, MSG_F_QUEUED, 0), ERR_INVAL);
	assert_int_equal(msg_set_bin(m, MSG_F_STDOUT, "x", 1), ERR_INVAL);
	assert_int_equal(msg_set_raw(m, MSG_F_RISK, "\x90", 1), ERR_INVAL);
	assert_int_equal(msg_set_u64(m, MSG_F__COUNT, 0), ERR_INVAL);
	assert_int_equal(msg_set_u64(m, (enum msg_field)-1, 0), ERR_INVAL);
	/* the wrong setter for the field's type */
	assert_int_equal(msg_set_u64(m, MSG_F_REQ, 1), ERR_INVAL);
	assert_int_equal(msg_set_str(m, MSG_F_PRIORITY, "1"), ERR_INVAL);
	assert_int_equal(msg_set_bool(m, MSG_F_PRIORITY, true), ERR_INVAL);
	assert_int_equal(msg_set_i64(m, MSG_F_PRIORITY, 1), ERR_INVAL);
	assert_int_equal(msg_set_raw(m, MSG_F_CODE, "\x90", 1), ERR_INVAL);
	assert_int_equal(msg_set_str(m, MSG_F_FILES, "[]"), ERR_INVAL);
	/* over the bound */
	assert_int_equal(msg_set_u64(m, MSG_F_PRIORITY, msg_field_max(MSG_F_PRIORITY) + 1),
	    ERR_TOOBIG);
	assert_int_equal(msg_set_u64(m, MSG_F_PRIORITY, UINT64_MAX), ERR_TOOBIG);
	big = malloc(msg_field_max(MSG_F_REQ) + 2);
	assert_non_null(big);
	memset(big, 'r', msg_field_max(MSG_F_REQ) + 1);
	big[msg_field_max(MSG_F_REQ) + 1] = '\0';
	assert_int_equal(msg_set_str(m, MSG_F_REQ, big), ERR_TOOBIG);
	assert_int_equal(msg_set_bin(m, MSG_F_REQ, big, msg_field_max(MSG_F_REQ) + 1), ERR_TOOBIG);
	big[msg_field_max(MSG_F_REQ)] = '\0';
	assert_int_equal(msg_set_str(m, MSG_F_REQ, big), ERR_OK);
	free(big);
	/* NUL inside text; malformed or trailing RAW */
	assert_int_equal(msg_set_bin(m, MSG_F_LANG, "t\0s", 3), ERR_INVAL);
	assert_int_equal(msg_set_bin(m, MSG_F_CODE, "t\0s", 3), ERR_OK);
	assert_int_not_equal(msg_set_raw(m, MSG_F_FILES, bad_raw, sizeof(bad_raw)), ERR_OK);
	assert_int_equal(msg_set_raw(m, MSG_F_FILES, trailing_raw, sizeof(trailing_raw)),
	    ERR_TRAILING);
	assert_int_equal(msg_set_raw(m, MSG_F_FILES, "\xc1", 1), ERR_TYPE);
	assert_false(msg_has(m, MSG_F_FILES));
	assert_false(msg_has(m, MSG_F_PRIORITY));
	assert_false(msg_has(m, MSG_F_LANG));
	msg_destroy(&m);

	m = msg_new(MSG_DONE);
	assert_int_equal(msg_set_i64(m, MSG_F_EXIT_CODE, 256), ERR_TOOBIG);
	assert_int_equal(msg_set_i64(m, MSG_F_EXIT_CODE, -256), ERR_TOOBIG);
	assert_int_equal(msg_set_i64(m, MSG_F_EXIT_CODE, INT64_MIN), ERR_TOOBIG);
	assert_int_equal(msg_set_i64(m, MSG_F_EXIT_CODE, -255), ERR_OK);
	assert_int_equal(msg_set_i64(m, MSG_F_EXIT_CODE, 255), ERR_OK);
	msg_destroy(&m);
}

/* A later set replaces the earlier value. */
static void
test_setters_replace(void **state)
{
	struct msg *m = msg_new(MSG_CANCEL);

	(void)state;
	assert_int_equal(msg_set_str(m, MSG_F_ID, "first"), ERR_OK);
	assert_int_equal(msg_set_str(m, MSG_F_ID, "second"), ERR_OK);
	assert_string_equal(msg_str(m, MSG_F_ID, NULL), "second");
	msg_destroy(&m);
}

/* Values replaced many times, shorter and longer, small (in the message's
 * arena) and large (allocated apart), from their own bytes: every read sees
 * the last value, and an encode/decode round trip keeps all of them. */
static void
test_setters_replace_sizes(void **state)
{
	struct msg *m = msg_new(MSG_SUBMIT), *back = NULL;
	static char big[70000];
	unsigned char hdr[MSG_HEADER_LEN], *body = NULL;
	char why[128], small[64];
	size_t len, n;

	(void)state;
	memset(big, 'c', sizeof(big) - 1);
	for (int i = 0; i < 200; i++) {
		n = (size_t)(i * 37) % 60;
		memset(small, 'a' + i % 26, n);
		small[n] = '\0';
		assert_int_equal(msg_set_str(m, MSG_F_TENANT, small), ERR_OK);
		assert_string_equal(msg_str(m, MSG_F_TENANT, NULL), small);
		n = (size_t)(i * 7919) % (sizeof(big) - 1);
		assert_int_equal(msg_set_bin(m, MSG_F_CODE, big, n), ERR_OK);
		assert_non_null(msg_bin(m, MSG_F_CODE, &len));
		assert_int_equal(len, n);
		assert_int_equal(msg_set_u64(m, MSG_F_TIMEOUT_MS, (uint64_t)i), ERR_OK);
	}
	/* from its own bytes: a suffix of the current value */
	assert_int_equal(msg_set_str(m, MSG_F_TENANT, "tenant-abc"), ERR_OK);
	assert_int_equal(msg_set_str(m, MSG_F_TENANT, msg_str(m, MSG_F_TENANT, "") + 7), ERR_OK);
	assert_string_equal(msg_str(m, MSG_F_TENANT, NULL), "abc");
	assert_int_equal(msg_set_bin(m, MSG_F_CODE, big, sizeof(big) - 1), ERR_OK);
	assert_int_equal(msg_set_str(m, MSG_F_REQ, "r-1"), ERR_OK);
	assert_int_equal(msg_encode(m, hdr, &body, &len), ERR_OK);
	assert_int_equal(msg_decode(hdr, sizeof(hdr), body, len, &back, why, sizeof(why)), ERR_OK);
	assert_string_equal(msg_str(back, MSG_F_TENANT, NULL), "abc");
	assert_int_equal(msg_u64(back, MSG_F_TIMEOUT_MS, 0), 199);
	assert_non_null(msg_bin(back, MSG_F_CODE, &len));
	assert_int_equal(len, sizeof(big) - 1);
	/* another type's accessor reads 0, as it always did */
	assert_int_equal(msg_u64(back, MSG_F_TENANT, 5), 0);
	assert_int_equal(msg_i64(back, MSG_F_TIMEOUT_MS, 5), 0);
	assert_null(msg_bin(back, MSG_F_TIMEOUT_MS, &len));
	assert_int_equal(len, 0);
	free(body);
	msg_destroy(&back);
	msg_destroy(&m);
}

/* Fields each within their bound can add up to more than one message may
 * carry: msg_encode refuses that (no peer would take it), and msg_unset
 * brings it back under. */
static void
test_encode_too_big(void **state)
{
	struct msg *m = msg_new(MSG_DONE);
	unsigned char hdr[MSG_HEADER_LEN], *body = (unsigned char *)1;
	size_t len = 99, half = MSG_BODY_MAX / 2 + 1;
	char *big = calloc(1, half);

	(void)state;
	assert_non_null(m);
	assert_non_null(big);
	assert_int_equal(msg_set_str(m, MSG_F_ID, "j"), ERR_OK);
	assert_int_equal(msg_set_str(m, MSG_F_STATUS, "ok"), ERR_OK);
	assert_int_equal(msg_set_bin(m, MSG_F_STDOUT, big, half), ERR_OK);
	assert_int_equal(msg_set_bin(m, MSG_F_STDERR, big, half), ERR_OK);
	assert_true(msg_body_bound(m) > MSG_BODY_MAX);
	assert_int_equal(msg_encode(m, hdr, &body, &len), ERR_TOOBIG);
	assert_ptr_equal(body, (unsigned char *)1);	/* nothing handed out */
	msg_unset(m, MSG_F_STDERR);
	msg_unset(m, MSG_F_STDERR);			/* twice: nothing */
	msg_unset(m, MSG_F_REASON);			/* never set: nothing */
	assert_false(msg_has(m, MSG_F_STDERR));
	assert_true(msg_body_bound(m) <= MSG_BODY_MAX);
	assert_int_equal(msg_encode(m, hdr, &body, &len), ERR_OK);
	assert_true(len <= msg_body_bound(m));
	assert_true(len > half);
	free(body);
	msg_destroy(&m);
	free(big);
}

static void
test_encode_missing(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSPECS; i++) {
		for (int f = 0; f < MSG_F__COUNT; f++) {
			struct msg *m;
			unsigned char hdr[MSG_HEADER_LEN];
			unsigned char *body = (unsigned char *)1;
			size_t len = 99;

			if (!is_set(specs[i].required, f))
				continue;
			m = msg_new(specs[i].cmd);
			for (int g = 0; g < MSG_F__COUNT; g++)
				if (g != f && is_set(specs[i].allowed, g))
					assert_int_equal(set_sample(m, (enum msg_field)g), ERR_OK);
			assert_int_equal(msg_encode(m, hdr, &body, &len), ERR_MISSING);
			msg_destroy(&m);
		}
	}
}

static void
test_copy_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < NSPECS; i++) {
		for (size_t j = 0; j < NSPECS; j++) {
			uint64_t mask;
			struct msg *src = full_msg(specs[i].cmd, &mask);
			struct msg *dst = msg_new(specs[j].cmd);

			assert_int_equal(msg_copy_fields(dst, src), ERR_OK);
			for (int f = 0; f < MSG_F__COUNT; f++) {
				enum msg_field fl = (enum msg_field)f;
				bool want = is_set(mask, f) && is_set(specs[j].allowed, f);
				const void *ps, *pd;
				size_t ls, ld;

				assert_int_equal(msg_has(dst, fl), want);
				if (!want)
					continue;
				assert_int_equal(msg_u64(dst, fl, 1), msg_u64(src, fl, 2));
				assert_int_equal(msg_i64(dst, fl, 1), msg_i64(src, fl, 2));
				ps = msg_bin(src, fl, &ls);
				pd = msg_bin(dst, fl, &ld);
				assert_int_equal(ls, ld);
				if (ls > 0) {
					assert_ptr_not_equal(ps, pd);	/* a copy, not a share */
					assert_memory_equal(ps, pd, ls);
				}
			}
			msg_destroy(&src);	/* dst must not depend on src */
			if (msg_has(dst, MSG_F_ID))
				assert_string_equal(msg_str(dst, MSG_F_ID, NULL), "id");
			msg_destroy(&dst);
		}
	}
}

/* ---- allocation failure ---- */

/* Fault injection: while realloc_countdown is >= 0, each realloc counts it
 * down and the one that finds it at 0 fails.  -1: never fail.  Replaces the
 * C library's realloc in this test binary only. */
static long realloc_countdown = -1;

void *
realloc(void *p, size_t n)
{
	static void *(*real_realloc)(void *, size_t);

	if (real_realloc == NULL)
		real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	if (realloc_countdown == 0)
		return NULL;
	if (realloc_countdown > 0)
		realloc_countdown--;
	return real_realloc(p, n);
}

/* msg_encode under a failing realloc at every point: each result is either
 * ERR_NOMEM or a body that decodes to the same message, never a torn one. */
static void
test_encode_out_of_memory(void **state)
{
	struct msg *m = msg_new(MSG_SUBMIT);
	size_t big = 300000;
	unsigned char *code = malloc(big);
	bool injected = true;

	(void)state;
	assert_non_null(code);
	memset(code, 'c', big);
	assert_int_equal(msg_set_str(m, MSG_F_REQ, "r-1"), ERR_OK);
	assert_int_equal(msg_set_bin(m, MSG_F_CODE, code, big), ERR_OK);
	assert_int_equal(msg_set_raw(m, MSG_F_FILES, raw_sample, sizeof(raw_sample)), ERR_OK);
	assert_int_equal(msg_set_str(m, MSG_F_SESSION, "s-1"), ERR_OK);
	for (long k = 0; injected; k++) {
		struct encoded enc = { .body = NULL };
		struct msg *back = NULL;
		char why[256] = "";
		enum err e;

		realloc_countdown = k;
		e = msg_encode(m, enc.hdr, &enc.body, &enc.len);
		injected = realloc_countdown == 0;
		realloc_countdown = -1;
		if (e == ERR_NOMEM)
			continue;
		assert_int_equal(e, ERR_OK);
		if (decode(&enc, &back, why, sizeof(why)) != ERR_OK)
			fail_msg("realloc #%ld failed, msg_encode said ok, body refused: %s", k,
			    why);
		assert_same_fields(m, back);
		msg_destroy(&back);
		free(enc.body);
	}
	free(code);
	msg_destroy(&m);
}

/* ---- documentation ---- */

static bool
is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_';
}

/* True when `key` stands in `doc` as a wire key: quoted (`key`, "key") or
 * alone in a table cell (| key |). */
static bool
doc_mentions(const char *doc, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = strstr(doc, key); p != NULL; p = strstr(p + 1, key)) {
		const char *b = p, *a = p + klen;

		if (p == doc || is_word_char(p[-1]) || is_word_char(*a))
			continue;
		if ((b[-1] == '`' && *a == '`') || (b[-1] == '"' && *a == '"'))
			return true;
		while (b > doc && b[-1] == ' ')
			b--;
		while (*a == ' ')
			a++;
		if (b > doc && b[-1] == '|' && *a == '|')
			return true;
	}
	return false;
}

static void
test_every_key_documented(void **state)
{
	const char *root = getenv("SLUICE_ROOT");
	char path[4096];
	char *doc;
	size_t len;
	int missing = 0;

	(void)state;
	if (root == NULL)
		root = ".";
	snprintf(path, sizeof(path), "%s/schemas/PROTOCOL.md", root);
	if (util_read_file(path, 1 << 20, &doc, &len) != ERR_OK) {
		print_message("skip: %s not readable (PROTOCOL.md is not written yet)\n", path);
		skip();
	}
	assert_true(doc_mentions("a `req` b", "req"));
	assert_false(doc_mentions("request", "req"));
	for (int f = 0; f < MSG_F__COUNT; f++) {
		const char *key = msg_field_key((enum msg_field)f);
		if (!doc_mentions(doc, key)) {
			print_error("schemas/PROTOCOL.md does not mention key `%s`\n", key);
			missing++;
		}
	}
	free(doc);
	assert_int_equal(missing, 0);
}

/* Destroyed messages are reused (msg.c keeps a few spares per thread): a
 * new message is empty whatever its predecessor held, values of their own
 * allocation included, and many more than the spares work (under ASan there
 * are none, which this passes too). */
static void
test_reuse_is_clean(void **state)
{
	static char big[5000];
	struct msg *m[20];

	(void)state;
	memset(big, 'x', sizeof(big));
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 20; i++) {
			assert_non_null(m[i] = msg_new(i % 2 ? MSG_RESULT : MSG_DONE));
			for (int f = 0; f < MSG_F__COUNT; f++)
				assert_false(msg_has(m[i], (enum msg_field)f));
			assert_int_equal(msg_set_str(m[i], MSG_F_ID, "job-1"), ERR_OK);
			assert_int_equal(msg_set_bin(m[i], MSG_F_STDOUT, big, sizeof(big)), ERR_OK);
			assert_int_equal(msg_set_str(m[i], MSG_F_STATUS, "ok"), ERR_OK);
			assert_int_equal(msg_set_i64(m[i], MSG_F_EXIT_CODE, -3), ERR_OK);
		}
		for (int i = 0; i < 20; i++)
			msg_destroy(&m[i]);
	}
	assert_non_null(m[0] = msg_new(MSG_RESULT));
	assert_null(msg_str(m[0], MSG_F_ID, NULL));
	assert_int_equal(msg_i64(m[0], MSG_F_EXIT_CODE, 7), 7);
	msg_destroy(&m[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setters_follow_messages_def),
		cmocka_unit_test(test_round_trip_every_command),
		cmocka_unit_test(test_round_trip_values),
		cmocka_unit_test(test_encode_too_big),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_decode_bad_header),
		cmocka_unit_test(test_decode_body_not_map),
		cmocka_unit_test(test_decode_every_truncation),
		cmocka_unit_test(test_decode_trailing),
		cmocka_unit_test(test_decode_unknown_key),
		cmocka_unit_test(test_decode_duplicate_key),
		cmocka_unit_test(test_decode_wrong_type),
		cmocka_unit_test(test_decode_equivalent_encodings),
		cmocka_unit_test(test_decode_bounds),
		cmocka_unit_test(test_decode_nul_in_text),
		cmocka_unit_test(test_decode_missing_required),
		cmocka_unit_test(test_decode_raw_malformed),
		cmocka_unit_test(test_decode_huge_claims),
		cmocka_unit_test(test_setters_reject),
		cmocka_unit_test(test_setters_replace),
		cmocka_unit_test(test_setters_replace_sizes),
		cmocka_unit_test(test_encode_missing),
		cmocka_unit_test(test_copy_fields),
		cmocka_unit_test(test_encode_out_of_memory),
		cmocka_unit_test(test_every_key_documented),
		cmocka_unit_test(test_reuse_is_clean),
		cmocka_unit_test(test_done_ack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
