/* Unit tests for common/privacy (engine, rules, validators, token map). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/privacy.h"
#include "common/privacy_validate.h"

static const uint8_t test_key[32] = "0123456789abcdef0123456789abcdef";

/* Scans `text` in `mode`; the result must be freed by the caller. */
static struct privacy_result
scan_mode(const char *text, enum privacy_mode mode, struct privacy_tokens *tokens)
{
	struct privacy_config cfg = { .mode = mode, .tokens = tokens, .hash_key = test_key,
	    .hash_key_len = sizeof(test_key) };
	struct privacy_result r;

	assert_int_equal(privacy_scan(&cfg, text, strlen(text), &r), ERR_OK);
	return r;
}

static bool
has_type(const struct privacy_result *r, const char *type)
{
	for (size_t i = 0; i < r->nfindings; i++)
		if (strcmp(r->findings[i].type, type) == 0)
			return true;
	return false;
}

static void
test_mode_parse(void **state)
{
	enum privacy_mode m;

	(void)state;
	assert_true(privacy_mode_parse("redact", &m));
	assert_int_equal(m, PRIVACY_MODE_REDACT);
	assert_true(privacy_mode_parse("tokenize", &m));
	assert_int_equal(m, PRIVACY_MODE_TOKENIZE);
	assert_true(privacy_mode_parse("hash", &m));
	assert_true(privacy_mode_parse("report", &m));
	assert_int_equal(m, PRIVACY_MODE_REPORT);
	assert_false(privacy_mode_parse("Redact", &m));
	assert_false(privacy_mode_parse("", &m));
	assert_false(privacy_mode_parse(NULL, &m));
	assert_string_equal(privacy_mode_name(PRIVACY_MODE_HASH), "hash");
	assert_string_equal(privacy_mode_name((enum privacy_mode)99), "unknown");
	assert_string_equal(privacy_kind_name(PRIVACY_KIND_SECRET), "secret");
}

static void
test_mode_list_parse(void **state)
{
	unsigned set = 12345;

	(void)state;
	assert_true(privacy_mode_list_parse("redact", &set));
	assert_int_equal(set, PRIVACY_MODE_BIT(PRIVACY_MODE_REDACT));
	assert_true(privacy_mode_list_parse("redact,tokenize,hash", &set));
	assert_int_equal(set, PRIVACY_MODES_DEFAULT);
	assert_false(set & PRIVACY_MODE_BIT(PRIVACY_MODE_REPORT));
	assert_true(privacy_mode_list_parse("report,redact,report", &set));
	assert_int_equal(set, PRIVACY_MODE_BIT(PRIVACY_MODE_REPORT) |
	    PRIVACY_MODE_BIT(PRIVACY_MODE_REDACT));
	/* Bad lists leave the set alone. */
	set = 7;
	assert_false(privacy_mode_list_parse("", &set));
	assert_false(privacy_mode_list_parse(NULL, &set));
	assert_false(privacy_mode_list_parse("redact,", &set));
	assert_false(privacy_mode_list_parse(",redact", &set));
	assert_false(privacy_mode_list_parse("redact,,hash", &set));
	assert_false(privacy_mode_list_parse("redac", &set));
	assert_false(privacy_mode_list_parse("redacted", &set));
	assert_false(privacy_mode_list_parse("redact, hash", &set));
	assert_false(privacy_mode_list_parse("REPORT", &set));
	assert_int_equal(set, 7);
}

