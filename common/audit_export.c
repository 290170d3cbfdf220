/*
 * audit_export — selection → evidence pack.  Runs in the CLI (reader store)
 * or the broker.  Trusts the store: events are re-hashed by the pack writer
 * anyway, so a corrupt store fails the export instead of signing bad data.
 *
 * Steps: collect the selected seqs from the index for the selection (bounded
 * list, sorted); pick the anchor; walk seq from the first selected event to
 * the anchor, writing each selected event and the body digest of every other
 * event; sign.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/audit_export.h"
#include "common/err.h"


struct audit_export_walk {
	struct audit_store_seqs sel;	/* selected seqs, sorted */
	size_t next;
	struct evidence_writer *w;
	uint64_t gaps;
	int err;
};

static int
audit_export_collect(const struct audit_event *ev, void *arg)
{
	struct audit_export_walk *x = arg;

	return audit_store_seqs_add(&x->sel, ev->seq);
}

static int
audit_export_emit(const struct audit_event *ev, void *arg)
{
	struct audit_export_walk *x = arg;
	uint8_t body[AUDIT_HASH_LEN];
	int rc;

	if (x->next < x->sel.n && ev->seq == x->sel.v[x->next]) {
		x->next++;
		return evidence_writer_add_event(x->w, ev);
	}
	if ((rc = audit_body_digest(ev, body)) != ERR_OK)
		return rc;
	x->gaps++;
	return evidence_writer_add_gap(x->w, ev->seq, body);
}

static int
audit_export_sign(void *ctx, const uint8_t *msg, size_t len, uint8_t sig[AUDIT_SIG_LEN])
{
	return audit_store_sign(ctx, msg, len, sig);
}

static int
audit_export_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Fills x->sel with the selection, sorted. */
static int
audit_export_select(struct audit_store *s, const struct evidence_selection *sel,
    struct audit_export_walk *x)
{
	const char *since = sel->since[0] ? sel->since : NULL;
	const char *until = sel->until[0] ? sel->until : NULL;
	int rc;

	switch (sel->kind) {
	case EVIDENCE_SESSION:
		rc = audit_store_scan_session(s, sel->value, audit_export_collect, x);
		break;
	case EVIDENCE_JOB:
		rc = audit_store_scan_job(s, sel->value, audit_export_collect, x);
		break;
	case EVIDENCE_TIME:
		rc = audit_store_scan_time(s, since, until, audit_export_collect, x);
		break;
	default:
		rc = audit_store_scan_seq(s, 1, 0, audit_export_collect, x);
		break;
	}
	if (rc == ERR_OK && x->sel.n > 0)
		qsort(x->sel.v, x->sel.n, sizeof(*x->sel.v), audit_export_cmp);
	return rc;
}

int
audit_export(struct audit_store *s, const struct evidence_selection *sel,
    const char *outdir, struct audit_export_result *res, char *why, size_t whysz)
{
	struct audit_export_walk x = { 0 };
	struct audit_checkpoint anchor;
	uint8_t pk[AUDIT_PK_LEN], probe[AUDIT_SIG_LEN];
	bool anchored = true;
	int rc;

	memset(res, 0, sizeof(*res));
	if (audit_store_sign(s, (const uint8_t *)"", 0, probe) != ERR_OK) {
		snprintf(why, whysz, "cannot read the signing key (audit.key)");
		return ERR_DENIED;
	}
	if ((rc = audit_export_select(s, sel, &x)) != ERR_OK) {
		snprintf(why, whysz, "selecting events: %s", err_str(rc));
		goto out_seqs;
	}
	if (x.sel.n == 0) {
		snprintf(why, whysz, "no events match the selection");
		rc = ERR_NOTFOUND;
		goto out_seqs;
	}
	rc = audit_store_checkpoint_find(s, x.sel.v[x.sel.n - 1], &anchor);
	if (rc == ERR_NOTFOUND) {
		memset(&anchor, 0, sizeof(anchor));
		audit_store_head(s, &anchor.seq, anchor.hash);
		anchored = false;
	} else if (rc != ERR_OK) {
		snprintf(why, whysz, "reading checkpoints: %s", err_str(rc));
		goto out_seqs;
	}
	if ((x.w = evidence_writer_new(outdir, sel, &rc, why, whysz)) == NULL)
		goto out_seqs;
	rc = audit_store_scan_seq(s, x.sel.v[0], anchor.seq, audit_export_emit, &x);
	if (rc != ERR_OK) {
		snprintf(why, whysz, "writing events: %s", err_str(rc));
		goto out_writer;
	}
	audit_store_public_key(s, pk);
	rc = evidence_writer_finish(x.w, &anchor, anchored, pk, audit_export_sign, s);
	if (rc != ERR_OK) {
		snprintf(why, whysz, "finishing the pack: %s", err_str(rc));
		goto out_writer;
	}
	res->events = x.sel.n;
	res->gaps = x.gaps;
	res->anchor_seq = anchor.seq;
	res->anchored = anchored;
out_writer:
	evidence_writer_destroy(&x.w);
out_seqs:
	free(x.sel.v);
	return rc;
}
