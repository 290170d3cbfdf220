/*
 * wspath — workspace paths and data classification, shared by the broker
 * (checks a submission's input files), the worker (checks them again and
 * labels output files) and the CLI (names classes).
 *
 * A job's input files travel in the `files` field as a msgpack array of maps
 * {"path": str, "data": bin, "class": str (optional)}.  A path is relative to
 * /work; it is normalised ("./a//b" -> "a/b") and refused when it is absolute,
 * climbs out with "..", holds a NUL or control byte, is too long or too deep,
 * names a file the worker writes itself, or repeats an earlier path.
 *
 * Classes are ordered: public < internal < confidential < restricted.  An
 * output file is labelled with the highest class among the inputs the job
 * read (taint), never lower than its own class as an input.
 */
#ifndef SLUICE_WSPATH_H
#define SLUICE_WSPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define WSPATH_MAX		255	/* bytes of a normalised path */
#define WSPATH_MAX_DEPTH	8	/* components of a path */

enum wspath_class {
	WSPATH_PUBLIC = 0,
	WSPATH_INTERNAL = 1,
	WSPATH_CONFIDENTIAL = 2,
	WSPATH_RESTRICTED = 3,
};
#define WSPATH_CLASS_COUNT 4

struct wspath_limits {
	uint32_t max_files;	/* input files per job */
	uint64_t max_bytes;	/* input bytes per job, all files */
	bool any_name;		/* reserved names are fine (paths below session/) */
};

/* 64 files, 32 MiB, no reserved names. */
extern const struct wspath_limits wspath_limits_default;

/* One input file: path normalised, data borrowed from the FILES bytes. */
struct wspath_input {
	char path[WSPATH_MAX + 1];
	enum wspath_class cls;
	const unsigned char *data;
	uint32_t len;
};

/* "public" .. "restricted"; "?" for a bad value. */
const char *wspath_class_name(enum wspath_class c);

/* Parses a class name; ERR_INVAL when unknown. */
enum err wspath_class_parse(const char *s, size_t len, enum wspath_class *out);

/* A "withhold from" threshold (files of this class and up are listed, not
 * returned): a class name, or "never" = WSPATH_CLASS_COUNT (nothing is
 * withheld).  ERR_INVAL when neither. */
enum err wspath_withhold_parse(const char *s, int *out);

/* Normalises `in` (len bytes, untrusted) into out (WSPATH_MAX + 1 bytes).
 * Returns ERR_OK, or ERR_INVAL / ERR_TOOBIG with a reason in why. */
enum err wspath_normalize(const void *in, size_t len, char out[WSPATH_MAX + 1], char *why,
    size_t whysz);

/* True for paths the worker owns in /work (the program, the prelude, the
 * session folder); an input file may not use them. */
bool wspath_is_reserved(const char *norm);

/* Parses and checks a `files` field.  On success *out is a fresh array of
 * *n inputs (free with free()); their data points into raw.  Missing classes
 * get `dflt`.  Fails with ERR_INVAL / ERR_TOOBIG / ERR_DUPLICATE / ERR_TYPE /
 * ERR_NOMEM and a reason naming the file (its index and, when printable, its
 * path) in why; *out is then NULL. */
enum err wspath_inputs_parse(const void *raw, size_t len, const struct wspath_limits *lim,
    enum wspath_class dflt, struct wspath_input **out, size_t *n, char *why, size_t whysz);

/* The class of an output file at `path`: the highest of `taint` and the
 * class `path` had as an input (when it was one). */
enum wspath_class wspath_output_class(const struct wspath_input *in, size_t n, const char *path,
    enum wspath_class taint);

#endif
