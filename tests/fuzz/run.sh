#!/usr/bin/env bash
# Run every libFuzzer target in BUILD/fuzz for SECONDS each, starting from the
# seeds in tests/fuzz/corpus/<target>/ (copied: the seeds stay small).
#
#   tests/fuzz/run.sh BUILD SECONDS
set -u
BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-60}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
rc=0
for f in "$ROOT/$BUILD"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	work="$ROOT/$BUILD/corpus/$name"
	mkdir -p "$work"
	[ -d "$ROOT/tests/fuzz/corpus/$name" ] && cp -n "$ROOT/tests/fuzz/corpus/$name"/* "$work"/ 2>/dev/null
	echo "== $name ($SECONDS_EACH s)"
	(cd "$ROOT/$BUILD" && "$f" -max_total_time="$SECONDS_EACH" -max_len=40000 \
	    -rss_limit_mb=2048 -print_final_stats=1 "$work" >"$work.log" 2>&1)
	r=$?
	tail -8 "$work.log"
	[ "$r" -ne 0 ] && { echo "$name FAILED (log: $work.log)"; rc=1; }
done
exit $rc
