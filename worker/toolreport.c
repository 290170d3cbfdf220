/*
 * toolreport — per-job tally of MCP tool calls (see toolreport.h).
 * Runs in sluice-worker, fed by the job's gateway audit records.  Tool names
 * come from the jailed program (a refused call names whatever it asked for):
 * they are cut and counted, never trusted to be few.
 *
 * Wire form (the `tool_calls` field of DONE and RESULT):
 *
 *   [ {"tool": "memory.create_entities", "calls": 1, "errors": 0,
 *      "bytes_in": 412, "bytes_out": 9137, "ms": 38}, ... ]
 *
 * bytes_in: request lines the job sent; bytes_out: answers it received.
 */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "worker/toolreport.h"

struct tally {
	char tool[TOOLREPORT_NAME_MAX + 1];
	uint64_t calls, errors, bytes_in, bytes_out;
	int64_t ms;
};

struct toolreport {
	struct tally t[TOOLREPORT_TOOLS + 1];	/* the last one is "(other)" */
	size_t n;
	bool other;
};

struct toolreport *
toolreport_new(void)
{
	return calloc(1, sizeof(struct toolreport));
}

void
toolreport_destroy(struct toolreport **trp)
{
	if (trp == NULL || *trp == NULL)
		return;
	free(*trp);
	*trp = NULL;
}

void
toolreport_add(struct toolreport *tr, const char *server, const char *tool, bool ok,
    uint64_t bytes_in, uint64_t bytes_out, int64_t ms)
{
	char name[TOOLREPORT_NAME_MAX + 1], full[2 * TOOLREPORT_NAME_MAX + 512];
	struct tally *t = NULL;
	size_t n;

	/* cut at a UTF-8 boundary: the report is JSON for the client */
	snprintf(full, sizeof(full), "%s%s%s", server, server[0] ? "." : "", tool);
	n = strlen(full);
	util_utf8_prefix(full, &n, TOOLREPORT_NAME_MAX);
	memcpy(name, full, n);
	name[n] = '\0';
	for (size_t i = 0; i < tr->n && t == NULL; i++)
		if (strcmp(tr->t[i].tool, name) == 0)
			t = &tr->t[i];
	if (t == NULL && tr->n < TOOLREPORT_TOOLS) {
		t = &tr->t[tr->n++];
		memcpy(t->tool, name, sizeof(name));
	}
	if (t == NULL) {
		t = &tr->t[TOOLREPORT_TOOLS];
		snprintf(t->tool, sizeof(t->tool), "(other)");
		tr->other = true;
	}
	t->calls++;
	t->errors += ok ? 0 : 1;
	t->bytes_in += bytes_in;
	t->bytes_out += bytes_out;
	t->ms += ms > 0 ? ms : 0;
}

size_t
toolreport_count(const struct toolreport *tr)
{
	return tr->n + (tr->other ? 1 : 0);
}

static void
pack_key(msgpack_packer *pk, const char *k)
{
	msgpack_pack_str(pk, strlen(k));
	msgpack_pack_str_body(pk, k, strlen(k));
}

enum err
toolreport_pack(const struct toolreport *tr, unsigned char **out, size_t *len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t n = toolreport_count(tr);

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i <= TOOLREPORT_TOOLS; i++) {
		const struct tally *t = &tr->t[i];
		if (i >= tr->n && !(i == TOOLREPORT_TOOLS && tr->other))
			continue;
		msgpack_pack_map(&pk, 6);
		pack_key(&pk, "tool");
		pack_key(&pk, t->tool);
		pack_key(&pk, "calls");
		msgpack_pack_uint64(&pk, t->calls);
		pack_key(&pk, "errors");
		msgpack_pack_uint64(&pk, t->errors);
		pack_key(&pk, "bytes_in");
		msgpack_pack_uint64(&pk, t->bytes_in);
		pack_key(&pk, "bytes_out");
		msgpack_pack_uint64(&pk, t->bytes_out);
		pack_key(&pk, "ms");
		msgpack_pack_uint64(&pk, (uint64_t)t->ms);
	}
	if (sb.data == NULL) {
		msgpack_sbuffer_destroy(&sb);
		return ERR_NOMEM;
	}
	*out = (unsigned char *)sb.data;
	*len = sb.size;
	return ERR_OK;
}
