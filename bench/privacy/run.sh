#!/usr/bin/env bash
# Privacy filter benchmark: sluice's filter (build/bench/bench_privacy) and,
# side by side, redact-pii and secretlint (bench/privacy/compare.mjs) on the
# same corpora.  The npm packages are pinned in bench/privacy/package.json and
# package-lock.json and installed here with `npm ci` (not the root
# package.json).
#
#   bench/privacy/run.sh [BUILD]        (BUILD defaults to build)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
SHARED=${SLUICE_PRIVACY_CORPUS:-}
for c in "$ROOT/../shared/privacy-corpus/corpus.jsonl" "$ROOT/../../shared/privacy-corpus/corpus.jsonl"; do
	[ -z "$SHARED" ] && [ -f "$c" ] && SHARED=$c
done
CORPORA=("$ROOT/tests/data/privacy-extra.jsonl")
if [ -n "$SHARED" ]; then
	CORPORA=("$SHARED" "${CORPORA[@]}")
else
	echo "shared corpus not found: only the extra corpus is measured" >&2
fi

make -C "$ROOT" --no-print-directory "$BUILD/bench/bench_privacy" >/dev/null
echo "== sluice privacy filter"
"$ROOT/$BUILD/bench/bench_privacy" "${CORPORA[@]}"

echo "== reference filters (node $(node --version))"
(cd "$ROOT/bench/privacy" && npm ci --no-audit --no-fund --silent)
node "$ROOT/bench/privacy/compare.mjs" "${CORPORA[@]}"