static const struct {
	const char *text;
	const char *type;
	const char *hidden;	/* the span that must be hidden */
} positives[] = {
	{ "mail bob.smith+x@mail.example.co.uk now", "email", "bob.smith+x@mail.example.co.uk" },
	{ "call (415) 555-0132 today", "phone", "(415) 555-0132" },
	{ "call +44 20 7123 4567", "phone", "+44 20 7123 4567" },
	{ "ssn 536-90-4399", "us_ssn", "536-90-4399" },
	{ "card 4111 1111 1111 1111 exp", "credit_card", "4111 1111 1111 1111" },
	{ "card 3782-822463-10005", "credit_card", "3782-822463-10005" },
	{ "iban GB29 NWBK 6016 1331 9268 19", "iban", "GB29 NWBK 6016 1331 9268 19" },
	{ "host 10.20.30.40 up", "ipv4", "10.20.30.40" },
	{ "host 2001:db8::ff00:42:8329 up", "ipv6", "2001:db8::ff00:42:8329" },
	{ "mac 3c:22:fb:12:34:56", "mac_address", "3c:22:fb:12:34:56" },
	{ "passport number 533380006", "passport", "533380006" },
	{ "driver's license D1234567", "drivers_licence", "D1234567" },
	{ "bank account 12345678901", "bank_account", "12345678901" },
	{ "date of birth: 1984-03-17", "date_of_birth", "1984-03-17" },
	{ "at 221 Baker Street today", "street_address", "221 Baker Street" },
	{ "zip code 94105", "zip_code", "94105" },
	{ "key AKIAZ7VRSQ4TLPBE3XN2 here", "aws_access_key_id", "AKIAZ7VRSQ4TLPBE3XN2" },
	{ "aws_secret_access_key = \"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\"",
	    "aws_secret_access_key", "Zq3e9XcV7bN2mK8pL4tR6yU1iO0aS5dF7gH9jK2l" },
	{ "OPENAI=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zT3BlbkFJaB3cD6eF9gH2iJ5kL8mN1",
	    "openai_key", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zT3BlbkFJaB3cD6eF9gH2iJ5kL8mN1" },
	{ "ghp_Zx8Kq2Lm4Nn6Pp8Rr0Tt2Vv4Xx6Zz8Bb0Dd2F token", "github_token",
	    "ghp_Zx8Kq2Lm4Nn6Pp8Rr0Tt2Vv4Xx6Zz8Bb0Dd2F" },
	{ "glpat-Ab3dEf6hIj9kLm2nOp5q", "gitlab_token", "glpat-Ab3dEf6hIj9kLm2nOp5q" },
	{ "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack_token",
	    "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx" },
	{ "rk_live_Ab3dEf6hIj9kLm2nOp5qRs8t", "stripe_key", "rk_live_Ab3dEf6hIj9kLm2nOp5qRs8t" },
	{ "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "google_api_key",
	    "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q" },
	{ "db = postgres://app:S3cr3tPw@db.internal:5432/app", "database_url_password", "S3cr3tPw" },
	{ "Authorization: Bearer abcDEF123456ghiJKL789", "bearer_token", "abcDEF123456ghiJKL789" },
	{ "curl -u admin:Tr0ub4dor3x https://x", "basic_auth", "Tr0ub4dor3x" },
	{ "password = \"correct horse battery\"", "password_assignment", "correct horse battery" },
	{ "npm_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3d", "npm_token",
	    "npm_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3d" },
	{ "token: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "jwt",
	    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl" },
};

static void
test_positives(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(positives) / sizeof(positives[0]); i++) {
		struct privacy_result r = scan_mode(positives[i].text, PRIVACY_MODE_REPORT, NULL);
		const char *at = strstr(positives[i].text, positives[i].hidden);
		bool exact = false;

		if (!has_type(&r, positives[i].type))
			fail_msg("no %s in: %s", positives[i].type, positives[i].text);
		for (size_t k = 0; k < r.nfindings; k++)
			exact |= r.findings[k].start == (uint64_t)(at - positives[i].text) &&
			    r.findings[k].end == r.findings[k].start + strlen(positives[i].hidden);
		if (!exact)
			fail_msg("span of %s wrong in: %s", positives[i].type, positives[i].text);
		privacy_result_clear(&r);
	}
}

static const char *const negatives[] = {
	"version 1.2.3.4 released", "078-05-0000", "000-12-3456", "666-12-3456",
	"4111 1111 1111 1112", "GB29 NWBK 6016 1331 9268 18", "256.1.1.1", "std::cout << x",
	"12:34:56", "FF:FF:FF:FF:FF:FF", "AKIAIOSFODNN7EXAMPLE", "AKIAXXXXXXXXXXXXXXXX",
	"password = \"${DB_PASSWORD}\"", "api_key = \"YOUR_API_KEY\"", "token: <token>",
	"password: changeme", "secret = \"xxxxxxxxxxxxxxxx\"",
	"id = \"550e8400-e29b-41d4-a716-446655440000\"",
	"commit 9a038989604e8da62ecddbe2094b16ce1b778be1", "at 2024-01-02T03:04:05Z",
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
	"curl -u \"$USER:$PASS\" https://x", "Authorization: Bearer $TOKEN",
	"passport control was slow", "my account was closed", "the bypass is open",
	"Born in the USA", "https://example.com/path?q=1", "user@localhost",
};

static void
test_negatives(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(negatives) / sizeof(negatives[0]); i++) {
		struct privacy_result r = scan_mode(negatives[i], PRIVACY_MODE_REPORT, NULL);
		if (r.nfindings != 0)
			fail_msg("%s found in: %s", r.findings[0].type, negatives[i]);
		privacy_result_clear(&r);
	}
}

