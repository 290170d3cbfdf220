#!/usr/bin/env bash
# `make bench`: every benchmark in bench/, one after the other.  Run as root
# (the farm benchmarks build real jails).  The scripts, each rerunnable alone
# with `bench/NAME.sh [BUILD] ...` (see its header):
#   ab_worker.sh  A/B of two worker builds (needs BUILD_B: skipped here)
#   batch.sh   sluice batch of 10,000 trivial jobs, 2 jailed workers (~8 min here)
#   broker.sh  broker capacity with build/bench/fakeworker (~1 min)
#   broker_ir.sh  broker instructions per job under callgrind (~4 min; needs valgrind)
#   cpu_per_job.sh  CPU per trivial job, farm vs bare deno, split by process (~2 min)
#   cpu_split.sh  CPU per trivial job by role, from perf samples (~1 min; needs perf)
#   deno_caches.sh  a Deno start with its SQLite caches created vs kept in memory (~15 s; needs perf)
#   deno_ir.sh  Deno instructions: bare run vs the warm bootstrap (~20 s; needs valgrind)
#   faults.sh  the worker's page faults per trivial job, by thread (~20 s)
#   farm.sh    trivial job end to end: farm jailed / --insecure-no-jail / bare deno (~4 min)
#   jail.sh    jail build/teardown through build/test/jailrun (~1 min)
#   latency.sh warm pool on/off, low-load latency, sluice run vs bare deno (~8 min)
#   throughput.sh  warm pool on/off at saturation vs a bare deno loop (~4 min)
#   timeline.sh  a trivial job's path step by step (trace build, build-trace/; ~1 min)
# (bench/latency_lib.bash and bench/deno_cmd.bash are shared parts, not
# benchmarks)
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.."
for b in bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "=== $b"
	bash "$b" "$BUILD"
done
for b in "$BUILD"/bench/bench_*; do
	[ -x "$b" ] || continue
	echo "=== $b"
	"$b"
done
