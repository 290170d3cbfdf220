#!/usr/bin/env bash
# What the warm bootstrap costs Deno, in instructions: a noise-immune
# companion to bench/cpu_per_job.sh (on this shared host CPU time per job
# moves ±10 % from one minute to the next; an instruction count under
# callgrind moves < 1 %).
#
#   bench/deno_ir.sh [BUILD] [PRIMES]   (defaults: build, none)
#
# Runs Deno under `valgrind --tool=callgrind` (all threads, counted from the
# start) with the worker's flags and environment (bench/deno_cmd.bash), a
# fresh DENO_DIR on /dev/shm each run made as a jail's is (a fresh tmpfs with
# the cache stand-ins of worker/jail_mnt.c: deno_jail_dir),
# on a one-line job (console.log("ok")):
#
#   bare   deno run main.ts: what the cold path and a bare `deno run` loop do
#   warm   the warm pool's bootstrap (BUILD/bench/warm_source: sluice-warm.js
#          and sluice-prime.ts as worker/warm.c writes them, with PRIMES)
#          given "main.ts\n" on stdin: a warm jail's whole Deno, boot to exit
#
# Prints millions of instructions (Ir) of each and warm / bare.  Needs
# valgrind (skipped without it); ~30 s.
set -u
command -v valgrind >/dev/null || { echo "deno_ir.sh: valgrind not installed: skipped"; exit 0; }
BUILD=${1:-build}
PRIMES=${2:-none}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/deno_cmd.bash"
DENO=$(readlink -f "${SLUICE_DENO:-$ROOT/node_modules/.bin/deno}")
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SRC=$BUILD/bench/warm_source
[ -x "$SRC" ] || { echo "deno_ir.sh: $SRC missing (make all)"; exit 1; }
D=$(mktemp -d /tmp/sluice-bench-ir.XXXXXX)
trap 'rm -rf "$D" /dev/shm/sluice-bench-ir.*' EXIT

# ir VARIANT ENTRY STDIN: Ir of one Deno run in a fresh copy of the files.
ir() {
	local w dd out n
	w=$(mktemp -d "$D/w.XXXXXX")
	dd=$(mktemp -d /dev/shm/sluice-bench-ir.XXXXXX)
	deno_jail_dir "$dd" || exit 1
	echo 'console.log("ok");' >"$w/main.ts"
	"$SRC" "$w" "$PRIMES" || exit 1
	out=$(printf '%b' "$3" | env -i "DENO_DIR=$dd" "${DENO_ENV[@]}" \
		"$(command -v valgrind)" --tool=callgrind --callgrind-out-file=/dev/null \
		"$DENO" "${DENO_RUN[@]}" "--allow-read=$w" "--allow-write=$w" "${DENO_V8[@]}" "$w/$2" 2>&1)
	rm -rf "$dd"
	grep -q '^ok$' <<<"$out" || { echo "deno_ir.sh: $1 did not print ok:"; echo "$out" | tail -5; exit 1; }
	n=$(awk '/Collected :/ {print $4}' <<<"$out")
	awk -v n="$n" 'BEGIN {printf "%.1f", n / 1e6}'
}
"$SRC" "$D" "$PRIMES" || exit 2	# a bad PRIMES list is named by warm_source
echo "# Deno $("$DENO" --version | head -1 | cut -d' ' -f2), primes: $PRIMES, valgrind $(valgrind --version)"
bare=$(ir bare main.ts "") && warm=$(ir warm sluice-warm.js 'main.ts\n') || {
	echo "$bare$warm"; exit 1; }
echo
echo "| one-line job, one Deno | instructions (M) |"
echo "|---|---:|"
echo "| bare: deno run main.ts | $bare |"
echo "| warm: bootstrap (primes: $PRIMES), then main.ts | $warm |"
echo
echo "warm / bare: $(awk -v a="$warm" -v b="$bare" 'BEGIN {printf "%.2f", a / b}')"
