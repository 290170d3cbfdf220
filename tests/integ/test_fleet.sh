#!/usr/bin/env bash
# Fleet features: batch with idempotency keys, result fetch, cancellation,
# restart durability (kill -9 of the broker), per-tenant fairness.
. "$(dirname "$0")/lib.sh"

MPORT=$((20000 + RANDOM % 20000))
start_broker --metrics "tcp://127.0.0.1:$MPORT"
start_worker w1 --slots 2
require "worker registers" wait_workers 1

hello=$(prog hello.ts <<'EOF'
console.log("hi");
EOF
)
slow=$(prog slow.ts <<'EOF'
await new Promise((r) => setTimeout(r, 1500));
console.log("slow done");
EOF
)

# --- batch -----------------------------------------------------------------
{
	for i in $(seq 1 20); do printf '{"code":"console.log(%d*2)","key":"k%d"}\n' "$i" "$i"; done
	printf '{"file":"%s","key":"kf"}\n' "$hello"
	printf 'not json\n'
	printf '{"code":"throw 1","key":"bad"}\n'
} >"$T/batch.jsonl"
"$BIN/sluice" batch "$T/batch.jsonl" --out "$T/results.jsonl" --concurrency 8 2>"$T/batch.err"; rc=$?
check "batch exits non-zero when a job did not end ok" test $rc -eq 1
check "batch writes one result line per input line" test "$(wc -l <"$T/results.jsonl")" -eq 23
check "batch results carry their keys and outputs" test \
	"$(jq -r 'select(.key=="k7") | .stdout' "$T/results.jsonl")" = 14
check "a bad line is reported, not fatal" test "$(jq -r 'select(.line==22) | .status' "$T/results.jsonl")" = rejected
check "plain counters when stderr is not a terminal" grep -q '^batch: 23/23 done, 2 failed' "$T/batch.err"

# Resubmitting the keys returns the original jobs instead of running again.
"$BIN/sluice" batch "$T/batch.jsonl" --out "$T/results2.jsonl" --concurrency 8 2>/dev/null
check "resubmitted keys return the original job ids" test \
	"$(jq -r 'select(.key=="k3") | .id' "$T/results.jsonl")" = "$(jq -r 'select(.key=="k3") | .id' "$T/results2.jsonl")"
done_before=$("$BIN/sluice" status --json | jq .done)

# Bad batches end promptly and say why; results that cannot be written are
# never reported as done.
{
	printf '{"code":"console.log(1)","key":"dup"}\n'
	printf '{"code":"console.log(2)","key":"dup"}\n'
	printf '{"code":"console.log(\\"nul\\")"}\0{"garbage"\n'
} >"$T/odd.jsonl"
timeout 60 "$BIN/sluice" batch "$T/odd.jsonl" --out "$T/odd.out" 2>/dev/null; rc=$?
check "batch: a key repeated in the file is rejected, the first line runs (rc $rc)" test \
	"$(jq -r '[.line, .status] | @csv' "$T/odd.out" | sort | paste -sd' ')" = '1,"ok" 2,"rejected" 3,"rejected"'
check "... saying which line it repeats" grep -q "repeats line 1's: one job per key" "$T/odd.out"
check "... and a NUL byte inside a line is an error, not the line's end" \
	test "$(jq -r 'select(.line==3) | .error' "$T/odd.out" | grep -c .)" -eq 1
cp "$T/batch.jsonl" "$T/same.jsonl"
"$BIN/sluice" batch "$T/same.jsonl" --out "$T/same.jsonl" 2>"$T/same.err"; rc=$?
check "batch: --out naming the input is refused (rc $rc), the input kept" test $rc -eq 2 -a \
	"$(wc -l <"$T/same.jsonl")" -eq 23
"$BIN/sluice" batch "$T/batch.jsonl" --out /dev/full 2>"$T/full.err"; rc=$?
check "batch: results that cannot be written end in exit 1 (rc $rc), saying so" \
	test $rc -eq 1 -a -n "$(grep -o 'cannot write the results to /dev/full' "$T/full.err")"
t0=$(date +%s)
timeout 120 "$BIN/sluice" batch "$T/batch.jsonl" --out "$T/nobroker.out" --broker "ipc://$T/nobroker" \
	2>/dev/null; rc=$?
