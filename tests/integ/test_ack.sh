#!/usr/bin/env bash
# DONE acknowledgements (issue 8, "nothing acknowledged may be lost"):
#  1. a job finishes while the broker is down (kill -9) long enough that the
#     worker replaces its socket, so the DONE it had queued is gone with the
#     old socket; after the broker restarts on the same data dir the worker
#     sends it again and the job ends with its real result, one
#     execution_end in the trail;
#  2. a DONE whose acknowledgement was lost (--test-lose-acks) comes again:
#     acknowledged and ignored: no second execution_end, and the free slots
#     of the worker stay what they are (a running job keeps its slot);
#  3. a DONE from another registered worker for a job it was not leased to
#     (build/test/forge_done) is ignored: the job runs on and ends with its
#     real result.
. "$(dirname "$0")/lib.sh"

HB=500				# lib.sh starts broker and worker with --heartbeat-ms 500
RECONNECT_MS=$((3 * HB))	# worker.c: the broker silent 3 intervals -> a new socket
RESEND_MS=$((5 * HB))		# outbox.c: unacknowledged 5 intervals -> sent again

status_json() { "$BIN/sluice" status --json 2>/dev/null; }
free_slots() { status_json | jq -r .free_slots; }
free_is() { test "$(free_slots)" = "$1"; }
running_ge() { test "$(status_json | jq -r '.running // 0')" -ge "$1" 2>/dev/null; }
# trail SESSION DIR: exports the session's audit trail into DIR (fresh).
trail() { rm -rf "$2"; "$BIN/sluice" audit export --data "$T/broker" --session "$1" --out "$2" >/dev/null 2>&1; }
# events DIR TYPE JOB: how many events of TYPE the job has in the exported trail.
events() { jq -r --arg t "$2" --arg j "$3" 'select(.type == $t and .job == $j) | .job' "$1/events.jsonl" | wc -l; }

start_broker
start_worker w1 --slots 2
require "worker registers" wait_workers 1

# --- 1. a DONE queued into a socket the worker replaced ---------------------
slow=$(prog slow.ts <<'EOF'
await new Promise((r) => setTimeout(r, 2500));
console.log("slow done");
EOF
)
"$BIN/sluice" run --json --session ack-s --timeout 20000 "$slow" >"$T/slow.json" 2>"$T/slow.err" &
CLIENT=$!
PIDS+=("$CLIENT")
require "the slow job runs" wait_for 10 running_ge 1
sleep 0.5	# its RUNNING record is committed (one round, milliseconds)
kill -9 "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null
reconnects_before=$(grep -c 'reconnecting' "$T/w1.log")
# Down until the job has ended (< 2.5 s) and the worker has replaced the
# socket holding its DONE: two more reconnect periods, and a margin.
sleep "$(( (2500 + 2 * RECONNECT_MS + 1000) / 1000 ))"
reconnects=$(( $(grep -c 'reconnecting' "$T/w1.log") - reconnects_before ))
check "the worker replaced its socket while the broker was down ($reconnects times)" test "$reconnects" -ge 2
log_at=$(wc -l <"$T/broker.log")
start_broker
require "the broker restarts on the same data dir" wait_workers 1
# A replaced socket must not deliver its queued READY to the new broker
# (it would register the worker a second time, under a dead routing id).
sleep 1.5	# longer than any linger (common/wire.c)
readies=$(tail -n +"$((log_at + 1))" "$T/broker.log" | grep -c 'worker w1 ready')
check "the restarted broker registers the worker once ($readies), not a socket it replaced" \
	test "$readies" -eq 1
check "the worker sends its unacknowledged DONE again after READY" \
	wait_for 10 grep -q 'registered: sending 1 unacknowledged DONE' "$T/w1.log"
trail ack-s "$T/pack1"
id=$(jq -r 'select(.type == "execution_start") | .job' "$T/pack1/events.jsonl" 2>/dev/null | head -1)
require "the slow job's start is in the trail" test -n "$id"
slow_ok() { "$BIN/sluice" result --json "$id" 2>/dev/null | jq -e '.status == "ok" and (.stdout | test("slow done"))' >/dev/null; }
check "sluice result gives the job's real ok result and output" wait_for 15 slow_ok
trail ack-s "$T/pack1"
n_end=$(events "$T/pack1" execution_end "$id")
n_start=$(events "$T/pack1" execution_start "$id")
check "one execution_start ($n_start) and one execution_end ($n_end) for it" test "$n_start" -eq 1 -a "$n_end" -eq 1
check "... and the end says ok" test "$(jq -r --arg j "$id" 'select(.type == "execution_end" and .job == $j) | .details.status' "$T/pack1/events.jsonl")" = ok
check "the trail verifies" "$BIN/sluice" audit verify "$T/pack1"
check "the slots are all free again" wait_for 5 free_is 2
kill "$CLIENT" 2>/dev/null; wait "$CLIENT" 2>/dev/null

