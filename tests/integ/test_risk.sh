#!/usr/bin/env bash
# The risk gate through the real farm: L1 runs, L3 waits for a human on the
# approver (approve and deny with the CLI, approver restarted while an item
# is pending), an undecided L3 fails closed, L4 is blocked and a SUB client
# receives the alert.
. "$(dirname "$0")/lib.sh"

start_broker --approval-timeout-ms 8000
start_worker w1 --slots 2
start_approver
require "worker registers" wait_workers 1

# L3 programs: eval of data plus a network call (which the jail refuses).
l3=$(prog l3.ts <<'EOF'
const formula = "6*7";
console.log(eval(formula));
try { await fetch("http://127.0.0.1:9/"); } catch { /* no network in the jail */ }
EOF
)
l3b=$(prog l3b.ts <<'EOF'
const expr = "1+1";
console.log("denied?", eval(expr));
try { await fetch("http://127.0.0.1:9/"); } catch { /* no network in the jail */ }
EOF
)
l3c=$(prog l3c.ts <<'EOF'
const expr = "2+2";
console.log("nobody decides", eval(expr));
try { await fetch("http://127.0.0.1:9/"); } catch { /* no network in the jail */ }
EOF
)
l4="$ROOT/tests/risk/snippets/critical/01_env_exfil.ts"
ok1=$(prog ok.ts <<'EOF'
const evaluation = [1, 2, 3].map((x) => x * 2);
console.log(JSON.stringify({ evaluation, executionTime: 3 }));
EOF
)

j=$("$BIN/sluice" run --json "$ok1")
check "an L1 job runs and its result carries the risk verdict" test \
	"$(jq -r '[.status, .risk.level]|@csv' <<<"$j")" = '"ok","L1"'
j=$("$BIN/sluice" assess --json "$l3")
check "sluice assess scores the eval program L3" test "$(jq -r .level <<<"$j")" = L3

# Subscribe to alerts before anything is blocked.
"$BIN/sluice" alerts --json --count 2 >"$T/alerts.jsonl" 2>"$T/alerts.err" &
ALERTS_PID=$!
sleep 0.5

# L3 approved.
"$BIN/sluice" run --json "$l3" >"$T/l3.json" 2>"$T/l3.err" &
R1=$!
id=""
for _ in $(seq 1 50); do
	id=$("$BIN/sluice" approvals list --json 2>/dev/null | jq -r '.[0].id // empty' 2>/dev/null)
	[ -n "$id" ] && break; sleep 0.1
done
check "the L3 job waits in the approval queue" test -n "$id"
check "status shows the approval backlog" bash -c "'$BIN/sluice' status --json | jq -e '.approval_backlog == 1' >/dev/null"
show=$("$BIN/sluice" approvals show "$id")
check "approvals show prints the code with the finding marked" grep -q 'eval' <<<"$show"

# The approver restarts while the item is pending: nothing is lost.
kill -9 "$APPROVER_PID"; wait "$APPROVER_PID" 2>/dev/null
start_approver
sleep 1
check "after an approver restart the item is still pending" bash -c \
	"'$BIN/sluice' approvals list --json | jq -e --arg id '$id' 'map(.id) | index(\$id) != null' >/dev/null"
"$BIN/sluice" approvals approve "$id" --reason "formula evaluation is expected here" >/dev/null
wait $R1
check "the CLI says the job is waiting for approval" grep -q 'waiting for human approval' "$T/l3.err"
check "an approved L3 job runs" test "$(jq -r '[.status, .stdout]|@csv' "$T/l3.json")" = '"ok","42'$'\n''"' -o \
	"$(jq -r .stdout "$T/l3.json")" = 42

# L3 denied.
"$BIN/sluice" run --json "$l3b" >"$T/l3b.json" 2>"$T/l3b.err" &
R2=$!
id2=""
for _ in $(seq 1 50); do
	id2=$("$BIN/sluice" approvals list --json 2>/dev/null | jq -r '.[] | select(.state=="waiting") | .id' 2>/dev/null | head -1)
	[ -n "$id2" ] && break; sleep 0.1
done
msg=$("$BIN/sluice" approvals deny "$id2" 2>&1); rc=$?
check "deny without a reason is refused" test $rc -ne 0
"$BIN/sluice" approvals deny "$id2" --reason "no eval in production" >/dev/null
wait $R2
check "a denied job ends denied with who and why" test \
	"$(jq -r '.status + " | " + .reason' "$T/l3b.json" | grep -c 'denied | denied by .*no eval in production')" = 1

# L3 nobody decides: fails closed at the timeout with an alert.
j=$("$BIN/sluice" run --json "$l3c")
check "an undecided L3 job ends denied at the timeout (fail closed)" test \
	"$(jq -r .status <<<"$j")" = denied -a -n "$(jq -r .reason <<<"$j" | grep -o 'fail closed')"

# L4 blocked + alert.
j=$("$BIN/sluice" run --json "$l4"); rc=$?
check "an L4 job ends blocked" test "$(jq -r '[.status, .risk.level]|@csv' <<<"$j")" = '"blocked","L4"' -a $rc -ne 0
wait $ALERTS_PID
check "the SUB client received the approval-timeout and L4 alerts" test \
	"$(jq -r .topic "$T/alerts.jsonl" | sort | tr '\n' ' ')" = "alert.L4 alert.approval_timeout "
check "alerts carry sequence numbers and no code" bash -c \
	"jq -e 'has(\"seq\") and (has(\"code\")|not)' '$T/alerts.jsonl' >/dev/null && ! grep -q 'process.env\\|Deno.env' '$T/alerts.jsonl'"
exit 0
