#!/usr/bin/env bash
# CURVE's cost on broker capacity, side by side: the same broker (tcp on
# 127.0.0.1, durable acknowledgement) in plaintext, with CURVE (ZAP handler,
# per-message User-Id), and with CURVE plus a per-tenant rate limit high
# enough never to refuse (the token-bucket cost).  One fake worker
# (build/bench/fakeworker, no jail), loadgen submitting N jobs with C in
# flight; the modes alternate REPS times so load on the machine hits them
# alike; prints every run and the medians with ratios to plaintext.
#
#   bench/curve.sh [BUILD] [JOBS] [CONCURRENCY]
set -u
BUILD=${1:-build}
N=${2:-20000}
C=${3:-256}
REPS=${REPS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/$BUILD/bin
LOADGEN=$ROOT/$BUILD/bench/loadgen
FAKE=$ROOT/$BUILD/bench/fakeworker
D=$(mktemp -d "${BENCH_TMP:-/tmp}/sluice-bench-curve.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
echo 'console.log("ok");' >"$D/trivial.ts"
K=$D/keys
mkdir -p "$K" "$D/clients" "$D/workers"
for n in broker w; do "$BIN/sluice" keygen --out "$K" "$n" >/dev/null; done
"$BIN/sluice" keygen --out "$K" --tenant bench c >/dev/null
cp "$K/c.pub" "$D/clients/"; cp "$K/w.pub" "$D/workers/"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# one MODE RUN: a fresh broker in MODE (plain | curve | curve+rate), one fake
# worker, one loadgen run; appends "MODE jobs/s p50 p99 lost" to $RES.
one() {
	local mode=$1 run=$2 dir=$D/$2 flags=() ckey=() wkey=()
	mkdir -p "$dir"
	local front=tcp://127.0.0.1:$(port) back=tcp://127.0.0.1:$(port)
	if [ "$mode" != plain ]; then
		flags=(--curve-secret "$K/broker.key" --clients "$D/clients" --workers "$D/workers")
		ckey=(SLUICE_CURVE_KEY="$K/c.key" SLUICE_BROKER_KEY="$K/broker.pub")
		wkey=(SLUICE_CURVE_KEY="$K/w.key" SLUICE_BROKER_KEY="$K/broker.pub")
	fi
	[ "$mode" = curve+rate ] && flags+=(--tenant-rate 1000000 --tenant-burst 10000000)
	"$BIN/sluice-broker" --front "$front" --back "$back" --data "$dir/broker" \
		--approvals "ipc://$dir/appr" --alerts "ipc://$dir/alerts" --heartbeat-ms 1000 \
		--queue-max 100000 --log-level warn "${flags[@]}" >"$dir/broker.log" 2>&1 &
	local broker=$!
	PIDS+=("$broker")
	env "${wkey[@]}" "$FAKE" --broker "$back" --slots 1024 --host fake --heartbeat-ms 1000 2>"$dir/fake.log" &
	local fake=$!
	PIDS+=("$fake")
	env "${ckey[@]}" "$BIN/sluice" status --broker "$front" --wait-workers 1 --timeout 20000 >/dev/null || {
		echo "curve.sh: farm did not start ($mode)"; tail "$dir"/*.log; exit 1; }
	local out
	out=$(env "${ckey[@]}" "$LOADGEN" --broker "$front" --jobs "$N" --concurrency "$C" "$D/trivial.ts")
	echo "rep $rep $mode: $out"
	echo "$mode $(jq -r '[.jobs_per_s, .p50_ms, .p99_ms, .lost] | @tsv' <<<"$out")" >>"$RES"
	kill "$broker" "$fake" 2>/dev/null
	wait "$broker" "$fake" 2>/dev/null
	rm -rf "$dir"
}

echo "# CURVE cost: $N jobs per run, $C in flight, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
RES=$D/results
: >"$RES"
run=0
for rep in $(seq 1 "$REPS"); do
	for mode in plain curve curve+rate; do
		run=$((run + 1))
		one "$mode" "r$run"
	done
done
med() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
base=$(awk '$1 == "plain" {print $2}' "$RES" | med)
echo
echo "| mode | jobs/s (median of $REPS) | vs plaintext | p50 ms | p99 ms | lost |"
echo "|---|---:|---:|---:|---:|---:|"
for mode in plain curve curve+rate; do
	j=$(awk -v m="$mode" '$1 == m {print $2}' "$RES" | med)
	printf '| %s | %s | %s | %s | %s | %s |\n' "$mode" "$j" "$(awk -v a="$j" -v b="$base" 'BEGIN {printf "%.2f", a / b}')" \
		"$(awk -v m="$mode" '$1 == m {print $3}' "$RES" | med)" "$(awk -v m="$mode" '$1 == m {print $4}' "$RES" | med)" \
		"$(awk -v m="$mode" '$1 == m {s += $5} END {print s + 0}' "$RES")"
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
