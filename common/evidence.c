/*
 * evidence — writes and verifies evidence packs (see evidence.h).
 *
 * The writer runs in the CLI (sluice audit export) fed by common/audit_export;
 * the verifier runs anywhere, offline, and trusts none of the pack's bytes:
 * files are read with hard size bounds and every line is decoded strictly.
 *
 * Pack layout (a directory):
 *
 *   events.jsonl    line i = audit_event_to_json(event i) "\n", seq ascending
 *   chain.json      {"version":1,
 *                    "start_prev_hash":"<hex32>",          prev_hash of line 1
 *                    "gaps":[[seq,"<body hex32>"], ...],    unselected events
 *                    "anchor":{"kind":"checkpoint","seq":N,"hash":"<hex32>",
 *                              "time":"<event time>","signature":"<hex64>"}
 *                           | {"kind":"head","seq":N,"hash":"<hex32>"}}
 *   manifest.json   {"format":"sluice-evidence-pack","version":1,"created":T,
 *                    "selection":{...},"events":N,"counts":{type:n,...},
 *                    "first":{"seq","hash"},"last":{"seq","hash"},
 *                    "public_key":"<hex32>","schema":"schemas/audit_event.schema.json"}
 *   signature       "<hex64>\n": ed25519 over D, where
 *
 *   D = SHA-256( "sluice-evidence-pack-v1\0"
 *                | u64be(len manifest.json) | manifest.json
 *                | u64be(len events.jsonl)  | events.jsonl
 *                | u64be(len chain.json)    | chain.json )
 *
 * Verification walks seq from line 1's seq to the anchor: each seq is either
 * the next line (its hash recomputed from its fields) or the next gap (its
 * body digest stepped into the chain); the walk must end on the anchor's hash,
 * whose checkpoint signature must verify.  A changed, dropped, inserted or
 * reordered event therefore breaks a link or the final hash.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "common/evidence.h"
#include "common/err.h"
#include "common/util.h"

#define EVIDENCE_PATH_MAX 4096
#define EVIDENCE_MANIFEST_MAX (1024 * 1024)
#define EVIDENCE_CHAIN_MAX (256u * 1024 * 1024)
#define EVIDENCE_FORMAT "sluice-evidence-pack"
#define EVIDENCE_DIGEST_TAG "sluice-evidence-pack-v1"

struct evidence_writer {
	char dir[EVIDENCE_PATH_MAX];
	struct evidence_selection sel;
	FILE *events;
	FILE *chain;
	bool started;
	uint64_t next_seq;
	uint8_t cur[AUDIT_HASH_LEN];	/* chain hash after the last item */
	uint64_t ngaps;
	uint64_t nevents;
	uint64_t counts[AUDIT_TYPE_MAX + 1];
	uint64_t first_seq, last_seq;
	uint8_t first_hash[AUDIT_HASH_LEN], last_hash[AUDIT_HASH_LEN];
};

static int
evidence_fail(char *why, size_t whysz, int rc, const char *fmt, const char *arg)
{
	if (why != NULL && whysz > 0)
		snprintf(why, whysz, fmt, arg ? arg : "");
	return rc;
}

static int
evidence_path(char *out, size_t outsz, const char *dir, const char *name)
{
	if ((size_t)snprintf(out, outsz, "%s/%s", dir, name) >= outsz)
		return ERR_TOOBIG;
	return ERR_OK;
}

static FILE *
evidence_create(const char *dir, const char *name, int *err)
{
	char path[EVIDENCE_PATH_MAX];
	FILE *f;

	if ((*err = evidence_path(path, sizeof(path), dir, name)) != ERR_OK)
		return NULL;
	if ((f = fopen(path, "wxe")) == NULL)
		*err = errno == EEXIST ? ERR_DUPLICATE : ERR_IO;
	return f;
}

