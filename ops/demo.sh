#!/usr/bin/env bash
# `make demo`: start a local farm (broker + 2 workers), run every program in
# examples/ through it, show each result, stop the farm.
set -u
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/$BUILD/bin
D=$(mktemp -d /tmp/sluice-demo.XXXXXX)
export SLUICE_BROKER=ipc://$D/front
FLAGS=${SLUICE_DEMO_FLAGS-}

"$BIN/sluice" up --workers 2 --data "$D/data" --front "$SLUICE_BROKER" --back "ipc://$D/back" \
	--approvals "ipc://$D/approvals" --alerts "ipc://$D/alerts" \
	$FLAGS >"$D/up.log" 2>&1 &
UP=$!
trap 'kill -TERM $UP 2>/dev/null; wait $UP 2>/dev/null; rm -rf "$D"' EXIT

if ! "$BIN/sluice" status --wait-workers 2 --timeout 20000 >/dev/null; then
	echo "demo: the farm did not start:"; cat "$D/up.log"; exit 1
fi
echo "== farm up: $("$BIN/sluice" status)"
fails=0
for f in "$ROOT"/examples/*.ts; do
	name=$(basename "$f")
	expect=ok
	case $name in fails.ts) expect=error ;; runaway.ts) expect=timeout ;; blocked.ts) expect=blocked ;; esac
	echo
	echo "== sluice run examples/$name  (expect $expect)"
	json=$("$BIN/sluice" run --json --timeout 2000 "$f")
	status=$(jq -r .status <<<"$json")
	jq -r '.stdout' <<<"$json" | sed 's/^/   stdout: /' | grep -v '^   stdout: $'
	jq -r '.stderr' <<<"$json" | head -3 | sed 's/^/   stderr: /' | grep -v '^   stderr: $'
	jq -r '"   status: \(.status)  exit \(.exit_code)  \(.metrics.wall_ms) ms wall, \(.metrics.cpu_ms) ms cpu, \(.metrics.max_rss_kb) KiB rss\(if .reason then "  (" + .reason + ")" else "" end)"' <<<"$json"
	jq -r '"   risk: \(.risk.level) score \(.risk.score*100|floor/100)  findings: \([.risk.findings[].rule]|join(", "))"' <<<"$json"
	jq -r 'if (.privacy.findings // [])|length > 0 then "   privacy (\(.privacy.mode)): \([.privacy.findings[]|"\(.type) x\(.count)"]|join(", "))" else empty end' <<<"$json"
	[ "$status" = "$expect" ] || { echo "   UNEXPECTED: wanted $expect"; fails=$((fails + 1)); }
done
echo
echo "== the audit trail of this run, exported and verified as an evidence pack:"
"$BIN/sluice" audit export --data "$D/data/broker" --since 2000-01-01T00 --until 2999-01-01T00 --out "$D/pack" | sed 's/^/   /'
"$BIN/sluice" audit verify "$D/pack" | sed 's/^/   /' || fails=$((fails + 1))
echo
echo "== $("$BIN/sluice" status)"
[ $fails -eq 0 ] && echo "demo: all examples behaved as expected" || echo "demo: $fails unexpected results"
exit $fails
