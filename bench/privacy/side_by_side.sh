#!/usr/bin/env bash
# Speed of the privacy filter before and after a change, measured side by
# side on one machine: the base build's and this build's bench_privacy run
# interleaved (base, new, base, new, ...) over the same corpora, then the
# medians and the median of the per-pair ratios.  Use it on a shared machine,
# where absolute figures drift with the load but interleaved ratios hold.
#
#   git worktree add /tmp/priv-base <commit> && make -C /tmp/priv-base build/bench/bench_privacy
#   bench/privacy/side_by_side.sh /tmp/priv-base [ROUNDS]      (ROUNDS defaults to 8)
#
# Both bench_privacy binaries must print the same lines; copy this tree's
# bench/bench_privacy.c into the base tree first if the base predates it.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BASE=$1
ROUNDS=${2:-8}
CORPORA=("$ROOT/tests/data/privacy-extra.jsonl")
for c in "$ROOT/../shared/privacy-corpus/corpus.jsonl" "$ROOT/../../shared/privacy-corpus/corpus.jsonl"; do
	if [ -f "$c" ]; then CORPORA=("$c" "${CORPORA[@]}"); break; fi
done
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$ROUNDS"); do
	for v in base new; do
		d=$ROOT; [ "$v" = base ] && d=$BASE
		"$d/build/bench/bench_privacy" -s "${CORPORA[@]}" | awk -v v="$v" '
		    /^throughput/ { for (k = 1; k <= NF; k++) if ($k == "MB/s" && !cpu) cpu = $(k - 1);
			wall = $(NF - 1) }
		    /^1 MiB/ { ms = $4; wms = $(NF - 1) }
		    END { print v, cpu, wall, ms, wms }' >>"$OUT"
	done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$OUT" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1])]
col = {"cpu": 1, "wall": 2, "ms": 3, "wms": 4}
get = lambda v, c: [float(r[col[c]]) for r in rows if r[0] == v]
for v in ("base", "new"):
    print("%-4s median: %6.1f MB/s CPU, %6.1f MB/s wall; 1 MiB %5.2f ms CPU, %5.2f ms wall"
          % (v, st.median(get(v, "cpu")), st.median(get(v, "wall")), st.median(get(v, "ms")),
             st.median(get(v, "wms"))))
pairs = lambda c: [n / b for n, b in zip(get("new", c), get("base", c))]
r = pairs("cpu")
print("new/base per pair, CPU MB/s: median %.2f (min %.2f, max %.2f); wall MB/s: median %.2f"
      % (st.median(r), min(r), max(r), st.median(pairs("wall"))))
print("base/new per pair, 1 MiB CPU time: median %.2f" % st.median([1 / x for x in pairs("ms")]))
PY
