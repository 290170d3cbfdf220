#!/usr/bin/env bash
# Run every built libFuzzer target for a while and print one TAP-like line each.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS
#
# Each BUILD_DIR/fuzz/fuzz_NAME runs for SECONDS on a scratch copy of its seed
# corpus tests/fuzz/corpus/fuzz_NAME (the committed corpus never grows), with
# inputs up to 64 KiB.  A crash leaves its input in BUILD_DIR/fuzz/artifacts/
# and the log in BUILD_DIR/fuzz/fuzz_NAME.log.  Exits non-zero when any target
# crashed or none was built.
set -u
if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS" >&2
	exit 2
fi
BUILD=$1
SECONDS_EACH=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac

# UBSan only prints by default; a finding must count as a crash.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
fail=0 ran=0
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
mkdir -p "$BUILD/fuzz/artifacts"

for bin in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$bin" ] && [ -f "$bin" ] || continue
	case "$bin" in *.log) continue ;; esac
	name=$(basename "$bin")
	corpus="$work/$name"
	log="$BUILD/fuzz/$name.log"
	mkdir -p "$corpus"
	if [ -d "$ROOT/tests/fuzz/corpus/$name" ]; then
		cp -R "$ROOT/tests/fuzz/corpus/$name/." "$corpus/"
	fi
	ran=$((ran + 1))
	"$bin" -max_len=65536 -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
	    -artifact_prefix="$BUILD/fuzz/artifacts/$name-" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
	if [ "$rc" -eq 0 ]; then
		echo "ok - $name: ${execs:-?} execs, no crash"
	else
		artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
		echo "not ok - $name: exit $rc after ${execs:-?} execs; input ${artifact:-none}, log $log"
		fail=1
	fi
done

if [ "$ran" -eq 0 ]; then
	echo "not ok - no fuzz targets in $BUILD/fuzz"
	exit 1
fi
exit "$fail"
