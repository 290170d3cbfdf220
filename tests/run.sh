#!/usr/bin/env bash
# Run sluice's tests and print one closing line: "N passed, N failed, N skipped".
#
#   tests/run.sh BUILD [unit|integ] [NAME-FILTER]
#
# Unit tests are the cmocka binaries BUILD/test/test_*; each cmocka case counts.
# Integration tests are tests/integ/test_*.sh; each "ok"/"not ok"/"skip" line
# they print (TAP-like) counts.  A script that exits non-zero without printing
# a "not ok" line counts as one failure, so a crash can never pass silently.
set -u
BUILD=${1:-build}
WHAT=${2:-all}
FILTER=${3:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export SLUICE_ROOT="$ROOT" SLUICE_BUILD="$ROOT/$BUILD"
pass=0 fail=0 skip=0
failed_names=()

run_unit() {
	local t out rc p f s
	for t in "$ROOT/$BUILD"/test/test_*; do
		[ -x "$t" ] || continue
		[ -n "$FILTER" ] && [[ "$t" != *"$FILTER"* ]] && continue
		out=$("$t" 2>&1); rc=$?
		printf '%s\n' "$out"
		p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		s=$(printf '%s\n' "$out" | grep -c '^\[  SKIPPED \]' || true)
		p=${p:-0} f=${f:-0}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
		[ "$f" -gt 0 ] && failed_names+=("$(basename "$t")")
	done
}

run_integ() {
	local t out rc p f s name
	for t in "$ROOT"/tests/integ/test_*.sh; do
		[ -f "$t" ] || continue
		[ -n "$FILTER" ] && [[ "$t" != *"$FILTER"* ]] && continue
		name=$(basename "$t" .sh)
		echo "== $name"
		out=$(timeout 600 bash "$t" 2>&1); rc=$?
		printf '%s\n' "$out" | sed 's/^/   /'
		p=$(printf '%s\n' "$out" | grep -c '^ok ' || true)
		f=$(printf '%s\n' "$out" | grep -c '^not ok ' || true)
		s=$(printf '%s\n' "$out" | grep -c '^skip ' || true)
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			echo "   not ok - $name exited with status $rc"; f=1
		fi
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
		[ "$f" -gt 0 ] && failed_names+=("$name")
	done
}

case "$WHAT" in
unit) run_unit ;;
integ) run_integ ;;
all) run_unit; run_integ ;;
*) echo "usage: $0 BUILD [unit|integ|all] [FILTER]" >&2; exit 2 ;;
esac

[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ $((pass + fail)) -gt 0 ]
