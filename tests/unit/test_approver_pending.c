/* Unit tests for approver/pending: the approver's durable store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "approver/pending.h"

#define NOW 1800000000000ull	/* a fixed wall clock, ms */

struct fixture {
	char dir[64];
	char db[96];
	struct pending *p;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char why[256];

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sluice-pending-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/db", f->dir);
	if ((f->p = pending_open(f->db, why, sizeof(why))) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];

	pending_close(&f->p);
	snprintf(cmd, sizeof(cmd), "%s", f->dir);
	/* remove the RocksDB files, then the directories */
	if (fork() == 0) {
		execlp("rm", "rm", "-rf", cmd, (char *)NULL);
		_exit(127);
	}
	while (wait(NULL) > 0)
		;
	free(f);
	return 0;
}

static void
make_item(struct pending_item *it, const char *id, uint64_t deadline)
{
	static unsigned char code[] = "const x = eval(input);\nconsole.log(x);\n";
	/* {"score": 0.65, "level": "L3"} */
	static unsigned char risk[] = { 0x82, 0xa5, 's', 'c', 'o', 'r', 'e', 0xcb, 0x3f, 0xe4, 0xcc,
	    0xcc, 0xcc, 0xcc, 0xcc, 0xcd, 0xa5, 'l', 'e', 'v', 'e', 'l', 0xa2, 'L', '3' };

	memset(it, 0, sizeof(*it));
	snprintf(it->id, sizeof(it->id), "%s", id);
	snprintf(it->session, sizeof(it->session), "sess-1");
	snprintf(it->tenant, sizeof(it->tenant), "acme");
	snprintf(it->level, sizeof(it->level), "L3");
	snprintf(it->lang, sizeof(it->lang), "ts");
	it->code = code;
	it->code_len = sizeof(code) - 1;
	it->risk = risk;
	it->risk_len = sizeof(risk);
	it->deadline_ms = deadline;
	it->time_ms = NOW;
}

static bool
count_cb(const struct pending_item *it, void *arg)
{
	(void)it;
	(*(int *)arg)++;
	return true;
}

static int
count(struct pending *p, bool history)
{
	int n = 0;
	size_t corrupt = 99;
	assert_int_equal(pending_foreach(p, history, count_cb, &n, &corrupt), ERR_OK);
	assert_int_equal(corrupt, 0);
	return n;
}

static void
test_put_get_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct pending_item it, *got = NULL;
	bool dup = true;
	char why[256];

	make_item(&it, "aaaa0001", NOW + 60000);
	assert_int_equal(pending_put(f->p, &it, &dup, why, sizeof(why)), ERR_OK);
	assert_false(dup);
	assert_int_equal(pending_get(f->p, "aaaa0001", &got, why, sizeof(why)), ERR_OK);
	assert_string_equal(got->id, "aaaa0001");
	assert_string_equal(got->session, "sess-1");
	assert_string_equal(got->tenant, "acme");
	assert_int_equal(got->code_len, it.code_len);
	assert_memory_equal(got->code, it.code, it.code_len);
	assert_int_equal(got->risk_len, it.risk_len);
	assert_memory_equal(got->risk, it.risk, it.risk_len);
	assert_int_equal(got->deadline_ms, NOW + 60000);
	assert_int_equal(got->state, PENDING_WAITING);
	pending_item_free(&got);
	assert_null(got);
	assert_int_equal(pending_get(f->p, "nope", &got, why, sizeof(why)), ERR_NOTFOUND);
	assert_null(got);
}

static void
test_duplicate_not_stored_twice(void **state)
{
	struct fixture *f = *state;
	struct pending_item it;
	bool dup = false;
	char why[256];

	make_item(&it, "dup1", NOW + 60000);
	assert_int_equal(pending_put(f->p, &it, &dup, why, sizeof(why)), ERR_OK);
	assert_false(dup);
	it.deadline_ms = 1;	/* a resend must not overwrite the held item */
	assert_int_equal(pending_put(f->p, &it, &dup, why, sizeof(why)), ERR_OK);
	assert_true(dup);
	assert_int_equal(count(f->p, false), 1);
	struct pending_item *got = NULL;
	assert_int_equal(pending_get(f->p, "dup1", &got, why, sizeof(why)), ERR_OK);
	assert_int_equal(got->deadline_ms, NOW + 60000);
	pending_item_free(&got);
}

