#!/usr/bin/env bash
# Farm benchmark: end-to-end latency and throughput of a trivial job through
# the whole farm (client -> broker -> worker -> jail -> Deno -> back), side by
# side with a loop of bare `deno run` of the same program, in one run.
#
#   bench/farm.sh [BUILD] [JOBS]
#
# Worker flags come from SLUICE_BENCH_WORKER_FLAGS (e.g. --insecure-no-jail to
# measure the cost of the jail by running both).
set -u
BUILD=${1:-build}
N=${2:-200}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/$BUILD/bin
LOADGEN=$ROOT/$BUILD/bench/loadgen
DENO=$(readlink -f "$ROOT/node_modules/.bin/deno")
D=$(mktemp -d /tmp/sluice-bench.XXXXXX)
FRONT=ipc://$D/front BACK=ipc://$D/back
WFLAGS=${SLUICE_BENCH_WORKER_FLAGS:-}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$D"' EXIT

echo 'console.log("ok");' >"$D/trivial.ts"

"$BIN/sluice-broker" --front "$FRONT" --back "$BACK" --data "$D/broker" >"$D/broker.log" 2>&1 &
PIDS+=($!)
for w in 1 2; do
	"$BIN/sluice-worker" --broker "$BACK" --slots 2 --host "w$w" --state-dir "$D/w$w" $WFLAGS \
		>"$D/w$w.log" 2>&1 &
	PIDS+=($!)
done
"$BIN/sluice" status --broker "$FRONT" --wait-workers 2 --timeout 20000 >/dev/null || {
	echo "bench: farm did not start"; cat "$D"/*.log; exit 1; }

# Bare deno: the same flags the worker uses, no farm.
bare_once() {
	"$DENO" run --quiet --no-remote --no-npm --cached-only --no-config --no-lock --no-prompt \
		--allow-read="$D" --allow-write="$D" "$D/trivial.ts" >/dev/null
}
export -f bare_once; export DENO D

ms() { date +%s%N; }
bare_lat=()
for _ in $(seq 1 "$N"); do
	t=$(ms); bare_once; bare_lat+=($(( ($(ms) - t) / 1000 )))
done
pctl() { # pctl P values... (microseconds in, ms out with 1 decimal)
	local p=$1; shift
	printf '%s\n' "$@" | sort -n | awk -v p="$p" '{v[NR]=$1} END {i=int(p*(NR-1)+0.5)+1; printf "%.1f", v[i]/1000}'
}
t=$(ms)
seq 1 "$N" | xargs -P 4 -I{} bash -c bare_once
bare_tp=$(awk -v n="$N" -v ns=$(( $(ms) - t )) 'BEGIN {printf "%.1f", n / (ns / 1e9)}')

lat=$("$LOADGEN" --broker "$FRONT" --jobs "$N" --concurrency 1 "$D/trivial.ts")
tp=$("$LOADGEN" --broker "$FRONT" --jobs "$N" --concurrency 8 "$D/trivial.ts")

printf '\n%-44s %10s %10s %12s\n' "trivial job ($N runs, $(nproc) cores)" "p50 ms" "p99 ms" "jobs/s"
printf '%-44s %10s %10s %12s\n' "bare deno run (loop; 4 in parallel for /s)" "$(pctl 0.5 "${bare_lat[@]}")" \
	"$(pctl 0.99 "${bare_lat[@]}")" "$bare_tp"
printf '%-44s %10s %10s %12s\n' "sluice run via farm (2 workers x 2 slots)" "$(jq -r .p50_ms <<<"$lat")" \
	"$(jq -r .p99_ms <<<"$lat")" "$(jq -r .jobs_per_s <<<"$tp")"
echo
echo "farm latency run:    $lat"
echo "farm throughput run: $tp"
