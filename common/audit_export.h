/*
 * audit_export — exports a selection of the audit store as an evidence pack
 * (common/evidence).  Runs in the CLI against a reader store (or in the
 * broker against its writer store); needs the signing key (dir/audit.key).
 */
#ifndef SLUICE_AUDIT_EXPORT_H
#define SLUICE_AUDIT_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common/audit_store.h"
#include "common/evidence.h"

/* What an export wrote. */
struct audit_export_result {
	uint64_t events;	/* selected events written */
	uint64_t gaps;		/* unselected events proved by body digest */
	uint64_t anchor_seq;
	bool anchored;		/* anchor is a signed checkpoint (else the head) */
};

/*
 * Writes the events chosen by `sel` (seq order) and their chain proof to
 * `outdir`, anchored at the first signed checkpoint at or after the last
 * selected event, or at the committed head when none exists yet.  Returns
 * ERR_OK, ERR_NOTFOUND (nothing selected), ERR_DENIED (no signing key),
 * ERR_DUPLICATE (outdir holds a pack), ERR_IO, ERR_DB, ERR_TOOBIG, with a
 * reason in `why`.
 */
int audit_export(struct audit_store *s, const struct evidence_selection *sel,
    const char *outdir, struct audit_export_result *res, char *why, size_t whysz);

#endif