static void
test_bad_ids_refused(void **state)
{
	struct fixture *f = *state;
	struct pending_item it;
	bool dup;
	char why[256];

	make_item(&it, "../etc", NOW);
	assert_int_equal(pending_put(f->p, &it, &dup, why, sizeof(why)), ERR_INVAL);
	make_item(&it, "", NOW);
	assert_int_equal(pending_put(f->p, &it, &dup, why, sizeof(why)), ERR_INVAL);
	assert_false(pending_is_valid_id("a b"));
	assert_false(pending_is_valid_id("x\x1b[2J"));
	assert_true(pending_is_valid_id("0123456789abcdef0123456789abcdef"));
	char longid[70];
	memset(longid, 'a', 65);
	longid[65] = '\0';
	assert_false(pending_is_valid_id(longid));
	assert_int_equal(count(f->p, false), 0);
}

static void
test_decide_then_ack_moves_to_history(void **state)
{
	struct fixture *f = *state;
	struct pending_item it, *got = NULL;
	bool dup;
	char why[256];

	make_item(&it, "dec1", NOW + 60000);
	assert_int_equal(pending_put(f->p, &it, &dup, why, sizeof(why)), ERR_OK);
	/* validation */
	assert_int_equal(pending_decide(f->p, "dec1", "maybe", "a@h", "r", NOW, why, sizeof(why)), ERR_INVAL);
	assert_int_equal(pending_decide(f->p, "dec1", "approve", "a@h", "  ", NOW, why, sizeof(why)), ERR_INVAL);
	assert_non_null(strstr(why, "reason"));
	assert_int_equal(pending_decide(f->p, "dec1", "approve", "", "ok", NOW, why, sizeof(why)), ERR_INVAL);
	assert_int_equal(pending_decide(f->p, "nope", "approve", "a@h", "ok", NOW, why, sizeof(why)), ERR_NOTFOUND);
	/* an ack before any decision is stale */
	assert_int_equal(pending_acked(f->p, "dec1", "ok", "", NOW, why, sizeof(why)), ERR_NOTFOUND);

	assert_int_equal(pending_decide(f->p, "dec1", "approve", "alice@box", "looked fine", NOW + 5,
	    why, sizeof(why)), ERR_OK);
	assert_int_equal(pending_decide(f->p, "dec1", "deny", "bob@box", "changed my mind", NOW + 6,
	    why, sizeof(why)), ERR_DUPLICATE);
	assert_int_equal(pending_get(f->p, "dec1", &got, why, sizeof(why)), ERR_OK);
	assert_int_equal(got->state, PENDING_DECIDED);
	assert_string_equal(got->verdict, "approve");
	assert_string_equal(got->actor, "alice@box");
	assert_string_equal(got->reason, "looked fine");
	assert_int_equal(got->decided_ms, NOW + 5);
	pending_item_free(&got);
	assert_int_equal(count(f->p, false), 1);
	assert_int_equal(count(f->p, true), 0);

	assert_int_equal(pending_acked(f->p, "dec1", "queued", "", NOW + 9, why, sizeof(why)), ERR_OK);
	assert_int_equal(count(f->p, false), 0);
	assert_int_equal(count(f->p, true), 1);
	assert_int_equal(pending_get(f->p, "dec1", &got, why, sizeof(why)), ERR_OK);
	assert_int_equal(got->state, PENDING_DONE);
	assert_string_equal(got->ack_status, "queued");
	assert_string_equal(got->actor, "alice@box");
	pending_item_free(&got);
	/* a second ack changes nothing; a resent request is still a duplicate */
	assert_int_equal(pending_acked(f->p, "dec1", "queued", "", NOW + 10, why, sizeof(why)), ERR_NOTFOUND);
	assert_int_equal(pending_put(f->p, &it, &dup, why, sizeof(why)), ERR_OK);
	assert_true(dup);
	assert_int_equal(count(f->p, false), 0);
}

