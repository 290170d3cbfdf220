/*
 * msg — sluice wire messages (schemas/fields.def, schemas/messages.def).
 *
 * A message travels as two ZeroMQ frames (after any ROUTER routing id):
 *
 *   frame 1, header (4 bytes)          frame 2, body
 *   +------+------+---------+-----+    +------------------------------------+
 *   | 'S'  | 'L'  | version | cmd |    | msgpack map: "key" -> value, one   |
 *   +------+------+---------+-----+    | entry per field present; nothing   |
 *                                      | after the map                      |
 *                                      +------------------------------------+
 *
 * Decoding checks the header, the command, every key (unknown keys and
 * duplicates rejected), every value's type and bound, the required fields,
 * and that no byte follows the map.  A decoded message owns copies of its
 * strings (NUL-terminated), so it outlives the frames it came from.
 */
#ifndef SLUICE_MSG_H
#define SLUICE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define MSG_VERSION 1
#define MSG_HEADER_LEN 4
/* No body may exceed this; sockets also set ZMQ_MAXMSGSIZE a little above. */
#define MSG_BODY_MAX (80u * 1024 * 1024)

enum msg_field {
#define FIELD(name, key, type, max, doc) MSG_F_##name,
#include "schemas/fields.def"
#undef FIELD
	MSG_F__COUNT
};

enum msg_cmd {
	MSG_NONE = 0,
#define F(x) 0
#define MSG(name, code, dir, req, opt) MSG_##name = code,
#include "schemas/messages.def"
#undef MSG
#undef F
};

enum msg_type { MSG_T_U64, MSG_T_I64, MSG_T_BOOL, MSG_T_STR, MSG_T_BIN, MSG_T_RAW };

struct msg;

/* A fresh, empty message of command `cmd`; NULL on out-of-memory or an
 * unknown command. */
struct msg *msg_new(enum msg_cmd cmd);
void msg_destroy(struct msg **mp);

enum msg_cmd msg_cmd(const struct msg *m);
const char *msg_cmd_name(enum msg_cmd cmd);	/* "SUBMIT", or "?" */
const char *msg_field_key(enum msg_field f);	/* wire key, or "?" */
enum msg_type msg_field_type(enum msg_field f);
uint64_t msg_field_max(enum msg_field f);

/* Setters copy their input.  They return ERR_INVAL when the field does not
 * belong to this command or has another type, ERR_TOOBIG when the value is
 * over the field's bound, ERR_NOMEM. */
enum err msg_set_u64(struct msg *m, enum msg_field f, uint64_t v);
enum err msg_set_i64(struct msg *m, enum msg_field f, int64_t v);
enum err msg_set_bool(struct msg *m, enum msg_field f, bool v);
enum err msg_set_str(struct msg *m, enum msg_field f, const char *s);
enum err msg_set_bin(struct msg *m, enum msg_field f, const void *p, size_t len);
/* RAW: `p` must be one well-formed msgpack value. */
enum err msg_set_raw(struct msg *m, enum msg_field f, const void *p, size_t len);

/* Removes field f (nothing when it is not set). */
void msg_unset(struct msg *m, enum msg_field f);

bool msg_has(const struct msg *m, enum msg_field f);
uint64_t msg_u64(const struct msg *m, enum msg_field f, uint64_t dflt);
int64_t msg_i64(const struct msg *m, enum msg_field f, int64_t dflt);
bool msg_bool(const struct msg *m, enum msg_field f, bool dflt);
/* Borrowed, NUL-terminated; `dflt` when absent. */
const char *msg_str(const struct msg *m, enum msg_field f, const char *dflt);
/* Borrowed bytes of a BIN, STR or RAW field (NUL-terminated too); NULL when absent. */
const void *msg_bin(const struct msg *m, enum msg_field f, size_t *len);

/* Copies every field present in `src` that `dst`'s command accepts. */
enum err msg_copy_fields(struct msg *dst, const struct msg *src);

/* Encodes into a fresh header (MSG_HEADER_LEN bytes, caller-provided) and a
 * fresh body the caller frees.  ERR_MISSING when a required field is absent,
 * ERR_TOOBIG when the body would be over MSG_BODY_MAX (each field within its
 * own bound can still add up to more): never a message no peer would take. */
enum err msg_encode(const struct msg *m, unsigned char hdr[MSG_HEADER_LEN],
    unsigned char **body, size_t *bodylen);

/* An upper bound of the encoded body's size (what msg_encode allocates). */
size_t msg_body_bound(const struct msg *m);

/* A bounded output for msgpack-c's packer over a caller's buffer:
 * msgpack_packer_init(&pk, &sink, msg_sink_write).  A write that does not
 * fit returns -1 and stores nothing (used by msg_encode and audit_encode). */
struct msg_sink {
	unsigned char *buf;
	size_t cap, len;
};
int msg_sink_write(void *sink, const char *bytes, size_t len);

/* Decodes a header and body.  Returns ERR_OK and a fresh message in *out, or
 * an error with a short reason (naming the field) in `why`. */
enum err msg_decode(const void *hdr, size_t hdrlen, const void *body, size_t bodylen,
    struct msg **out, char *why, size_t whysz);

#endif