struct evidence_writer *
evidence_writer_new(const char *outdir, const struct evidence_selection *sel,
    int *err, char *why, size_t whysz)
{
	struct evidence_writer *w;

	if (strlen(outdir) >= EVIDENCE_PATH_MAX - 32) {
		*err = evidence_fail(why, whysz, ERR_TOOBIG, "output path too long%s", NULL);
		return NULL;
	}
	if (mkdir(outdir, 0700) != 0 && errno != EEXIST) {
		*err = evidence_fail(why, whysz, ERR_IO, "cannot create %s", outdir);
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		*err = ERR_NOMEM;
		return NULL;
	}
	snprintf(w->dir, sizeof(w->dir), "%s", outdir);
	w->sel = *sel;
	if ((w->events = evidence_create(outdir, "events.jsonl", err)) == NULL ||
	    (w->chain = evidence_create(outdir, "chain.json", err)) == NULL) {
		evidence_fail(why, whysz, *err, *err == ERR_DUPLICATE ?
		    "%s already holds a pack" : "cannot create files in %s", outdir);
		evidence_writer_destroy(&w);
		return NULL;
	}
	*err = ERR_OK;
	return w;
}

void
evidence_writer_destroy(struct evidence_writer **wp)
{
	if (wp == NULL || *wp == NULL)
		return;
	if ((*wp)->events != NULL)
		fclose((*wp)->events);
	if ((*wp)->chain != NULL)
		fclose((*wp)->chain);
	free(*wp);
	*wp = NULL;
}

int
evidence_writer_add_event(struct evidence_writer *w, const struct audit_event *ev)
{
	uint8_t h[AUDIT_HASH_LEN];
	char hex[2 * AUDIT_HASH_LEN + 1];
	char *line;
	int rc;

	if (w->started && (ev->seq != w->next_seq ||
	    memcmp(ev->prev_hash, w->cur, AUDIT_HASH_LEN) != 0))
		return ERR_INVAL;
	if ((rc = audit_event_compute_hash(ev, h)) != ERR_OK)
		return rc;
	if (memcmp(h, ev->hash, AUDIT_HASH_LEN) != 0)
		return ERR_CRYPTO;	/* the store itself holds a bad event */
	if ((line = audit_event_to_json(ev)) == NULL)
		return ERR_NOMEM;
	if (!w->started) {
		audit_hex(ev->prev_hash, AUDIT_HASH_LEN, hex);
		fprintf(w->chain, "{\"version\":%d,\"start_prev_hash\":\"%s\",\"gaps\":[",
		    EVIDENCE_VERSION, hex);
		w->started = true;
		w->first_seq = ev->seq;
		memcpy(w->first_hash, ev->hash, AUDIT_HASH_LEN);
	}
	rc = fprintf(w->events, "%s\n", line) < 0 ? ERR_IO : ERR_OK;
	free(line);
	memcpy(w->cur, ev->hash, AUDIT_HASH_LEN);
	memcpy(w->last_hash, ev->hash, AUDIT_HASH_LEN);
	w->last_seq = ev->seq;
	w->next_seq = ev->seq + 1;
	w->nevents++;
	w->counts[ev->type]++;
	return rc;
}

int
evidence_writer_add_gap(struct evidence_writer *w, uint64_t seq,
    const uint8_t body[AUDIT_HASH_LEN])
{
	char hex[2 * AUDIT_HASH_LEN + 1];

	if (!w->started || seq != w->next_seq)
		return ERR_INVAL;
	audit_hex(body, AUDIT_HASH_LEN, hex);
	if (fprintf(w->chain, "%s\n[%llu,\"%s\"]", w->ngaps ? "," : "",
	    (unsigned long long)seq, hex) < 0)
		return ERR_IO;
	audit_chain_step(w->cur, body, w->cur);
	w->ngaps++;
	w->next_seq++;
	return ERR_OK;
}

/* Adds the selection object for `sel` to manifest `m`. */
static json_t *
evidence_selection_json(const struct evidence_selection *sel)
{
	switch (sel->kind) {
	case EVIDENCE_SESSION:
		return json_pack("{s:s, s:s}", "kind", "session", "session", sel->value);
	case EVIDENCE_JOB:
		return json_pack("{s:s, s:s}", "kind", "job", "job", sel->value);
	case EVIDENCE_TIME:
		return json_pack("{s:s, s:s, s:s}", "kind", "time", "since", sel->since,
		    "until", sel->until);
	case EVIDENCE_ALL:
		break;
	}
	return json_pack("{s:s}", "kind", "all");
}

static json_t *
evidence_seqhash_json(uint64_t seq, const uint8_t hash[AUDIT_HASH_LEN])
{
	char hex[2 * AUDIT_HASH_LEN + 1];

	audit_hex(hash, AUDIT_HASH_LEN, hex);
	return json_pack("{s:I, s:s}", "seq", (json_int_t)seq, "hash", hex);
}

