#!/usr/bin/env bash
# Page faults the worker takes per trivial job, by thread: the cost of jails
# that share or copy the worker's memory (a forked init made every page the
# worker then wrote a copy-on-write fault; docs/BENCHMARKS.md).  One worker
# x 2 slots with the warm pool, JOBS trivial jobs one at a time GAP ms apart
# (bench/latency), minor faults from /proc/<worker>/task/*/stat before and
# after.
#
#   bench/faults.sh [BUILD] [JOBS] [GAP_MS]   (defaults: build 100 50)
set -u
BUILD=${1:-build}
N=${2:-100}
GAP=${3:-50}
case $N$GAP in *[!0-9]* | '') echo "usage: faults.sh [BUILD] [JOBS >= 1] [GAP_MS]"; exit 2 ;; esac
[ "$N" -ge 1 ] || { echo "usage: faults.sh [BUILD] [JOBS >= 1] [GAP_MS]"; exit 2; }
FARM_WORKERS=1
FARM_SLOTS=2
. "$(dirname "$0")/latency_lib.bash"
farm faults
wp=$(farm_workers faults)
[ -n "$wp" ] || { echo "faults.sh: no worker found"; exit 1; }
# minflt (field 10) per thread, "tid name faults"
snap() { for t in /proc/"$wp"/task/*; do echo "${t##*/} $(tr ' ' '_' <"$t/comm") $(awk '{print $10}' "$t/stat")"; done; }
"$LATENCY" --broker "ipc://$D/faults/front" --jobs 20 --gap-ms "$GAP" "$D/trivial.ts" >/dev/null
before=$(snap)
out=$("$LATENCY" --broker "ipc://$D/faults/front" --jobs "$N" --gap-ms "$GAP" "$D/trivial.ts")
after=$(snap)
echo "# $N trivial jobs one at a time, gap $GAP ms, 1 worker x 2 slots (--warm 2), $(nproc) cores"
echo "# latency client: $out"
echo
echo "| worker thread | minor faults per job |"
echo "|---|---:|"
awk -v n="$N" 'NR == FNR { b[$1] = $3; next }
	{ d = $3 - ($1 in b ? b[$1] : 0); tot += d; printf "| %s (%s) | %.1f |\n", $2, $1, d / n }
	END { printf "| **all threads** | **%.1f** |\n", tot / n }' <(echo "$before") <(echo "$after")