dt=$(( $(date +%s) - t0 ))
check "batch: no broker ends the batch in ~10 s (rc $rc, $dt s), every good line rejected saying so" \
	test $rc -eq 1 -a "$dt" -lt 30 -a "$(grep -c 'no answer from the broker at' "$T/nobroker.out")" -eq 22

# --- result and cancel -----------------------------------------------------
id=$(jq -r 'select(.key=="k5") | .id' "$T/results.jsonl")
check "sluice result fetches a finished job" test "$("$BIN/sluice" result --json "$id" | jq -r .stdout)" = 10
check "sluice result of an unknown id fails clearly" bash -c "! '$BIN/sluice' result 0123456789abcdef0123456789abcdef 2>&1 | grep -q 'no such job' && false || true"
msg=$("$BIN/sluice" result 0123456789abcdef0123456789abcdef 2>&1); rc=$?
check "unknown id: non-zero exit and a reason" test $rc -eq 1 -a -n "$(grep -o 'no such job' <<<"$msg")"

"$BIN/sluice" run --json "$slow" >"$T/cancelled.json" &
RUNNER=$!
for _ in $(seq 1 50); do
	cid=$("$BIN/sluice" status --json | jq -r '.running'); [ "$cid" = 1 ] && break; sleep 0.05
done
sleep 0.3
# The id of the running job: the only one the broker holds.
jid=$(grep -o 'job [0-9a-f]\{32\}' "$T/broker.log" | tail -1 | cut -d' ' -f2)
[ -z "$jid" ] && jid=$(ls "$T/w1" 2>/dev/null | head -1)
out=$("$BIN/sluice" cancel "$jid")
wait $RUNNER
check "cancel of a running job answers cancelling" grep -q cancelling <<<"$out"
check "the cancelled job ends cancelled" test "$(jq -r .status "$T/cancelled.json")" = cancelled

# --- durability across kill -9 ---------------------------------------------
kill -STOP "$W_w1"   # nothing runs: jobs stay queued
DPIDS=()
for i in 1 2 3; do "$BIN/sluice" run --key "durable$i" --json "$hello" >"$T/d$i.json" 2>&1 & DPIDS+=($!); done
sleep 1
kill -9 "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null
kill -CONT "$W_w1"
start_broker --metrics "tcp://127.0.0.1:$MPORT"
check "worker re-registers with the restarted broker" wait_workers 1
check "the restarted broker recovered the queued jobs" grep -q 'recovered 3 queued jobs' "$T/broker.log"
for i in 1 2 3; do
	out=$("$BIN/sluice" run --key "durable$i" --json "$hello")
	check "acknowledged job durable$i ran after the crash" test "$(jq -r .stdout <<<"$out")" = hi
done
kill "${DPIDS[@]}" 2>/dev/null; wait "${DPIDS[@]}" 2>/dev/null

# --- fairness: one tenant's flood does not starve another ------------------
flood=$(for i in $(seq 1 40); do printf '{"file":"%s","tenant":"big"}\n' "$slow"; done)
printf '%s\n' "$flood" >"$T/flood.jsonl"
"$BIN/sluice" batch "$T/flood.jsonl" --out "$T/flood.out" --concurrency 40 2>/dev/null &
BIG=$!
sleep 1
t0=$(date +%s%N)
out=$("$BIN/sluice" run --tenant small "$hello")
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
check "a small tenant's job runs while a big tenant has a queue (${dt} ms)" test "$out" = hi -a "$dt" -lt 10000
check "status reports per-tenant queues" bash -c "'$BIN/sluice' status --json | jq -e '.tenants.big.queued > 0' >/dev/null"
metrics() { exec 3<>"/dev/tcp/127.0.0.1/$MPORT" && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && timeout 5 cat <&3; exec 3<&-; }
metrics >"$T/metrics.txt" 2>&1
check "the Prometheus endpoint answers HTTP 200" grep -q '^HTTP/1.0 200' "$T/metrics.txt"
check "with per-tenant queue gauges" grep -q '^sluice_tenant_queued{tenant="big"}' "$T/metrics.txt"
check "and the worker count" grep -q '^sluice_workers 1' "$T/metrics.txt"
kill $BIG 2>/dev/null; wait $BIG 2>/dev/null
exit 0
