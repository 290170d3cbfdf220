#!/usr/bin/env bash
# CURVE and tenant isolation over real tcp on 127.0.0.1: sluice keygen; the
# broker admits only enrolled client, worker and approver keys; a client's
# tenant comes from its key; tenant A cannot see, fetch or cancel tenant B's
# jobs (and the attempts are audited); plaintext on a network endpoint is
# refused without --insecure-plaintext; per-tenant rate limits answer BUSY
# with a retry_ms from the token bucket.
. "$(dirname "$0")/lib.sh"

# Free tcp ports on 127.0.0.1 (bound, read, released).
read -r P1 P2 P3 P4 P5 < <(python3 -c '
import socket
s = [socket.socket() for _ in range(5)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
K=$T/keys
mkdir -p "$K" "$T/clients" "$T/workers" "$T/approvers"

# --- sluice keygen -----------------------------------------------------------
for n in broker w1 w2 op; do "$BIN/sluice" keygen --out "$K" "$n" >/dev/null; done
"$BIN/sluice" keygen --out "$K" --tenant acme alice >/dev/null
"$BIN/sluice" keygen --out "$K" --tenant beta bob >/dev/null
"$BIN/sluice" keygen --out "$K" --tenant acme mallory >/dev/null
check "keygen writes the secret key with mode 0600" test "$(stat -c %a "$K/alice.key")" = 600
check "keygen writes a public key with the tenant" grep -q 'tenant = "acme"' "$K/alice.pub"
check "the public file holds no secret key" bash -c "! grep -q secret-key '$K/alice.pub'"
check "keygen refuses to overwrite a key" bash -c "! '$BIN/sluice' keygen --out '$K' alice 2>/dev/null"
check "keygen refuses a bad tenant name" bash -c "! '$BIN/sluice' keygen --out '$K' --tenant 'a b' x 2>/dev/null"
cp "$K/alice.pub" "$K/bob.pub" "$T/clients/"
cp "$K/w1.pub" "$T/workers/"
cp "$K/op.pub" "$T/approvers/"

# --- plaintext only on loopback/ipc ------------------------------------------
timeout 10 "$BIN/sluice-broker" --front "tcp://0.0.0.0:$P5" --back "ipc://$T/pb" --approvals "ipc://$T/pa" \
	--alerts "ipc://$T/pl" --data "$T/plain" >"$T/plain.log" 2>&1; rc=$?
check "a plaintext non-loopback bind is refused" test $rc -eq 1
check "the refusal says why" grep -q 'refusing to bind front tcp://0.0.0.0' "$T/plain.log"
"$BIN/sluice-broker" --front "tcp://0.0.0.0:$P5" --back "ipc://$T/pb" --approvals "ipc://$T/pa" \
	--alerts "ipc://$T/pl" --data "$T/plain" --insecure-plaintext >"$T/plain2.log" 2>&1 &
PLAIN=$!
PIDS+=("$PLAIN")
for _ in $(seq 1 50); do grep -q listening "$T/plain2.log" && break; sleep 0.1; done
check "--insecure-plaintext starts the broker" alive "$PLAIN"
check "--insecure-plaintext is logged loudly" grep -q 'WARNING: front tcp://0.0.0.0.* PLAINTEXT' "$T/plain2.log"
IP=$(ip -4 -o addr show scope global 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | head -1)
if [ -n "$IP" ]; then
	err=$("$BIN/sluice" status --broker "tcp://$IP:$P5" --timeout 3000 2>&1)
	check "a client connecting in plaintext over the network warns loudly" grep -q 'WARNING: sluice connects to .* PLAINTEXT' <<<"$err"
	check "... and still works (the operator chose --insecure-plaintext)" grep -q '^workers 0' <<<"$err"
	check "status says the broker runs --insecure-plaintext" test \
		"$("$BIN/sluice" status --json --broker "tcp://127.0.0.1:$P5" | jq .insecure_plaintext)" = true
else
	skip "plaintext client warning" "this host has no global IPv4 address"
fi
kill "$PLAIN"; wait "$PLAIN" 2>/dev/null

# --- a CURVE broker ------------------------------------------------------------
FRONT=tcp://127.0.0.1:$P1 BACK=tcp://127.0.0.1:$P2 APPROVALS=tcp://127.0.0.1:$P3 ALERTS=tcp://127.0.0.1:$P4
export SLUICE_BROKER=$FRONT SLUICE_ALERTS=$ALERTS
start_broker --curve-secret "$K/broker.key" --clients "$T/clients" --workers "$T/workers" \
	--approvers "$T/approvers" --tenant-rate 5 --tenant-burst 3
as() { local who=$1; shift; SLUICE_CURVE_KEY=$K/$who.key SLUICE_BROKER_KEY=$K/broker.pub "$BIN/sluice" "$@"; }

# An unenrolled worker first: it must never be registered nor get a job.
start_worker w2 --curve-key "$K/w2.key" --broker-key "$K/broker.pub"
for _ in $(seq 1 50); do grep -q 'not enrolled for back' "$T/broker.log" && break; sleep 0.1; done
check "an unenrolled worker key is refused" grep -q 'not enrolled for back' "$T/broker.log"
start_worker w1 --curve-key "$K/w1.key" --broker-key "$K/broker.pub"
SLUICE_CURVE_KEY=$K/alice.key SLUICE_BROKER_KEY=$K/broker.pub require "the enrolled worker registers" wait_workers 1

hello=$(prog hello.ts <<'EOF'
console.log("hello " + (6 * 7));
EOF
)
slow=$(prog slow.ts <<'EOF'
await new Promise((r) => setTimeout(r, 2500));
console.log("slow done");
EOF
)
out=$(as alice run --json "$hello")
check "an enrolled client and worker run a job" test "$(jfield "$out" .stdout)" = "hello 42"
check "only one worker is registered" test "$(as alice status --json | jq .workers)" = 1
check "the enrolled worker was registered" grep -q 'worker w1 ready' "$T/broker.log"
check "the unenrolled worker never was (so it never gets a job)" bash -c "! grep -q 'worker w2 ready' '$T/broker.log'"
check "the unenrolled worker is still trying" alive "$W_w2"

# Unenrolled client key: refused, and the CLI says why.
err=$(as mallory status --timeout 3000 2>&1); rc=$?
check "an unenrolled client key gets no answer" test $rc -ne 0
check "the CLI says the broker refused the key" grep -q 'refused our CURVE key' <<<"$err"
err=$(as mallory run "$hello" 2>&1); rc=$?
check "run with an unenrolled key fails with the reason" test $rc -ne 0 -a -n "$(grep -o 'refused our CURVE key' <<<"$err")"
err=$(timeout 20 "$BIN/sluice" status --timeout 3000 2>&1); rc=$?
check "a plaintext client cannot talk to a CURVE broker" test $rc -ne 0
check "... and is told the handshake failed" grep -q 'handshake with the broker failed' <<<"$err"

# The tenant comes from the key: naming another one is refused.
err=$(as alice run --tenant beta "$hello" 2>&1); rc=$?
check "a tenant field that differs from the key's tenant is refused" test $rc -ne 0 -a \
	-n "$(grep -o 'does not match' <<<"$err")"
out=$(as alice run --json --tenant acme "$hello")
check "naming the key's own tenant is accepted" test "$(jfield "$out" .status)" = ok

# --- tenant isolation ---------------------------------------------------------------
as alice run --json "$slow" >"$T/slow.json" 2>&1 &
RUNNER=$!
jid=
for _ in $(seq 1 100); do
	jid=$(ls "$T/w1" 2>/dev/null | grep -E '^[0-9a-f]{32}$' | head -1)
	[ -n "$jid" ] && break
	sleep 0.05
done
require "tenant acme has a running job" test -n "$jid"
err=$(as bob result "$jid" 2>&1); rc=$?
check "tenant beta cannot query acme's running job" test $rc -ne 0 -a -n "$(grep -o 'no such job' <<<"$err")"
err=$(as bob cancel "$jid" 2>&1); rc=$?
check "tenant beta cannot cancel acme's job" test $rc -ne 0 -a -n "$(grep -o 'no such job' <<<"$err")"
err=$(as bob result 0123456789abcdef0123456789abcdef 2>&1)
check "... the answer is the same as for a job that does not exist" test \
	"$(as bob result "$jid" 2>&1)" = "$err"
st=$(as bob status --json)
check "tenant beta's status does not show acme" test "$(jq -r '.tenants | has("acme")' <<<"$st")" = false
check "tenant beta's status shows no running job" test "$(jq .running <<<"$st")" = 0
st=$(as alice status --json)
check "tenant acme's status shows its running job" test "$(jq .running <<<"$st")" = 1
wait $RUNNER
check "acme's job was not cancelled by beta" test "$(jq -r .status "$T/slow.json")" = ok
err=$(as bob result "$jid" 2>&1); rc=$?
check "tenant beta cannot fetch acme's stored result" test $rc -ne 0 -a -n "$(grep -o 'no such job' <<<"$err")"
check "tenant acme fetches its stored result" test "$(as alice result --json "$jid" | jq -r .stdout)" = "slow done"
n=$("$BIN/sluice" audit tail --data "$T/broker" --type error --json --count 50 2>"$T/audit.err" |
	grep -c 'cross-tenant request refused')
check "cross-tenant requests are audited as error events" test "$n" -ge 3

# --- approvals need an approver key ------------------------------------------------
start_approver --broker "$APPROVALS" --curve-key "$K/alice.key" --broker-key "$K/broker.pub"
for _ in $(seq 1 50); do grep -q 'not enrolled for approvals' "$T/broker.log" && break; sleep 0.1; done
check "a client key cannot connect as an approver" grep -q 'not enrolled for approvals' "$T/broker.log"
kill "$APPROVER_PID"; wait "$APPROVER_PID" 2>/dev/null
start_approver --broker "$APPROVALS" --curve-key "$K/op.key" --broker-key "$K/broker.pub"
for _ in $(seq 1 50); do as alice status --json | jq -e .approver_connected >/dev/null && break; sleep 0.1; done
check "an enrolled approver key connects" test "$(as alice status --json | jq .approver_connected)" = true

# --- per-tenant rate limit (5/s, burst 3) ------------------------------------------
sleep 1	# refill acme's bucket
SLUICE_CURVE_KEY=$K/alice.key SLUICE_BROKER_KEY=$K/broker.pub "$TOOLS/submit_burst" "$FRONT" - 6 >"$T/burst.txt"
check "a burst gets exactly the bucket's 3 jobs accepted" test "$(grep -c '^accepted' "$T/burst.txt")" = 3
check "the rest get BUSY" test "$(grep -c '^busy' "$T/burst.txt")" = 3
bad=$(awk '/^busy/ && ($2 < 1 || $2 > 200)' "$T/burst.txt")
check "BUSY carries retry_ms from the bucket (1..200 ms at 5/s)" test -z "$bad"
SLUICE_CURVE_KEY=$K/bob.key SLUICE_BROKER_KEY=$K/broker.pub "$TOOLS/submit_burst" "$FRONT" - 1 >"$T/burst2.txt"
check "another tenant is not limited by acme's burst" grep -q '^accepted' "$T/burst2.txt"
check "the broker is still alive" alive "$BROKER_PID"

# --- SIGHUP: enrol and remove keys without a restart -----------------------------
reloads() { grep -c 'CURVE keys reloaded: .* client keys' "$T/broker.log"; }
hup() { local n; n=$(reloads); kill -HUP "$BROKER_PID"; for _ in $(seq 1 50); do
	[ "$(reloads)" -gt "$n" ] && return 0; grep -q 'SIGHUP: keys not reloaded' "$T/broker.log" && return 0; sleep 0.1; done; return 1; }
cp "$K/mallory.pub" "$T/clients/"
cp "$K/w2.pub" "$T/workers/"
check "SIGHUP reloads the key directories" hup
check "... and logs what changed" grep -q 'CURVE keys reloaded: 3 client keys (1 new, 0 removed)' "$T/broker.log"
out=$(as mallory run --json "$hello" 2>&1)
check "a client key enrolled while the broker runs is admitted after SIGHUP" test "$(jfield "$out" .stdout)" = "hello 42"
check "a worker that kept retrying registers once its key is enrolled" wait_for 20 grep -q 'worker w2 ready' "$T/broker.log"
# A long-lived client (sluice-mcp as bob) keeps its connection across the reload.
coproc MCP { SLUICE_CURVE_KEY=$K/bob.key SLUICE_BROKER_KEY=$K/broker.pub "$BIN/sluice-mcp" \
	--broker "$FRONT" 2>>"$T/mcp.err"; }
PIDS+=("$MCP_PID")
mcp() { local line; echo "$1" >&"${MCP[1]}"; IFS= read -r -t 30 line <&"${MCP[0]}" && echo "$line"; }
mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}' >/dev/null
echo '{"jsonrpc":"2.0","method":"notifications/initialized"}' >&"${MCP[1]}"
mcp_run() { mcp '{"jsonrpc":"2.0","id":'"$1"',"method":"tools/call","params":{"name":"execute_code","arguments":{"code":"console.log(\"hello \" + 6 * 7)"}}}'; }
out=$(mcp_run 2)
check "a live client (sluice-mcp as bob) runs a job" grep -q 'hello 42' <<<"$out"
rm "$T/clients/bob.pub"
rm "$T/workers/w2.pub"
check "SIGHUP after a key was removed" hup
check "a worker whose key was removed is dropped at once" grep -q 'worker w2 lost (its key was removed)' "$T/broker.log"
check "... and refused when it says READY again" wait_for 10 grep -q 'worker key w2 is no longer enrolled' "$T/broker.log"
check "... so one worker is left" test "$(as alice status --json | jq .workers)" = 1
out=$(as alice run --json "$hello")
check "... and jobs still run (on w1)" test "$(jfield "$out" .stdout)" = "hello 42"
err=$(as bob status --timeout 3000 2>&1); rc=$?
check "the removed client key is refused on its next connection" test $rc -ne 0 -a -n "$(grep -o 'refused our CURVE key' <<<"$err")"
check "... and the broker says so" grep -q '1 client key(s) removed' "$T/broker.log"
out=$(mcp_run 3)
check "the removed client key is refused on the connection it already had" grep -q 'revoked' <<<"$out"
check "... and no job ran for it" test -z "$(grep -o 'hello 42' <<<"$out")"
check "... and the broker logs it" grep -q "client key .* of tenant beta is no longer enrolled" "$T/broker.log"
exec {MCP[1]}>&-
wait "$MCP_PID" 2>/dev/null
echo "not a key" >"$T/clients/broken.pub"
kill -HUP "$BROKER_PID"
check "a bad key file on SIGHUP is an error, loudly" wait_for 20 grep -q 'SIGHUP: keys not reloaded, the enrolled keys stay as they were' "$T/broker.log"
check "... and the keys in use stay (mallory still admitted)" test "$(as mallory status --json | jq -r .workers)" -ge 1
rm "$T/clients/broken.pub" "$T/approvers/op.pub"
check "SIGHUP after the approver's key was removed" hup
check "... which the broker reports" wait_for 10 grep -q '1 approver key(s) removed' "$T/broker.log"
approver_gone() { test "$(as alice status --json | jq .approver_connected)" = false; }
check "... the connected approver gets no more requests" wait_for 10 approver_gone
check "... and what it still sends is refused" wait_for 10 grep -q 'approver key op is no longer enrolled' "$T/broker.log"
check "... and it says why" wait_for 10 grep -q 'approver key no longer enrolled' "$T/approver.log"
check "the broker is still alive after the reloads" alive "$BROKER_PID"

exit $((FAILS > 0))
