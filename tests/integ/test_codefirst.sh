#!/usr/bin/env bash
# Code-first MCP through the real farm: a jailed job discovers tools on demand,
# calls a real MCP server (npm @modelcontextprotocol/server-memory) through the
# worker's gateway, filters the data inside the sandbox and prints only a
# summary.  The allowlist is enforced by the worker, every call is audited,
# and the server's credentials (its env) never reach the job.
. "$(dirname "$0")/lib.sh"

cat >"$T/mcp.json" <<EOF
{"mcpServers": {
  "memory": {"command": "node",
             "args": ["$ROOT/node_modules/@modelcontextprotocol/server-memory/dist/index.js"],
             "env": {"MEMORY_FILE_PATH": "$T/memory.jsonl", "SECRET_TOKEN": "canary-cred-7731"}}}}
EOF

start_broker
start_worker w1 --slots 2 --mcp-config "$T/mcp.json" --mcp-allow 'memory.*'
require "worker with an MCP pool registers" wait_workers 1

job=$(prog codefirst.ts <<'EOF'
const listing = await tools.list();
const hits = await tools.search("entities", { detail: "name" });
const people = Array.from({ length: 50 }, (_, i) => ({
  name: `person${i}`, entityType: "person", observations: [`age ${20 + (i % 40)}`],
}));
await mcp.memory.create_entities({ entities: people });
const graph = await mcp.memory.read_graph({});
const older = graph.entities.filter((e: any) => parseInt(e.observations[0].split(" ")[1]) >= 55);
console.log(JSON.stringify({ tools: listing.length, found: hits.length > 0, created: graph.entities.length, older: older.length }));
EOF
)
j=$("$BIN/sluice" run --json --timeout 60000 "$job")
out=$(jq -r .stdout <<<"$j")
check "a jailed job calls a real MCP server and returns only a summary" test \
	"$(jq -r '[.created, .older, .found]|@csv' <<<"$out" 2>/dev/null)" = '50,5,true'
check "the program's own output is passed through intact" test "$(jq -r .status <<<"$j")" = ok
check "the result reports each tool the program called (tool_calls)" test \
	"$(jq -c '[.tool_calls[] | [.tool, .calls, .errors, (.bytes_in > 0), (.bytes_out > 0)]]' <<<"$j")" = \
	'[["memory.create_entities",1,0,true,true],["memory.read_graph",1,0,true,true]]'

# Progressive discovery inside the jail: names for task words, then exactly
# the picked definitions, lean (no JSON Schema noise) but complete.
disc=$(prog discover.ts <<'EOF'
const names = await tools.search("search graph", { detail: "name", limit: 5 });
const defs = await tools.search("memory.search_nodes memory.open_nodes", { detail: "full", limit: 2 }) as any[];
const one = await tools.describe("memory.create_entities") as any;
const text = JSON.stringify([defs, one]);
console.log(JSON.stringify({
  found: names.includes("memory.search_nodes"),
  picked: defs.map((d) => d.name).sort().join(","),
  noise: ["$schema", "additionalProperties", "Create Entities"].filter((k) => text.includes(k)),
  required: one.inputSchema.required, fields: Object.keys(one.inputSchema.properties.entities.items.properties).sort().join(","),
}));
EOF
)
out=$("$BIN/sluice" run --json --timeout 60000 "$disc" | jq -r .stdout)
check "progressive discovery: task words find the tool, exact names fetch just those definitions" test \
	"$(jq -r '[.found, .picked]|@csv' <<<"$out" 2>/dev/null)" = 'true,"memory.open_nodes,memory.search_nodes"'
check "full definitions are lean and complete" test \
	"$(jq -c '[.noise, .required, .fields]' <<<"$out" 2>/dev/null)" = '[[],["entities"],"entityType,name,observations"]'

# detail "signature": one TypeScript-like line per tool, enough to write the
# call (argument names, which are optional, the result's shape), the
# destructive ones marked; tools.describe stays the full definition.
sig=$(prog signature.ts <<'EOF'
const sigs = await tools.search("memory.search_nodes memory.delete_entities", { detail: "signature", limit: 2 }) as string[];
const one = await tools.describe("memory.delete_entities") as any;
console.log(JSON.stringify({ sigs: sigs.sort(), describe: typeof one.inputSchema }));
EOF
)
out=$("$BIN/sluice" run --json --timeout 60000 "$sig" | jq -r .stdout)
check "a job gets signatures from tools.search(..., {detail: \"signature\"})" test \
	"$(jq -r '.sigs[1]' <<<"$out" 2>/dev/null)" = 'memory.search_nodes(args: {query: string}): {entities: {name: string; entityType: string; observations: string[]}[]; relations: {from: string; to: string; relationType: string}[]} // Search for nodes in the knowledge graph based on a query'