static const char pem[] =
    "config:\n-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v2W3x4Y\n"
    "5z6A7b8C9d0E1f2G3h4I5j6K7l8M9n0O1p2Q3r4S5t6U7v8W9x0Y1z2A3b4C5d6E\n"
    "-----END RSA PRIVATE KEY-----\nnext line\n";

static void
test_pem_multiline(void **state)
{
	struct privacy_result r;

	(void)state;
	r = scan_mode(pem, PRIVACY_MODE_REDACT, NULL);
	assert_int_equal(r.nfindings, 1);
	assert_string_equal(r.findings[0].type, "private_key");
	assert_string_equal(r.text, "config:\n[REDACTED:private_key]\nnext line\n");
	privacy_result_clear(&r);
	r = scan_mode("-----BEGIN OPENSSH PRIVATE KEY-----\n"
	    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
	    "-----END OPENSSH PRIVATE KEY-----", PRIVACY_MODE_REDACT, NULL);
	assert_int_equal(r.nfindings, 1);
	assert_string_equal(r.findings[0].type, "openssh_private_key");
	assert_string_equal(r.text, "[REDACTED:openssh_private_key]");
	privacy_result_clear(&r);
}

static void
test_minimal_spans(void **state)
{
	struct privacy_result r;

	(void)state;
	r = scan_mode("mysql://root:hunter2hunter@10.0.0.5/db", PRIVACY_MODE_REDACT, NULL);
	assert_string_equal(r.text, "mysql://root:[REDACTED:database_url_password]@[REDACTED:ipv4]/db");
	privacy_result_clear(&r);
	r = scan_mode("-H \"Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==\"", PRIVACY_MODE_REDACT, NULL);
	assert_string_equal(r.text, "-H \"Authorization: Basic [REDACTED:basic_auth]\"");
	privacy_result_clear(&r);
}

static void
test_overlap_rule(void **state)
{
	struct privacy_result r;

	(void)state;
	/* The password is also a Luhn-valid card number: the secret wins. */
	r = scan_mode("redis://u:4012888888881881@cache", PRIVACY_MODE_REPORT, NULL);
	assert_int_equal(r.nfindings, 1);
	assert_string_equal(r.findings[0].type, "database_url_password");
	assert_int_equal(r.findings[0].kind, PRIVACY_KIND_SECRET);
	privacy_result_clear(&r);
	/* Two PII candidates on the same bytes: the longer span wins. */
	r = scan_mode("ip 192.168.1.1.1 end", PRIVACY_MODE_REPORT, NULL);
	assert_int_equal(r.nfindings, 1);
	assert_int_equal(r.findings[0].start, 3);
	assert_int_equal(r.findings[0].end, 14);
	privacy_result_clear(&r);
	/* A secret repeated nearby is hidden at every copy. */
	r = scan_mode("token = 'Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB' | 'Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB'",
	    PRIVACY_MODE_REPORT, NULL);
	assert_int_equal(r.nfindings, 2);
	privacy_result_clear(&r);
	/* Copies up to the very end of the input, whose rarest leading byte
	 * (the capital) is not the first: the search must not run past the end. */
	for (int tail = 0; tail < 4; tail++) {
		char text[160];
		snprintf(text, sizeof(text), "token = 'abcdefG1hijklmnopqrsT9' abcdefG1hijklmnopqrsT9%.*s",
		    tail, "'''");
		r = scan_mode(text, PRIVACY_MODE_REDACT, NULL);
		assert_int_equal(r.nfindings, 2);
		assert_null(strstr(r.text, "abcdefG1"));
		privacy_result_clear(&r);
	}
}

static void
test_utf8_offsets(void **state)
{
	const char *t = "Grüße an jürgen@example.com – danke";
	struct privacy_result r;

	(void)state;
	r = scan_mode(t, PRIVACY_MODE_REDACT, NULL);
	assert_int_equal(r.nfindings, 1);
	/* Byte offsets: "Grüße an " is 11 bytes, and "jürgen" is not all ASCII:
	 * the local part stops at the non-ASCII byte. */
	assert_string_equal(t + r.findings[0].end, " – danke");
	assert_non_null(strstr(r.text, "[REDACTED:email] – danke"));
	assert_non_null(strstr(r.text, "Grüße"));
	privacy_result_clear(&r);
}

