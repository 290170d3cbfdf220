#!/usr/bin/env bash
# CPU per trivial job, farm vs bare `deno run`, alternating in one run: the
# throughput target (>= 0.8x a bare loop on the same cores) is a CPU budget
# once the cores are busy, so this says how far the farm is from it and who
# spends the difference.
#
# Each round: loadgen sends JOBS jobs with 8 in flight to a farm (2 workers x
# 2 slots, warm pool), then JOBS bare runs go 4 at a time; the CPU of each
# is the host's busy time from /proc/stat (user+nice+system+irq+softirq)
# over the run, divided by JOBS.  The farm's share is split by
# /proc/PID/stat: broker, workers (their threads, not their reaped
# children), kernel threads (kworker, ksoftirqd, rcu: deferred teardown of
# namespaces, mounts, cgroups), loadgen (the waited-for children's CPU of
# this shell, /proc/$$/stat: only loadgen ends meanwhile), and the rest: the
# jails (init + Deno) and whatever else ran.  Medians over REPS rounds.
#
#   bench/cpu_per_job.sh [BUILD] [JOBS] [REPS]   (defaults: build 300 3)
BUILD=${1:-build}
N=${2:-300}
REPS=${3:-3}
. "$(dirname "$0")/latency_lib.bash"
farm cpu
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }	# USER_HZ ticks
ticks() { local s=0 p v; for p in "$@"; do v=$(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null); s=$((s + ${v:-0})); done; echo "$s"; }
reaped() { awk '{print $16 + $17}' "/proc/$$/stat"; }	# this shell's waited-for children
kthreads() { ticks $(ps -eo pid=,comm= | awk '$2 ~ /^(kworker|ksoftirqd|rcu|migration)/ {print $1}'); }
HZ=$(getconf CLK_TCK)
us() { awk -v t="$1" -v n="$N" -v hz="$HZ" 'BEGIN {printf "%.0f", t * 1e6 / hz / n}'; }
B=$(pgrep -f "sluice-broker --front ipc://$D/cpu/front")
W=$(farm_workers cpu | tr '\n' ' ')
"$LOADGEN" --broker "ipc://$D/cpu/front" --jobs 50 --concurrency 8 "$D/trivial.ts" >/dev/null	# warm-up
echo "# $N trivial jobs per measurement, $REPS rounds, $(nproc) cores, USER_HZ $HZ, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$REPS"); do
	c0=$(busy) b0=$(ticks $B) w0=$(ticks $W) k0=$(kthreads) l0=$(reaped)
	"$LOADGEN" --broker "ipc://$D/cpu/front" --jobs "$N" --concurrency 8 "$D/trivial.ts" >"$D/lg.json"
	l1=$(reaped) c1=$(busy) b1=$(ticks $B) w1=$(ticks $W) k1=$(kthreads)
	lg=$((l1 - l0))
	[ "$(jq -r '.status.ok' "$D/lg.json")" = "$N" ] || echo "  WARNING: not every farm job ok"
	rest=$(( (c1 - c0) - (b1 - b0) - (w1 - w0) - (k1 - k0) - lg ))
	for m in "total $((c1 - c0))" "broker $((b1 - b0))" "workers $((w1 - w0))" \
	    "kthreads $((k1 - k0))" "loadgen $lg" "jails $rest"; do
		set -- $m; echo "farm_$1 us $(us "$2")" >>"$RES"
	done
	echo "farm_rate us $(jq -r .jobs_per_s "$D/lg.json")" >>"$RES"
	farm_us=$(us $((c1 - c0)))
	c0=$(busy)
	seq 1 "$N" | xargs -P 4 -I{} "${BARE[@]}" >/dev/null
	c1=$(busy)
	echo "bare_total us $(us $((c1 - c0)))" >>"$RES"
	echo "  round $r: farm $farm_us us/job, bare $(us $((c1 - c0))) us/job"
done
echo
echo "| CPU per trivial job (median of $REPS rounds) | µs |"
echo "|---|---:|"
for v in farm_total farm_jails farm_workers farm_kthreads farm_broker farm_loadgen bare_total; do
	echo "| $v | $(med "$v" us) |"
done
echo
echo "farm / bare CPU per job: $(ratio farm_total us bare_total us); farm jobs/s (8 in flight): $(med farm_rate us)"
