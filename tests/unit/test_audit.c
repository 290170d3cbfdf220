/* Unit tests for common/audit: fields, canonical encoding, chain, JSON form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "common/audit.h"
#include "common/err.h"

static void
make_event(struct audit_event *ev, enum audit_type t)
{
	assert_int_equal(audit_event_init(ev, t), ERR_OK);
	ev->seq = 7;
	assert_int_equal(audit_event_set(ev, "job", "job-42"), ERR_OK);
	assert_int_equal(audit_event_set(ev, "session", "sess-1"), ERR_OK);
	assert_int_equal(audit_event_set(ev, "tenant", "acme"), ERR_OK);
	assert_int_equal(audit_event_set(ev, "actor", "broker@host1"), ERR_OK);
	assert_int_equal(audit_event_set(ev, "code_sha256",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), ERR_OK);
	ev->in_bytes = 100;
	ev->out_bytes = 2000;
	ev->duration_ms = 31;
	ev->cpu_ms = 12;
	ev->max_rss_kb = 40960;
	assert_int_equal(audit_event_set_details(ev, "{\"z\": 1, \"a\": [true, \"x\"]}", strlen("{\"z\": 1, \"a\": [true, \"x\"]}")), ERR_OK);
	memset(ev->prev_hash, 0xab, AUDIT_HASH_LEN);
	assert_int_equal(audit_event_compute_hash(ev, ev->hash), ERR_OK);
}

static void
assert_same_event(const struct audit_event *a, const struct audit_event *b)
{
	assert_string_equal(a->id, b->id);
	assert_true(a->seq == b->seq);
	assert_string_equal(a->time, b->time);
	assert_int_equal(a->type, b->type);
	assert_string_equal(a->job, b->job);
	assert_string_equal(a->session, b->session);
	assert_string_equal(a->tenant, b->tenant);
	assert_string_equal(a->actor, b->actor);
	assert_string_equal(a->code_sha256, b->code_sha256);
	assert_true(a->in_bytes == b->in_bytes && a->out_bytes == b->out_bytes);
	assert_true(a->duration_ms == b->duration_ms && a->cpu_ms == b->cpu_ms);
	assert_true(a->max_rss_kb == b->max_rss_kb);
	assert_string_equal(a->details, b->details);
	assert_memory_equal(a->prev_hash, b->prev_hash, AUDIT_HASH_LEN);
	assert_memory_equal(a->hash, b->hash, AUDIT_HASH_LEN);
}

static void
test_type_names(void **state)
{
	enum audit_type t;
	(void)state;
	for (int i = AUDIT_TYPE_MIN; i <= AUDIT_TYPE_MAX; i++) {
		assert_int_equal(audit_type_parse(audit_type_name((enum audit_type)i), &t), ERR_OK);
		assert_int_equal((int)t, i);
	}
	assert_string_equal(audit_type_name(AUDIT_SANDBOX_VIOLATION), "sandbox_violation");
	assert_string_equal(audit_type_name((enum audit_type)0), "unknown");
	assert_string_equal(audit_type_name((enum audit_type)11), "unknown");
	assert_int_equal(audit_type_parse("Error", &t), ERR_INVAL);
	assert_int_equal(audit_type_parse("", &t), ERR_INVAL);
}

static void
test_init_fields(void **state)
{
	struct audit_event a, b;
	(void)state;
	assert_int_equal(audit_event_init(&a, AUDIT_ERROR), ERR_OK);
	assert_int_equal(audit_event_init(&b, AUDIT_ERROR), ERR_OK);
	assert_int_equal(strlen(a.id), AUDIT_ID_HEX);
	assert_string_not_equal(a.id, b.id);
	assert_true(audit_time_is_valid(a.time));
	assert_int_equal(audit_event_init(&a, (enum audit_type)0), ERR_INVAL);
	assert_int_equal(audit_event_set(&b, "job", "has\nnewline"), ERR_INVAL);
	assert_int_equal(audit_event_set(&b, "code_sha256", "abc"), ERR_INVAL);
	assert_int_equal(audit_event_set(&b, "time", "2026-13-01T00:00:00.000000000Z"), ERR_INVAL);
	assert_int_equal(audit_event_set(&b, "nope", "x"), ERR_INVAL);
	char big[AUDIT_NAME_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(audit_event_set(&b, "session", big), ERR_TOOBIG);
	big[AUDIT_NAME_MAX] = '\0';
	assert_int_equal(audit_event_set(&b, "session", big), ERR_OK);
	/* actor is required */
	char why[128];
	assert_int_equal(audit_event_validate(&b, why, sizeof(why)), ERR_INVAL);
	assert_non_null(strstr(why, "actor"));
}