static void
test_binary_input(void **state)
{
	uint8_t in[64], expect[96];
	const char mail[] = "a.b@example.org";
	struct privacy_config cfg = { .mode = PRIVACY_MODE_REDACT };
	struct privacy_result r;
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 20; i++)
		in[n++] = (uint8_t)(i * 37 + 0x80);	/* invalid UTF-8 and NULs */
	in[3] = 0;
	in[n++] = ' ';
	memcpy(in + n, mail, sizeof(mail) - 1);
	n += sizeof(mail) - 1;
	in[n++] = 0;
	in[n++] = 0xff;
	assert_int_equal(privacy_scan(&cfg, in, n, &r), ERR_OK);
	memcpy(expect, in, 21);
	memcpy(expect + 21, "[REDACTED:email]", 16);
	expect[37] = 0;
	expect[38] = 0xff;
	assert_int_equal(r.len, 39);
	assert_memory_equal(r.text, expect, 39);
	privacy_result_clear(&r);
}

static void
test_empty_input(void **state)
{
	struct privacy_config cfg = { .mode = PRIVACY_MODE_REDACT };
	struct privacy_result r;

	(void)state;
	assert_int_equal(privacy_scan(&cfg, NULL, 0, &r), ERR_OK);
	assert_int_equal(r.len, 0);
	assert_string_equal(r.text, "");
	assert_int_equal(r.nfindings, 0);
	privacy_result_clear(&r);
	assert_int_equal(privacy_scan(&cfg, NULL, 5, &r), ERR_INVAL);
}

struct sink {
	char *p;
	size_t len, cap;
};

static int
sink_append(void *arg, const void *bytes, size_t len)
{
	struct sink *s = arg;

	if (s->len + len + 1 > s->cap) {
		s->cap = (s->len + len + 1) * 2;
		s->p = realloc(s->p, s->cap);
		assert_non_null(s->p);
	}
	memcpy(s->p + s->len, bytes, len);
	s->len += len;
	s->p[s->len] = '\0';
	return 0;
}

static void
stream_chunks(const char *in, size_t len, const size_t *cuts, size_t ncuts, struct sink *out,
    size_t *nfindings)
{
	struct privacy_config cfg = { .mode = PRIVACY_MODE_REDACT };
	struct privacy_stream *s;
	size_t at = 0;
	int err;

	s = privacy_stream_new(&cfg, &err);
	assert_non_null(s);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		assert_int_equal(privacy_stream_feed(s, in + at, end - at, sink_append, out), ERR_OK);
		at = end;
	}
	assert_int_equal(privacy_stream_finish(s, sink_append, out), ERR_OK);
	privacy_stream_findings(s, nfindings, NULL);
	privacy_stream_destroy(&s);
	assert_null(s);
}

static int
sink_refuse(void *arg, const void *bytes, size_t len)
{
	(void)arg;
	(void)bytes;
	(void)len;
	return ERR_IO;
}

static void
test_stream_errors(void **state)
{
	struct privacy_config cfg = { .mode = PRIVACY_MODE_REDACT };
	struct privacy_stream *s;
	struct sink out = { NULL, 0, 0 };
	int err;

	(void)state;
	assert_null(privacy_stream_new(NULL, &err));
	assert_int_equal(err, ERR_INVAL);
	s = privacy_stream_new(&cfg, &err);
	assert_non_null(s);
	assert_int_equal(privacy_stream_feed(s, "x", 1, NULL, NULL), ERR_INVAL);
	assert_int_equal(privacy_stream_feed(s, NULL, 3, sink_append, &out), ERR_INVAL);
	assert_int_equal(privacy_stream_feed(s, "a@example.com", 13, sink_append, &out), ERR_OK);
	/* The sink's error comes back, and the stream stays failed. */
	assert_int_equal(privacy_stream_finish(s, sink_refuse, NULL), ERR_IO);
	assert_int_equal(privacy_stream_feed(s, "more", 4, sink_append, &out), ERR_IO);
	assert_int_equal(privacy_stream_finish(s, sink_append, &out), ERR_IO);
	privacy_stream_destroy(&s);
	privacy_stream_destroy(&s);
	privacy_stream_destroy(NULL);
	free(out.p);
}

