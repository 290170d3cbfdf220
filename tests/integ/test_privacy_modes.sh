#!/usr/bin/env bash
# The privacy mode per session through the real farm: a real broker with an
# allow-list, a real worker in its jail, real Deno programs printing PII and
# a secret; sluice run, sluice batch and sluice-mcp each pick a mode.
. "$(dirname "$0")/lib.sh"

start_broker
start_worker w1 --slots 2
require "the worker registers" wait_workers 1

leak=$(prog leak.ts <<'EOF2'
const gh = "ghp_" + "R7fXw2Lq9ZkT4mB8nV1cY6sD3hJ0pQ5aE2uK";
console.log("contact alice.smith@acme-corp.io or bob.jones@acme-corp.io, token " + gh);
console.log("again alice.smith@acme-corp.io");
EOF2
)
# types JSON: the finding types of a result, sorted, comma-separated.
types() { jfield "$1" '[.privacy.findings[].type] | sort | join(",")'; }

# --- the deployment's default ----------------------------------------------
j=$(run_json "$leak")
out=$(jfield "$j" .stdout)
check "no mode asked: the deployment default (redact) is used and reported" test \
	"$(jfield "$j" .privacy.mode)" = redact
check "redact: addresses and the token are replaced by their types" test \
	"$(grep -o '\[REDACTED:[a-z_]*\]' <<<"$out" | sort | uniq -c | awk '{print $1 $2}' | paste -sd' ')" = \
	"3[REDACTED:email] 1[REDACTED:github_token]"
check "redact: no raw value leaves" bash -c "! grep -qE 'alice|bob|ghp_' <<<'$out'"
check "redact: findings are counted by type" test "$(types "$j")" = "email,github_token"

# --- tokenize, sticky for the session --------------------------------------
j=$(run_json "$leak" --session s-tok --privacy-mode tokenize)
out=$(jfield "$j" .stdout)
check "tokenize: the result reports the mode" test "$(jfield "$j" .privacy.mode)" = tokenize
check "tokenize: each address gets a stable token, the secret is redacted" test \
	"$(head -1 <<<"$out")" = "contact [EMAIL_1] or [EMAIL_2], token [REDACTED:github_token]"
check "tokenize: the same address is the same token" test "$(tail -1 <<<"$out")" = "again [EMAIL_1]"
j=$(run_json "$leak" --session s-tok)
check "a later job of the session that does not ask keeps tokenize" test \
	"$(jfield "$j" '[.privacy.mode, (.stdout | split("\n")[1])] | @csv')" = '"tokenize","again [EMAIL_1]"'
msg=$("$BIN/sluice" run --session s-tok --privacy-mode redact "$leak" 2>&1); rc=$?
check "a later job asking for another mode is refused with a clear error" test $rc -ne 0 -a \
	-n "$(grep -o 'session already uses privacy_mode tokenize' <<<"$msg")"
check "the refused job printed nothing of the program" bash -c "! grep -q alice <<<'$msg'"
j=$(run_json "$leak" --session s-tok --privacy-mode tokenize)
check "the session still runs in its own mode afterwards" test "$(jfield "$j" .status)" = ok

# Token maps are per tenant and session; a job without a session has its
# own.  Before, the map was keyed by session name alone: another tenant's job
# (or any session-less job) got the token of a value it had only guessed,
# and a tool call could turn that token back into the first tenant's value.
three=$(prog three.ts <<<'console.log("alice.secret@corp-a.com carol.x@corp-a.com bob.private@corp-a.com");')
probe=$(prog probe.ts <<<'console.log("probe bob.private@corp-a.com");')
j=$(run_json "$three" --tenant acme --session shared --privacy-mode tokenize)
check "tokenize: tenant acme's three addresses are [EMAIL_1..3]" \
	test "$(jfield "$j" .stdout)" = "[EMAIL_1] [EMAIL_2] [EMAIL_3]"
j=$(run_json "$probe" --tenant evil --session shared --privacy-mode tokenize)
check "tokenize: another tenant's session of the same name has its own map ([EMAIL_1], not acme's [EMAIL_3])" \
	test "$(jfield "$j" .stdout)" = "probe [EMAIL_1]"
j=$(run_json "$three" --tenant acme --privacy-mode tokenize)
j=$(run_json "$probe" --tenant acme --privacy-mode tokenize)
check "tokenize: a job without a session has a map of its own" \
	test "$(jfield "$j" .stdout)" = "probe [EMAIL_1]"

# --- hash ------------------------------------------------------------------
j=$(run_json "$leak" --session s-hash --privacy-mode hash)
out=$(jfield "$j" .stdout)
h1=$(grep -o '\[HASH:email:[0-9a-f]*\]' <<<"$out" | head -1)
check "hash: keyed hashes replace the addresses, reported as hash" test \
	"$(jfield "$j" .privacy.mode)" = hash -a -n "$h1"
check "hash: the same address hashes the same" test "$(tail -1 <<<"$out")" = "again $h1"
check "hash: the secret is redacted, not hashed" grep -q 'token \[REDACTED:github_token\]' <<<"$out"

# --- report is not allowed unless the deployment says so --------------------
msg=$("$BIN/sluice" run --session s-rep --privacy-mode report "$leak" 2>&1); rc=$?
check "report is refused by default (it lets raw data out)" test $rc -ne 0 -a \
	-n "$(grep -o 'privacy_mode report is not allowed by this deployment' <<<"$msg")"