static int
evidence_write_manifest(struct evidence_writer *w, const uint8_t pk[AUDIT_PK_LEN])
{
	char path[EVIDENCE_PATH_MAX], pkhex[2 * AUDIT_PK_LEN + 1], now[AUDIT_TIME_LEN + 1];
	struct timespec ts;
	json_t *m, *counts;
	int rc = ERR_OK;

	clock_gettime(CLOCK_REALTIME, &ts);
	audit_time_format(&ts, now);
	audit_hex(pk, AUDIT_PK_LEN, pkhex);
	if ((counts = json_object()) == NULL)
		return ERR_NOMEM;
	for (int t = AUDIT_TYPE_MIN; t <= AUDIT_TYPE_MAX; t++)
		json_object_set_new(counts, audit_type_name((enum audit_type)t),
		    json_integer((json_int_t)w->counts[t]));
	m = json_pack("{s:s, s:i, s:s, s:o, s:I, s:o, s:o, s:o, s:s, s:s}",
	    "format", EVIDENCE_FORMAT, "version", EVIDENCE_VERSION, "created", now,
	    "selection", evidence_selection_json(&w->sel),
	    "events", (json_int_t)w->nevents, "counts", counts,
	    "first", evidence_seqhash_json(w->first_seq, w->first_hash),
	    "last", evidence_seqhash_json(w->last_seq, w->last_hash),
	    "public_key", pkhex, "schema", "schemas/audit_event.schema.json");
	if (m == NULL)
		return ERR_NOMEM;
	if (evidence_path(path, sizeof(path), w->dir, "manifest.json") != ERR_OK ||
	    json_dump_file(m, path, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
		rc = ERR_IO;
	json_decref(m);
	return rc;
}

/* Feeds u64be(len) | bytes of file `name` into `st`. */
static int
evidence_digest_file(crypto_hash_sha256_state *st, const char *dir, const char *name,
    uint64_t max)
{
	char path[EVIDENCE_PATH_MAX];
	uint8_t buf[65536], lenbe[8];
	struct stat sb;
	size_t n;
	FILE *f;

	if (evidence_path(path, sizeof(path), dir, name) != ERR_OK)
		return ERR_TOOBIG;
	if ((f = util_fopen_regular(path)) == NULL)
		return errno == ENOENT ? ERR_IO : ERR_TOOBIG;
	if (fstat(fileno(f), &sb) != 0 || (uint64_t)sb.st_size > max) {
		fclose(f);
		return ERR_TOOBIG;
	}
	for (int i = 0; i < 8; i++)
		lenbe[i] = (uint8_t)((uint64_t)sb.st_size >> (56 - 8 * i));
	crypto_hash_sha256_update(st, lenbe, 8);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		crypto_hash_sha256_update(st, buf, n);
	fclose(f);
	return ERR_OK;
}

/* D of the pack in `dir` (see the layout above). */
static int
evidence_pack_digest(const char *dir, uint8_t out[AUDIT_HASH_LEN])
{
	crypto_hash_sha256_state st;
	int rc;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)EVIDENCE_DIGEST_TAG,
	    sizeof(EVIDENCE_DIGEST_TAG));
	if ((rc = evidence_digest_file(&st, dir, "manifest.json", EVIDENCE_MANIFEST_MAX)) != ERR_OK ||
	    (rc = evidence_digest_file(&st, dir, "events.jsonl", UINT64_MAX)) != ERR_OK ||
	    (rc = evidence_digest_file(&st, dir, "chain.json", EVIDENCE_CHAIN_MAX)) != ERR_OK)
		return rc;
	crypto_hash_sha256_final(&st, out);
	return ERR_OK;
}