static void
test_expired_cannot_be_decided(void **state)
{
	struct fixture *f = *state;
	struct pending_item it, *got = NULL;
	bool dup;
	size_t moved = 9;
	char why[256];

	make_item(&it, "exp1", NOW);
	assert_int_equal(pending_put(f->p, &it, &dup, why, sizeof(why)), ERR_OK);
	assert_int_equal(pending_get(f->p, "exp1", &got, why, sizeof(why)), ERR_OK);
	assert_false(pending_is_expired(got, NOW - 1));
	assert_true(pending_is_expired(got, NOW));
	pending_item_free(&got);
	assert_int_equal(pending_decide(f->p, "exp1", "approve", "a@h", "ok", NOW + 1000, why,
	    sizeof(why)), ERR_TIMEOUT);
	assert_non_null(strstr(why, "expired"));
	/* still listed until keep_ms has passed */
	assert_int_equal(pending_expire(f->p, NOW + 1000, 5000, &moved, why, sizeof(why)), ERR_OK);
	assert_int_equal(moved, 0);
	assert_int_equal(count(f->p, false), 1);
	assert_int_equal(pending_expire(f->p, NOW + 6001, 5000, &moved, why, sizeof(why)), ERR_OK);
	assert_int_equal(moved, 1);
	assert_int_equal(count(f->p, false), 0);
	assert_int_equal(count(f->p, true), 1);
	assert_int_equal(pending_get(f->p, "exp1", &got, why, sizeof(why)), ERR_OK);
	assert_int_equal(got->state, PENDING_EXPIRED);
	pending_item_free(&got);
	assert_int_equal(pending_decide(f->p, "exp1", "deny", "a@h", "late", NOW + 7000, why,
	    sizeof(why)), ERR_TIMEOUT);
}

static void
test_reopen_keeps_items(void **state)
{
	struct fixture *f = *state;
	struct pending_item it, *got = NULL;
	bool dup;
	char why[256];

	make_item(&it, "keep1", NOW + 60000);
	assert_int_equal(pending_put(f->p, &it, &dup, why, sizeof(why)), ERR_OK);
	make_item(&it, "keep2", NOW + 60000);
	assert_int_equal(pending_put(f->p, &it, &dup, why, sizeof(why)), ERR_OK);
	assert_int_equal(pending_decide(f->p, "keep2", "deny", "a@h", "no", NOW, why, sizeof(why)), ERR_OK);
	pending_close(&f->p);
	assert_null(f->p);
	pending_close(&f->p);	/* NULL is fine */

	assert_non_null(f->p = pending_open(f->db, why, sizeof(why)));
	/* a second opener is refused (RocksDB's lock), not corrupted */
	struct pending *other = pending_open(f->db, why, sizeof(why));
	assert_null(other);
	assert_true(strlen(why) > 0);

	assert_int_equal(count(f->p, false), 2);
	assert_int_equal(pending_get(f->p, "keep2", &got, why, sizeof(why)), ERR_OK);
	assert_int_equal(got->state, PENDING_DECIDED);
	assert_string_equal(got->reason, "no");
	pending_item_free(&got);
	assert_int_equal(pending_decide(f->p, "keep1", "approve", "a@h", "ok", NOW, why, sizeof(why)), ERR_OK);
}

/* Writes raw bytes under a key with RocksDB directly (the store closed). */
static void
poke(struct fixture *f, const char *key, const void *val, size_t len)
{
	rocksdb_options_t *o = rocksdb_options_create();
	rocksdb_writeoptions_t *w = rocksdb_writeoptions_create();
	char *err = NULL;
	rocksdb_t *db = rocksdb_open(o, f->db, &err);

	assert_null(err);
	rocksdb_put(db, w, key, strlen(key), val, len, &err);
	assert_null(err);
	rocksdb_close(db);
	rocksdb_writeoptions_destroy(w);
	rocksdb_options_destroy(o);
}

