#!/usr/bin/env bash
# Farm benchmark: end-to-end latency and throughput of a trivial job
# (console.log("ok")) through the whole farm (client -> broker -> worker ->
# jail -> Deno -> back), side by side in one run with
#   - the same farm with workers started with --insecure-no-jail (cost of the jail),
#   - bare `deno run` of the same program with the worker's flags and
#     environment (hyperfine; DENO_DIR warm, and wiped before each run as the
#     jail's fresh /tmp/deno is).
# The jailed workers run with their default warm pool (bench/latency.sh and
# bench/throughput.sh compare pool on and off).
# Both farms (2 workers x 2 slots each) run at once; the measurements are
# interleaved: each of REPS rounds measures every variant once, and the table
# gives the median over the rounds.
#
#   bench/farm.sh [BUILD] [JOBS] [REPS]      (defaults: build 200 3)
#
# Latency: JOBS jobs one at a time (loadgen --concurrency 1; hyperfine --runs
# JOBS).  Throughput: JOBS jobs with 8 in flight (farm: 4 slots, the queue
# stays full) and bare: JOBS runs with 4 in parallel (xargs -P 4).
BUILD=${1:-build}
N=${2:-200}
REPS=${3:-3}
. "$(dirname "$0")/latency_lib.bash"
farm jail
farm nojail --insecure-no-jail

echo "# trivial job, $N jobs per measurement, $REPS interleaved rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$REPS"); do
	echo "round $r"
	hyper bare_warm "$N"
	hyper bare_cold "$N" --prepare "rm -rf $D/bare/.deno"
	lg farm_jail jail "$N" 1 p50_ms p99_ms
	lg farm_nojail nojail "$N" 1 p50_ms p99_ms
	bare_rate bare_warm "$N" 4
	lg farm_jail jail "$N" 8 jobs_per_s
	lg farm_nojail nojail "$N" 8 jobs_per_s
done

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
