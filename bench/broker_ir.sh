#!/usr/bin/env bash
# Broker instructions per job: a noise-immune companion to bench/broker.sh.
#
#   bench/broker_ir.sh [BUILD] [N1] [N2] [CONCURRENCY]
#
# Runs the broker.sh set-up (a fresh broker on ipc:// in a temp dir, one
# build/bench/fakeworker, build/bench/loadgen submitting trivial jobs) with
# all three processes under `valgrind --tool=callgrind --separate-threads=yes`
# (counting from the start), once with N1 jobs (default 1000) and once with
# N2 (default 3000), CONCURRENCY in flight (default 256).  Instructions per
# job = (Ir(N2) - Ir(N1)) / (N2 - N1), so start-up (Hyperscan compile,
# RocksDB open) and shutdown cancel out.  Per component:
#
#   broker main    the loop thread (thread 1)
#   committer      broker/committer.c's thread (RocksDB WriteBatch, WAL, fdatasync)
#   zmq io         libzmq's I/O and reaper threads in the broker (they epoll)
#   broker other   any other broker thread (ZAP actor, RocksDB background work)
#   loadgen        all of loadgen's threads
#   fakeworker     all of the fake worker's threads
#
# KEEP=1 keeps the callgrind output (printed at the end) for
# callgrind_annotate.  Valgrind runs each process's threads one at a time and slows it ~50x, so
# group commit rounds are larger than at full speed (fewer syncs per job);
# the counts compare builds, they are not a CPU time.  Both builds should be
# measured with the same N1, N2, CONCURRENCY.  Prints one line per component
# and a JSON line.  Needs valgrind; run as root like broker.sh (it is not
# required by the broker, only by BENCH_TMP's permissions).
set -u
command -v valgrind >/dev/null || { echo "broker_ir.sh: valgrind not installed: skipped"; exit 0; }
BUILD=${1:-build}
N1=${2:-1000}
N2=${3:-3000}
CONC=${4:-256}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case $BUILD in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
BIN=$B/bin
D=$(mktemp -d "${BENCH_TMP:-/tmp}/sluice-bench-ir.XXXXXX")
PIDS=()
# At exit: what is still running goes; the callgrind files go unless KEEP=1
# (then: callgrind_annotate $D/n$N2/broker.*-01 for the loop thread).
trap '[ ${#PIDS[@]} -gt 0 ] && kill -9 "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "kept $D" >&2; else rm -rf "$D"; fi' EXIT
echo 'console.log("ok");' >"$D/trivial.ts"
VG=(valgrind --tool=callgrind --collect-atstart=yes --separate-threads=yes --dump-instr=no)

# thread_ir FILE: the thread's total Ir (callgrind's "totals:"/"summary:" line).
thread_ir() { awk '/^(totals|summary):/ {print $2; exit}' "$1"; }

# one_run N: sets IR_<component> for a run of N jobs.
one_run() {
	local n=$1 dir=$D/n$1 f ir
	mkdir -p "$dir"
	"${VG[@]}" --callgrind-out-file="$dir/broker.%p" \
		"$BIN/sluice-broker" --front "ipc://$dir/front" --back "ipc://$dir/back" --data "$dir/broker" \
		--approvals "ipc://$dir/appr" --alerts "ipc://$dir/alerts" --heartbeat-ms 1000 \
		--queue-max 100000 --log-level warn >"$dir/broker.log" 2>&1 &
	local broker=$!
	PIDS+=("$broker")
	"${VG[@]}" --callgrind-out-file="$dir/fake.%p" \
		"$B/bench/fakeworker" --broker "ipc://$dir/back" --slots 1024 --host fake1 \
		--heartbeat-ms 1000 2>"$dir/fake.log" &
	local fake=$!
	PIDS+=("$fake")
	"$BIN/sluice" status --broker "ipc://$dir/front" --wait-workers 1 --timeout 120000 >/dev/null || {
		echo "broker_ir.sh: farm did not start"; tail "$dir"/*.log; exit 1; }
	"${VG[@]}" --callgrind-out-file="$dir/loadgen.%p" \
		"$B/bench/loadgen" --broker "ipc://$dir/front" --jobs "$n" --concurrency "$CONC" \
		"$D/trivial.ts" >"$dir/lg.json" 2>"$dir/lg.log" || {
		echo "broker_ir.sh: loadgen failed: $(cat "$dir/lg.json")"; exit 1; }
	kill -INT "$fake"
	kill -TERM "$broker"
	wait "$broker" "$fake" 2>/dev/null
	IR_main=0 IR_committer=0 IR_zmqio=0 IR_other=0 IR_loadgen=0 IR_fake=0
	for f in "$dir"/broker.*-*; do
		ir=$(thread_ir "$f")
		if [[ $f == *-01 ]]; then IR_main=$((IR_main + ir))
		elif grep -q 'committer_main' "$f"; then IR_committer=$((IR_committer + ir))
		elif grep -q 'epoll_wait' "$f"; then
			IR_zmqio=$((IR_zmqio + ir))
		else IR_other=$((IR_other + ir))
		fi
	done
	for f in "$dir"/loadgen.*-*; do IR_loadgen=$((IR_loadgen + $(thread_ir "$f"))); done
	for f in "$dir"/fake.*-*; do IR_fake=$((IR_fake + $(thread_ir "$f"))); done
	echo "# $n jobs: $(cat "$dir/lg.json")" >&2
}

one_run "$N1"
for k in main committer zmqio other loadgen fake; do eval "A_$k=\$IR_$k"; done
one_run "$N2"
echo "# broker instructions per job, $B, (Ir($N2 jobs) - Ir($N1 jobs)) / $((N2 - N1)), $CONC in flight"
json="{\"build\":\"$B\",\"n1\":$N1,\"n2\":$N2,\"concurrency\":$CONC"
total=0
for k in main committer zmqio other loadgen fake; do
	eval "a=\$A_$k b=\$IR_$k"
	per=$(( (b - a) / (N2 - N1) ))
	case $k in main|committer|zmqio|other) total=$((total + per)) ;; esac
	printf '%-12s %8d Ir/job\n' "$k" "$per"
	json="$json,\"$k\":$per"
done
printf '%-12s %8d Ir/job\n' "broker" "$total"
echo "$json,\"broker\":$total}"