int
evidence_writer_finish(struct evidence_writer *w, const struct audit_checkpoint *anchor,
    bool anchor_signed, const uint8_t pk[AUDIT_PK_LEN],
    int (*sign)(void *ctx, const uint8_t *msg, size_t len, uint8_t sig[AUDIT_SIG_LEN]),
    void *ctx)
{
	char hash[2 * AUDIT_HASH_LEN + 1], sighex[2 * AUDIT_SIG_LEN + 1];
	char path[EVIDENCE_PATH_MAX];
	uint8_t digest[AUDIT_HASH_LEN], sig[AUDIT_SIG_LEN];
	FILE *f;
	int rc, bad;

	if (!w->started || anchor->seq != w->next_seq - 1 ||
	    memcmp(anchor->hash, w->cur, AUDIT_HASH_LEN) != 0)
		return ERR_INVAL;
	audit_hex(anchor->hash, AUDIT_HASH_LEN, hash);
	if (anchor_signed) {
		audit_hex(anchor->sig, AUDIT_SIG_LEN, sighex);
		fprintf(w->chain, "\n],\"anchor\":{\"kind\":\"checkpoint\",\"seq\":%llu,"
		    "\"hash\":\"%s\",\"time\":\"%s\",\"signature\":\"%s\"}}\n",
		    (unsigned long long)anchor->seq, hash, anchor->time, sighex);
	} else {
		fprintf(w->chain, "\n],\"anchor\":{\"kind\":\"head\",\"seq\":%llu,"
		    "\"hash\":\"%s\"}}\n", (unsigned long long)anchor->seq, hash);
	}
	bad = fflush(w->chain) != 0 || fsync(fileno(w->chain)) != 0;
	bad |= fflush(w->events) != 0 || fsync(fileno(w->events)) != 0;
	if (bad)
		return ERR_IO;
	if ((rc = evidence_write_manifest(w, pk)) != ERR_OK)
		return rc;
	if ((rc = evidence_pack_digest(w->dir, digest)) != ERR_OK)
		return rc;
	if ((rc = sign(ctx, digest, sizeof(digest), sig)) != ERR_OK)
		return rc;
	audit_hex(sig, AUDIT_SIG_LEN, sighex);
	if ((f = evidence_create(w->dir, "signature", &rc)) == NULL)
		return rc;
	bad = fprintf(f, "%s\n", sighex) < 0;
	bad |= fclose(f) != 0;
	if (evidence_path(path, sizeof(path), w->dir, "signature") != ERR_OK || bad)
		return ERR_IO;
	return ERR_OK;
}

/* ---- verification ---- */

static int
evidence_bad(struct evidence_report *rep, int rc, uint64_t seq, size_t line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
evidence_bad(struct evidence_report *rep, int rc, uint64_t seq, size_t line,
    const char *fmt, ...)
{
	va_list ap;

	if (rep->reason[0] != '\0')
		return rc;	/* keep the first problem */
	rep->bad_seq = seq;
	rep->bad_line = line;
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
	va_end(ap);
	return rc;
}

/* Reads a whole small file of `dir` with a bound; fresh buffer (free) in *out. */
static int
evidence_read_file(const char *dir, const char *name, size_t max, char **out, size_t *len)
{
	char path[EVIDENCE_PATH_MAX];

	if (evidence_path(path, sizeof(path), dir, name) != ERR_OK)
		return ERR_TOOBIG;
	return util_read_regular(path, max, out, len);
}

static json_t *
evidence_load_json(const char *dir, const char *name, size_t max, int *rc)
{
	json_error_t jerr;
	json_t *j;
	char *buf;
	size_t len;

	if ((*rc = evidence_read_file(dir, name, max, &buf, &len)) != ERR_OK)
		return NULL;
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		*rc = ERR_INVAL;
		return NULL;
	}
	return j;
}

/* Parses 64 hex chars from string member `key` of `o`. */
static bool
evidence_get_hash(const json_t *o, const char *key, uint8_t *out, size_t len)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL && audit_unhex(s, out, len) == ERR_OK;
}

