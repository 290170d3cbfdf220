#!/usr/bin/env bash
# CPU per trivial job by role, from perf samples: where the farm's CPU goes
# once the cores are busy (the throughput target is a CPU budget).  Unlike
# bench/cpu_per_job.sh (process counters), this separates the jails' init
# (sluice-worker processes that are not the worker until init execs, then
# sluice-jail-init) and their job before its execve from the worker's
# threads, and Deno from both.
#
#   bench/cpu_split.sh [BUILD] [JOBS]   (defaults: build 300)
#
# A farm (2 workers x 2 slots, warm pool), 50 jobs of warm-up, then `perf
# record -a -F 997` over loadgen sending JOBS trivial jobs with 8 in flight.
# Each sample (~1 ms) is put in one role by its thread's name and id:
#
#   deno               the jobs' Deno (threads deno, tokio-runtime-w, V8 ...)
#   init+job-pre-exec  the jails' init (named after the worker thread that
#                      cloned it, sluice-*, then sluice-jail-init) and the
#                      job before its execve
#   worker             the workers' own threads (listed before the run)
#   broker+zmq         the broker and ZeroMQ's I/O threads
#   kthreads           kworker, ksoftirqd, rcu, migration
#   loadgen, other     the client; anything else (perf itself is excluded)
#
# and divided by JOBS.  perf's own overhead inflates every role a little;
# compare builds with this script, run alternately.  Needs perf (skipped
# without it).
set -u
BUILD=${1:-build}
JOBS=${2:-300}
case $JOBS in '' | 0 | *[!0-9]*) echo "usage: cpu_split.sh [BUILD] [JOBS >= 1]"; exit 2 ;; esac
command -v perf >/dev/null || { echo "cpu_split.sh: perf not installed: skipped"; exit 0; }
. "$(dirname "$0")/latency_lib.bash"
farm split
"$LOADGEN" --broker "ipc://$D/split/front" --jobs 50 --concurrency 8 "$D/trivial.ts" >/dev/null
TIDS=" "
for w in $(farm_workers split); do
	TIDS+="$(ls "/proc/$w/task" | tr '\n' ' ')"
done
perf record -q -a -F 997 -o "$D/perf.data" -- \
	"$LOADGEN" --broker "ipc://$D/split/front" --jobs "$JOBS" --concurrency 8 "$D/trivial.ts" \
	>"$D/lg.json" 2>/dev/null
[ "$(jq -r '.status.ok' "$D/lg.json")" = "$JOBS" ] || echo "  WARNING: not every farm job ok"
echo "# $JOBS trivial jobs, 8 in flight, 2 workers x 2 slots, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| role | CPU ms per job |"
echo "|---|---:|"
perf report -i "$D/perf.data" --no-children --sort comm,pid --stdio -g none \
	-F sample,comm,pid -t ';' 2>/dev/null | grep -v '^#' | grep ';' |
awk -F';' -v tids="$TIDS" -v n="$JOBS" '
{
	s = $1 + 0; c = $2; sub(/^ +/, "", c); sub(/ +$/, "", c)
	split($3, a, ":"); t = a[1] + 0
	if (index(tids, " " t " ") || c ~ /^sluice-(tools|fclose)/) k = "worker"
	else if (c ~ /^sluice-/ && c !~ /^sluice-(broker|commit)/) k = "init+job-pre-exec"
	else if (c == "deno" || c ~ /^tokio/ || c ~ /^V8/) k = "deno"
	else if (c ~ /^sluice-(broker|commit)/ || c ~ /^ZMQ/) k = "broker+zmq"
	else if (c ~ /^(kworker|ksoftirqd|rcu|migration)/) k = "kthreads"
	else if (c == "loadgen") k = "loadgen"
	else if (c == "swapper" || c == "perf") next
	else k = "other"
	tot[k] += s; all += s
}
END {
	split("deno init+job-pre-exec worker broker+zmq kthreads loadgen other", order, " ")
	for (i = 1; i <= 7; i++) printf "| %s | %.2f |\n", order[i], tot[order[i]] / 997 * 1000 / n
	printf "| **total** | **%.2f** |\n", all / 997 * 1000 / n
}'
