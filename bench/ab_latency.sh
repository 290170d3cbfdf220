#!/usr/bin/env bash
# A/B farm latency: two builds' farms (2 workers x 2 slots, warm pool) side
# by side, measured alternately with one bench/latency client (one job at a
# time, GAP ms apart), so that drift on a shared machine hits both alike.
#
#   bench/ab_latency.sh BUILD_A BUILD_B [JOBS] [ROUNDS] [GAP_MS]
#
# BUILD_A/BUILD_B are build dirs relative to the repo root (e.g.
# ../../tmp/base/build for a checkout of an older commit built there).
# Prints each measurement and a table of medians over the rounds.
set -u
A=${1:?usage: bench/ab_latency.sh BUILD_A BUILD_B [JOBS] [ROUNDS] [GAP_MS]}
B=${2:?usage: bench/ab_latency.sh BUILD_A BUILD_B [JOBS] [ROUNDS] [GAP_MS]}
N=${3:-200}
ROUNDS=${4:-4}
GAP=${5:-50}
BUILD=$B
. "$(dirname "$0")/latency_lib.bash"
BIN_B=$BIN
BIN=$ROOT/$A/bin
farm a
BIN=$BIN_B
farm b

echo "# A=$A B=$B: $N jobs per measurement, gap $GAP ms, $ROUNDS rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
	echo "round $r"
	lat a a
	lat b b
done
echo "# load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| farm (median of $ROUNDS rounds, ranges) | p50 ms | p99 ms | job in the worker, p50 ms |"
echo "|---|---:|---:|---:|"
for v in a b; do
	name=$A; [ "$v" = b ] && name=$B
	echo "| $name | $(med $v p50) ($(rng $v p50)) | $(med $v p99) ($(rng $v p99)) | $(med $v wall_p50) |"
done
echo "B/A p50: $(ratio b p50 a p50)"
