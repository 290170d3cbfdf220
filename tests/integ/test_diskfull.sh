#!/usr/bin/env bash
# The broker's disk fills up under it (a small tmpfs as its data dir, filled
# with dd while it runs): nothing is acknowledged that is not stored, no
# result leaves without its audit record, the broker stays up and says why,
# and after space is freed and the broker restarted, work goes on and the
# audit trail still verifies.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	skip "disk full" "needs root to mount a small tmpfs"
	exit 0
fi
mkdir -p "$T/small"
mount -t tmpfs -o size=40m tmpfs "$T/small" || { skip "disk full" "cannot mount a tmpfs"; exit 0; }
trap 'umount -l "$T/small" 2>/dev/null; cleanup' EXIT
D=$T/small/broker
start_broker_on() {
	"$BIN/sluice-broker" --front "$FRONT" --back "$BACK" --data "$D" --approvals "$APPROVALS" \
		--alerts "$ALERTS" --heartbeat-ms 500 >>"$T/broker.log" 2>&1 &
	BROKER_PID=$!
	PIDS+=("$BROKER_PID")
}
start_broker_on
start_worker w1 --slots 2
require "worker registers" wait_workers 1
hello=$(prog hello.ts <<'EOF2'
console.log("hi");
EOF2
)
delivered=0	# results a client got: each must have its execution_end event
out=$("$BIN/sluice" run --session full-s "$hello"); rc=$?
check "a job runs while there is space" test "$out" = hi -a $rc -eq 0
[ "$out" = hi ] && delivered=$((delivered + 1))

# A job that runs while the disk fills: its DONE's round fails, so its
# result is withheld and its DONE not acknowledged; the worker keeps it, and
# after the disk is freed and the broker restarted it sends it again: the job
# ends with its real result, never run again (it had started).
slow=$(prog slow.ts <<'EOF2'
await new Promise((r) => setTimeout(r, 2500));
console.log("slow done");
EOF2
)
"$BIN/sluice" run --session slow-s --timeout 3000 "$slow" >"$T/slow.out" 2>"$T/slow.err" &
SLOW_PID=$!
running() { test "$("$BIN/sluice" status --json | jq .running)" -ge 1; }
wait_for 10 running
dd if=/dev/zero of="$T/small/fill" bs=1M 2>/dev/null
refused=0
for _ in $(seq 1 10); do
	out=$("$BIN/sluice" run --session full-s "$hello" 2>"$T/err"); rc=$?
	err=$(cat "$T/err")
	[ "$out" = hi ] && delivered=$((delivered + 1))
	if [ $rc -ne 0 ]; then refused=1; break; fi
done
check "with the disk full a job is refused, not acknowledged" test $refused -eq 1
check "... and the client is told the store write failed" \
	grep -qE 'could not be stored|store write failed' <<<"$err"
check "the broker logs the failed commit loudly" grep -q 'audit store commit failed' "$T/broker.log"
check "the broker is still up" alive "$BROKER_PID"

wait "$SLOW_PID"; slow_rc=$?
check "a job whose DONE came with the disk full: its result is withheld" \
	test $slow_rc -ne 0 -a ! -s "$T/slow.out"
# Unacknowledged, the worker sends the DONE again after 5 intervals: the
# job is withheld again (the disk is still full), not acknowledged.
withheld_twice() { grep -o 'job [0-9a-f]*: result withheld' "$T/broker.log" | sort | uniq -c | awk '$1 >= 2 {f = 1} END {exit !f}'; }
check "... its worker sends the DONE again: withheld again, the job still waits" wait_for 10 withheld_twice

# Free the space and restart (kill -9: what a crash or an operator's kill
# leaves); what was acknowledged is still there and work goes on.
kill -9 "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null
rm -f "$T/small/fill"
start_broker_on
require "the broker restarts on the freed disk" wait_workers 1
out=$("$BIN/sluice" run --session full-s "$hello"); rc=$?
check "after the restart jobs run again" test "$out" = hi -a $rc -eq 0
[ "$out" = hi ] && delivered=$((delivered + 1))
"$BIN/sluice" audit export --data "$D" --session full-s --out "$T/pack" >/dev/null 2>&1
check "the session's audit trail still exports and verifies" "$BIN/sluice" audit verify "$T/pack"
"$BIN/sluice" audit export --data "$D" --session slow-s --out "$T/pack-slow" >/dev/null 2>&1
slow_id=$(jq -r 'select(.type == "execution_start") | .job' "$T/pack-slow/events.jsonl" 2>/dev/null | head -1)
slow_ended() { "$BIN/sluice" result --json "$slow_id" 2>/dev/null | jq -e '.status == "ok" and (.stdout | test("slow done"))' >/dev/null; }
check "... after the restart it ends with its real result (its worker sent the DONE again)" wait_for 30 slow_ended
rm -rf "$T/pack-slow"
"$BIN/sluice" audit export --data "$D" --session slow-s --out "$T/pack-slow" >/dev/null 2>&1
n_start=$(jq -r --arg j "$slow_id" 'select(.type == "execution_start" and .job == $j) | .job' "$T/pack-slow/events.jsonl" | wc -l)
n_end=$(jq -r --arg j "$slow_id" 'select(.type == "execution_end" and .job == $j) | .details.status' "$T/pack-slow/events.jsonl" | tr '\n' ' ')
check "... and was never run again: one execution_start ($n_start), one execution_end ($n_end)" \
	test "$n_start" -eq 1 -a "$n_end" = "ok "
check "... and no DONE was acknowledged while its end could not be stored" \
	grep -q "registered: sending [0-9]* unacknowledged DONE" "$T/w1.log"
ends=$(jq -r 'select(.type == "execution_end" and .details.status == "ok") | .job' "$T/pack/events.jsonl" | sort -u | wc -l)
check "every result a client got has its execution_end in the trail ($delivered delivered, $ends recorded)" \
	test "$ends" -eq "$delivered"
exit $((FAILS > 0))
