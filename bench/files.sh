#!/usr/bin/env bash
# Cost of job files and session workspaces end to end: a real broker and one
# real worker (jail, Deno, fanotify watcher), `sluice run` of a trivial job
# timed from the shell, three variants alternating round by round:
#   plain    no files (the watcher and Deno's audit are on for every job)
#   inputs   16 input files of 4 KiB attached with --file
#   session  a session holding 16 files of 4 KiB (shipped in and back)
# Prints the median and p90 wall time (ms) of each variant and the ratios to
# plain, measured side by side in one run.
#
#   bench/files.sh [ROUNDS]      (default 30)
set -u
N=${1:-30}
. "$(dirname "$0")/../tests/integ/lib.sh"
start_broker
start_worker w1 --slots 2
wait_workers 1 || { echo "files.sh: no worker"; exit 1; }
echo 'console.log("ok");' >"$T/trivial.ts"
mkdir -p "$T/in"
args=()
for i in $(seq 16); do head -c 4096 /dev/urandom | base64 -w 76 | head -c 4096 >"$T/in/f$i.txt"; args+=(--file "$T/in/f$i.txt:internal"); done
cat >"$T/seed.ts" <<'X'
for (let i = 1; i <= 16; i++) Deno.writeTextFileSync(`/work/session/s${i}.txt`, "x".repeat(4096));
X
"$BIN/sluice" run --session bench "$T/seed.ts" >/dev/null || { echo "files.sh: seed failed"; exit 1; }
: >"$T/res"
for r in $(seq "$N"); do
	for v in plain inputs session; do
		case $v in
		plain) set -- "$T/trivial.ts" ;;
		inputs) set -- "${args[@]}" "$T/trivial.ts" ;;
		session) set -- --session bench "$T/trivial.ts" ;;
		esac
		t=$(date +%s%N)
		"$BIN/sluice" run "$@" >/dev/null || { echo "files.sh: $v failed"; exit 1; }
		echo "$v $(( ($(date +%s%N) - t) / 1000 ))" >>"$T/res"
	done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), rounds: $N"
printf '%-8s %10s %10s %8s\n' variant median_ms p90_ms ratio
base=$(awk '$1=="plain"{print $2}' "$T/res" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
for v in plain inputs session; do
	awk -v v="$v" '$1==v{print $2}' "$T/res" | sort -n |
		awk -v v="$v" -v b="$base" '{a[NR]=$1} END{m=a[int((NR+1)/2)]; p=a[int(NR*0.9+0.5)];
			printf "%-8s %10.1f %10.1f %8.2f\n", v, m/1000, p/1000, m/b}'
done
