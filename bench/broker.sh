#!/usr/bin/env bash
# Broker capacity: jobs/s through the broker alone, durable acknowledgement
# (RocksDB job store, synced group commit before ACCEPTED and RESULT), with
# build/bench/fakeworker standing in for the workers (no jail, no Deno).
#
#   bench/broker.sh [BUILD] [JOBS] [CONCURRENCY...]
#
# For each worker count in $WORKERS (default "1 4") and each concurrency
# (default 256 1024), runs loadgen $REPS times (default 3) against a fresh
# broker on ipc:// in a temp dir under $BENCH_TMP (default /tmp, which must be
# a real disk for the figure to mean "durable"), and prints one JSON line per
# run plus a median table: jobs/s, p50/p99, the broker's CPU time per job
# (/proc/PID/stat) and its fdatasync+fsync calls per 1000 jobs (perf stat on
# syscall tracepoints, when perf is there).  With STRACE=1 it also counts the broker's syscalls
# (strace -c -f) in one extra run, to show fdatasync per job.  LAT_JOBS
# (default 1000) jobs at concurrency 1 give the broker's own latency.
set -u
BUILD=${1:-build}
N=${2:-20000}
shift 2 2>/dev/null || shift $#
CONCS=${*:-256 1024}
WORKERS=${WORKERS:-1 4}
REPS=${REPS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/$BUILD/bin
LOADGEN=$ROOT/$BUILD/bench/loadgen
FAKE=$ROOT/$BUILD/bench/fakeworker
D=$(mktemp -d "${BENCH_TMP:-/tmp}/sluice-bench-broker.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	awk -v t="$D" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
echo 'console.log("ok");' >"$D/trivial.ts"

# farm WORKERS RUN [WRAP...]: fresh broker (optionally under WRAP) + WORKERS fake workers.
farm_up() {
	local nw=$1 run=$2; shift 2
	local dir=$D/$run
	mkdir -p "$dir"
	FRONT=ipc://$dir/front
	"$@" "$BIN/sluice-broker" --front "$FRONT" --back "ipc://$dir/back" --data "$dir/broker" \
		--approvals "ipc://$dir/appr" --alerts "ipc://$dir/alerts" --heartbeat-ms 1000 \
		--queue-max 100000 --log-level warn >"$dir/broker.log" 2>&1 &
	BROKER_PID=$!
	PIDS+=("$BROKER_PID")
	FAKES=()
	for w in $(seq 1 "$nw"); do
		"$FAKE" --broker "ipc://$dir/back" --slots 1024 --host "fake$w" --heartbeat-ms 1000 \
			2>"$dir/fake$w.log" &
		PIDS+=($!)
		FAKES+=($!)
	done
	"$BIN/sluice" status --broker "$FRONT" --wait-workers "$nw" --timeout 20000 >/dev/null || {
		echo "broker.sh: farm did not start"; tail "$dir"/*.log; exit 1; }
}
farm_down() {
	kill "$BROKER_PID" "${FAKES[@]}" 2>/dev/null
	wait "$BROKER_PID" "${FAKES[@]}" 2>/dev/null
}

TCK=$(getconf CLK_TCK)
# cpu_ticks PID: user + system CPU of a process so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# loadgen_counted CONC: one loadgen run; while it runs, perf stat counts the
# broker's fdatasync+fsync calls (syscall tracepoints: cheap, unlike strace).
# Sets OUT (loadgen's JSON line) and SYNCS ("-" when perf cannot).
loadgen_counted() {
	"$LOADGEN" --broker "$FRONT" --jobs "$N" --concurrency "$1" "$D/trivial.ts" >"$D/lg.json" &
	local lg=$!
	SYNCS=-
	if command -v perf >/dev/null && perf stat -x, -e syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync \
		-p "$BROKER_PID" -o "$D/syncs.txt" -- tail --pid="$lg" -f /dev/null 2>/dev/null; then
		SYNCS=$(awk -F, '/sys_enter_f/ {n += $1; ok = 1} END {if (ok) print n; else print "-"}' "$D/syncs.txt")
	fi
	wait "$lg"
	OUT=$(cat "$D/lg.json")
}

echo "# broker capacity: $N jobs per run, $(nproc) cores, store on $(df --output=fstype "$D" | tail -1) ($D)"
RES=$D/results
: >"$RES"
run=0
for rep in $(seq 1 "$REPS"); do
	for nw in $WORKERS; do
		for c in $CONCS; do
			run=$((run + 1))
			farm_up "$nw" "r$run"
			cpu0=$(cpu_ticks "$BROKER_PID")
			loadgen_counted "$c"
			out=$OUT syncs=$SYNCS
			us=$(( ($(cpu_ticks "$BROKER_PID") - cpu0) * 1000000 / TCK / N ))
			echo "rep $rep workers $nw conc $c: broker CPU ${us} us/job, fdatasync+fsync $syncs: $out"
			echo "$nw $c $(jq -r '[.jobs_per_s, .p50_ms, .p99_ms, .lost, .status.ok] | @tsv' <<<"$out") $us $syncs" >>"$RES"
			farm_down
			rm -rf "$D/r$run"
		done
	done
done

# Latency of one job alone through the broker (fake worker: no Deno, no jail).
LAT_JOBS=${LAT_JOBS:-1000}
if [ "$LAT_JOBS" -gt 0 ]; then
	farm_up 1 lat
	out=$("$LOADGEN" --broker "$FRONT" --jobs "$LAT_JOBS" --concurrency 1 "$D/trivial.ts")
	echo "one at a time, 1 fake worker: $out"
	farm_down
	rm -rf "$D/lat"
fi

med() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
echo
echo "| fake workers | in flight | jobs/s (median of $REPS) | p50 ms | p99 ms | broker CPU µs/job | syncs per 1000 jobs | lost | runs |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for nw in $WORKERS; do
	for c in $CONCS; do
		sel() { awk -v w="$nw" -v c="$c" -v k="$1" '$1 == w && $2 == c {print $k}' "$RES"; }
		echo "| $nw | $c | $(sel 3 | med) | $(sel 4 | med) | $(sel 5 | med) | $(sel 8 | med) | $(sel 9 | med | awk -v n="$N" '{if ($1 ~ /^[0-9]+$/) printf "%.1f", $1 * 1000 / n; else print "-"}') | $(sel 6 | sort -n | tail -1) | $(sel 3 | wc -l) |"
	done
done

if [ -n "${STRACE:-}" ]; then
	c=${CONCS%% *}
	nw=${WORKERS%% *}
	farm_up "$nw" strace strace -c -f -o "$D/strace.txt"
	out=$("$LOADGEN" --broker "$FRONT" --jobs "$N" --concurrency "$c" "$D/trivial.ts")
	# Stop the traced broker itself (strace's child), so strace prints its table.
	kill -INT $(ps -o pid= --ppid "$BROKER_PID") "${FAKES[@]}" 2>/dev/null
	wait "$BROKER_PID" "${FAKES[@]}" 2>/dev/null
	echo
	echo "strace -c -f of the broker, $N jobs at concurrency $c, $nw fake workers (slowed by strace): $out"
	head -n 14 "$D/strace.txt"
	awk -v n="$N" '$NF == "fdatasync" || $NF == "fsync" {printf "%s: %d calls, %.3f per job\n", $NF, $4, $4 / n}' "$D/strace.txt"
fi
