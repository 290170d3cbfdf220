#!/usr/bin/env bash
# One tenant's burst of big submissions must not stall the broker's loop
# long enough to call a healthy worker lost: another tenant's running job
# ends ok, and no worker is lost.  Each SUBMIT of 1 MiB code is scanned and
# stored (~10 ms here); before the loop's bursts were bounded in time and
# heartbeats read before any loss, 500 of them (4-7 s, 250 was not always
# enough) outlasted 3 heartbeats (1.5 s at --heartbeat-ms 500) and the
# victim ended worker_lost.
. "$(dirname "$0")/lib.sh"

start_broker --tenant-concurrency 1
start_worker w1 --slots 2
require "worker registers" wait_workers 1

victim=$(prog victim.ts <<'EOF2'
await new Promise((r) => setTimeout(r, 5000));
console.log("victim done");
EOF2
)
"$BIN/sluice" run --json --tenant victim --timeout 30000 "$victim" >"$T/victim.json" 2>&1 &
VICTIM=$!
PIDS+=("$VICTIM")
require "the victim's job runs" wait_for 10 bash -c \
	"[ \"\$('$BIN/sluice' status --json | jq -r .running)\" -ge 1 ]"
start=$(date +%s%N)
"$TOOLS/submit_burst" "$FRONT" flood 500 1048576 >"$T/burst.txt" 2>&1
secs=$(( ($(date +%s%N) - start) / 1000000 ))
check "every big submission got an answer ($(grep -c . "$T/burst.txt") of 500 in $secs ms)" \
	test "$(grep -cE '^(accepted|busy|error) ' "$T/burst.txt")" -eq 500
wait "$VICTIM"
check "the other tenant's job ends ok ($(jq -c '{status, reason}' "$T/victim.json" 2>/dev/null))" \
	jq -e '.status == "ok" and (.stdout | test("victim done"))' "$T/victim.json"
check "no worker was called lost" bash -c "! grep -q 'lost (no heartbeat)' '$T/broker.log'"
check "... and the worker never had to reconnect" bash -c "! grep -q 'broker silent' '$T/w1.log'"
exit $((FAILS > 0))
