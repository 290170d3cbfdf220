#!/usr/bin/env bash
# Destructive MCP tools held for a human: a worker with
# --mcp-approve-destructive pauses a jailed job's call to a tool whose
# annotations say destructiveHint (server-memory's delete_entities), the
# broker queues it with the real approver, and `sluice approvals` decides:
# approve -> the call runs; deny -> tools.call rejects with the reason;
# no decision -> denied at the deadline (fail closed).  Every question and
# answer is an audit event.
. "$(dirname "$0")/lib.sh"

cat >"$T/mcp.json" <<EOF2
{"mcpServers": {
  "memory": {"command": "node",
             "args": ["$ROOT/node_modules/@modelcontextprotocol/server-memory/dist/index.js"],
             "env": {"MEMORY_FILE_PATH": "$T/memory.jsonl"}}}}
EOF2

start_broker --approval-timeout-ms 8000
start_approver
start_worker w1 --slots 2 --mcp-config "$T/mcp.json" --mcp-approve-destructive
require "worker with --mcp-approve-destructive registers" wait_workers 1

# prog that creates two entities (not destructive: runs at once), then
# deletes one (destructive: held) and reports what happened.
job=$(prog delete.ts <<'EOF2'
const who = Deno.args[0] ?? "x";
await mcp.memory.create_entities({ entities: [
  { name: "alice", entityType: "person", observations: ["keeps"] },
  { name: "carol", entityType: "person", observations: ["mail " + ["carol.k", "corp.example.com"].join("@")] },
] });
try {
  await tools.call("memory.delete_entities", { entityNames: ["carol"], note: "contact " + ["carol.k", "corp.example.com"].join("@") });
  console.log("deleted");
} catch (e) {
  console.log("refused:", (e as Error).message);
}
const g = await mcp.memory.read_graph({});
console.log("left:", g.entities.map((e: any) => e.name).sort().join(","));
EOF2
)

# waits for a held tool call to show up in the approver's queue; prints its id
held_id() {
	local id="" k
	for k in $(seq 1 100); do
		id=$("$BIN/sluice" approvals list --json 2>/dev/null |
			jq -r '.[] | select(.tool == "memory.delete_entities" and .state == "waiting") | .id' 2>/dev/null | head -1)
		[ -n "$id" ] && break
		sleep 0.1
	done
	printf '%s' "$id"
}

# 1. approve
"$BIN/sluice" run --json --timeout 60000 "$job" >"$T/a.json" 2>"$T/a.err" &
RUN=$!
id=$(held_id)
check "the destructive call waits in the approval queue as a tool call" grep -Eq '^[0-9a-f]{32}\.t[0-9]+$' <<<"$id"
show=$("$BIN/sluice" approvals show "$id" 2>&1)
check "approvals show names the tool and the job" grep -q "tool call memory.delete_entities" <<<"$show"
check "approvals show gives the arguments" grep -q '"entityNames":\["carol"\]' <<<"$show"
check "the argument summary is privacy-filtered" test "$(grep -c 'carol.k@corp' <<<"$show")" = 0
"$BIN/sluice" approvals approve "$id" --reason "cleanup is expected" >/dev/null
wait $RUN
check "approved: the call runs and the job goes on" test \
	"$(jq -r '[.status, .stdout]|@csv' "$T/a.json")" = '"ok","deleted'$'\n''left: alice'$'\n''"'

# 2. deny
"$BIN/sluice" run --json --timeout 60000 "$job" >"$T/d.json" 2>"$T/d.err" &
RUN=$!
id=$(held_id)
"$BIN/sluice" approvals deny "$id" --reason "keep carol" >/dev/null
wait $RUN
out=$(jq -r .stdout "$T/d.json")
check "denied: tools.call rejects with who denied it and why" grep -q "^refused: tool 'memory.delete_entities' was not approved: denied by .*: keep carol" <<<"$out"
check "denied: nothing was deleted" grep -q '^left: alice,carol$' <<<"$out"
check "the tool report counts the refused call" test \
	"$(jq -c '.tool_calls[] | select(.tool == "memory.delete_entities") | [.calls, .errors]' "$T/d.json")" = '[1,1]'

# 3. no decision: the broker denies at its deadline (fail closed)
t0=$(date +%s)
"$BIN/sluice" run --json --timeout 60000 "$job" >"$T/t.json" 2>"$T/t.err"
dt=$(( $(date +%s) - t0 ))
out=$(jq -r .stdout "$T/t.json")
check "undecided: the call is denied at the deadline (${dt} s)" grep -q "^refused: .*no approval decision before the deadline (fail closed)" <<<"$out"

# 4. the job is cancelled while its call waits: it ends at once, and the
# broker answers the question itself
"$BIN/sluice" run --json --timeout 60000 "$job" >"$T/c.json" 2>"$T/c.err" &
RUN=$!
id=$(held_id)
t0=$(date +%s%N)
"$BIN/sluice" cancel "${id%%.*}" >/dev/null 2>&1
wait $RUN
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "cancelled while waiting: the job ends cancelled within 3 s (${ms} ms)" test \
	"$(jq -r .status "$T/c.json")" = cancelled -a "$ms" -lt 3000

sleep 1.2	# one broker tick: the hold of the ended job is answered
req=$("$BIN/sluice" audit tail --data "$T/broker" --type approval_request --json --count 100 | jq -s 'map(select(.details.kind=="tool_call")) | length')
res=$("$BIN/sluice" audit tail --data "$T/broker" --type approval_response --json --count 100 | jq -s -c 'map(select(.details.kind=="tool_call") | .details.verdict) | sort')
check "every held call is an approval_request event ($req)" test "$req" = 4
check "every answer is an approval_response event ($res)" test "$res" = '["approve","deny","deny","deny"]'
ended=$("$BIN/sluice" audit tail --data "$T/broker" --type approval_response --json --count 100 | jq -s 'map(select(.details.reason == "the job ended before a decision")) | length')
check "the cancelled job's question was answered by the broker ($ended)" test "$ended" = 1
exit 0
