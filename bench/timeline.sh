#!/usr/bin/env bash
# Where a trivial job's milliseconds go at low load: a farm built with the
# trace marks on (common/trace.h; build-trace/, built here when missing or
# older than the sources), one worker x 2 slots with the warm pool, and
# build-trace/bench/latency sending JOBS jobs one at a time, GAP ms apart.
# Every process prints "TS tag microseconds" (one host clock); the lines are
# sorted into one timeline per job and the table gives the median (and p90)
# of each step of the path:
#
#   client -> broker -> accept round (K*) -> JOB -> worker -> handover
#   -> Deno runs the job -> end seen -> DONE -> broker -> end round (K*)
#   -> RESULT -> client
#
#   bench/timeline.sh [JOBS] [GAP_MS]   (defaults: 200 50)
#
# A first argument that is not a number (the build dir bench/run.sh passes)
# is skipped: this script always builds and runs build-trace/.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case ${1:-} in *[!0-9]*) shift ;; esac
N=${1:-200}
GAP=${2:-50}
make -C "$ROOT" --no-print-directory -s BUILD=build-trace EXTRA_CFLAGS=-DSLUICE_TRACE all >/dev/null ||
	{ echo "timeline.sh: building build-trace failed"; exit 1; }
BUILD=build-trace
FARM_WORKERS=1
FARM_SLOTS=2
. "$(dirname "$0")/latency_lib.bash"
farm trace
out=$("$LATENCY" --broker "ipc://$D/trace/front" --jobs "$N" --gap-ms "$GAP" "$D/trivial.ts" 2>"$D/client.ts")
echo "# $N trivial jobs, one at a time, gap $GAP ms, 1 worker x 2 slots (--warm 2), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# latency client: $out"
cat "$D/client.ts" "$D/trace/broker.log" "$D/trace/w1.log" | grep '^TS ' | sort -k3,3n |
awk -v skip=5 '
BEGIN {
	n = split("C0_submit B1_submit K0_start K1_thread K2_written K3_release B2_job_sent " \
	    "W1_job R4_pre_release W2_started W3_exit_marker W4_done_sent B3_done " \
	    "K0_start K1_thread K2_written K3_release B4_result_sent C5_result", path, " ")
	split("client sends SUBMIT, broker has it|broker stages, seals the accept round|" \
	    "commit thread wakes|RocksDB write + fdatasync (accept)|broker loop sees it durable|" \
	    "ACCEPTED, JOB sent to the worker|JOB reaches the worker|worker takes a warm jail, " \
	    "files, limits|program name handed to the jail, STARTED|Deno imports and runs the job " \
	    "(to its exit record)|output filtered, files packed, DONE sent|DONE reaches the broker|" \
	    "broker stages the end, seals the round|commit thread wakes|RocksDB write + fdatasync " \
	    "(end)|broker loop sees it durable|RESULT sent|RESULT reaches the client", what, "|")
}
function flush(   i, k, t, ok) {
	if (ne == 0) return
	jobs++
	if (jobs <= skip) { ne = 0; return }	# warm-up
	k = 1; ok = 1
	for (i = 1; i <= n && ok; i++) {
		while (k <= ne && tag[k] != path[i]) k++
		if (k > ne) ok = 0; else { t[i] = ts[k]; k++ }
	}
	if (ok) { good++; for (i = 2; i <= n; i++) d[i, good] = t[i] - t[i-1]; tot[good] = t[n] - t[1] }
	ne = 0
}
$2 == "C0_submit" { flush() }
{ ne++; tag[ne] = $2; ts[ne] = $3 }
function q(i, p,   m, j, a, x, y) {
	m = 0
	for (j = 1; j <= good; j++) a[++m] = (i == 0 ? tot[j] : d[i, j])
	for (x = 2; x <= m; x++) for (y = x; y > 1 && a[y-1] > a[y]; y--) { v = a[y]; a[y] = a[y-1]; a[y-1] = v }
	return a[int(p * (m - 1)) + 1]
}
END {
	flush()
	printf "\n| step (%d jobs) | p50 us | p90 us |\n|---|---:|---:|\n", good
	for (i = 2; i <= n; i++) printf "| %s | %d | %d |\n", what[i-1], q(i, 0.5), q(i, 0.9)
	printf "| **submit to result** | **%d** | **%d** |\n", q(0, 0.5), q(0, 0.9)
}'
