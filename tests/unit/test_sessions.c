/*
 * Unit tests for broker/sessions: a real RocksDB in a temp dir.  Snapshots
 * replace the stored set (writes and deletes reported, unchanged files not),
 * tenant and session isolate, the quota refuses and keeps the old set, an
 * unused session expires, rm empties, and a bad snapshot is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "broker/sessions.h"
#include "common/wspath.h"

struct log {
	char text[2048];
};

static void
note(void *arg, const char *path, const char *op, uint64_t bytes, const char *cls)
{
	struct log *l = arg;
	size_t n = strlen(l->text);
	snprintf(l->text + n, sizeof(l->text) - n, "%s %s %llu %s;", op, path,
	    (unsigned long long)bytes, cls);
}

static void
pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

/* A snapshot of n (path, data) pairs, class confidential. */
static void
snapshot(msgpack_sbuffer *sb, const char *const *kv, size_t n)
{
	msgpack_packer pk;
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, n);
	for (size_t i = 0; i < n; i++) {
		msgpack_pack_map(&pk, 4);
		pack_str(&pk, "path");
		pack_str(&pk, kv[2 * i]);
		pack_str(&pk, "size");
		msgpack_pack_uint64(&pk, strlen(kv[2 * i + 1]));
		pack_str(&pk, "class");
		pack_str(&pk, "confidential");
		pack_str(&pk, "data");
		msgpack_pack_bin(&pk, strlen(kv[2 * i + 1]));
		msgpack_pack_bin_body(&pk, kv[2 * i + 1], strlen(kv[2 * i + 1]));
	}
}

static enum err
replace(struct sessions *s, const char *tenant, const char *session, const char *const *kv,
    size_t n, int64_t now, struct log *l, char *why)
{
	msgpack_sbuffer sb;
	snapshot(&sb, kv, n);
	enum err e = sessions_replace(s, tenant, session, sb.data, sb.size, now, note, l, why, 256);
	msgpack_sbuffer_destroy(&sb);
	return e;
}

/* Number of files the session holds (as packed for a job). */
static size_t
count(struct sessions *s, const char *tenant, const char *session, int64_t now, struct log *l)
{
	char *buf;
	size_t len;
	assert_int_equal(sessions_pack(s, tenant, session, now, WSPATH_CLASS_COUNT, &buf, &len, note, l), ERR_OK);
	if (buf == NULL)
		return 0;
	size_t n = (unsigned char)buf[0] & 0x0f;	/* fixarray */
	free(buf);
	return n;
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(p);
}

static void
test_sessions(void **state)
{
	char dir[] = "/tmp/sluice-sessions.XXXXXX", why[256];
	struct sessions *s;
	struct log l = { "" };
	enum err e;
	(void)state;

	assert_non_null(mkdtemp(dir));
	s = sessions_open(dir, 100, 1000, &e, why, sizeof(why));
	assert_non_null(s);
	assert_int_equal(count(s, "t", "a", 0, &l), 0);

	assert_int_equal(replace(s, "t", "a", (const char *[]){ "skills/f.ts", "one", "state", "1" }, 2,
	    10, &l, why), ERR_OK);
	assert_string_equal(l.text, "write skills/f.ts 3 confidential;write state 1 confidential;");
	assert_int_equal(count(s, "t", "a", 20, &l), 2);
	assert_int_equal(count(s, "t", "b", 20, &l), 0);	/* another session */
	assert_int_equal(count(s, "u", "a", 20, &l), 0);	/* another tenant */

	l.text[0] = '\0';	/* unchanged file: no event; gone file: delete */
	assert_int_equal(replace(s, "t", "a", (const char *[]){ "state", "1" }, 1, 30, &l, why), ERR_OK);
	assert_string_equal(l.text, "delete skills/f.ts 3 -;");

	l.text[0] = '\0';	/* over the quota: refused, nothing changes */
	char big[200];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(replace(s, "t", "a", (const char *[]){ "big", big }, 1, 40, &l, why), ERR_TOOBIG);
	assert_non_null(strstr(why, "over its quota: 199 bytes"));
	assert_string_equal(l.text, "");
	assert_int_equal(count(s, "t", "a", 50, &l), 1);

	/* a snapshot with a path escaping the folder is refused */
	assert_int_equal(replace(s, "t", "a", (const char *[]){ "../x", "1" }, 1, 60, &l, why), ERR_INVAL);

	/* unused for longer than the ttl: gone at its next use */
	l.text[0] = '\0';
	assert_int_equal(count(s, "t", "a", 50 + 2000, &l), 0);
	assert_string_equal(l.text, "delete state 1 -;");

	assert_int_equal(replace(s, "t", "c", (const char *[]){ "k", "v" }, 1, 3000, &l, why), ERR_OK);
	assert_int_equal(sessions_remove(s, "t", "c", NULL, NULL), ERR_OK);
	assert_int_equal(count(s, "t", "c", 3001, &l), 0);
	sessions_close(&s);
	assert_null(s);
	sessions_close(NULL);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sessions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