static bool
evidence_get_u64(const json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/* The parsed chain proof. */
struct evidence_chain {
	uint8_t start_prev[AUDIT_HASH_LEN];
	json_t *gaps;		/* borrowed from the chain.json document */
	size_t ngaps;
	struct audit_checkpoint anchor;
	bool anchor_signed;
};

static int
evidence_parse_chain(json_t *c, struct evidence_chain *ch, struct evidence_report *rep)
{
	json_t *a;
	const char *kind, *t;
	uint64_t v;

	if (!evidence_get_u64(c, "version", &v) || v != EVIDENCE_VERSION)
		return evidence_bad(rep, ERR_VERSION, 0, 0, "chain.json: unsupported version");
	if (!evidence_get_hash(c, "start_prev_hash", ch->start_prev, AUDIT_HASH_LEN))
		return evidence_bad(rep, ERR_INVAL, 0, 0, "chain.json: bad start_prev_hash");
	ch->gaps = json_object_get(c, "gaps");
	if (!json_is_array(ch->gaps))
		return evidence_bad(rep, ERR_INVAL, 0, 0, "chain.json: gaps is not an array");
	ch->ngaps = json_array_size(ch->gaps);
	a = json_object_get(c, "anchor");
	kind = json_string_value(json_object_get(a, "kind"));
	if (kind == NULL || !evidence_get_u64(a, "seq", &ch->anchor.seq) ||
	    !evidence_get_hash(a, "hash", ch->anchor.hash, AUDIT_HASH_LEN))
		return evidence_bad(rep, ERR_INVAL, 0, 0, "chain.json: bad anchor");
	ch->anchor_signed = strcmp(kind, "checkpoint") == 0;
	if (ch->anchor_signed) {
		t = json_string_value(json_object_get(a, "time"));
		if (t == NULL || !audit_time_is_valid(t) ||
		    !evidence_get_hash(a, "signature", ch->anchor.sig, AUDIT_SIG_LEN))
			return evidence_bad(rep, ERR_INVAL, 0, 0, "chain.json: bad checkpoint");
		snprintf(ch->anchor.time, sizeof(ch->anchor.time), "%s", t);
	} else if (strcmp(kind, "head") != 0) {
		return evidence_bad(rep, ERR_INVAL, 0, 0, "chain.json: unknown anchor kind");
	}
	return ERR_OK;
}

/* Gap `i`: seq and body digest.  ERR_OK or ERR_INVAL. */
static int
evidence_gap(const struct evidence_chain *ch, size_t i, uint64_t *seq, uint8_t *body)
{
	json_t *g = json_array_get(ch->gaps, i);
	json_t *s = json_array_get(g, 0), *b = json_array_get(g, 1);

	if (!json_is_array(g) || json_array_size(g) != 2 || !json_is_integer(s) ||
	    json_integer_value(s) < 1 || !json_is_string(b) ||
	    audit_unhex(json_string_value(b), body, AUDIT_HASH_LEN) != ERR_OK)
		return ERR_INVAL;
	*seq = (uint64_t)json_integer_value(s);
	return ERR_OK;
}

/* The selection in the manifest. */
struct evidence_verify_state {
	struct evidence_selection sel;
	struct evidence_chain ch;
	uint8_t cur[AUDIT_HASH_LEN];
	uint64_t expected;
	size_t gi;
	uint64_t counts[AUDIT_TYPE_MAX + 1];
	uint8_t first_hash[AUDIT_HASH_LEN], last_hash[AUDIT_HASH_LEN];
};

static int
evidence_parse_selection(const json_t *m, struct evidence_selection *sel,
    struct evidence_report *rep)
{
	const json_t *s = json_object_get(m, "selection");
	const char *kind = json_string_value(json_object_get(s, "kind"));
	const char *v;

	memset(sel, 0, sizeof(*sel));
	if (kind == NULL)
		return evidence_bad(rep, ERR_INVAL, 0, 0, "manifest: no selection");
	if (strcmp(kind, "all") == 0)
		return ERR_OK;
	if (strcmp(kind, "session") == 0 || strcmp(kind, "job") == 0) {
		sel->kind = kind[0] == 's' ? EVIDENCE_SESSION : EVIDENCE_JOB;
		v = json_string_value(json_object_get(s, kind));
		if (v == NULL || strlen(v) > AUDIT_NAME_MAX)
			return evidence_bad(rep, ERR_INVAL, 0, 0, "manifest: bad selection");
		snprintf(sel->value, sizeof(sel->value), "%s", v);
		return ERR_OK;
	}
	if (strcmp(kind, "time") == 0) {
		const char *a = json_string_value(json_object_get(s, "since"));
		const char *b = json_string_value(json_object_get(s, "until"));
		sel->kind = EVIDENCE_TIME;
		if (a == NULL || b == NULL || strlen(a) > AUDIT_TIME_LEN ||
		    strlen(b) > AUDIT_TIME_LEN)
			return evidence_bad(rep, ERR_INVAL, 0, 0, "manifest: bad selection");
		snprintf(sel->since, sizeof(sel->since), "%s", a);
		snprintf(sel->until, sizeof(sel->until), "%s", b);
		return ERR_OK;
	}
	return evidence_bad(rep, ERR_INVAL, 0, 0, "manifest: unknown selection kind");
}

static bool
evidence_selected(const struct evidence_selection *sel, const struct audit_event *ev)
{
	switch (sel->kind) {
	case EVIDENCE_SESSION:
		return strcmp(ev->session, sel->value) == 0;
	case EVIDENCE_JOB:
		return strcmp(ev->job, sel->value) == 0;
	case EVIDENCE_TIME:
		return (sel->since[0] == '\0' || strcmp(ev->time, sel->since) >= 0) &&
		    (sel->until[0] == '\0' || strcmp(ev->time, sel->until) < 0);
	case EVIDENCE_ALL:
		break;
	}
	return true;
}

/* Steps the chain over gaps whose seq is below `upto`. */
static int
evidence_take_gaps(struct evidence_verify_state *vs, uint64_t upto, size_t line,
    struct evidence_report *rep)
{
	uint8_t body[AUDIT_HASH_LEN];
	uint64_t seq;

	while (vs->gi < vs->ch.ngaps) {
		if (evidence_gap(&vs->ch, vs->gi, &seq, body) != ERR_OK)
			return evidence_bad(rep, ERR_INVAL, 0, line,
			    "chain.json: gap %zu is malformed", vs->gi + 1);
		if (seq >= upto)
			break;
		if (seq != vs->expected)
			return evidence_bad(rep, ERR_CRYPTO, vs->expected, line,
			    "event seq %llu is missing before line %zu (deleted or reordered)",
			    (unsigned long long)vs->expected, line);
		audit_chain_step(vs->cur, body, vs->cur);
		vs->expected++;
		vs->gi++;
	}
	return ERR_OK;
}

/* Checks one event line (line number `line`). */
static int
evidence_check_line(struct evidence_verify_state *vs, const char *buf, size_t len,
    size_t line, struct evidence_report *rep)
{
	struct audit_event ev;
	uint8_t h[AUDIT_HASH_LEN];
	char why[160];
	int rc;

	if ((rc = audit_event_from_json(buf, len, &ev, why, sizeof(why))) != ERR_OK)
		return evidence_bad(rep, ERR_CRYPTO, vs->expected, line,
		    "line %zu: not a valid event (%s)", line, why);
	if (line == 1) {
		vs->expected = ev.seq;
		memcpy(vs->cur, vs->ch.start_prev, AUDIT_HASH_LEN);
		rep->first_seq = ev.seq;
		memcpy(vs->first_hash, ev.hash, AUDIT_HASH_LEN);
	}
	if ((rc = evidence_take_gaps(vs, ev.seq, line, rep)) != ERR_OK)
		goto out_event;
	if (ev.seq != vs->expected) {
		rc = evidence_bad(rep, ERR_CRYPTO, ev.seq, line,
		    "line %zu: seq %llu where %llu was expected (event deleted, inserted "
		    "or reordered)", line, (unsigned long long)ev.seq,
		    (unsigned long long)vs->expected);
		goto out_event;
	}
	if (sodium_memcmp(ev.prev_hash, vs->cur, AUDIT_HASH_LEN) != 0) {
		rc = evidence_bad(rep, ERR_CRYPTO, ev.seq, line,
		    "line %zu (seq %llu): prev_hash does not link to the previous event",
		    line, (unsigned long long)ev.seq);
		goto out_event;
	}
	if ((rc = audit_event_compute_hash(&ev, h)) != ERR_OK ||
	    sodium_memcmp(h, ev.hash, AUDIT_HASH_LEN) != 0) {
		rc = evidence_bad(rep, ERR_CRYPTO, ev.seq, line,
		    "line %zu (seq %llu): hash mismatch (event content edited)",
		    line, (unsigned long long)ev.seq);
		goto out_event;
	}
	if (!evidence_selected(&vs->sel, &ev)) {
		rc = evidence_bad(rep, ERR_CRYPTO, ev.seq, line,
		    "line %zu (seq %llu): event is outside the manifest's selection",
		    line, (unsigned long long)ev.seq);
		goto out_event;
	}
	memcpy(vs->cur, h, AUDIT_HASH_LEN);
	memcpy(vs->last_hash, h, AUDIT_HASH_LEN);
	rep->last_seq = ev.seq;
	rep->events++;
	vs->counts[ev.type]++;
	vs->expected++;
out_event:
	audit_event_clear(&ev);
	return rc;
}

/* Reads events.jsonl line by line (each at most AUDIT_JSON_MAX bytes). */
static int
evidence_check_events(const char *dir, struct evidence_verify_state *vs,
    struct evidence_report *rep)
{
	char path[EVIDENCE_PATH_MAX];
	char *buf;
	size_t len = 0, line = 0;
	int c, rc = ERR_OK;
	FILE *f;

	if (evidence_path(path, sizeof(path), dir, "events.jsonl") != ERR_OK)
		return ERR_TOOBIG;
	if ((f = util_fopen_regular(path)) == NULL)
		return evidence_bad(rep, ERR_IO, 0, 0, "events.jsonl: %s",
		    errno == EINVAL ? "not a regular file" : strerror(errno));
	if ((buf = malloc(AUDIT_JSON_MAX + 1)) == NULL) {
		fclose(f);
		return ERR_NOMEM;
	}
	for (;;) {
		c = getc_unlocked(f);
		if (c == EOF && len == 0)
			break;
		if (c != EOF && c != '\n') {
			if (len == AUDIT_JSON_MAX) {
				rc = evidence_bad(rep, ERR_CRYPTO, vs->expected, line + 1,
				    "line %zu: longer than %d bytes", line + 1, AUDIT_JSON_MAX);
				break;
			}
			buf[len++] = (char)c;
			continue;
		}
		line++;
		if ((rc = evidence_check_line(vs, buf, len, line, rep)) != ERR_OK)
			break;
		len = 0;
		if (c == EOF)
			break;
	}
	free(buf);
	fclose(f);
	if (rc == ERR_OK && line == 0)
		rc = evidence_bad(rep, ERR_CRYPTO, 0, 0, "events.jsonl holds no events");
	return rc;
}

/* Checks the manifest against what the walk saw. */
static int
evidence_check_manifest(const json_t *m, const struct evidence_verify_state *vs,
    struct evidence_report *rep)
{
	json_t *counts = json_object_get(m, "counts");
	uint8_t h[AUDIT_HASH_LEN];
	uint64_t v;

	if (!evidence_get_u64(m, "events", &v) || v != rep->events)
		return evidence_bad(rep, ERR_CRYPTO, 0, 0,
		    "manifest: event count differs from events.jsonl");
	if (!json_is_object(counts) || json_object_size(counts) != AUDIT_TYPE_MAX)
		return evidence_bad(rep, ERR_CRYPTO, 0, 0, "manifest: bad counts");
	for (int t = AUDIT_TYPE_MIN; t <= AUDIT_TYPE_MAX; t++)
		if (!evidence_get_u64(counts, audit_type_name((enum audit_type)t), &v) ||
		    v != vs->counts[t])
			return evidence_bad(rep, ERR_CRYPTO, 0, 0,
			    "manifest: count of %s differs", audit_type_name((enum audit_type)t));
	if (!evidence_get_u64(json_object_get(m, "first"), "seq", &v) || v != rep->first_seq ||
	    !evidence_get_hash(json_object_get(m, "first"), "hash", h, AUDIT_HASH_LEN) ||
	    memcmp(h, vs->first_hash, AUDIT_HASH_LEN) != 0)
		return evidence_bad(rep, ERR_CRYPTO, 0, 0, "manifest: first event differs");
	if (!evidence_get_u64(json_object_get(m, "last"), "seq", &v) || v != rep->last_seq ||
	    !evidence_get_hash(json_object_get(m, "last"), "hash", h, AUDIT_HASH_LEN) ||
	    memcmp(h, vs->last_hash, AUDIT_HASH_LEN) != 0)
		return evidence_bad(rep, ERR_CRYPTO, 0, 0, "manifest: last event differs");
	return ERR_OK;
}

static int
evidence_check_signature(const char *dir, const uint8_t pk[AUDIT_PK_LEN],
    struct evidence_report *rep)
{
	uint8_t digest[AUDIT_HASH_LEN], sig[AUDIT_SIG_LEN];
	char *buf;
	size_t len;
	int rc;

	if ((rc = evidence_read_file(dir, "signature", 2 * AUDIT_SIG_LEN + 2, &buf, &len)) != ERR_OK)
		return evidence_bad(rep, rc == ERR_TOOBIG ? ERR_CRYPTO : rc, 0, 0,
		    "signature: missing, not a regular file or malformed");
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	rc = audit_unhex(buf, sig, AUDIT_SIG_LEN);
	free(buf);
	if (rc != ERR_OK)
		return evidence_bad(rep, ERR_CRYPTO, 0, 0, "signature: not 128 hex chars");
	if ((rc = evidence_pack_digest(dir, digest)) != ERR_OK)
		return evidence_bad(rep, rc, 0, 0, "cannot read the pack to hash it");
	if (crypto_sign_verify_detached(sig, digest, sizeof(digest), pk) != 0)
		return evidence_bad(rep, ERR_CRYPTO, 0, 0,
		    "signature does not verify (manifest.json, events.jsonl or chain.json "
		    "changed, or another key signed)");
	return ERR_OK;
}

int
evidence_verify(const char *dir, const uint8_t *pinned_pk, struct evidence_report *rep)
{
	struct evidence_verify_state *vs;
	json_t *m = NULL, *c = NULL;
	const char *fmt;
	uint8_t pk[AUDIT_PK_LEN];
	uint64_t v;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (sodium_init() < 0)
		return ERR_CRYPTO;
	if ((vs = calloc(1, sizeof(*vs))) == NULL)
		return ERR_NOMEM;
	if ((m = evidence_load_json(dir, "manifest.json", EVIDENCE_MANIFEST_MAX, &rc)) == NULL) {
		rc = evidence_bad(rep, rc == ERR_INVAL ? ERR_CRYPTO : rc, 0, 0,
		    "manifest.json: missing, not a regular file, too big or not a JSON object");
		goto out;
	}
	fmt = json_string_value(json_object_get(m, "format"));
	if (fmt == NULL || strcmp(fmt, EVIDENCE_FORMAT) != 0 ||
	    !evidence_get_u64(m, "version", &v) || v != EVIDENCE_VERSION) {
		rc = evidence_bad(rep, ERR_VERSION, 0, 0, "manifest: not a version %d pack",
		    EVIDENCE_VERSION);
		goto out;
	}
	if (!evidence_get_hash(m, "public_key", pk, AUDIT_PK_LEN)) {
		rc = evidence_bad(rep, ERR_CRYPTO, 0, 0, "manifest: bad public_key");
		goto out;
	}
	if (pinned_pk != NULL && sodium_memcmp(pk, pinned_pk, AUDIT_PK_LEN) != 0) {
		rc = evidence_bad(rep, ERR_CRYPTO, 0, 0,
		    "the pack's public key is not the pinned key");
		goto out;
	}
	if ((rc = evidence_parse_selection(m, &vs->sel, rep)) != ERR_OK)
		goto out;
	if ((c = evidence_load_json(dir, "chain.json", EVIDENCE_CHAIN_MAX, &rc)) == NULL) {
		rc = evidence_bad(rep, rc == ERR_INVAL ? ERR_CRYPTO : rc, 0, 0,
		    "chain.json: missing, not a regular file, too big or not a JSON object");
		goto out;
	}
	if ((rc = evidence_parse_chain(c, &vs->ch, rep)) != ERR_OK)
		goto out;
	if ((rc = evidence_check_events(dir, vs, rep)) != ERR_OK)
		goto out;
	if ((rc = evidence_take_gaps(vs, UINT64_MAX, 0, rep)) != ERR_OK)
		goto out;
	if (vs->gi != vs->ch.ngaps || vs->expected - 1 != vs->ch.anchor.seq ||
	    sodium_memcmp(vs->cur, vs->ch.anchor.hash, AUDIT_HASH_LEN) != 0) {
		rc = evidence_bad(rep, ERR_CRYPTO, 0, 0,
		    "chain does not reach the anchor (seq %llu): events or gaps changed",
		    (unsigned long long)vs->ch.anchor.seq);
		goto out;
	}
	rep->anchor_seq = vs->ch.anchor.seq;
	if (vs->ch.anchor_signed) {
		if (!audit_checkpoint_verify(&vs->ch.anchor, pk)) {
			rc = evidence_bad(rep, ERR_CRYPTO, 0, 0,
			    "checkpoint %llu: signature does not verify",
			    (unsigned long long)vs->ch.anchor.seq);
			goto out;
		}
		rep->anchored = true;
	}
	if ((rc = evidence_check_manifest(m, vs, rep)) != ERR_OK)
		goto out;
	rc = evidence_check_signature(dir, pk, rep);
out:
	json_decref(m);
	json_decref(c);
	free(vs);
	return rc;
}