# --- 2. a duplicated DONE ---------------------------------------------------
kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null
start_broker --test-lose-acks 1
require "the broker restarts, losing its first DONE_ACK" wait_workers 1
long=$(prog long.ts <<'EOF'
await new Promise((r) => setTimeout(r, 9000));
console.log("long done");
EOF
)
short=$(prog short.ts <<'EOF'
console.log("short done");
EOF
)
"$BIN/sluice" run --session dup-l --timeout 30000 "$long" >"$T/long.out" 2>&1 &
LONG=$!
PIDS+=("$LONG")
require "a long job holds one slot" wait_for 10 running_ge 1
check "one slot is free" wait_for 5 free_is 1
out=$("$BIN/sluice" run --session dup-s "$short"); rc=$?
check "the short job's result arrives" test "$out" = "short done" -a $rc -eq 0
check "its DONE_ACK was lost" wait_for 3 grep -q 'test-lose-acks: the DONE_ACK of job' "$T/broker.log"
# (only this job's copies count: a DONE from part 1 whose ack went to a
# socket the worker had replaced may come again too, acknowledged as well)
lost=$(sed -n 's/.*test-lose-acks: the DONE_ACK of job \([0-9a-f]*\) is dropped.*/\1/p' "$T/broker.log" | head -1)
dups() { grep -c "a DONE again for job ${lost:-none}," "$T/broker.log"; }
dup_seen() { test "$(dups)" -gt 0; }
check "the worker sends the DONE again (unacknowledged for $RESEND_MS ms)" \
	wait_for $(( RESEND_MS / 1000 + 4 )) dup_seen
sleep 0.3
check "the long job still runs" running_ge 1
check "the duplicate freed no slot: still one free ($(free_slots))" test "$(free_slots)" = 1
trail dup-s "$T/pack2"
sid=$(jq -r 'select(.type == "execution_start") | .job' "$T/pack2/events.jsonl" 2>/dev/null | head -1)
check "one execution_end for the duplicated job" test -n "$sid" -a "$(events "$T/pack2" execution_end "$sid")" -eq 1
check "its result is still the real one" \
	bash -c "'$BIN/sluice' result --json '$sid' | jq -e '.status == \"ok\" and (.stdout | test(\"short done\"))' >/dev/null"
wait "$LONG"
check "the long job ends ok" grep -q "long done" "$T/long.out"
check "no further copy: the resend was acknowledged" test "$(dups)" -eq 1
check "then both slots are free" wait_for 5 free_is 2
check "the worker dropped no DONE" bash -c "! grep -q 'dropped' '$T/w1.log'"

# --- 3. a forged DONE from another worker ------------------------------------
third=$(prog third.ts <<'EOF'
await new Promise((r) => setTimeout(r, 4000));
console.log("third done");
EOF
)
"$BIN/sluice" run --json --session forge-s --timeout 20000 "$third" >"$T/third.json" 2>&1 &
THIRD=$!
PIDS+=("$THIRD")
job_dir() { ls "$T/w1" 2>/dev/null | grep -E '^[0-9a-f]{32}$' | head -1; }
wait_for 10 eval 'test -n "$(job_dir)"'
tid=$(job_dir)
require "the third job runs on w1 ($tid)" test -n "$tid"
"$TOOLS/forge_done" "$BACK" mallory "$tid" >"$T/forge.out" 2>&1
check "a DONE from a worker the job was not leased to is ignored, and logged" \
	wait_for 3 grep -q "DONE for job $tid from mallory, which it was not leased to" "$T/broker.log"
check "... the job still runs" running_ge 1
wait "$THIRD"
check "... and ends with its real result, not the forged one" \
	jq -e '.status == "ok" and (.stdout | test("third done")) and (.stdout | test("forged") | not)' "$T/third.json"
trail forge-s "$T/pack3"
check "... one execution_end for it" test "$(events "$T/pack3" execution_end "$tid")" -eq 1

# --- 4. a repeated DONE and a DONE for an unknown id free no slot ------------
# (the broker would then lease a worker more jobs than it has slots: a real
# worker answers the extra one "rejected", and that job never runs)
kill "$W_w1"; wait "$W_w1" 2>/dev/null	# drains: READY with 0 slots, then gone
"$TOOLS/dup_done" "$BACK" dupper 4000 >"$T/dup.out" 2>&1 &
DUP=$!
PIDS+=("$DUP")
quick=$(prog quick.ts <<<'console.log("quick");')
for k in 1 2; do
	"$BIN/sluice" run --json --timeout 20000 "$quick" >"$T/dup$k.json" 2>&1 &
	PIDS+=("$!")
done
require "the faulty worker takes both jobs" wait_for 10 grep -q '^leased ' "$T/dup.out"
sleep 1	# its two copies of the first DONE and the unknown one are in
free=$(free_slots)
check "... after a DONE twice and an unknown DONE the broker counts 1 free slot ($free), not more" \
	test "$free" = 1
check "... the broker acknowledged the repeat without a second result" \
	grep -q "a DONE again for job .*, which ended before (or is unknown): acknowledged" "$T/broker.log"
wait "$DUP"
check "... it was never leased more than it had" bash -c "! grep -q over-leased '$T/dup.out'"
exit $((FAILS > 0))
