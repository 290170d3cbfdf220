#!/usr/bin/env bash
# Farm benchmark: end-to-end latency and throughput of a trivial job
# (console.log("ok")) through the whole farm (client -> broker -> worker ->
# jail -> Deno -> back), side by side in one run with
#   - the same farm with workers started with --insecure-no-jail (cost of the jail),
#   - bare `deno run` of the same program with the worker's flags and
#     environment (hyperfine; DENO_DIR warm, and wiped before each run as the
#     jail's fresh /tmp/deno is).
# Both farms (2 workers x 2 slots each) run at once; the measurements are
# interleaved: each of REPS rounds measures every variant once, and the table
# gives the median over the rounds.
#
#   bench/farm.sh [BUILD] [JOBS] [REPS]      (defaults: build 200 3)
#
# Latency: JOBS jobs one at a time (loadgen --concurrency 1; hyperfine --runs
# JOBS).  Throughput: JOBS jobs with 8 in flight (farm: 4 slots, the queue
# stays full) and bare: JOBS runs with 4 in parallel (xargs -P 4).
set -u
BUILD=${1:-build}
N=${2:-200}
REPS=${3:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/$BUILD/bin
LOADGEN=$ROOT/$BUILD/bench/loadgen
DENO=$(readlink -f "${SLUICE_DENO:-$ROOT/node_modules/.bin/deno}")
export SLUICE_DENO=$DENO	# the workers' runtime too, whatever BUILD is
D=$(mktemp -d /tmp/sluice-bench-farm.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	# A killed worker leaves its jobs' tmpfs workspaces mounted.
	awk -v t="$D" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT

echo 'console.log("ok");' >"$D/trivial.ts"
mkdir -p "$D/bare"
cp "$D/trivial.ts" "$D/bare/main.ts"

# farm NAME [worker flags]: broker + 2 workers x 2 slots, endpoints in $D/NAME.
farm() {
	local name=$1; shift
	local dir=$D/$name
	mkdir -p "$dir"
	"$BIN/sluice-broker" --front "ipc://$dir/front" --back "ipc://$dir/back" --data "$dir/broker" \
		--approvals "ipc://$dir/appr" --alerts "ipc://$dir/alerts" --heartbeat-ms 1000 \
		--log-level warn >"$dir/broker.log" 2>&1 &
	PIDS+=($!)
	for w in 1 2; do
		"$BIN/sluice-worker" --broker "ipc://$dir/back" --slots 2 --host "$name-w$w" \
			--state-dir "$dir/w$w" --heartbeat-ms 1000 --log-level warn "$@" \
			>"$dir/w$w.log" 2>&1 &
		PIDS+=($!)
	done
	"$BIN/sluice" status --broker "ipc://$dir/front" --wait-workers 2 --timeout 20000 >/dev/null || {
		echo "farm.sh: farm $name did not start"; tail "$dir"/*.log; exit 1; }
}
farm jail
farm nojail --insecure-no-jail

# Bare deno: the worker's argv and environment (worker/runner.c; memory_mb
# 512 by default gives --max-old-space-size=384), without the farm.
BARE=(env -i "DENO_DIR=$D/bare/.deno" NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 DENO_NO_PACKAGE_JSON=1
	HOME=/nonexistent PATH=/nonexistent LANG=C.UTF-8
	"$DENO" run --quiet --no-remote --no-npm --cached-only --no-config --no-lock --no-prompt
	"--allow-read=$D/bare" "--allow-write=$D/bare" --v8-flags=--max-old-space-size=384
	"$D/bare/main.ts")
"${BARE[@]}" | grep -qx ok || { echo "farm.sh: bare deno does not run"; exit 1; }

RES=$D/results	# lines: variant metric value
: >"$RES"
# hyper VARIANT [hyperfine flags]: p50/p99 of N runs of the bare command.
hyper() {
	local v=$1; shift
	hyperfine -N --style none --warmup 3 --runs "$N" "$@" --export-json "$D/h.json" \
		"${BARE[*]}" >/dev/null 2>&1 || { echo "farm.sh: hyperfine failed"; exit 1; }
	jq -r --arg v "$v" '.results[0].times | sort | . as $t | length as $n |
		"\($v) p50 \($t[((0.5 * ($n - 1)) + 0.5 | floor)] * 1000)",
		"\($v) p99 \($t[((0.99 * ($n - 1)) + 0.5 | floor)] * 1000)"' "$D/h.json" >>"$RES"
}
# lg VARIANT FARM CONC METRICS...: one loadgen run; appends the metrics.
lg() {
	local v=$1 f=$2 c=$3 out; shift 3
	out=$("$LOADGEN" --broker "ipc://$D/$f/front" --jobs "$N" --concurrency "$c" "$D/trivial.ts")
	echo "  $v: $out"
	[ "$(jq -r '.status.ok' <<<"$out")" = "$N" ] || echo "  WARNING: $v: not every job ok"
	for m in "$@"; do echo "$v $m $(jq -r ".$m" <<<"$out")" >>"$RES"; done
}

echo "# trivial job, $N jobs per measurement, $REPS interleaved rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$REPS"); do
	echo "round $r"
	hyper bare_warm
	hyper bare_cold --prepare "rm -rf $D/bare/.deno"
	lg farm_jail jail 1 p50_ms p99_ms
	lg farm_nojail nojail 1 p50_ms p99_ms
	t=$(date +%s%N)
	seq 1 "$N" | xargs -P 4 -I{} "${BARE[@]}" >/dev/null
	echo "bare_warm jobs_per_s $(awk -v n="$N" -v ns=$(( $(date +%s%N) - t )) 'BEGIN {printf "%.1f", n / (ns / 1e9)}')" >>"$RES"
	lg farm_jail jail 8 jobs_per_s
	lg farm_nojail nojail 8 jobs_per_s
done

med() { awk -v v="$1" -v m="$2" '$1 == v && $2 == m {print $3}' "$RES" | sort -g |
	awk '{x[NR]=$1} END {if (NR) printf "%.1f", x[int((NR+1)/2)]; else printf "-"}'; }
rng() { awk -v v="$1" -v m="$2" '$1 == v && $2 == m {print $3}' "$RES" | sort -g |
	awk '{x[NR]=$1} END {if (NR) printf "%.1f–%.1f", x[1], x[NR]}'; }
echo
echo "| trivial job ($N per measurement, median of $REPS rounds) | p50 ms | p99 ms | jobs/s |"
echo "|---|---:|---:|---:|"
echo "| bare \`deno run\`, warm DENO_DIR (throughput: 4 in parallel) | $(med bare_warm p50) | $(med bare_warm p99) | $(med bare_warm jobs_per_s) |"
echo "| bare \`deno run\`, DENO_DIR wiped before each run | $(med bare_cold p50) | $(med bare_cold p99) | |"
echo "| farm, jailed workers (2 × 2 slots; throughput: 8 in flight) | $(med farm_jail p50_ms) | $(med farm_jail p99_ms) | $(med farm_jail jobs_per_s) |"
echo "| farm, --insecure-no-jail workers (2 × 2 slots) | $(med farm_nojail p50_ms) | $(med farm_nojail p99_ms) | $(med farm_nojail jobs_per_s) |"
echo
echo "ranges over the rounds (min–max):"
for v in bare_warm bare_cold farm_jail farm_nojail; do
	echo "  $v: p50 $(rng $v p50)$(rng $v p50_ms)  p99 $(rng $v p99)$(rng $v p99_ms)  jobs/s $(rng $v jobs_per_s)"
done