static void
test_details_canonical(void **state)
{
	struct audit_event ev;
	(void)state;
	assert_int_equal(audit_event_init(&ev, AUDIT_FILE_ACCESS), ERR_OK);
	assert_int_equal(audit_event_set_details(&ev, "{ \"b\":2,\"a\" : 1 }", strlen("{ \"b\":2,\"a\" : 1 }")), ERR_OK);
	assert_string_equal(ev.details, "{\"a\":1,\"b\":2}");
	assert_int_equal(audit_event_set_details(&ev, "[1]", 3), ERR_TYPE);
	assert_int_equal(audit_event_set_details(&ev, "{\"a\":", 5), ERR_INVAL);
	assert_int_equal(audit_event_set_details(&ev, "{\"a\":1,\"a\":2}", 13), ERR_INVAL);
	assert_string_equal(ev.details, "{\"a\":1,\"b\":2}");
	size_t n = AUDIT_DETAILS_MAX + 100;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'x', n);
	memcpy(big, "{\"k\":\"", 6);
	memcpy(big + n - 2, "\"}", 2);
	big[n] = '\0';
	assert_int_equal(audit_event_set_details(&ev, big, n), ERR_TOOBIG);
	free(big);
	audit_event_clear(&ev);
	assert_null(ev.details);
}

