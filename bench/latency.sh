#!/usr/bin/env bash
# Warm pool latency (issue 9): a trivial job (console.log("ok")) at low load,
# measured by a client, through the whole farm (broker, worker, jail, privacy
# filter, audit), side by side in one run:
#   - farm "warm": workers with the warm pool (default --warm = slots),
#   - farm "cold": the same workers with --warm 0 (a jail and Deno per job),
#   - bare `deno run` of the same file with the worker's flags (hyperfine),
#   - `sluice run FILE` against the farm vs bare `deno run FILE`, both in one
#     hyperfine invocation (its ratio is the "<= 0.5x bare" target), with
#     `sluice-cli run FILE` (the full ZeroMQ CLI the front binary hands
#     everything else to) and `sluice-cli --help` (its process start alone)
#     in the same run.
# Low load: build/bench/latency sends one job, waits for its result, then
# pauses GAP ms (the pool refills meanwhile); hyperfine pauses the same way
# before every run of both commands (--prepare "sleep GAP"; not timed).
# Both farms run at once (2 workers x 2 slots each); each of REPS rounds
# measures every variant once; the table gives medians over the rounds.
#
#   bench/latency.sh [BUILD] [JOBS] [REPS] [GAP_MS]   (defaults: build 200 3 50)
BUILD=${1:-build}
N=${2:-200}
REPS=${3:-3}
GAP=${4:-50}
. "$(dirname "$0")/latency_lib.bash"
farm warm
farm cold --warm 0
SLEEP="sleep $(awk -v g="$GAP" 'BEGIN {printf "%.3f", g / 1000}')"

echo "# trivial job at low load (gap $GAP ms), $N jobs per measurement, $REPS rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$REPS"); do
	echo "round $r"
	lat farm_warm warm
	lat farm_cold cold
	hyper bare "$N" --prepare "$SLEEP"
	hyperfine -N --style none --warmup 3 --runs "$N" --prepare "$SLEEP" --export-json "$D/run.json" \
		"$BIN/sluice run --broker ipc://$D/warm/front $D/trivial.ts" "${BARE[*]}" \
		"$BIN/sluice-cli run --broker ipc://$D/warm/front $D/trivial.ts" "$BIN/sluice-cli --help" \
		>/dev/null 2>&1 ||
		{ echo "latency.sh: hyperfine of sluice run failed"; exit 1; }
	hyper_quantiles sluice_run "$D/run.json" 0
	hyper_quantiles bare_pair "$D/run.json" 1
	hyper_quantiles cli_run "$D/run.json" 2
	hyper_quantiles cli_start "$D/run.json" 3
	echo "  sluice run p50 $(med sluice_run p50) ms, bare p50 $(med bare_pair p50) ms (so far)"
done
echo "# load at the end $(cut -d' ' -f1-3 /proc/loadavg); RSS per idle warm jail $(idle_rss_mb warm) MB"
echo
echo "| trivial job, low load ($N per measurement, median of $REPS rounds) | p50 ms | p99 ms |"
echo "|---|---:|---:|"
echo "| farm, warm pool (2 workers × 2 slots, --warm 2) | $(med farm_warm p50) | $(med farm_warm p99) |"
echo "| ... of which the job in the worker (result wall_ms, p50) | $(med farm_warm wall_p50) | |"
echo "| farm, pool off (--warm 0) | $(med farm_cold p50) | $(med farm_cold p99) |"
echo "| ... of which the job in the worker (result wall_ms, p50) | $(med farm_cold wall_p50) | |"
echo "| bare \`deno run\` (hyperfine) | $(med bare p50) | $(med bare p99) |"
echo "| \`sluice run FILE\` (front binary), warm farm (hyperfine, same run as the next 3 lines) | $(med sluice_run p50) | $(med sluice_run p99) |"
echo "| bare \`deno run FILE\` (paired with the line above) | $(med bare_pair p50) | $(med bare_pair p99) |"
echo "| \`sluice-cli run FILE\` (the full ZeroMQ CLI; same hyperfine run) | $(med cli_run p50) | $(med cli_run p99) |"
echo "| \`sluice-cli --help\` (the full CLI's process start alone; same hyperfine run) | $(med cli_start p50) | $(med cli_start p99) |"
echo
echo "ratios of medians: warm/cold p50 $(ratio farm_warm p50 farm_cold p50), sluice run/bare p50 $(ratio sluice_run p50 bare_pair p50), sluice-cli run/bare p50 $(ratio cli_run p50 bare_pair p50)"
echo "RSS per idle warm jail: $(idle_rss_mb warm) MB"
echo "ranges over the rounds (min–max):"
for v in farm_warm farm_cold bare sluice_run bare_pair cli_run cli_start; do
	echo "  $v: p50 $(rng $v p50)  p99 $(rng $v p99)"
done
