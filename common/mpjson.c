/*
 * mpjson — msgpack to JSON for RAW fields (risk, privacy, files), used by the
 * CLI.  The bytes were checked by the codec but are still treated as
 * untrusted: every read goes through mpread and depth is bounded.
 */
#include <stdlib.h>

#include "common/mpjson.h"
#include "common/mpread.h"
#include "common/util.h"

#define MPJSON_DEPTH 8

static json_t *
text(const unsigned char *p, uint32_t len)
{
	size_t clen;
	char *clean = util_utf8_clean(p, len, &clen);
	json_t *j = clean ? json_stringn(clean, clen) : NULL;
	free(clean);
	return j;
}

static json_t *
value(struct mpread *r, unsigned depth)
{
	struct mpread_item it;
	json_t *out = NULL;

	if (mpread_next(r, &it) != ERR_OK)
		return NULL;
	switch (it.kind) {
	case MPREAD_NIL: return json_null();
	case MPREAD_BOOL: return json_boolean(it.b);
	case MPREAD_UINT: return json_integer((json_int_t)it.u);
	case MPREAD_INT: return json_integer((json_int_t)it.i);
	case MPREAD_FLOAT: return json_real(it.f);
	case MPREAD_STR:
	case MPREAD_BIN: return text(it.ptr, it.len);
	case MPREAD_EXT: return json_null();
	case MPREAD_ARRAY:
		if (depth == 0 || it.len > r->left || (out = json_array()) == NULL)
			return NULL;
		for (uint32_t i = 0; i < it.len; i++) {
			json_t *v = value(r, depth - 1);
			if (v == NULL || json_array_append_new(out, v) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	case MPREAD_MAP:
		if (depth == 0 || it.len > r->left || (out = json_object()) == NULL)
			return NULL;
		for (uint32_t i = 0; i < it.len; i++) {
			struct mpread_item k;
			char key[256];
			json_t *v;
			if (mpread_next(r, &k) != ERR_OK || k.kind != MPREAD_STR || k.len >= sizeof(key)) {
				json_decref(out);
				return NULL;
			}
			for (uint32_t c = 0; c < k.len; c++)
				key[c] = k.ptr[c] ? (char)k.ptr[c] : '?';
			key[k.len] = '\0';
			if ((v = value(r, depth - 1)) == NULL) {
				json_decref(out);
				return NULL;
			}
			json_object_set_new(out, key, v);
		}
		return out;
	}
	return NULL;
}

json_t *
mpjson_decode(const void *p, size_t len)
{
	struct mpread r;
	json_t *v;

	mpread_init(&r, p, len);
	if ((v = value(&r, MPJSON_DEPTH)) != NULL && r.left != 0) {
		json_decref(v);
		return NULL;
	}
	return v;
}