check "signatures mark destructive tools; tools.describe stays full" test \
	"$(jq -r '[(.sigs[0] | startswith("memory.delete_entities(args: {entityNames: string[]}): ") and contains(" [destructive] // ")), .describe] | @csv' <<<"$out" 2>/dev/null)" = 'true,"object"'

deny=$(prog deny.ts <<'EOF'
try { await tools.call("everything.echo", { message: "x" }); console.log("called"); }
catch (e) { console.log("refused:", (e as Error).message); }
EOF
)
j=$("$BIN/sluice" run --json "$deny")
check "a tool outside the allowlist is refused by the worker" grep -q '^refused' <<<"$(jq -r .stdout <<<"$j")"

j=$("$BIN/sluice" run --json --tools 'memory.read_graph' "$job")
check "a job's own --tools list narrows what it may call" grep -q 'not allowed' <<<"$(jq -r .stderr <<<"$j")"

cred=$(prog cred.ts <<'EOF'
let v = "absent";
try { v = Deno.env.get("SECRET_TOKEN") ?? "absent"; } catch { v = "denied"; }
console.log(v);
EOF
)
j=$("$BIN/sluice" run --json "$cred")
check "the MCP server's credentials never enter the jail" test "$(jq -r .stdout <<<"$j" | grep -c canary-cred)" = 0

# Tokenize mode (the session asks for it; the broker pins it): outputs carry [EMAIL_1]-style tokens;
# a later job of the same session passes the token back into a tool call and
# the gateway restores the real value (the job never holds it).
start_worker w2 --slots 1 --mcp-config "$T/mcp.json" --privacy-mode tokenize
require "a tokenizing worker registers" wait_workers 2
kill -STOP "$W_w1"	# route the session's jobs to w2
store=$(prog store.ts <<'EOF'
const email = ["grace.hopper", "navy.example.org"].join("@");
await mcp.memory.create_entities({ entities: [{ name: "grace", entityType: "person", observations: [email] }] });
console.log("stored", email);
EOF
)
j=$("$BIN/sluice" run --json --session tok-1 --privacy-mode tokenize "$store")
check "tokenize mode: the model sees a token, not the address" test \
	"$(jq -r .stdout <<<"$j")" = "stored [EMAIL_1]"
token=$(jq -r .stdout <<<"$j" | awk '{print $2}')
lookup=$(prog lookup.ts <<EOF
const hits = await mcp.memory.search_nodes({ query: "$token" });
console.log("found", hits.entities.length);
EOF
)
j=$("$BIN/sluice" run --json --session tok-1 "$lookup")
check "a token passed back into a tool call is restored by the gateway" test "$(jq -r .stdout <<<"$j")" = "found 1"
j=$("$BIN/sluice" run --json --session tok-other --privacy-mode tokenize "$lookup")
check "another session's token means nothing" test "$(jq -r .stdout <<<"$j")" = "found 0"
kill -CONT "$W_w1"

sleep 0.5
n=$("$BIN/sluice" audit tail --data "$T/broker" --type network_access --json --count 1000 | jq -s 'map(select(.details.kind=="mcp_tool_call")) | length')
check "every tool call is an audit event ($n)" test "$n" -ge 3
# A job that queues thousands of calls as raw frames, then a write, and
# exits at once: no call is served once the job is over (before, every
# queued call still ran after its end, the write included, and its result
# waited for them).
flood=$(prog flood.ts <<'EOF2'
const M = "\x1eSLUICE-RPC ";
const f = (id: number, name: string, args: unknown) =>
  M + JSON.stringify({ id, method: "tools.call", params: { name, args } }) + "\n";
let s = "";
for (let i = 0; i < 9000; i++) s += f(i, "memory.search_nodes", { query: "zz-none" });
s += f(9999, "memory.create_entities",
  { entities: [{ name: "written-after-the-end", entityType: "x", observations: [] }] });
Deno.stdout.writeSync(new TextEncoder().encode(s));
Deno.exit(0);
EOF2
)
j=$(run_json "$flood"); fid=$(jfield "$j" .id)
check "a job that floods the tool channel and exits ends ok ($(jfield "$j" .status))" \
	test "$(jfield "$j" .status)" = ok
served=$("$BIN/sluice" audit tail --data "$T/broker" --type network_access --json --count 100000 |
	jq -s --arg j "$fid" 'map(select(.job == $j)) | length')
check "... only the calls served before its end are in the trail ($served of 9001)" \
	test "$served" -lt 9001
probe=$(prog probe.ts <<'EOF2'
const g = await mcp.memory.search_nodes({ query: "written-after-the-end" });
console.log("found", g.entities.length);
EOF2
)
j=$(run_json "$probe")
check "... the write it queued behind its calls never ran" test "$(jfield "$j" .stdout)" = $'found 0'
check "... the worker says what it left unserved" \
	grep -q "job $fid: [0-9]* tool requests left unserved: the job had ended" "$T/w1.log"
exit 0
