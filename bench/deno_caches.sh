#!/usr/bin/env bash
# What Deno's SQLite caches cost a Deno start in a fresh DENO_DIR (every
# jail's is: worker/jail_mnt.c), against the jail's stand-ins (a directory
# where each database would be, so Deno keeps the caches in memory).
# Bare `deno run` of a one-line file with the worker's flags, a fresh
# DENO_DIR on /dev/shm each run (a tmpfs, as a jail's /tmp), the two variants
# alternating:
#
#   created   an empty DENO_DIR: Deno creates its three cache databases
#   blocked   the stand-ins jail_mnt.c makes (deno_cmd.bash: deno_jail_dir)
#
# Prints the median and the 10 %-trimmed mean of each run's task-clock
# (perf stat), and the syscalls of one run of each (strace -f -c).
#
#   bench/deno_caches.sh [BUILD] [PAIRS]   (defaults: build 100)
#
# BUILD is accepted for bench/run.sh and unused.  Needs perf (skipped
# without it); strace optional.
set -u
PAIRS=${2:-100}
case $PAIRS in '' | 0 | *[!0-9]*) echo "usage: deno_caches.sh [BUILD] [PAIRS >= 1]"; exit 2 ;; esac
command -v perf >/dev/null || { echo "deno_caches.sh: perf not installed: skipped"; exit 0; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/deno_cmd.bash"
DENO=$(readlink -f "${SLUICE_DENO:-$ROOT/node_modules/.bin/deno}")
D=$(mktemp -d /dev/shm/sluice-bench-caches.XXXXXX)
trap 'rm -rf "$D"' EXIT
echo 'console.log("ok");' >"$D/main.ts"
# fresh VARIANT: a new DENO_DIR for one run
fresh() {
	rm -rf "$D/deno"
	if [ "$1" = blocked ]; then deno_jail_dir "$D/deno"; else mkdir "$D/deno"; fi
}
CMD=(env -i "DENO_DIR=$D/deno" "${DENO_ENV[@]}" "$DENO" "${DENO_RUN[@]}" "--allow-read=$D"
	"--allow-write=$D" "${DENO_V8[@]}" "$D/main.ts")
: >"$D/created"
: >"$D/blocked"
for _ in $(seq 1 "$PAIRS"); do
	for v in created blocked; do
		fresh "$v"
		perf stat -x, -e task-clock -o "$D/ps" -- "${CMD[@]}" >"$D/out" 2>&1
		grep -qx ok "$D/out" || { echo "deno_caches.sh: $v run did not print ok:"; tail -3 "$D/out"; exit 1; }
		awk -F, '$3 == "task-clock" {print $1}' "$D/ps" >>"$D/$v"
	done
done
stats() { sort -g "$D/$1" | awk '{x[NR]=$1} END {
	lo = int(NR * 0.1) + 1; hi = NR - int(NR * 0.1); s = 0
	for (i = lo; i <= hi; i++) s += x[i]
	printf "%.2f | %.2f", x[int((NR + 1) / 2)], s / (hi - lo + 1) }'; }
sys() {
	command -v strace >/dev/null || { printf -- "-"; return; }
	fresh "$1"
	strace -f -c -o "$D/st" "${CMD[@]}" >/dev/null 2>&1
	awk '$NF == "total" {print $4}' "$D/st"	# % time, seconds, usecs/call, calls
}
echo "# Deno $("$DENO" --version | head -1 | cut -d' ' -f2), $PAIRS runs of each, alternating, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| fresh DENO_DIR, one-line job | task-clock median ms | trimmed mean ms | syscalls |"
echo "|---|---:|---:|---:|"
echo "| Deno creates its cache databases | $(stats created) | $(sys created) |"
echo "| the jail's stand-ins (caches in memory) | $(stats blocked) | $(sys blocked) |"
