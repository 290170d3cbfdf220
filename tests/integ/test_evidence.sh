#!/usr/bin/env bash
# The audit trail of a real run: every event type the farm produces today,
# export of a session as an evidence pack, offline verification, tampering
# detected, and no planted PII or secret anywhere in the broker's data dir
# (WAL included).  Then kill -9 of the broker under load: every acknowledged
# job still has its events and the chain verifies.
. "$(dirname "$0")/lib.sh"

start_broker --approval-timeout-ms 3000
start_worker w1 --slots 2
start_approver
require "worker registers" wait_workers 1

# Planted values: they must never reach the store.
EMAIL="planted.person@example.com"
KEY="AKIA""ZXCVBNMASDFGHJKL"
pii=$(prog pii.ts <<EOF
console.log("customer " + "${EMAIL%%@*}" + "@" + "${EMAIL#*@}");
console.log("key ${KEY:0:4}" + "${KEY:4}");
EOF
)
ok1=$(prog ok.ts <<'EOF'
console.log("fine");
EOF
)
fail=$(prog fail.ts <<'EOF'
throw new Error("bad");
EOF
)
files=$(prog files.ts <<'EOF'
Deno.writeTextFileSync("/work/result.txt", Deno.readTextFileSync("/work/in.txt").toUpperCase());
EOF
)
echo "some input" >"$T/in.txt"
held=$(prog held.ts <<'EOF'
console.log(eval("1+1"));
try { await fetch("http://127.0.0.1:9/"); } catch { /* no network */ }
EOF
)

j=$("$BIN/sluice" run --json --session audit-s1 "$pii")
check "output PII and secrets are redacted in the result" test \
	"$(jq -r .stdout <<<"$j" | grep -c "$EMAIL\|$KEY")" = 0
check "the result reports what the filter found" test \
	"$(jq -r '[.privacy.findings[].type]|sort|join(",")' <<<"$j")" = "aws_access_key_id,email"
"$BIN/sluice" run --session audit-s1 "$ok1" >/dev/null
"$BIN/sluice" run --session audit-s1 --file "$T/in.txt:public" "$files" >/dev/null
"$BIN/sluice" run --session audit-s1 "$fail" >/dev/null 2>&1
"$BIN/sluice" run --session audit-s1 "$held" >/dev/null 2>&1   # L3, nobody decides: denied
"$BIN/sluice" run --session audit-s1 --timeout 9999999 "$ok1" >/dev/null 2>&1   # rejected: error event
sleep 0.5

D=$T/broker
types=$("$BIN/sluice" audit tail --data "$D" --json --count 1000 | jq -r .type | sort -u | tr '\n' ' ')
for t in execution_start execution_end file_access privacy_detection risk_assessment approval_request approval_response error; do
	check "a real run produced $t events" grep -qw "$t" <<<"$types"
done
# network_access is covered by test_codefirst.sh; file_access in detail by test_files.sh

"$BIN/sluice" audit export --data "$D" --session audit-s1 --out "$T/pack" >/dev/null
check "export writes events, manifest, chain proof and signature" test \
	-s "$T/pack/events.jsonl" -a -s "$T/pack/manifest.json" -a -s "$T/pack/chain.json" -a -s "$T/pack/signature"
check "the exported pack verifies offline" "$BIN/sluice" audit verify "$T/pack"

cp -r "$T/pack" "$T/edit"
sed -i '2s/"cpu_ms":[0-9]*/"cpu_ms":987654/' "$T/edit/events.jsonl"
out=$("$BIN/sluice" audit verify "$T/edit" 2>&1); rc=$?
check "an edited event fails verification and is named" test $rc -ne 0 -a -n "$(grep -o 'line 2\|seq' <<<"$out" | head -1)"
cp -r "$T/pack" "$T/del"
sed -i '3d' "$T/del/events.jsonl"
check "a deleted event fails verification" bash -c "! '$BIN/sluice' audit verify '$T/del' >/dev/null 2>&1"
cp -r "$T/pack" "$T/swap"
awk 'NR==2{l=$0; next} NR==3{print; print l; next} {print}' "$T/pack/events.jsonl" >"$T/swap/events.jsonl"
check "swapped events fail verification" bash -c "! '$BIN/sluice' audit verify '$T/swap' >/dev/null 2>&1"

check "no planted email or key anywhere in the broker's data dir (WAL included)" \
	bash -c "! grep -rqa -e '$EMAIL' -e '$KEY' '$D'"

# kill -9 under load: acknowledged jobs keep their events and the chain holds.
"$BUILD/bench/loadgen" --broker "$FRONT" --jobs 40 --concurrency 20 --timeout-ms 20000 "$ok1" >"$T/load.json" 2>&1 &
LOAD=$!
sleep 2
kill -9 "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null
kill "$LOAD" 2>/dev/null; wait "$LOAD" 2>/dev/null
start_broker --approval-timeout-ms 3000
check "the broker restarts on its data dir" wait_workers 1
"$BIN/sluice" audit export --data "$D" --since 2000-01-01T00 --until 2999-01-01T00 --out "$T/all" >/dev/null
check "after kill -9 the whole chain verifies" "$BIN/sluice" audit verify "$T/all"
acc=$(grep -c . "$T/all/events.jsonl")
check "the chain holds events from before and after the crash ($acc)" test "$acc" -gt 20
exit 0
