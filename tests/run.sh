#!/usr/bin/env bash
# Run sluice's tests and print one closing line: "N passed, N failed, N skipped".
#
#   tests/run.sh BUILD [unit|integ] [NAME-FILTER]
#
# Unit tests are the cmocka binaries BUILD/test/test_*; each cmocka case counts.
# Integration tests are tests/integ/test_*.sh; each "ok"/"not ok"/"skip" line
# they print (TAP-like) counts.  A script that exits non-zero without printing
# a "not ok" line counts as one failure, so a crash can never pass silently.
#
# Nothing a test starts may outlive it or hold up the run: each unit binary
# runs under a timeout ($SLUICE_UNIT_TIMEOUT s, default 300) and each script
# under one too (600 s); their output goes to a file, not a pipe, so a daemon
# a test leaked cannot keep the run waiting for end-of-file; after each test,
# every process still carrying this run's marker in its environment is named
# on a warning line and killed; and the whole run has a budget
# ($SLUICE_TEST_BUDGET_S, default 2700 s) past which the remaining tests are
# reported as failed, not run.
set -u
BUILD=${1:-build}
WHAT=${2:-all}
FILTER=${3:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export SLUICE_ROOT="$ROOT" SLUICE_BUILD="$ROOT/$BUILD"
pass=0 fail=0 skip=0
failed_names=()
UNIT_TIMEOUT=${SLUICE_UNIT_TIMEOUT:-300}
BUDGET_S=${SLUICE_TEST_BUDGET_S:-2700}
# The marker every process started by a test inherits (see reap_strays).
export SLUICE_TEST_RUN="$$-$RANDOM$RANDOM"
OUT=$(mktemp "${TMPDIR:-/tmp}/sluice-tests.XXXXXX") || exit 1
trap 'reap_strays "the run"; rm -f "$OUT"' EXIT
# Tests run in the background and are waited for, so that ^C or a TERM
# stops the run at once; the EXIT trap then kills what was running.
trap 'echo "tests/run.sh: interrupted" >&2; exit 130' INT TERM

# The live processes (but this shell) whose environment has this run's
# SLUICE_TEST_RUN, as "PID:NAME[STATE,ppid=N]" words in STRAYS.  Pure bash,
# so the scan starts no process that would match itself.
find_strays() {
	local d pid kv cmd stat st
	STRAYS=()
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[ "$pid" = "$$" ] && continue
		{
			while IFS= read -r -d '' kv; do
				[ "$kv" = "SLUICE_TEST_RUN=$SLUICE_TEST_RUN" ] || continue
				IFS= read -r -d '' cmd < "$d/cmdline"
				read -r stat < "$d/stat"
				stat=${stat##*) }	# "STATE PPID ...", after the name
				st=${stat%% *} stat=${stat#* }
				[ "$st" = Z ] || STRAYS+=("$pid:${cmd##*/}[$st,ppid=${stat%% *}]")
				break
			done < "$d/environ"
		} 2>/dev/null
	done
}

# Kills what a test left running, after 2 s for what is already on its way
# out (a killed worker's jails take a moment), named on one warning line.
reap_strays() {
	local w
	for _ in $(seq 20); do
		find_strays
		[ ${#STRAYS[@]} -eq 0 ] && return 0
		sleep 0.1
	done
	echo "   warning: $1 left ${#STRAYS[@]} process(es) running, killed: ${STRAYS[*]}"
	# TERM first (a test script's EXIT trap unmounts and removes what it
	# made), KILL what is left 2 s later; each time from a fresh scan.
	for sig in TERM KILL; do
		for w in "${STRAYS[@]}"; do kill -"$sig" "${w%%:*}" 2>/dev/null; done
		for _ in $(seq 20); do
			find_strays
			[ ${#STRAYS[@]} -eq 0 ] && return 0
			sleep 0.1
		done
	done
	echo "   warning: still running after SIGKILL: ${STRAYS[*]}"
}

# True while the run is within its budget; else counts `name` as failed.
in_budget() {
	[ "$SECONDS" -lt "$BUDGET_S" ] && return 0
	echo "not ok - $1 not run: the test run's budget of ${BUDGET_S} s is spent"
	fail=$((fail + 1)) failed_names+=("$1")
	return 1
}

run_unit() {
	local t out rc p f s
	for t in "$ROOT/$BUILD"/test/test_*; do
		[ -x "$t" ] || continue
		[ -n "$FILTER" ] && [[ "$t" != *"$FILTER"* ]] && continue
		in_budget "$(basename "$t")" || continue
		timeout -k 10 "$UNIT_TIMEOUT" "$t" > "$OUT" 2>&1 & wait $!; rc=$?
		reap_strays "$(basename "$t")"
		out=$(cat "$OUT")
		printf '%s\n' "$out"
		[ "$rc" -eq 124 ] && echo "$(basename "$t"): timed out after ${UNIT_TIMEOUT} s and killed"
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
		in_budget "$name" || continue
		echo "== $name"
		timeout -k 10 600 bash "$t" > "$OUT" 2>&1 & wait $!; rc=$?
		reap_strays "$name"
		out=$(cat "$OUT")
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