static void
test_stream_every_split(void **state)
{
	const char *t = "user jane.doe@example.com key AKIAZ7VRSQ4TLPBE3XN2 ip 10.1.2.3\n" "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDAC4AWkdwKYSd8\n"
	    "-----END PRIVATE KEY-----\npassword = \"hunter2hunter2\" end";
	struct privacy_result ref = scan_mode(t, PRIVACY_MODE_REDACT, NULL);
	size_t len = strlen(t);

	(void)state;
	assert_int_equal(ref.nfindings, 5);
	for (size_t cut = 0; cut <= len; cut++) {
		struct sink out = { NULL, 0, 0 };
		size_t n;
		stream_chunks(t, len, &cut, 1, &out, &n);
		assert_int_equal(n, ref.nfindings);
		assert_int_equal(out.len, ref.len);
		assert_memory_equal(out.p, ref.text, ref.len);
		free(out.p);
	}
	privacy_result_clear(&ref);
}

/* Secrets placed across the internal window boundaries of a long stream. */
static void
test_stream_long_boundaries(void **state)
{
	size_t len = 600 * 1024, n;
	char *big = malloc(len + 1);
	const char *secret = "ghp_Zx8Kq2Lm4Nn6Pp8Rr0Tt2Vv4Xx6Zz8Bb0Dd2F";
	size_t sl = strlen(secret), placed = 0;
	struct sink out = { NULL, 0, 0 };
	size_t cuts[] = { 1, 4095, 65536, 65537, 200000, 333333 };

	(void)state;
	assert_non_null(big);
	for (size_t i = 0; i < len; i++)
		big[i] = "lorem ipsum dolor sit amet "[i % 27];
	for (size_t at = 1000; at + sl + 1 < len; at += 7919 * 3, placed++) {
		big[at - 1] = ' ';
		memcpy(big + at, secret, sl);
		big[at + sl] = ' ';
	}
	big[len] = '\0';
	stream_chunks(big, len, cuts, sizeof(cuts) / sizeof(cuts[0]), &out, &n);
	assert_int_equal(n, placed);
	assert_null(strstr(out.p, "ghp_"));
	free(out.p);
	free(big);
}

/* Where the internal window falls must not change what is found: the same
 * text behind prefixes of different lengths gives the same findings. */
static void
test_window_placement(void **state)
{
	const char *root = getenv("SLUICE_ROOT");
	char path[4096], *line = NULL, *text;
	size_t cap = 0, len = 0, tcap = 2 << 20, ref_n = 0;
	struct privacy_finding *ref = NULL;
	const size_t prefixes[] = { 0, 1, 777, 4095, 65536, 262143 };
	struct privacy_config cfg = { .mode = PRIVACY_MODE_REPORT };
	FILE *f;
	ssize_t n;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/data/privacy-extra.jsonl", root != NULL ? root : ".");
	f = fopen(path, "r");
	assert_non_null(f);
	text = malloc(tcap + 300000);
	assert_non_null(text);
	memset(text, ' ', 300000);
	/* The raw JSON lines (escaped keys and all) repeated past several windows. */
	while (len < 900 * 1024) {
		while (len < 900 * 1024 && (n = getline(&line, &cap, f)) > 0) {
			memcpy(text + 300000 + len, line, (size_t)n);
			len += (size_t)n;
		}
		rewind(f);
	}
	fclose(f);
	free(line);
	/* Secrets whose copies follow 0..1000 bytes later (the nearby-copy rule). */
	for (unsigned i = 0; i < 300; i++) {
		char head[96];
		int hl = snprintf(head, sizeof(head), "api_token = 'Q7w9E2r4T6y8U1i3O5p7A9s2D4f6%05u'\n", i);
		size_t gap = (i * 397) % 1000;
		memcpy(text + 300000 + len, head, (size_t)hl);
		len += (size_t)hl;
		memset(text + 300000 + len, '.', gap);
		len += gap;
		memcpy(text + 300000 + len, head + 13, 33);
		len += 33;
		text[300000 + len++] = '\n';
	}
	for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
		struct privacy_result r;
		size_t off = 300000 - prefixes[k];
		assert_int_equal(privacy_scan(&cfg, text + off, len + prefixes[k], &r), ERR_OK);
		if (k == 0) {
			assert_true(r.nfindings > 1000);
			ref = r.findings;
			ref_n = r.nfindings;
			r.findings = NULL;
		} else {
			assert_int_equal(r.nfindings, ref_n);
			for (size_t i = 0; i < ref_n; i++) {
				assert_int_equal(r.findings[i].start, ref[i].start + prefixes[k]);
				assert_int_equal(r.findings[i].end, ref[i].end + prefixes[k]);
				assert_string_equal(r.findings[i].type, ref[i].type);
			}
		}
		privacy_result_clear(&r);
	}
	free(ref);
	free(text);
}