static void
test_corrupt_values_reported(void **state)
{
	struct fixture *f = *state;
	struct pending_item it, *got = NULL;
	unsigned char *good;
	size_t goodlen, corrupt = 0;
	bool dup;
	char why[256];
	int n = 0;

	make_item(&it, "fine", NOW + 60000);
	assert_int_equal(pending_put(f->p, &it, &dup, why, sizeof(why)), ERR_OK);
	assert_int_equal(pending_item_encode(&it, &good, &goodlen), ERR_OK);
	pending_close(&f->p);

	poke(f, "p/garbage", "\x01\xde\xad\xbe\xef", 5);
	poke(f, "p/empty", "", 0);
	poke(f, "p/version", "\x07\x80", 2);
	/* a good value stored under another id */
	poke(f, "p/moved", good, goodlen);
	/* truncated good value */
	poke(f, "p/trunc", good, goodlen - 3);
	/* trailing bytes */
	unsigned char *longer = malloc(goodlen + 1);
	memcpy(longer, good, goodlen);
	longer[goodlen] = 0xc0;
	poke(f, "p/trail", longer, goodlen + 1);
	free(longer);
	free(good);

	assert_non_null(f->p = pending_open(f->db, why, sizeof(why)));
	assert_int_equal(pending_get(f->p, "garbage", &got, why, sizeof(why)), ERR_DB);
	assert_null(got);
	assert_true(strlen(why) > 0);
	assert_int_equal(pending_get(f->p, "empty", &got, why, sizeof(why)), ERR_DB);
	assert_int_equal(pending_get(f->p, "version", &got, why, sizeof(why)), ERR_DB);
	assert_non_null(strstr(why, "version"));
	assert_int_equal(pending_get(f->p, "moved", &got, why, sizeof(why)), ERR_DB);
	assert_int_equal(pending_get(f->p, "trunc", &got, why, sizeof(why)), ERR_DB);
	assert_int_equal(pending_get(f->p, "trail", &got, why, sizeof(why)), ERR_DB);
	assert_int_equal(pending_decide(f->p, "garbage", "approve", "a@h", "ok", NOW, why,
	    sizeof(why)), ERR_DB);
	/* listing skips and counts them; the good item is still there */
	assert_int_equal(pending_foreach(f->p, false, count_cb, &n, &corrupt), ERR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(corrupt, 6);
	assert_int_equal(pending_get(f->p, "fine", &got, why, sizeof(why)), ERR_OK);
	pending_item_free(&got);
}

static void
test_decode_rejects_wrong_types(void **state)
{
	struct pending_item *got = NULL;
	char why[256];
	(void)state;
	/* {"id": 5} */
	static const unsigned char wrongtype[] = { 0x01, 0x81, 0xa2, 'i', 'd', 0x05 };
	/* {"zz": 1} */
	static const unsigned char unknown[] = { 0x01, 0x81, 0xa2, 'z', 'z', 0x01 };
	/* {"id": "a", "id": "a"} */
	static const unsigned char repeated[] = { 0x01, 0x82, 0xa2, 'i', 'd', 0xa1, 'a', 0xa2, 'i',
	    'd', 0xa1, 'a' };
	/* {"id": "a"}: required fields missing */
	static const unsigned char missing[] = { 0x01, 0x81, 0xa2, 'i', 'd', 0xa1, 'a' };
	/* a map claiming 2^32-1 entries */
	static const unsigned char huge[] = { 0x01, 0xdf, 0xff, 0xff, 0xff, 0xff };

	assert_int_equal(pending_item_decode(wrongtype, sizeof(wrongtype), &got, why, sizeof(why)), ERR_DB);
	assert_int_equal(pending_item_decode(unknown, sizeof(unknown), &got, why, sizeof(why)), ERR_DB);
	assert_non_null(strstr(why, "unknown"));
	assert_int_equal(pending_item_decode(repeated, sizeof(repeated), &got, why, sizeof(why)), ERR_DB);
	assert_int_equal(pending_item_decode(missing, sizeof(missing), &got, why, sizeof(why)), ERR_DB);
	assert_non_null(strstr(why, "missing"));
	assert_int_equal(pending_item_decode(huge, sizeof(huge), &got, why, sizeof(why)), ERR_DB);
	assert_int_equal(pending_item_decode("", 0, &got, why, sizeof(why)), ERR_DB);
	assert_null(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_not_stored_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ids_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decide_then_ack_moves_to_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_cannot_be_decided, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_items, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_values_reported, setup, teardown),
		cmocka_unit_test(test_decode_rejects_wrong_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
