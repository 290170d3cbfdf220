# Shared by bench/farm.sh, bench/latency.sh and bench/throughput.sh (source
# it): a temp dir cleaned on exit, real farms on ipc endpoints in it, the
# bare `deno run` command a farm job is compared with, and the helpers that
# collect "variant metric value" lines in $RES and print medians.
#
# Before sourcing: BUILD (build dir), FARM_WORKERS and FARM_SLOTS (per farm,
# default 2 and 2).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/$BUILD/bin
LOADGEN=$ROOT/$BUILD/bench/loadgen
LATENCY=$ROOT/$BUILD/bench/latency
DENO=$(readlink -f "${SLUICE_DENO:-$ROOT/node_modules/.bin/deno}")
export SLUICE_DENO=$DENO	# the workers' runtime too, whatever BUILD is
FARM_WORKERS=${FARM_WORKERS:-2}
FARM_SLOTS=${FARM_SLOTS:-2}
D=$(mktemp -d /tmp/sluice-bench-farm.XXXXXX)
RES=$D/results		# lines: variant metric value
: >"$RES"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	# A killed worker leaves its jobs' tmpfs workspaces mounted.
	awk -v t="$D" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT

echo 'console.log("ok");' >"$D/trivial.ts"
mkdir -p "$D/bare"
cp "$D/trivial.ts" "$D/bare/main.ts"

# farm NAME [worker flags]: broker + FARM_WORKERS workers x FARM_SLOTS slots,
# endpoints in $D/NAME; returns once every worker registered.
farm() {
	local name=$1; shift
	local dir=$D/$name w
	mkdir -p "$dir"
	"$BIN/sluice-broker" --front "ipc://$dir/front" --back "ipc://$dir/back" --data "$dir/broker" \
		--approvals "ipc://$dir/appr" --alerts "ipc://$dir/alerts" --heartbeat-ms 1000 \
		--log-level warn >"$dir/broker.log" 2>&1 &
	PIDS+=($!)
	for w in $(seq 1 "$FARM_WORKERS"); do
		"$BIN/sluice-worker" --broker "ipc://$dir/back" --slots "$FARM_SLOTS" --host "$name-w$w" \
			--state-dir "$dir/w$w" --heartbeat-ms 1000 --log-level info "$@" \
			>"$dir/w$w.log" 2>&1 &
		PIDS+=($!)
	done
	"$BIN/sluice" status --broker "ipc://$dir/front" --wait-workers "$FARM_WORKERS" --timeout 20000 >/dev/null || {
		echo "bench: farm $name did not start"; tail "$dir"/*.log; exit 1; }
}

# farm_workers FARM: pids of the farm's worker processes (children of this
# shell; their jails' inits, children of a worker, are not among them).
farm_workers() { pgrep -P $$ -f "sluice-worker --broker ipc://$D/$1/back"; }

# idle_rss_mb FARM: RSS of one idle warm jail as its first worker logged it.
idle_rss_mb() {
	sed -n 's/.*RSS per idle warm jail \([0-9]*\) KB.*/\1/p' "$D/$1/w1.log" | head -1 |
		awk '{printf "%.1f", $1 / 1024}'
}

# Bare deno: the worker's argv and environment (bench/deno_cmd.bash),
# without the farm.
. "$ROOT/bench/deno_cmd.bash"
BARE=(env -i "DENO_DIR=$D/bare/.deno" "${DENO_ENV[@]}" "$DENO" "${DENO_RUN[@]}"
	"--allow-read=$D/bare" "--allow-write=$D/bare" "${DENO_V8[@]}" "$D/bare/main.ts")
"${BARE[@]}" | grep -qx ok || { echo "bench: bare deno does not run"; exit 1; }

# hyper_quantiles VARIANT JSON [INDEX]: p50/p99 (ms) of hyperfine result INDEX.
hyper_quantiles() {
	jq -r --arg v "$1" --argjson i "${3:-0}" '.results[$i].times | sort | . as $t | length as $n |
		"\($v) p50 \($t[((0.5 * ($n - 1)) + 0.5 | floor)] * 1000)",
		"\($v) p99 \($t[((0.99 * ($n - 1)) + 0.5 | floor)] * 1000)"' "$2" >>"$RES"
}
# hyper VARIANT N [hyperfine flags]: p50/p99 of N runs of the bare command.
hyper() {
	local v=$1 n=$2; shift 2
	hyperfine -N --style none --warmup 3 --runs "$n" "$@" --export-json "$D/h.json" \
		"${BARE[*]}" >/dev/null 2>&1 || { echo "bench: hyperfine failed"; exit 1; }
	hyper_quantiles "$v" "$D/h.json"
}
# bare_rate VARIANT N P: jobs/s of N bare runs, P at a time.
bare_rate() {
	local t
	t=$(date +%s%N)
	seq 1 "$2" | xargs -P "$3" -I{} "${BARE[@]}" >/dev/null
	echo "$1 jobs_per_s $(awk -v n="$2" -v ns=$(( $(date +%s%N) - t )) 'BEGIN {printf "%.1f", n / (ns / 1e9)}')" >>"$RES"
}
# lat VARIANT FARM [PROGRAM]: one paced latency run of build/bench/latency
# (N jobs, GAP ms apart, default 50; PROGRAM default trivial.ts); appends
# p50, p99 and wall_p50 (the job in the worker) in ms.
lat() {
	local out
	out=$("$LATENCY" --broker "ipc://$D/$2/front" --jobs "$N" --gap-ms "${GAP:-50}" "${3:-$D/trivial.ts}")
	echo "  $1: $out"
	[ "$(jq -r .ok <<<"$out")" = "$N" ] || echo "  WARNING: $1: not every job ok"
	for m in p50_ms p99_ms wall_p50_ms; do echo "$1 ${m%_ms} $(jq -r ".$m" <<<"$out")" >>"$RES"; done
}
# lg VARIANT FARM N CONC METRICS...: one loadgen run; appends the metrics.
lg() {
	local v=$1 f=$2 n=$3 c=$4 out; shift 4
	out=$("$LOADGEN" --broker "ipc://$D/$f/front" --jobs "$n" --concurrency "$c" "$D/trivial.ts")
	echo "  $v: $out"
	[ "$(jq -r '.status.ok' <<<"$out")" = "$n" ] || echo "  WARNING: $v: not every job ok"
	for m in "$@"; do echo "$v $m $(jq -r ".$m" <<<"$out")" >>"$RES"; done
}
# med VARIANT METRIC / rng VARIANT METRIC: median / min–max over the rounds.
med() { awk -v v="$1" -v m="$2" '$1 == v && $2 == m {print $3}' "$RES" | sort -g |
	awk '{x[NR]=$1} END {if (NR) printf "%.1f", x[int((NR+1)/2)]; else printf "-"}'; }
rng() { awk -v v="$1" -v m="$2" '$1 == v && $2 == m {print $3}' "$RES" | sort -g |
	awk '{x[NR]=$1} END {if (NR) printf "%.1f–%.1f", x[1], x[NR]}'; }
# ratio A MA B MB: median A/MA over median B/MB.
ratio() { awk -v a="$(med "$1" "$2")" -v b="$(med "$3" "$4")" 'BEGIN {if (b > 0) printf "%.2f", a / b; else printf "-"}'; }