static void
test_large_input(void **state)
{
	size_t len = 8u << 20;
	char *big = malloc(len);
	struct privacy_config cfg = { .mode = PRIVACY_MODE_REDACT };
	struct privacy_result r;
	size_t placed = 0;

	(void)state;
	assert_non_null(big);
	for (size_t i = 0; i < len; i++)
		big[i] = "The quick brown fox jumps over the lazy dog. "[i % 45];
	for (size_t at = 4096; at + 64 < len; at += 1u << 20, placed++)
		memcpy(big + at, " carol@example.net ", 19);
	assert_int_equal(privacy_scan(&cfg, big, len, &r), ERR_OK);
	assert_int_equal(r.nfindings, placed);
	assert_int_equal(r.len, len + placed * (16 - 17));
	privacy_result_clear(&r);
	free(big);
}

static void
test_tokenize(void **state)
{
	struct privacy_tokens *t;
	struct privacy_result r;
	const void *v;
	size_t vlen;
	int err;

	(void)state;
	t = privacy_tokens_new(16, &err);
	assert_non_null(t);
	r = scan_mode("a@example.com b@example.com a@example.com key AKIAZ7VRSQ4TLPBE3XN2",
	    PRIVACY_MODE_TOKENIZE, t);
	assert_string_equal(r.text, "[EMAIL_1] [EMAIL_2] [EMAIL_1] key [REDACTED:aws_access_key_id]");
	privacy_result_clear(&r);
	/* Stable across calls sharing the map. */
	r = scan_mode("again b@example.com", PRIVACY_MODE_TOKENIZE, t);
	assert_string_equal(r.text, "again [EMAIL_2]");
	privacy_result_clear(&r);
	assert_int_equal(privacy_tokens_count(t), 2);
	assert_int_equal(privacy_tokens_restore(t, "[EMAIL_2]", 9, &v, &vlen), ERR_OK);
	assert_int_equal(vlen, 13);
	assert_memory_equal(v, "b@example.com", 13);
	assert_int_equal(privacy_tokens_restore(t, "[EMAIL_9]", 9, &v, &vlen), ERR_NOTFOUND);
	privacy_tokens_destroy(&t);
	assert_null(t);
	privacy_tokens_destroy(&t);
}

static void
test_tokens_full(void **state)
{
	struct privacy_tokens *t;
	struct privacy_config cfg = { .mode = PRIVACY_MODE_TOKENIZE };
	struct privacy_result r;
	const char *tok;
	size_t toklen;
	const char *in = "x1@example.com x2@example.com x1@example.com";
	int err;

	(void)state;
	assert_null(privacy_tokens_new(0, &err));
	assert_int_equal(err, ERR_INVAL);
	assert_null(privacy_tokens_new(PRIVACY_TOKENS_MAX + 1, &err));
	t = privacy_tokens_new(1, &err);
	assert_non_null(t);
	cfg.tokens = t;
	assert_int_equal(privacy_scan(&cfg, in, strlen(in), &r), ERR_OK);
	/* The second value does not fit: redacted, never leaked. */
	assert_string_equal(r.text, "[EMAIL_1] [REDACTED:email] [EMAIL_1]");
	assert_int_equal(r.token_fallbacks, 1);
	privacy_result_clear(&r);
	assert_int_equal(privacy_tokens_get(t, "email", "z@z.io", 6, &tok, &toklen), ERR_TOOBIG);
	assert_int_equal(privacy_tokens_get(t, "email", "", 0, &tok, &toklen), ERR_INVAL);
	privacy_tokens_destroy(&t);
}

static void
test_hash_and_report(void **state)
{
	struct privacy_result r1, r2;
	struct privacy_config cfg = { .mode = PRIVACY_MODE_HASH, .hash_key = test_key,
	    .hash_key_len = 8 };
	const char *in = "mail a@example.com pw: ghp_Zx8Kq2Lm4Nn6Pp8Rr0Tt2Vv4Xx6Zz8Bb0Dd2F";
	int err;

	(void)state;
	r1 = scan_mode(in, PRIVACY_MODE_HASH, NULL);
	r2 = scan_mode(in, PRIVACY_MODE_HASH, NULL);
	assert_string_equal(r1.text, r2.text);
	assert_non_null(strstr(r1.text, "mail [HASH:email:"));
	assert_int_equal(strlen(strstr(r1.text, "[HASH:email:")), strlen("[HASH:email:1a2b3c4d5e6f] pw: ") +
	    strlen("[REDACTED:github_token]"));
	assert_non_null(strstr(r1.text, "[REDACTED:github_token]"));
	privacy_result_clear(&r1);
	privacy_result_clear(&r2);
	r1 = scan_mode(in, PRIVACY_MODE_REPORT, NULL);
	assert_string_equal(r1.text, in);
	assert_int_equal(r1.nfindings, 2);
	privacy_result_clear(&r1);
	/* Bad configurations. */
	assert_int_equal(privacy_scan(&cfg, in, strlen(in), &r1), ERR_INVAL);
	cfg.hash_key = NULL;
	assert_int_equal(privacy_scan(&cfg, in, strlen(in), &r1), ERR_INVAL);
	cfg.mode = PRIVACY_MODE_TOKENIZE;
	assert_null(privacy_stream_new(&cfg, &err));
	assert_int_equal(err, ERR_INVAL);
	cfg.mode = (enum privacy_mode)42;
	assert_int_equal(privacy_scan(&cfg, in, strlen(in), &r1), ERR_INVAL);
}