/* The one-pass details path gives the bytes set_details would store. */
static void
test_details_take(void **state)
{
	struct audit_event ev, ref;
	json_t *o = json_pack("{s:s, s:i, s:[s], s:b}", "status", "ok\u00e9\"", "exit_code", -1,
	    "list", "x", "a", 1);
	char *txt, *bad = strdup("[1]");
	(void)state;
	assert_non_null(o);
	assert_null(audit_details_canonical(NULL));
	txt = audit_details_canonical(o);
	assert_non_null(txt);
	assert_int_equal(audit_event_init(&ev, AUDIT_EXECUTION_END), ERR_OK);
	assert_int_equal(audit_event_init(&ref, AUDIT_EXECUTION_END), ERR_OK);
	assert_int_equal(audit_event_set_details(&ref, txt, strlen(txt)), ERR_OK);
	assert_int_equal(audit_event_take_details(&ev, &txt), ERR_OK);
	assert_null(txt);
	assert_string_equal(ev.details, ref.details);
	assert_int_equal(audit_event_take_details(&ev, &txt), ERR_INVAL);	/* NULL */
	assert_int_equal(audit_event_take_details(&ev, &bad), ERR_INVAL);	/* not an object */
	assert_non_null(bad);
	free(bad);
	assert_string_equal(ev.details, ref.details);
	audit_event_clear(&ev);
	audit_event_clear(&ref);
	json_decref(o);
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Ids come from a per-thread pool: distinct across refills, and a forked
 * child does not repeat the parent's next id. */
static void
test_event_ids_unique(void **state)
{
	enum { N = 700 };	/* > 256 per 4 KiB pool: crosses refills */
	static char ids[N][AUDIT_ID_HEX + 1];
	struct audit_event ev;
	char child[AUDIT_ID_HEX + 1] = "";
	int fd[2];
	pid_t pid;
	(void)state;
	for (int i = 0; i < N; i++) {
		assert_int_equal(audit_event_init(&ev, AUDIT_ERROR), ERR_OK);
		assert_int_equal(strlen(ev.id), AUDIT_ID_HEX);
		memcpy(ids[i], ev.id, sizeof(ids[i]));
	}
	qsort(ids, N, sizeof(ids[0]), cmp_id);
	for (int i = 1; i < N; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
	assert_int_equal(pipe(fd), 0);
	if ((pid = fork()) == 0) {
		audit_event_init(&ev, AUDIT_ERROR);
		_exit(write(fd[1], ev.id, AUDIT_ID_HEX) == AUDIT_ID_HEX ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(read(fd[0], child, AUDIT_ID_HEX), AUDIT_ID_HEX);
	waitpid(pid, NULL, 0);
	close(fd[0]);
	close(fd[1]);
	assert_int_equal(audit_event_init(&ev, AUDIT_ERROR), ERR_OK);
	assert_string_not_equal(child, ev.id);
}

/* Times: the cached date part follows the seconds, nanoseconds are padded. */
static void
test_time_format(void **state)
{
	struct timespec ts = { 0, 5 };
	char t[AUDIT_TIME_LEN + 1];
	(void)state;
	audit_time_format(&ts, t);
	assert_string_equal(t, "1970-01-01T00:00:00.000000005Z");
	ts.tv_sec = 1795734245;		/* 2026-11-26T23:04:05Z */
	ts.tv_nsec = 999999999;
	audit_time_format(&ts, t);
	assert_string_equal(t, "2026-11-26T23:04:05.999999999Z");
	assert_true(audit_time_is_valid(t));
	ts.tv_sec += 86400 * 36;	/* a new year */
	ts.tv_nsec = 120000000;
	audit_time_format(&ts, t);
	assert_string_equal(t, "2027-01-01T23:04:05.120000000Z");
}

/* Names from outside (a worker's host, an approver's user) go into text
 * fields escaped and cut, never failing the event. */
static void
test_set_escaped(void **state)
{
	struct audit_event ev;
	char big[400];

	(void)state;
	assert_int_equal(audit_event_init(&ev, AUDIT_EXECUTION_START), ERR_OK);
	assert_int_equal(audit_event_set_escaped(&ev, "actor", "worker@plain-host.1"), ERR_OK);
	assert_string_equal(ev.actor, "worker@plain-host.1");
	assert_int_equal(audit_event_set_escaped(&ev, "actor", "jos\xc3\xa9@h\\q\n"), ERR_OK);
	assert_string_equal(ev.actor, "jos\\xc3\\xa9@h\\x5cq\\x0a");
	assert_int_equal(audit_event_set_escaped(&ev, "actor", ""), ERR_OK);
	assert_string_equal(ev.actor, "?");
	assert_int_equal(audit_event_set_escaped(&ev, "actor", NULL), ERR_OK);
	assert_string_equal(ev.actor, "?");
	/* exactly the bound fits whole; one byte more is cut with "..." */
	memset(big, 'a', sizeof(big));
	big[AUDIT_ACTOR_MAX] = '\0';
	assert_int_equal(audit_event_set_escaped(&ev, "actor", big), ERR_OK);
	assert_int_equal(strlen(ev.actor), AUDIT_ACTOR_MAX);
	assert_int_equal(strspn(ev.actor, "a"), AUDIT_ACTOR_MAX);
	big[AUDIT_ACTOR_MAX] = 'a';
	big[AUDIT_ACTOR_MAX + 1] = '\0';
	assert_int_equal(audit_event_set_escaped(&ev, "actor", big), ERR_OK);
	assert_int_equal(strlen(ev.actor), AUDIT_ACTOR_MAX);
	assert_string_equal(ev.actor + AUDIT_ACTOR_MAX - 3, "...");
	/* an escape is never cut in half */
	memset(big, 0xff, 300);
	big[300] = '\0';
	assert_int_equal(audit_event_set_escaped(&ev, "session", big), ERR_OK);
	assert_true(strlen(ev.session) <= AUDIT_NAME_MAX);
	assert_string_equal(ev.session + strlen(ev.session) - 7, "\\xff...");
	assert_int_equal((strlen(ev.session) - 3) % 4, 0);
	assert_int_equal(audit_event_validate(&ev, NULL, 0), ERR_OK);
	/* what fits whole, as audit_event_set takes it */
	assert_true(audit_text_fits("session", "s-1 ok"));
	assert_false(audit_text_fits("session", "jos\xc3\xa9"));
	memset(big, 'a', sizeof(big));
	big[AUDIT_NAME_MAX] = '\0';
	assert_true(audit_text_fits("session", big));
	big[AUDIT_NAME_MAX] = 'a';
	big[AUDIT_NAME_MAX + 1] = '\0';
	assert_false(audit_text_fits("session", big));
	assert_false(audit_text_fits("code_sha256", "x"));
	/* only text fields */
	assert_int_equal(audit_event_set_escaped(&ev, "code_sha256", "x"), ERR_INVAL);
	assert_int_equal(audit_event_set_escaped(&ev, "time", "x"), ERR_INVAL);
	assert_int_equal(audit_event_set_escaped(&ev, "nope", "x"), ERR_INVAL);
}

/* The bounds of a time selection (`sluice audit export --since/--until`). */
static void
test_time_prefix(void **state)
{
	static const char *const good[] = {
		"2026", "2026-", "2026-1", "2026-11", "2026-11-2", "2026-11-26", "2026-11-26T",
		"2026-11-26T05", "2026-11-26T05:40", "2026-11-26T05:40:01",
		"2026-11-26T05:40:01.", "2026-11-26T05:40:01.1", "2026-11-26T05:40:01.123456789",
		"2026-11-26T05:40:01.123456789Z",
		"2026-02-29T23:59:60.999999999Z",
	};
	static const char *const bad[] = {
		"", "2", "202", "0", "z", "yesterday", "2026/11/26", "2026-13", "2026-00",
		"2026-11-32", "2026-11-26 05", "2026-11-26T24", "2026-11-26T3", "2026-11-26T05:60",
		"2026-11-26T05:40:01Z", "1969",
		"2026-11-26T05:40:01.123456789Z0", "2026-11-26T05:40:01.12345678xZ",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!audit_time_prefix_is_valid(good[i]))
			fail_msg("refused %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (audit_time_prefix_is_valid(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	assert_false(audit_time_prefix_is_valid(NULL));
}

static void
test_canonical_round_trip(void **state)
{
	struct audit_event ev, back;
	uint8_t buf[AUDIT_CANON_MAX], buf2[AUDIT_CANON_MAX];
	size_t len, len2;
	(void)state;
	make_event(&ev, AUDIT_EXECUTION_END);
	assert_int_equal(audit_encode(&ev, true, buf, sizeof(buf), &len), ERR_OK);
	assert_int_equal(buf[0], 0xdc);	/* array16 of 18 */
	assert_int_equal(buf[1], 0);
	assert_int_equal(buf[2], 18);
	assert_int_equal(audit_decode(buf, len, &back), ERR_OK);
	assert_same_event(&ev, &back);
	assert_int_equal(audit_encode(&back, true, buf2, sizeof(buf2), &len2), ERR_OK);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	audit_event_clear(&back);
	/* truncated at every length */
	for (size_t cut = 0; cut < len; cut++) {
		struct audit_event t;
		int rc = audit_decode(buf, cut, &t);
		assert_int_not_equal(rc, ERR_OK);
	}
	/* trailing byte */
	buf[len] = 0xc0;
	assert_int_equal(audit_decode(buf, len + 1, &back), ERR_TRAILING);
	/* too small an output buffer */
	assert_int_equal(audit_encode(&ev, true, buf, 40, &len2), ERR_TOOBIG);
	/* the body form is 16 elements and is not decodable as stored form */
	assert_int_equal(audit_encode(&ev, false, buf, sizeof(buf), &len2), ERR_OK);
	assert_int_equal(buf[2], 16);
	assert_int_equal(audit_decode(buf, len2, &back), ERR_INVAL);
	audit_event_clear(&ev);
}

static void
test_canonical_wrong_types(void **state)
{
	struct audit_event ev, back;
	uint8_t buf[AUDIT_CANON_MAX];
	size_t len;
	(void)state;
	make_event(&ev, AUDIT_RISK_ASSESSMENT);
	assert_int_equal(audit_encode(&ev, true, buf, sizeof(buf), &len), ERR_OK);
	/* element 0 (version) is the byte after the 3-byte array header */
	buf[3] = 2;
	assert_int_equal(audit_decode(buf, len, &back), ERR_VERSION);
	buf[3] = 0xa1;	/* fixstr of 1: wrong type, and the rest is shifted */
	assert_int_not_equal(audit_decode(buf, len, &back), ERR_OK);
	buf[3] = 1;
	buf[0] = 0x80;	/* a map, not an array */
	assert_int_not_equal(audit_decode(buf, len, &back), ERR_OK);
	uint8_t notarr[] = { 0x05 };
	assert_int_equal(audit_decode(notarr, 1, &back), ERR_TYPE);
	audit_event_clear(&ev);
}

/* audit_details_flat gives exactly audit_details_canonical's bytes, or NULL
 * (then the caller uses jansson) - never different bytes. */
static void
test_details_flat(void **state)
{
	static const char *const strs[] = { "", "ok", "a b/c'd~", " ", "~", "x\"y", "x\\y",
	    "tab\there", "nl\n", "\x01", "\x7f", "caf\xc3\xa9", "host-1.example", "<&>" };
	static const long long ints[] = { 0, -1, 1, 255, -255, 9007199254740991LL,
	    -9223372036854775807LL - 1, 9223372036854775807LL };
	size_t flat = 0, fallback = 0;
	(void)state;

	for (size_t a = 0; a < sizeof(strs) / sizeof(strs[0]); a++)
		for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++)
			for (int t = 0; t < 2; t++) {
				const struct audit_kv kv[] = {
					{ "exit_code", AUDIT_KV_INT, NULL, ints[k] },
					{ "reason", AUDIT_KV_STR, strs[a], 0 },
					{ "status", AUDIT_KV_STR, strs[(a + k) % 14], 0 },
					{ "truncated", AUDIT_KV_BOOL, NULL, t },
				};
				json_t *obj = json_pack("{s:I, s:s, s:s, s:b}", "exit_code",
				    (json_int_t)ints[k], "reason", strs[a], "status",
				    strs[(a + k) % 14], "truncated", t);
				char *want = obj ? audit_details_canonical(obj) : NULL;
				char *got = audit_details_flat(kv, 4);
				if (got != NULL) {
					assert_non_null(want);
					assert_string_equal(got, want);
					flat++;
				} else {
					fallback++;
				}
				free(got);
				free(want);
				json_decref(obj);
			}
	assert_true(flat > 40);
	assert_true(fallback > 100);
	{
		/* JSON members as is: the broker's risk_assessment with jansson's
		 * text of the real score */
		static const double reals[] = { 0.0, -0.0, 1.5, 0.1, 3.0, 100.0, 1e300, 1e-300,
		    12345678.9, 2.5e-7, 1e17, 123456789012345678.0 };
		for (size_t r = 0; r < sizeof(reals) / sizeof(reals[0]); r++) {
			json_t *real = json_real(reals[r]);
			char score[64];
			size_t n = json_dumpb(real, score, sizeof(score) - 1, JSON_ENCODE_ANY | JSON_COMPACT);
			score[n] = '\0';
			const struct audit_kv kv[] = {
				{ "findings", AUDIT_KV_JSON, "[]", 0 },
				{ "level", AUDIT_KV_STR, "L2", 0 },
				{ "score", AUDIT_KV_JSON, score, 0 },
				{ "total", AUDIT_KV_INT, NULL, (long long)r },
			};
			json_t *obj = json_pack("{s:f, s:s, s:I, s:o}", "score", reals[r], "level", "L2",
			    "total", (json_int_t)r, "findings", json_array());
			char *want = audit_details_canonical(obj), *got = audit_details_flat(kv, 4);
			assert_true(n > 0);
			assert_non_null(got);
			assert_string_equal(got, want);
			free(got);
			free(want);
			json_decref(obj);
			json_decref(real);
		}
	}
	{
		/* keys out of order, duplicate keys, too long: NULL */
		char big[1100];
		const struct audit_kv bad[] = { { "b", AUDIT_KV_INT, NULL, 1 }, { "a", AUDIT_KV_INT, NULL, 2 } };
		const struct audit_kv dup[] = { { "a", AUDIT_KV_INT, NULL, 1 }, { "a", AUDIT_KV_INT, NULL, 2 } };
		const struct audit_kv lng[] = { { "a", AUDIT_KV_STR, big, 0 } };
		const struct audit_kv none[] = { { "a", AUDIT_KV_STR, NULL, 0 } };
		char *empty = audit_details_flat(NULL, 0);
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_null(audit_details_flat(bad, 2));
		assert_null(audit_details_flat(dup, 2));
		assert_null(audit_details_flat(lng, 1));
		assert_null(audit_details_flat(none, 1));
		assert_string_equal(empty, "{}");
		free(empty);
	}
}

static void
test_chain_hashing(void **state)
{
	struct audit_event ev;
	uint8_t body[AUDIT_HASH_LEN], h[AUDIT_HASH_LEN], manual[AUDIT_HASH_LEN];
	uint8_t buf[AUDIT_CANON_MAX], cat[2 * AUDIT_HASH_LEN];
	size_t len;
	(void)state;
	make_event(&ev, AUDIT_NETWORK_ACCESS);
	/* hash = SHA-256(prev || SHA-256(body encoding)) */
	assert_int_equal(audit_encode(&ev, false, buf, sizeof(buf), &len), ERR_OK);
	crypto_hash_sha256(body, buf, len);
	memcpy(cat, ev.prev_hash, AUDIT_HASH_LEN);
	memcpy(cat + AUDIT_HASH_LEN, body, AUDIT_HASH_LEN);
	crypto_hash_sha256(manual, cat, sizeof(cat));
	assert_memory_equal(manual, ev.hash, AUDIT_HASH_LEN);
	/* the store's one-pass form gives the same hash and stored bytes */
	{
		struct audit_event c;
		uint8_t out1[AUDIT_CANON_MAX], out2[AUDIT_CANON_MAX];
		size_t l1, l2;
		assert_int_equal(audit_event_copy(&c, &ev), ERR_OK);
		memset(c.hash, 0, AUDIT_HASH_LEN);
		assert_int_equal(audit_encode_chained(&c, ev.prev_hash, out1, sizeof(out1), &l1), ERR_OK);
		assert_memory_equal(c.hash, ev.hash, AUDIT_HASH_LEN);
		assert_int_equal(audit_encode(&ev, true, out2, sizeof(out2), &l2), ERR_OK);
		assert_int_equal(l1, l2);
		assert_memory_equal(out1, out2, l1);
		assert_int_equal(audit_encode_chained(&c, ev.prev_hash, out1, 100, &l1), ERR_TOOBIG);
		audit_event_clear(&c);
	}
	/* every field change changes the hash */
	memcpy(h, ev.hash, AUDIT_HASH_LEN);
	ev.cpu_ms++;
	assert_int_equal(audit_event_compute_hash(&ev, manual), ERR_OK);
	assert_memory_not_equal(manual, h, AUDIT_HASH_LEN);
	ev.cpu_ms--;
	ev.prev_hash[31] ^= 1;
	assert_int_equal(audit_event_compute_hash(&ev, manual), ERR_OK);
	assert_memory_not_equal(manual, h, AUDIT_HASH_LEN);
	ev.prev_hash[31] ^= 1;
	ev.seq++;
	assert_int_equal(audit_event_compute_hash(&ev, manual), ERR_OK);
	assert_memory_not_equal(manual, h, AUDIT_HASH_LEN);
	audit_event_clear(&ev);
}

static void
test_json_round_trip(void **state)
{
	struct audit_event ev, back;
	char why[128];
	char *line, *again;
	(void)state;
	make_event(&ev, AUDIT_PRIVACY_DETECTION);
	line = audit_event_to_json(&ev);
	assert_non_null(line);
	assert_null(strchr(line, '\n'));
	assert_int_equal(audit_event_from_json(line, strlen(line), &back, why, sizeof(why)), ERR_OK);
	assert_same_event(&ev, &back);
	again = audit_event_to_json(&back);
	assert_string_equal(line, again);
	uint8_t h[AUDIT_HASH_LEN];
	assert_int_equal(audit_event_compute_hash(&back, h), ERR_OK);
	assert_memory_equal(h, ev.hash, AUDIT_HASH_LEN);
	free(line);
	free(again);
	audit_event_clear(&ev);
	audit_event_clear(&back);
}

/* Replaces the first `from` in `line` by `to`; returns a fresh string. */
static char *
edit(const char *line, const char *from, const char *to)
{
	const char *p = strstr(line, from);
	size_t n = strlen(line) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);
	assert_non_null(p);
	assert_non_null(out);
	snprintf(out, n, "%.*s%s%s", (int)(p - line), line, to, p + strlen(from));
	return out;
}

static void
expect_reject(const char *line, int rc, const char *field)
{
	struct audit_event ev;
	char why[256] = "";
	assert_int_equal(audit_event_from_json(line, strlen(line), &ev, why, sizeof(why)), rc);
	if (field != NULL)
		assert_non_null(strstr(why, field));
	assert_null(ev.details);
}

static void
test_json_strict(void **state)
{
	struct audit_event ev;
	char *line, *bad;
	(void)state;
	make_event(&ev, AUDIT_APPROVAL_RESPONSE);
	line = audit_event_to_json(&ev);
	size_t len = strlen(line);

	for (size_t cut = 0; cut < len; cut += 7)	/* truncated */
		expect_reject(bad = strndup(line, cut), ERR_INVAL, NULL), free(bad);
	bad = malloc(len + 3);
	snprintf(bad, len + 3, "%s x", line);	/* trailing garbage */
	expect_reject(bad, ERR_INVAL, "JSON");
	snprintf(bad, len + 3, "%s{}", line);
	expect_reject(bad, ERR_INVAL, NULL);
	free(bad);

	/* one edit of a valid line each: { from, to, expected error, field named } */
	static const struct {
		const char *from, *to;
		int rc;
		const char *field;
	} edits[] = {
		{ "\"seq\":7", "\"seq\":\"7\"", ERR_TYPE, "seq" },
		{ "\"seq\":7", "\"seq\":-7", ERR_TOOBIG, "seq" },
		{ "\"seq\":7", "\"seq\":7.5", ERR_TYPE, "seq" },
		{ "\"seq\":7", "\"seq\":9007199254740992", ERR_TOOBIG, "seq" },
		{ "\"in_bytes\":100", "\"in_bytes\":null", ERR_TYPE, "in_bytes" },
		{ "\"job\":\"job-42\"", "\"job\":42", ERR_TYPE, "job" },
		{ "\"type\":\"approval_response\"", "\"type\":\"approval\"", ERR_INVAL, "type" },
		{ "\"details\":{", "\"details\":[{}],\"x\":{", ERR_INVAL, "unknown" },
		{ "\"details\":{\"a\":[true,\"x\"],\"z\":1}", "\"details\":\"{}\"", ERR_TYPE, "details" },
		{ "\"tenant\":\"acme\",", "", ERR_MISSING, "tenant" },
		{ "\"tenant\":\"acme\"", "\"tenant\":\"acme\",\"tenant\":\"x\"", ERR_INVAL, NULL },
		{ "\"tenant\":\"acme\"", "\"tenant\":\"ac\\u0000me\"", ERR_INVAL, NULL },
		{ "\"tenant\":\"acme\"", "\"tenant\":\"ac\\tme\"", ERR_INVAL, "tenant" },
		{ "\"prev_hash\":\"abab", "\"prev_hash\":\"ABab", ERR_INVAL, "prev_hash" },
		{ "\"prev_hash\":\"abab", "\"prev_hash\":\"ab", ERR_INVAL, "prev_hash" },
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		bad = edit(line, edits[i].from, edits[i].to);
		expect_reject(bad, edits[i].rc, edits[i].field);
		free(bad);
	}
	expect_reject("[1,2]", ERR_TYPE, NULL);
	expect_reject("", ERR_INVAL, NULL);

	/* oversized: a session of 65 bytes, details over 16 KiB, a huge line */
	bad = edit(line, "\"session\":\"sess-1\"",
	    "\"session\":\"sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss\"");
	expect_reject(bad, ERR_TOOBIG, "session"); free(bad);
	size_t n = AUDIT_DETAILS_MAX + 64;
	char *val = malloc(n + 32);
	int k = snprintf(val, n + 32, "\"details\":{\"k\":\"");
	memset(val + k, 'y', n - (size_t)k);
	snprintf(val + n, 32, "\"}");
	bad = edit(line, "\"details\":{\"a\":[true,\"x\"],\"z\":1}", val);
	expect_reject(bad, ERR_TOOBIG, "details"); free(bad);
	free(val);
	n = AUDIT_JSON_MAX + 10;
	bad = malloc(n + 1);
	memset(bad, ' ', n);
	bad[n] = '\0';
	expect_reject(bad, ERR_TOOBIG, NULL); free(bad);

	free(line);
	audit_event_clear(&ev);
}

static void
test_checkpoint_sign(void **state)
{
	struct audit_checkpoint cp;
	uint8_t pk[AUDIT_PK_LEN], sk[AUDIT_SK_LEN], pk2[AUDIT_PK_LEN], sk2[AUDIT_SK_LEN];
	(void)state;
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	memset(&cp, 0, sizeof(cp));
	cp.seq = 1024;
	memset(cp.hash, 7, AUDIT_HASH_LEN);
	snprintf(cp.time, sizeof(cp.time), "2026-11-26T05:40:01.123456789Z");
	audit_checkpoint_sign(&cp, sk);
	assert_true(audit_checkpoint_verify(&cp, pk));
	assert_false(audit_checkpoint_verify(&cp, pk2));
	cp.seq++;
	assert_false(audit_checkpoint_verify(&cp, pk));
	cp.seq--;
	cp.hash[0] ^= 1;
	assert_false(audit_checkpoint_verify(&cp, pk));
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(sk2, sizeof(sk2));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_init_fields),
		cmocka_unit_test(test_details_canonical),
		cmocka_unit_test(test_details_flat),
		cmocka_unit_test(test_details_take),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_time_prefix),
		cmocka_unit_test(test_set_escaped),
		cmocka_unit_test(test_event_ids_unique),
		cmocka_unit_test(test_canonical_round_trip),
		cmocka_unit_test(test_canonical_wrong_types),
		cmocka_unit_test(test_chain_hashing),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_strict),
		cmocka_unit_test(test_checkpoint_sign),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
