#!/usr/bin/env bash
# Jail cost without the farm: build/test/jailrun (tests/integ/tools/jailrun.c:
# workspace + jail_new + jail_start + wait + teardown, the path the worker
# takes) running the trivial program, jailed and --insecure, alternating run
# by run.  For each run: the whole jailrun process (wall, from the shell) and
# the job's own wall time as jailrun reports it (wall_ms, from start to exit);
# "outside" = total - wall_ms is workspace + jail build + teardown + jailrun's
# own process start.  Also `deno --version` the same way (almost no Deno work).
#
#   bench/jail.sh [BUILD] [RUNS]      (defaults: build 200)
set -u
BUILD=${1:-build}
N=${2:-200}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JR=$ROOT/$BUILD/test/jailrun
export SLUICE_DENO=${SLUICE_DENO:-$(readlink -f "$ROOT/node_modules/.bin/deno")}
D=$(mktemp -d /tmp/sluice-bench-jail.XXXXXX)
cleanup() {
	awk -v t="$D" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
echo 'console.log("ok");' >"$D/trivial.ts"
[ -x "$JR" ] || { echo "jail.sh: $JR missing (make)"; exit 1; }

. "$(dirname "$0")/deno_cmd.bash"
DARGS=(deno "${DENO_RUN[@]}" main.ts)
# one VARIANT PROGRAM [jailrun flags]: appends "VARIANT total_ms wall_ms" to $D/res.
one() {
	local v=$1 p=$2 t out w; shift 2
	t=$(date +%s%N)
	if [ "$p" = version ]; then
		out=$("$JR" --parent "$D" "$@" -- deno --version 2>&1)
	else
		out=$("$JR" --parent "$D" "$@" --file "$D/trivial.ts:main.ts" -- "${DARGS[@]}" 2>&1)
	fi
	t=$(( $(date +%s%N) - t ))
	w=$(printf '%s\n' "$out" | sed -n 's/^jailrun: wall_ms: //p')
	if [ "$(printf '%s\n' "$out" | sed -n 's/^jailrun: exit_code: //p')" != 0 ]; then
		echo "jail.sh: $v failed:"; printf '%s\n' "$out" | tail -5; exit 1
	fi
	echo "$v $(awk -v t="$t" 'BEGIN {printf "%.2f", t / 1e6}') $w" >>"$D/res"
}
: >"$D/res"
for _ in 1 2 3; do one warm trivial; one warm trivial --insecure; done	# warm-up, not counted
: >"$D/res"
echo "# jailrun, $N runs of each variant, alternating; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq 1 "$N"); do
	one jailed trivial
	one insecure trivial --insecure
	one jailed_version version
	one insecure_version version --insecure
done
stat() { # stat VARIANT COLUMN: p50 p99
	awk -v v="$1" -v k="$2" '$1 == v {print $k}' "$D/res" | sort -g |
		awk '{x[NR]=$1} END {printf "%.1f | %.1f", x[int(0.5*(NR-1)+0.5)+1], x[int(0.99*(NR-1)+0.5)+1]}'
}
outside() {
	awk -v v="$1" '$1 == v {print $2 - $3}' "$D/res" | sort -g |
		awk '{x[NR]=$1} END {printf "%.1f | %.1f", x[int(0.5*(NR-1)+0.5)+1], x[int(0.99*(NR-1)+0.5)+1]}'
}
echo
echo "| jailrun ($N runs each, alternating) | total p50 ms | total p99 ms | job wall_ms p50 | p99 | outside the job p50 ms | p99 |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for v in jailed insecure jailed_version insecure_version; do
	echo "| $v | $(stat "$v" 2) | $(stat "$v" 3) | $(outside "$v") |"
done