msg=$("$BIN/sluice" run --privacy-mode raw "$leak" 2>&1); rc=$?
check "an unknown mode is a usage error of the CLI" test $rc -eq 2 -a -n "$(grep -o 'privacy-mode wants' <<<"$msg")"

# --- sluice batch lines ------------------------------------------------------
code='console.log(\"mail carol.white@acme-corp.io\")'
{
	printf '{"code":"%s","session":"b1","privacy_mode":"tokenize","key":"b1"}\n' "$code"
	printf '{"code":"%s","session":"b2","privacy_mode":"hash","key":"b2"}\n' "$code"
	printf '{"code":"%s","session":"b3","privacy_mode":"report","key":"b3"}\n' "$code"
	printf '{"code":"%s","session":"b4","privacy_mode":"bogus","key":"b4"}\n' "$code"
	printf '{"code":"%s","session":"s-tok","privacy_mode":"hash","key":"b5"}\n' "$code"
} >"$T/batch.jsonl"
"$BIN/sluice" batch "$T/batch.jsonl" --out "$T/batch.out" --concurrency 2 2>"$T/batch.err"
bk() { jq -r --arg k "$1" "select(.key == \$k) | $2" "$T/batch.out"; }
check "batch: a tokenize line runs tokenized" test "$(bk b1 .stdout)" = "mail [EMAIL_1]"
check "batch: a hash line runs hashed" grep -q '^mail \[HASH:email:[0-9a-f]*\]$' <<<"$(bk b2 .stdout)"
check "batch: a report line is refused, nothing ran" test \
	"$(bk b3 '[.status, .error, .stdout] | @csv')" = '"rejected","privacy_mode report is not allowed by this deployment",'
check "batch: the other lines ran" test "$(bk b1 .status)$(bk b2 .status)" = okok
check "batch: an unknown mode is refused by the broker" grep -q 'privacy_mode must be' <<<"$(bk b4 .error)"
check "batch: a line switching an existing session's mode is refused" \
	grep -q 'session already uses privacy_mode tokenize' <<<"$(bk b5 .error)"

# --- sluice-mcp execute_code --------------------------------------------------
{
	printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"execute_code","arguments":{"code":"%s","session":"m1","privacy_mode":"tokenize"}}}\n' "$code"
	printf '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"execute_code","arguments":{"code":"%s","session":"m1","privacy_mode":"redact"}}}\n' "$code"
	printf '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"execute_code","arguments":{"code":"1","privacy_mode":7}}}\n'
	printf '{"jsonrpc":"2.0","id":4,"method":"tools/list"}\n'
} | timeout 60 "$BIN/sluice-mcp" --broker "$FRONT" >"$T/mcp.out" 2>"$T/mcp.log"
check "mcp: execute_code with privacy_mode tokenize returns tokens" \
	test "$(jq -r 'select(.id == 1) | .result.content[0].text' "$T/mcp.out")" = "mail [EMAIL_1]"
check "mcp: switching the session's mode is a tool error with the reason" test \
	"$(jq -r 'select(.id == 2) | [.result.isError, (.result.content[0].text | test("session already uses privacy_mode tokenize"))] | @csv' "$T/mcp.out")" = "true,true"
check "mcp: a non-string privacy_mode is invalid params" test "$(jq -r 'select(.id == 3) | .error.code' "$T/mcp.out")" = -32602
check "mcp: the tool schema offers the four modes" test \
	"$(jq -c 'select(.id == 4) | .result.tools[] | select(.name == "execute_code") | .inputSchema.properties.privacy_mode.enum' "$T/mcp.out")" = '["redact","tokenize","hash","report"]'

# --- a deployment that allows report and makes it the default ---------------
kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null
check "the broker refuses a default outside its allow-list" bash -c \
	"! '$BIN/sluice-broker' --front ipc://$T/x --data $T/x --privacy-modes redact,tokenize --privacy-default report 2>/dev/null"
check "the broker refuses an unknown mode in its allow-list" bash -c \
	"! '$BIN/sluice-broker' --front ipc://$T/x --data $T/x --privacy-modes redact,raw 2>/dev/null"
start_broker --privacy-modes report,redact --privacy-default report
require "the worker comes back to the restarted broker" wait_workers 1
j=$(run_json "$leak")
check "report default: text unchanged, findings listed, mode reported" test \
	"$(jfield "$j" '[.privacy.mode, (.stdout | test("alice.smith@acme-corp.io")), (.privacy.findings | length > 0)] | @csv')" = '"report",true,true'
msg=$("$BIN/sluice" run --session r1 --privacy-mode tokenize "$leak" 2>&1); rc=$?
check "tokenize is refused where the deployment lists only report,redact" test $rc -ne 0 -a \
	-n "$(grep -o 'privacy_mode tokenize is not allowed' <<<"$msg")"
j=$(run_json "$leak" --session r2 --privacy-mode redact)
check "redact is still allowed there" test "$(jfield "$j" .privacy.mode)" = redact

check "the broker is still alive" alive "$BROKER_PID"
check "the worker is still alive" alive "$WORKER_PID"
[ "$FAILS" -eq 0 ]
