#!/usr/bin/env bash
# --warm-prime: what priming a part of Deno in the warm jails buys a job that
# uses it, and what it costs one that does not.  Two farms side by side (2
# workers x 2 slots each): "none" (--warm-prime none) and "primed"
# (--warm-prime PRIMES), measured alternately in each round:
#   - latency (build/bench/latency, one job at a time, 50 ms apart) of
#     trivial.ts (console.log) and of timer.ts (one setTimeout, then
#     console.log): the job that uses the primed part;
#   - throughput of trivial.ts at 8 in flight (loadgen): every warm jail
#     pays for the prime at boot, used or not.
#
#   bench/prime.sh [BUILD] [JOBS] [REPS] [PRIMES]   (defaults: build 150 3 timers)
BUILD=${1:-build}
N=${2:-150}
REPS=${3:-3}
PRIMES=${4:-timers}
GAP=50
. "$(dirname "$0")/latency_lib.bash"
farm none --warm-prime none
farm primed --warm-prime "$PRIMES"
echo 'await new Promise((r) => setTimeout(r, 0)); console.log("ok");' >"$D/timer.ts"

echo "# --warm-prime $PRIMES vs none: $N jobs per measurement, $REPS rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$REPS"); do
	echo "round $r"
	for f in none primed; do
		for p in trivial timer; do
			lat "${f}_$p" "$f" "$D/$p.ts"
		done
		lg "${f}_rate" "$f" "$N" 8 jobs_per_s
	done
done
echo "# RSS per idle warm jail: none $(idle_rss_mb none) MB, primed $(idle_rss_mb primed) MB"
echo
echo "| median of $REPS rounds | none p50 ms | $PRIMES p50 ms | none p99 ms | $PRIMES p99 ms |"
echo "|---|---:|---:|---:|---:|"
for p in trivial timer; do
	echo "| $p.ts, one at a time | $(med none_$p p50) | $(med primed_$p p50) | $(med none_$p p99) | $(med primed_$p p99) |"
done
echo
echo "| trivial.ts at 8 in flight | none | $PRIMES |"
echo "|---|---:|---:|"
echo "| jobs/s | $(med none_rate jobs_per_s) | $(med primed_rate jobs_per_s) |"
