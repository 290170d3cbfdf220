#!/usr/bin/env bash
# sluice-mcp end to end: a real broker and worker, sluice-mcp driven by the
# official MCP TypeScript SDK client (tests/mcp/client.mjs), then garbage on
# its stdin.
. "$(dirname "$0")/lib.sh"

if ! command -v node >/dev/null || [ ! -d "$ROOT/node_modules/@modelcontextprotocol/sdk" ]; then
	skip "sluice-mcp with the SDK client" "node or node_modules/@modelcontextprotocol/sdk missing (npm ci)"
	exit 0
fi

start_broker
start_worker w1 --slots 2
require "a worker registers" wait_workers 1

cat >"$T/mcp.json" <<EOF
{"mcpServers": {
  "everything": {"command": "node",
                 "args": ["$ROOT/node_modules/@modelcontextprotocol/server-everything/dist/index.js", "stdio"]},
  "memory": {"command": "node",
             "args": ["$ROOT/node_modules/@modelcontextprotocol/server-memory/dist/index.js"],
             "env": {"MEMORY_FILE_PATH": "$T/memory.jsonl"}}}}
EOF

# client.mjs prints its own ok/not ok lines; a crash without them still fails.
(cd "$ROOT" && node tests/mcp/client.mjs "$BIN/sluice-mcp" --broker "$FRONT") >"$T/sdk1.out" 2>&1
rc=$?
cat "$T/sdk1.out"
[ $rc -eq 0 ] || grep -q '^not ok' "$T/sdk1.out" || notok "the SDK client script exited $rc"
# A worker with MCP servers: search_tools now shows the farm's catalogue.
kill "$W_w1"
start_worker w2 --slots 2 --mcp-config "$T/mcp.json"
require "a worker with MCP servers registers" wait_workers 1
(cd "$ROOT" && SLUICE_EXPECT_CATALOGUE=1 node tests/mcp/client.mjs "$BIN/sluice-mcp" --broker "$FRONT") \
	>"$T/sdk2.out" 2>&1
rc=$?
sed 's/^\(ok\|not ok\) - /\1 - with MCP servers on the worker: /' "$T/sdk2.out"
if [ $rc -ne 0 ]; then
	grep -q '^not ok' "$T/sdk2.out" && FAILS=$((FAILS + 1)) || notok "the SDK client script (MCP servers) exited $rc"
fi

# Garbage, then real requests, on one stdin: every line gets its answer and
# the server is still there for the last one.
{
	printf 'not json at all\n'
	printf '{"jsonrpc":"2.0","id":1,\n'
	printf '[1,2,3]\n'
	printf '\x00\x01\x02\xff\xfe\n'
	head -c 300000 /dev/urandom | tr -d '\n'; printf '\n'
	printf '{"jsonrpc":"2.0","id":2,"method":"nope/nope"}\n'
	printf '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"execute_code","arguments":{"code":7}}}\n'
	printf '{"jsonrpc":"2.0","method":"notifications/initialized"}\n'
	printf '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"execute_code","arguments":{"code":"console.log(6*7)"}}}\n'
	printf '{"jsonrpc":"2.0","id":5,"method":"ping"}\n'
} | "$BIN/sluice-mcp" --broker "$FRONT" >"$T/garbage.out" 2>"$T/mcp-garbage.log"
rc=$?
check "sluice-mcp exits 0 at the end of garbage input" test $rc -eq 0
check "every garbage line is answered by JSON" test "$(jq -c . "$T/garbage.out" | wc -l)" -eq 9
check "non-JSON lines get -32700" test "$(jq -s '[.[] | select(.error.code == -32700)] | length' "$T/garbage.out")" -ge 3
check "a batch array gets -32600" test "$(jq -s '[.[] | select(.error.code == -32600)] | length' "$T/garbage.out")" -eq 1
check "an unknown method gets -32601" test "$(jq -r 'select(.id == 2) | .error.code' "$T/garbage.out")" = -32601
check "bad params get -32602" test "$(jq -r 'select(.id == 3) | .error.code' "$T/garbage.out")" = -32602
check "after the garbage a program still runs" test "$(jq -r 'select(.id == 4) | .result.content[0].text' "$T/garbage.out")" = 42
check "and ping answers" test "$(jq -c 'select(.id == 5) | .result' "$T/garbage.out")" = '{}'

# No broker: execute_code fails cleanly as a tool error.
out=$(printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"execute_code","arguments":{"code":"1"}}}' \
	| timeout 30 "$BIN/sluice-mcp" --broker "ipc://$T/nobroker" 2>/dev/null)
check "without a broker execute_code is isError with a reason" test \
	"$(printf '%s' "$out" | jq -r '[.result.isError, (.result.content[0].text | test("did not run"))] | @csv')" = 'true,true'

exit 0
