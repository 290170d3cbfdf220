#!/usr/bin/env bash
# Batch benchmark: `sluice batch` of JOBS trivial jobs (console.log("ok"),
# each with its own idempotency key) through a real farm: one broker, 2
# jailed workers with SLOTS slots each.  Checks that every job is accounted
# for (one result line per input line, every key once, statuses counted),
# and reports wall time, jobs/s and the distribution of the in-jail run time
# (metrics.wall_ms of the results).  Then, unless LOADGEN_JOBS=0, a loadgen
# run at the same concurrency gives end-to-end p50/p99 (the batch output has
# no per-job timestamps).
#
#   bench/batch.sh [BUILD] [JOBS] [CONCURRENCY] [SLOTS]   (defaults: build 10000 64 2)
#   LOADGEN_JOBS=N (default 2000)
set -u
BUILD=${1:-build}
N=${2:-10000}
C=${3:-64}
SLOTS=${4:-2}
LN=${LOADGEN_JOBS:-2000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/$BUILD/bin
LOADGEN=$ROOT/$BUILD/bench/loadgen
export SLUICE_DENO=${SLUICE_DENO:-$(readlink -f "$ROOT/node_modules/.bin/deno")}
D=$(mktemp -d /tmp/sluice-bench-batch.XXXXXX)
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

FRONT=ipc://$D/front
"$BIN/sluice-broker" --front "$FRONT" --back "ipc://$D/back" --data "$D/broker" \
	--approvals "ipc://$D/appr" --alerts "ipc://$D/alerts" --heartbeat-ms 1000 \
	--log-level warn >"$D/broker.log" 2>&1 &
PIDS+=($!)
for w in 1 2; do
	"$BIN/sluice-worker" --broker "ipc://$D/back" --slots "$SLOTS" --host "w$w" \
		--state-dir "$D/w$w" --heartbeat-ms 1000 --log-level warn >"$D/w$w.log" 2>&1 &
	PIDS+=($!)
done
"$BIN/sluice" status --broker "$FRONT" --wait-workers 2 --timeout 20000 >/dev/null || {
	echo "batch.sh: farm did not start"; tail "$D"/*.log; exit 1; }

seq 1 "$N" | awk '{printf "{\"code\":\"console.log(\\\"ok\\\");\",\"key\":\"bench-%d\"}\n", $1}' >"$D/in.jsonl"

echo "# sluice batch: $N jobs, --concurrency $C, 2 jailed workers x $SLOTS slots, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(date +%s%N)
"$BIN/sluice" batch "$D/in.jsonl" --out "$D/out.jsonl" --concurrency "$C" --broker "$FRONT" 2>"$D/batch.err"
rc=$?
secs=$(awk -v ns=$(( $(date +%s%N) - t0 )) 'BEGIN {printf "%.1f", ns / 1e9}')
tail -n 1 "$D/batch.err"
lines=$(wc -l <"$D/out.jsonl")
keys=$(jq -r .key "$D/out.jsonl" | sort -u | wc -l)
echo "exit code $rc; input lines $N; result lines $lines; distinct keys in results $keys"
echo "statuses: $(jq -r .status "$D/out.jsonl" | sort | uniq -c | awk '{printf "%s %s  ", $2, $1}')"
echo "wall ${secs} s; $(awk -v n="$lines" -v s="$secs" 'BEGIN {printf "%.1f", n / s}') jobs/s"
jq -r '.metrics.wall_ms // empty' "$D/out.jsonl" | sort -n |
	awk '{v[NR]=$1} END {if (NR) printf "in-jail run time (metrics.wall_ms) over %d jobs: p50 %d ms, p99 %d ms, max %d ms\n", NR, v[int(0.5*(NR-1)+0.5)+1], v[int(0.99*(NR-1)+0.5)+1], v[NR]}'

if [ "$LN" -gt 0 ]; then
	echo
	echo "# loadgen on the same farm: $LN jobs, concurrency $C (end-to-end latency incl. queueing)"
	echo 'console.log("ok");' >"$D/trivial.ts"
	"$LOADGEN" --broker "$FRONT" --jobs "$LN" --concurrency "$C" "$D/trivial.ts"
	echo "# loadgen, concurrency $((2 * SLOTS)) (= the farm's slots: little queueing)"
	"$LOADGEN" --broker "$FRONT" --jobs "$LN" --concurrency $((2 * SLOTS)) "$D/trivial.ts"
fi