static void
test_summary(void **state)
{
	struct privacy_result r;
	struct privacy_count c[4];
	size_t n;

	(void)state;
	r = scan_mode("a@example.com 10.0.0.1 b@example.com 10.0.0.2 c@example.com",
	    PRIVACY_MODE_REPORT, NULL);
	n = privacy_summary(r.findings, r.nfindings, c, 4);
	assert_int_equal(n, 2);
	assert_string_equal(c[0].type, "email");
	assert_int_equal(c[0].count, 3);
	assert_string_equal(c[1].type, "ipv4");
	assert_int_equal(c[1].count, 2);
	assert_int_equal(privacy_summary(r.findings, r.nfindings, c, 1), 1);
	privacy_result_clear(&r);
}

static void
test_validators(void **state)
{
	(void)state;
	assert_true(privacy_validate_luhn((const uint8_t *)"4111-1111-1111-1111", 19));
	assert_false(privacy_validate_luhn((const uint8_t *)"4111111111111112", 16));
	assert_true(privacy_validate_iban((const uint8_t *)"DE89 3704 0044 0532 0130 00", 27));
	assert_false(privacy_validate_iban((const uint8_t *)"DE89 3704 0044 0532 0130 01", 27));
	assert_false(privacy_validate_iban((const uint8_t *)"DE89", 4));
	assert_true(privacy_validate_ssn((const uint8_t *)"536-90-4399", 11));
	assert_false(privacy_validate_ssn((const uint8_t *)"900-90-4399", 11));
	assert_false(privacy_validate_ssn((const uint8_t *)"536-00-4399", 11));
	assert_false(privacy_validate_ssn((const uint8_t *)"536-90-0000", 11));
	assert_false(privacy_validate_jwt((const uint8_t *)"eyJBB.eyJCC.eyJDDDD", 19));
	assert_true(privacy_validate_entropy((const uint8_t *)"aaaa", 4) < 0.01);
	assert_true(privacy_validate_entropy((const uint8_t *)"abcd", 4) > 1.99);
	assert_true(privacy_validate_is_placeholder((const uint8_t *)"YOUR_API_KEY", 12));
	assert_true(privacy_validate_is_uuid((const uint8_t *)"550e8400-e29b-41d4-a716-446655440000", 36));
	assert_false(privacy_validate_is_uuid((const uint8_t *)"3aAcac6c-9847-23d9-ce65-917590b81cf0", 36));
	assert_true(privacy_validate_is_benign_id((const uint8_t *)"1.2.3", 5));
}

/* ---- corpus floors ------------------------------------------------------ */

struct corpus_score {
	unsigned pii_gold, pii_found, secret_gold, secret_found, clean, clean_ok, lines;
};

static bool
is_pii_type(const char *type)
{
	static const char *const pii[] = {
		"email", "phone", "us_ssn", "credit_card", "iban", "ipv4", "ipv6",
		"mac_address", "passport", "drivers_licence", "bank_account",
		"date_of_birth", "street_address", "zip_code",
	};

	for (size_t i = 0; i < sizeof(pii) / sizeof(pii[0]); i++)
		if (strcmp(type, pii[i]) == 0)
			return true;
	return false;
}

/* Unicode character offset -> byte offset. */
static size_t
byte_off(const char *s, size_t len, size_t chars)
{
	size_t i = 0, c = 0;

	while (i < len && c < chars) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		c++;
	}
	return i;
}

