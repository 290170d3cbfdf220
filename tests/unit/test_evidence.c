/* Unit tests for common/evidence and common/audit_export: export a pack from a
 * real store, verify it, then tamper with it every way the brief names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "common/audit_export.h"
#include "common/audit_store.h"
#include "common/err.h"
#include "common/evidence.h"

static char tmpdir[64], datadir[128];
static struct audit_store *store;
static int packno;

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

/* 40 events, sessions A/B alternating, jobs j0..j4, checkpoint every 8. */
static int
setup(void **state)
{
	struct audit_store_options o = { .checkpoint_every = 8 };
	char why[256];
	int err;
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-evidence-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(datadir, sizeof(datadir), "%s/data", tmpdir);
	if ((store = audit_store_open(datadir, &o, &err, why, sizeof(why))) == NULL)
		return -1;
	for (int i = 0; i < 40; i++) {
		struct audit_event ev;
		char job[8];
		snprintf(job, sizeof(job), "j%d", i % 5);
		if (audit_event_init(&ev, (enum audit_type)(1 + i % 10)) != ERR_OK ||
		    audit_event_set(&ev, "actor", "worker@host2") != ERR_OK ||
		    audit_event_set(&ev, "session", i % 2 ? "B" : "A") != ERR_OK ||
		    audit_event_set(&ev, "job", job) != ERR_OK ||
		    audit_event_set_details(&ev, "{\"path\":\"/work/x\",\"n\":12}", 25) != ERR_OK)
			return -1;
		ev.cpu_ms = (uint64_t)i * 3;
		if (audit_store_append(store, &ev) != ERR_OK)
			return -1;
		audit_event_clear(&ev);
	}
	return audit_store_commit(store) == ERR_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	audit_store_destroy(&store);
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Exports `sel` into a fresh directory whose path goes to `out`. */
static void
export(const struct evidence_selection *sel, char *out, size_t outsz,
    struct audit_export_result *res)
{
	char why[256];
	snprintf(out, outsz, "%s/pack%d", tmpdir, packno++);
	int rc = audit_export(store, sel, out, res, why, sizeof(why));
	if (rc != ERR_OK)
		fail_msg("export: %s", why);
}

static void
export_session_a(char *out, size_t outsz)
{
	struct evidence_selection sel = { .kind = EVIDENCE_SESSION, .value = "A" };
	struct audit_export_result res;
	export(&sel, out, outsz, &res);
}

static char *
slurp(const char *dir, const char *name, size_t *len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void
spit(const char *dir, const char *name, const char *buf, size_t len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* Offset of the start of line `n` (1-based) in buf. */
static size_t
line_start(const char *buf, int n)
{
	const char *p = buf;
	while (--n > 0) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	return (size_t)(p - buf);
}

static void
test_export_verify_ok(void **state)
{
	struct evidence_selection sel = { .kind = EVIDENCE_SESSION, .value = "A" };
	struct audit_export_result res;
	struct evidence_report rep;
	uint8_t pk[AUDIT_PK_LEN];
	char dir[128];
	(void)state;
	export(&sel, dir, sizeof(dir), &res);
	assert_true(res.events == 20);
	assert_true(res.anchored && res.anchor_seq == 40);	/* checkpoint at 40 */
	assert_true(res.gaps == 20);	/* B's events from 2 to 40 */
	audit_store_public_key(store, pk);
	assert_int_equal(evidence_verify(dir, NULL, &rep), ERR_OK);
	assert_string_equal(rep.reason, "");
	assert_true(rep.events == 20 && rep.first_seq == 1 && rep.last_seq == 39);
	assert_true(rep.anchored && rep.anchor_seq == 40);
	assert_int_equal(evidence_verify(dir, pk, &rep), ERR_OK);	/* pinned */

	/* by job, by time range, everything */
	sel.kind = EVIDENCE_JOB;
	snprintf(sel.value, sizeof(sel.value), "j3");
	export(&sel, dir, sizeof(dir), &res);
	assert_true(res.events == 8);
	assert_int_equal(evidence_verify(dir, pk, &rep), ERR_OK);
	assert_true(rep.first_seq == 4 && rep.last_seq == 39 && rep.anchored);

	struct audit_event e5, e12;
	assert_int_equal(audit_store_get(store, 5, &e5), ERR_OK);
	assert_int_equal(audit_store_get(store, 12, &e12), ERR_OK);
	sel.kind = EVIDENCE_TIME;
	snprintf(sel.since, sizeof(sel.since), "%s", e5.time);
	snprintf(sel.until, sizeof(sel.until), "%s", e12.time);
	export(&sel, dir, sizeof(dir), &res);
	assert_true(res.events == 7 && res.anchor_seq == 16);
	assert_int_equal(evidence_verify(dir, pk, &rep), ERR_OK);
	assert_true(rep.first_seq == 5 && rep.last_seq == 11);
	audit_event_clear(&e5);
	audit_event_clear(&e12);

	sel.kind = EVIDENCE_ALL;
	export(&sel, dir, sizeof(dir), &res);
	assert_true(res.events == 40 && res.gaps == 0);
	assert_int_equal(evidence_verify(dir, pk, &rep), ERR_OK);
}

static void
test_export_errors_and_unanchored(void **state)
{
	struct evidence_selection sel = { .kind = EVIDENCE_SESSION, .value = "nobody" };
	struct audit_export_result res;
	struct evidence_report rep;
	char why[256], dir[128];
	(void)state;
	snprintf(dir, sizeof(dir), "%s/empty", tmpdir);
	assert_int_equal(audit_export(store, &sel, dir, &res, why, sizeof(why)), ERR_NOTFOUND);
	/* events after the last checkpoint: anchored at the unsigned head */
	for (int i = 0; i < 2; i++) {
		struct audit_event ev;
		assert_int_equal(audit_event_init(&ev, AUDIT_ERROR), ERR_OK);
		assert_int_equal(audit_event_set(&ev, "actor", "broker@h"), ERR_OK);
		assert_int_equal(audit_event_set(&ev, "session", "C"), ERR_OK);
		assert_int_equal(audit_store_append(store, &ev), ERR_OK);
		audit_event_clear(&ev);
	}
	assert_int_equal(audit_store_commit(store), ERR_OK);
	snprintf(sel.value, sizeof(sel.value), "C");
	export(&sel, dir, sizeof(dir), &res);
	assert_false(res.anchored);
	assert_true(res.anchor_seq == 42);
	assert_int_equal(evidence_verify(dir, NULL, &rep), ERR_OK);
	assert_false(rep.anchored);
	/* the same directory twice: refused */
	assert_int_equal(audit_export(store, &sel, dir, &res, why, sizeof(why)), ERR_DUPLICATE);
	/* a missing pack */
	snprintf(dir, sizeof(dir), "%s/nothing-here", tmpdir);
	assert_int_not_equal(evidence_verify(dir, NULL, &rep), ERR_OK);
	assert_string_not_equal(rep.reason, "");
}

static void
test_edit_one_byte_names_line(void **state)
{
	struct evidence_report rep;
	char dir[128];
	size_t len;
	(void)state;
	export_session_a(dir, sizeof(dir));
	char *orig = slurp(dir, "events.jsonl", &len);
	char *buf = malloc(len + 1);
	/* a value inside line 3 (seq 5): the cpu_ms digit */
	memcpy(buf, orig, len + 1);
	size_t l3 = line_start(buf, 3);
	char *p = strstr(buf + l3, "\"cpu_ms\":12");
	assert_non_null(p);
	p[10] = '3';
	spit(dir, "events.jsonl", buf, len);
	assert_int_equal(evidence_verify(dir, NULL, &rep), ERR_CRYPTO);
	assert_int_equal(rep.bad_line, 3);
	assert_true(rep.bad_seq == 5);
	assert_non_null(strstr(rep.reason, "line 3"));
	/* every single-byte edit anywhere in the file is caught */
	int tried = 0;
	for (size_t off = 0; off < len; off += 5) {
		memcpy(buf, orig, len + 1);
		buf[off] = buf[off] == 'a' ? 'b' : (buf[off] == '\n' ? ' ' : 'a');
		spit(dir, "events.jsonl", buf, len);
		if (evidence_verify(dir, NULL, &rep) == ERR_OK)
			fail_msg("edit at offset %zu not detected", off);
		tried++;
	}
	assert_true(tried > 100);
	spit(dir, "events.jsonl", orig, len);
	assert_int_equal(evidence_verify(dir, NULL, &rep), ERR_OK);
	free(buf);
	free(orig);
}

static void
test_delete_event(void **state)
{
	struct evidence_report rep;
	char dir[128];
	size_t len;
	(void)state;
	export_session_a(dir, sizeof(dir));
	char *buf = slurp(dir, "events.jsonl", &len);
	size_t a = line_start(buf, 2), b = line_start(buf, 3);
	memmove(buf + a, buf + b, len - b + 1);
	spit(dir, "events.jsonl", buf, len - (b - a));
	assert_int_equal(evidence_verify(dir, NULL, &rep), ERR_CRYPTO);
	assert_int_equal(rep.bad_line, 2);
	assert_true(rep.bad_seq == 3);	/* the missing one */
	assert_non_null(strstr(rep.reason, "missing"));
	free(buf);

	/* the last event */
	export_session_a(dir, sizeof(dir));
	buf = slurp(dir, "events.jsonl", &len);
	a = line_start(buf, 20);
	spit(dir, "events.jsonl", buf, a);
	assert_int_equal(evidence_verify(dir, NULL, &rep), ERR_CRYPTO);
	assert_non_null(strstr(rep.reason, "39"));
	free(buf);
}

static void
test_swap_events(void **state)
{
	struct evidence_report rep;
	char dir[128];
	size_t len;
	(void)state;
	export_session_a(dir, sizeof(dir));
	char *buf = slurp(dir, "events.jsonl", &len);
	char *out = malloc(len + 1);
	size_t a = line_start(buf, 4), b = line_start(buf, 5), c = line_start(buf, 6);
	memcpy(out, buf, a);
	memcpy(out + a, buf + b, c - b);
	memcpy(out + a + (c - b), buf + a, b - a);
	memcpy(out + c, buf + c, len - c);
	spit(dir, "events.jsonl", out, len);
	assert_int_equal(evidence_verify(dir, NULL, &rep), ERR_CRYPTO);
	assert_int_equal(rep.bad_line, 4);
	assert_non_null(strstr(rep.reason, "reordered"));
	free(buf);
	free(out);
}

static void
test_edit_manifest_chain_signature(void **state)
{
	struct evidence_report rep;
	char dir[128];
	size_t len;
	(void)state;
	export_session_a(dir, sizeof(dir));
	/* manifest: the created time (no count changes) → signature fails */
	char *m = slurp(dir, "manifest.json", &len);
	char *p = strstr(m, "\"created\": \"");
	assert_non_null(p);
	p[13] = p[13] == '1' ? '2' : '1';
	spit(dir, "manifest.json", m, len);
	assert_int_equal(evidence_verify(dir, NULL, &rep), ERR_CRYPTO);
	assert_non_null(strstr(rep.reason, "signature"));
	free(m);
	/* manifest: a count */
	export_session_a(dir, sizeof(dir));
	m = slurp(dir, "manifest.json", &len);
	p = strstr(m, "\"execution_start\": 4");
	assert_non_null(p);
	p[19] = '5';
	spit(dir, "manifest.json", m, len);
	assert_int_equal(evidence_verify(dir, NULL, &rep), ERR_CRYPTO);
	assert_non_null(strstr(rep.reason, "count of execution_start"));
	free(m);
	/* chain.json: one gap digest */
	export_session_a(dir, sizeof(dir));
	m = slurp(dir, "chain.json", &len);
	p = strstr(m, "[10,\"");
	assert_non_null(p);
	p[5] = p[5] == '0' ? '1' : '0';
	spit(dir, "chain.json", m, len);
	assert_int_equal(evidence_verify(dir, NULL, &rep), ERR_CRYPTO);
	free(m);
	/* signature file */
	export_session_a(dir, sizeof(dir));
	m = slurp(dir, "signature", &len);
	m[0] = m[0] == '0' ? '1' : '0';
	spit(dir, "signature", m, len);
	assert_int_equal(evidence_verify(dir, NULL, &rep), ERR_CRYPTO);
	assert_non_null(strstr(rep.reason, "signature"));
	free(m);
}

static void
test_wrong_pubkey(void **state)
{
	struct evidence_report rep;
	uint8_t pk[AUDIT_PK_LEN], sk[AUDIT_SK_LEN];
	char dir[128];
	(void)state;
	export_session_a(dir, sizeof(dir));
	crypto_sign_keypair(pk, sk);
	sodium_memzero(sk, sizeof(sk));
	assert_int_equal(evidence_verify(dir, pk, &rep), ERR_CRYPTO);
	assert_non_null(strstr(rep.reason, "pinned"));
	/* a manifest carrying another key (re-signing without the broker's key) */
	size_t len;
	char *m = slurp(dir, "manifest.json", &len);
	char *p = strstr(m, "\"public_key\": \"");
	assert_non_null(p);
	p[15] = p[15] == 'a' ? 'b' : 'a';
	spit(dir, "manifest.json", m, len);
	assert_int_equal(evidence_verify(dir, NULL, &rep), ERR_CRYPTO);
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_export_verify_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_errors_and_unanchored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_one_byte_names_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swap_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_manifest_chain_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_pubkey, setup, teardown),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
