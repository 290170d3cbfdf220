#!/usr/bin/env bash
# A/B of two worker builds: two farms side by side (same broker build, 2
# jailed workers x 2 slots each, ipc:// endpoints), the trivial job measured
# on both in every round (interleaved): loadgen JOBS jobs one at a time
# (latency) and with 8 in flight (throughput, and the host's CPU per job over
# that run: less noisy here than jobs/s).  For trying a worker change,
# e.g. a shorter exit poll in worker/runner.c, against the current build.
#
#   bench/ab_worker.sh [BUILD_A] [BUILD_B] [JOBS] [REPS]   (build, -, 200, 3)
#
# BUILD_B is a build directory (relative to the repository root, or absolute)
# holding bin/sluice-worker; without one there is nothing to compare and the
# script says so and exits 0 (so bench/run.sh can run it).
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${2:-}
N=${3:-200}
REPS=${4:-3}
[ -n "$B" ] || { echo "ab_worker.sh: no BUILD_B given: nothing to compare"; exit 0; }
case $B in /*) ;; *) B=$ROOT/$B ;; esac
[ -x "$B/bin/sluice-worker" ] || { echo "ab_worker.sh: $B/bin/sluice-worker missing"; exit 1; }
BIN=$ROOT/$BUILD/bin
LOADGEN=$ROOT/$BUILD/bench/loadgen
export SLUICE_DENO=${SLUICE_DENO:-$(readlink -f "$ROOT/node_modules/.bin/deno")}
D=$(mktemp -d /tmp/sluice-bench-ab.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	awk -v t="$D" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
echo 'console.log("ok");' >"$D/trivial.ts"

# farm NAME WORKER_BINARY
farm() {
	local name=$1 wbin=$2 dir=$D/$1
	mkdir -p "$dir"
	"$BIN/sluice-broker" --front "ipc://$dir/front" --back "ipc://$dir/back" --data "$dir/broker" \
		--approvals "ipc://$dir/appr" --alerts "ipc://$dir/alerts" --heartbeat-ms 1000 \
		--log-level warn >"$dir/broker.log" 2>&1 &
	PIDS+=($!)
	for w in 1 2; do
		"$wbin" --broker "ipc://$dir/back" --slots 2 --host "$name$w" --state-dir "$dir/w$w" \
			--heartbeat-ms 1000 --log-level warn >"$dir/w$w.log" 2>&1 &
		PIDS+=($!)
	done
	"$BIN/sluice" status --broker "ipc://$dir/front" --wait-workers 2 --timeout 20000 >/dev/null || {
		echo "ab_worker.sh: farm $name did not start"; tail "$dir"/*.log; exit 1; }
}
farm A "$BIN/sluice-worker"
farm B "$B/bin/sluice-worker"

: >"$D/res"
# The host's busy CPU (user+nice+system+irq+softirq, USER_HZ ticks) from
# /proc/stat: around a measurement, everything the farm made the host do,
# the kernel's deferred teardown included (as bench/cpu_per_job.sh counts).
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
HZ=$(getconf CLK_TCK)
echo "# A = $BIN/sluice-worker, B = $B/bin/sluice-worker; $N jobs per measurement, $REPS rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$REPS"); do
	for c in 1 8; do
		for f in A B; do
			t0=$(busy)
			out=$("$LOADGEN" --broker "ipc://$D/$f/front" --jobs "$N" --concurrency "$c" "$D/trivial.ts")
			cpu=$(awk -v t="$(( $(busy) - t0 ))" -v n="$N" -v hz="$HZ" 'BEGIN {printf "%.2f", t * 1000 / hz / n}')
			echo "round $r $f concurrency $c: $out cpu_ms_per_job $cpu"
			echo "$f $c $(jq -r '[.p50_ms, .p99_ms, .jobs_per_s] | @tsv' <<<"$out") $cpu" >>"$D/res"
		done
	done
done
med() { awk -v f="$1" -v c="$2" -v k="$3" '$1 == f && $2 == c {print $k}' "$D/res" | sort -g |
	awk '{x[NR]=$1} END {printf "%s", x[int((NR+1)/2)]}'; }
echo
echo "| worker build (median of $REPS rounds) | p50 ms (one at a time) | p99 ms | jobs/s (8 in flight) | CPU ms per job (8 in flight) |"
echo "|---|---:|---:|---:|---:|"
for f in A B; do echo "| $f | $(med $f 1 3) | $(med $f 1 4) | $(med $f 8 5) | $(med $f 8 6) |"; done