static bool
score_corpus(const char *path, struct corpus_score *sc)
{
	FILE *f = fopen(path, "r");
	struct privacy_config cfg = { .mode = PRIVACY_MODE_REPORT };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL)
		return false;
	memset(sc, 0, sizeof(*sc));
	while ((n = getline(&line, &cap, f)) > 0) {
		json_error_t jerr;
		json_t *o = json_loadb(line, (size_t)n, 0, &jerr), *spans, *types;
		const char *text, *kind;
		size_t tlen;
		struct privacy_result r;

		assert_non_null(o);
		text = json_string_value(json_object_get(o, "text"));
		tlen = json_string_length(json_object_get(o, "text"));
		kind = json_string_value(json_object_get(o, "kind"));
		assert_non_null(text);
		assert_non_null(kind);
		assert_int_equal(privacy_scan(&cfg, text, tlen, &r), ERR_OK);
		sc->lines++;
		if (strcmp(kind, "clean") == 0) {
			sc->clean++;
			sc->clean_ok += r.nfindings == 0;
		}
		spans = json_object_get(o, "spans");
		types = json_object_get(o, "span_types");
		for (size_t i = 0; i < json_array_size(spans); i++) {
			json_t *sp = json_array_get(spans, i);
			const char *type = json_string_value(json_array_get(types, i));
			size_t a = byte_off(text, tlen, (size_t)json_integer_value(json_array_get(sp, 0)));
			size_t b = byte_off(text, tlen, (size_t)json_integer_value(json_array_get(sp, 1)));
			bool hit = false;

			for (size_t k = 0; k < r.nfindings; k++)
				hit |= r.findings[k].start < b && a < r.findings[k].end;
			if (type != NULL && is_pii_type(type)) {
				sc->pii_gold++;
				sc->pii_found += hit;
			} else {
				sc->secret_gold++;
				sc->secret_found += hit;
			}
		}
		privacy_result_clear(&r);
		json_decref(o);
	}
	free(line);
	fclose(f);
	return true;
}

static void
check_floors(const struct corpus_score *sc, const char *name)
{
	printf("# %s: %u lines; PII %u/%u, secrets %u/%u, clean %u/%u\n", name, sc->lines,
	    sc->pii_found, sc->pii_gold, sc->secret_found, sc->secret_gold, sc->clean_ok, sc->clean);
	assert_true(sc->lines > 0);
	if (sc->pii_gold > 0)
		assert_true(sc->pii_found * 100 >= sc->pii_gold * 99);
	assert_int_equal(sc->secret_found, sc->secret_gold);
	if (sc->clean > 0)
		assert_true(sc->clean_ok * 100 >= sc->clean * 97);
}

static void
test_shared_corpus(void **state)
{
	const char *root = getenv("SLUICE_ROOT");
	char path[4096];
	struct corpus_score sc = { 0 };

	(void)state;
	/* $SLUICE_ROOT/../shared for the main checkout, ../../shared for a
	 * worktree under /work/wt/. */
	snprintf(path, sizeof(path), "%s/../shared/privacy-corpus/corpus.jsonl",
	    root != NULL ? root : ".");
	if (!score_corpus(path, &sc)) {
		snprintf(path, sizeof(path), "%s/../../shared/privacy-corpus/corpus.jsonl",
		    root != NULL ? root : ".");
	}
	if (sc.lines == 0 && !score_corpus(path, &sc)) {
		printf("# SKIP: %s not found (set SLUICE_ROOT)\n", path);
		skip();
	}
	assert_true(sc.lines >= 700);
	check_floors(&sc, "shared corpus");
}

static void
test_extra_corpus(void **state)
{
	const char *root = getenv("SLUICE_ROOT");
	char path[4096];
	struct corpus_score sc;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/data/privacy-extra.jsonl", root != NULL ? root : ".");
	assert_true(score_corpus(path, &sc));
	assert_int_equal(sc.pii_found, sc.pii_gold);
	check_floors(&sc, "extra corpus");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_parse),
		cmocka_unit_test(test_mode_list_parse),
		cmocka_unit_test(test_positives),
		cmocka_unit_test(test_negatives),
		cmocka_unit_test(test_pem_multiline),
		cmocka_unit_test(test_minimal_spans),
		cmocka_unit_test(test_overlap_rule),
		cmocka_unit_test(test_utf8_offsets),
		cmocka_unit_test(test_binary_input),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_stream_errors),
		cmocka_unit_test(test_stream_every_split),
		cmocka_unit_test(test_stream_long_boundaries),
		cmocka_unit_test(test_window_placement),
		cmocka_unit_test(test_large_input),
		cmocka_unit_test(test_tokenize),
		cmocka_unit_test(test_tokens_full),
		cmocka_unit_test(test_hash_and_report),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_shared_corpus),
		cmocka_unit_test(test_extra_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
