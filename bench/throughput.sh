#!/usr/bin/env bash
# Warm pool throughput (issue 9): trivial jobs (console.log("ok")) at
# saturation through the whole farm, side by side in one run:
#   - farm "warm": workers with the warm pool (--warm = slots, the default),
#   - farm "warm2x": workers keeping twice as many warm jails as slots,
#   - farm "cold": the same workers with --warm 0,
#   - farm "slots4": 2 workers x 4 slots (--warm 4) with 16 in flight: the
#     same cores, more jobs at once (a job's lifecycle has waits -- synced
#     commits, jail builds -- that other jobs can fill),
#   - a loop of bare `deno run` of the same file on the same cores
#     (xargs -P 2 and -P 4: this host has 2 cores; the better one is the
#     baseline).
# Farm: JOBS jobs with 8 in flight (loadgen --concurrency 8; 2 workers x 2
# slots, so the queue never runs dry).  Each of REPS rounds measures every
# variant once; the table gives medians over the rounds.
#
#   bench/throughput.sh [BUILD] [JOBS] [REPS]   (defaults: build 200 3)
BUILD=${1:-build}
N=${2:-200}
REPS=${3:-3}
. "$(dirname "$0")/latency_lib.bash"
farm warm
farm warm2x --warm 4
farm cold --warm 0
FARM_SLOTS=4 farm slots4

echo "# trivial job at saturation, $N jobs per measurement, $REPS rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$REPS"); do
	echo "round $r"
	lg farm_warm warm "$N" 8 jobs_per_s p50_ms
	lg farm_warm2x warm2x "$N" 8 jobs_per_s p50_ms
	lg farm_cold cold "$N" 8 jobs_per_s p50_ms
	lg farm_slots4 slots4 "$N" 16 jobs_per_s p50_ms
	bare_rate bare_p2 "$N" 2
	bare_rate bare_p4 "$N" 4
done
best=bare_p2
awk -v a="$(med bare_p4 jobs_per_s)" -v b="$(med bare_p2 jobs_per_s)" 'BEGIN {exit !(a > b)}' && best=bare_p4
echo "# load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| trivial jobs at saturation ($N per measurement, median of $REPS rounds) | jobs/s | × bare |"
echo "|---|---:|---:|"
echo "| farm, warm pool (2 workers × 2 slots, --warm 2; 8 in flight) | $(med farm_warm jobs_per_s) | $(ratio farm_warm jobs_per_s $best jobs_per_s) |"
echo "| farm, warm pool --warm 4 | $(med farm_warm2x jobs_per_s) | $(ratio farm_warm2x jobs_per_s $best jobs_per_s) |"
echo "| farm, pool off (--warm 0) | $(med farm_cold jobs_per_s) | $(ratio farm_cold jobs_per_s $best jobs_per_s) |"
echo "| farm, 2 workers × 4 slots (--warm 4; 16 in flight) | $(med farm_slots4 jobs_per_s) | $(ratio farm_slots4 jobs_per_s $best jobs_per_s) |"
echo "| bare \`deno run\` loop, 2 in parallel | $(med bare_p2 jobs_per_s) | $(ratio bare_p2 jobs_per_s $best jobs_per_s) |"
echo "| bare \`deno run\` loop, 4 in parallel | $(med bare_p4 jobs_per_s) | $(ratio bare_p4 jobs_per_s $best jobs_per_s) |"
echo "ranges over the rounds (min–max):"
for v in farm_warm farm_warm2x farm_cold farm_slots4 bare_p2 bare_p4; do
	echo "  $v: jobs/s $(rng $v jobs_per_s)"
done
