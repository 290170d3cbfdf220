/*
 * result — RESULT message to JSON (see result.h).  Used by the CLI and
 * sluice-mcp.  The message was decoded strictly; output bytes are untrusted
 * and are made valid UTF-8 here.
 */
#include <stdlib.h>

#include "client/result.h"
#include "common/mpjson.h"
#include "common/util.h"

static json_t *
text(const struct msg *r, enum msg_field f)
{
	size_t len, clen;
	const void *p = msg_bin(r, f, &len);
	char *clean = util_utf8_clean(p ? p : "", len, &clen);
	json_t *j;

	if (clean == NULL)
		return NULL;
	j = json_stringn(clean, clen);
	free(clean);
	return j;
}

json_t *
result_json(const struct msg *r)
{
	json_t *o = json_object(), *metrics = json_object();

	if (o == NULL || metrics == NULL) {
		json_decref(o);
		json_decref(metrics);
		return NULL;
	}
	json_object_set_new(o, "id", json_string(msg_str(r, MSG_F_ID, "")));
	json_object_set_new(o, "status", json_string(msg_str(r, MSG_F_STATUS, "")));
	json_object_set_new(o, "exit_code", json_integer(msg_i64(r, MSG_F_EXIT_CODE, -1)));
	json_object_set_new(o, "stdout", text(r, MSG_F_STDOUT));
	json_object_set_new(o, "stderr", text(r, MSG_F_STDERR));
	json_object_set_new(o, "truncated", json_boolean(msg_bool(r, MSG_F_TRUNCATED, false)));
	if (msg_has(r, MSG_F_REASON))
		json_object_set_new(o, "reason", json_string(msg_str(r, MSG_F_REASON, "")));
	json_object_set_new(metrics, "wall_ms", json_integer((json_int_t)msg_u64(r, MSG_F_WALL_MS, 0)));
	json_object_set_new(metrics, "cpu_ms", json_integer((json_int_t)msg_u64(r, MSG_F_CPU_MS, 0)));
	json_object_set_new(metrics, "max_rss_kb",
	    json_integer((json_int_t)msg_u64(r, MSG_F_MAX_RSS_KB, 0)));
	json_object_set_new(o, "metrics", metrics);
	static const struct { const char *name; enum msg_field f; } raws[] = {
		{ "risk", MSG_F_RISK }, { "privacy", MSG_F_PRIVACY }, { "files", MSG_F_FILES },
		{ "tool_calls", MSG_F_TOOL_CALLS },
	};
	for (size_t i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
		size_t len;
		const void *p = msg_bin(r, raws[i].f, &len);
		json_t *v = p ? mpjson_decode(p, len) : NULL;
		if (v != NULL)
			json_object_set_new(o, raws[i].name, v);
	}
	return o;
}
