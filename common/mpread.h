/*
 * mpread — a bounded, allocation-free msgpack reader.
 *
 * A cursor over untrusted bytes.  Every read checks the remaining length
 * first, so a hostile length prefix can never cause an allocation or a read
 * past the end; container counts are returned, not trusted (the caller loops
 * and each element read is bounds-checked again).  msgpack-c's own unpacker
 * allocates containers by their declared count, which is why decoding goes
 * through this reader while encoding uses msgpack-c's packer.
 */
#ifndef SLUICE_MPREAD_H
#define SLUICE_MPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct mpread {
	const unsigned char *p;
	size_t left;
};

enum mpread_kind {
	MPREAD_NIL, MPREAD_BOOL, MPREAD_UINT, MPREAD_INT, MPREAD_FLOAT,
	MPREAD_STR, MPREAD_BIN, MPREAD_ARRAY, MPREAD_MAP, MPREAD_EXT
};

/* One decoded head: scalars carry their value; str/bin point into the input
 * (borrowed, `len` bytes, not NUL-terminated); array/map carry their count. */
struct mpread_item {
	enum mpread_kind kind;
	bool b;
	uint64_t u;
	int64_t i;
	double f;
	const unsigned char *ptr;
	uint32_t len;		/* str/bin/ext length, array/map count */
};

void mpread_init(struct mpread *r, const void *buf, size_t len);

/* Reads one head (the whole value for scalars, str and bin).  Returns ERR_OK,
 * ERR_TRUNCATED when the input ends inside it, ERR_TYPE on a reserved byte. */
enum err mpread_next(struct mpread *r, struct mpread_item *it);

/* Skips one complete value, nested at most `max_depth` levels.  Returns
 * ERR_OK, ERR_TRUNCATED, ERR_TYPE or ERR_TOOBIG (too deep). */
enum err mpread_skip(struct mpread *r, unsigned max_depth);

/* Convenience: reads an unsigned integer (a non-negative int also counts). */
enum err mpread_u64(struct mpread *r, uint64_t *out);
/* Reads a str or bin; `out` is borrowed from the input. */
enum err mpread_bytes(struct mpread *r, const unsigned char **out, uint32_t *len);

#endif
