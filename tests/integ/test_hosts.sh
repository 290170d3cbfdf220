#!/usr/bin/env bash
# Many hosts: the broker on the "host" network namespace, two workers each in
# its own network namespace joined by a veth pair (one simulated host each),
# talking TCP.  One host's worker is killed mid-batch; every job must still be
# accounted for (ok, or worker_lost for those it was running).
. "$(dirname "$0")/lib.sh"

if ! command -v ip >/dev/null || ! ip netns add "sl$$a" 2>/dev/null; then
	skip "many-hosts test" "cannot create network namespaces here (need root and iproute2)"
	exit 0
fi
ip netns del "sl$$a"
NS=()
teardown_hosts() {
	local n
	for n in "${NS[@]}"; do ip netns del "$n" 2>/dev/null; done
	ip link del "vsl$$1" 2>/dev/null; ip link del "vsl$$2" 2>/dev/null
}
trap 'teardown_hosts; cleanup' EXIT

PORT=$((30000 + RANDOM % 20000))
for i in 1 2; do
	n="sl$$h$i"
	ip netns add "$n" && NS+=("$n")
	ip link add "vsl$$$i" type veth peer name eth0 netns "$n"
	ip addr add "10.$((200 + i)).$(( $$ % 250 )).1/24" dev "vsl$$$i"
	ip link set "vsl$$$i" up
	ip -n "$n" addr add "10.$((200 + i)).$(( $$ % 250 )).2/24" dev eth0
	ip -n "$n" link set eth0 up
	ip -n "$n" link set lo up
done
H1=10.201.$(( $$ % 250 )).1 H2=10.202.$(( $$ % 250 )).1

# The broker listens on TCP on both links, with CURVE (a network endpoint is
# never plaintext); workers connect from their netns with enrolled keys.
# (nsenter enters only the network namespace: the jail still sees the host's
# cgroup and proc mounts, which `ip netns exec` would hide.)
BACK_TCP="tcp://0.0.0.0:$PORT"
mkdir -p "$T/keys" "$T/workers"
for n in broker host1 host2; do "$BIN/sluice" keygen --out "$T/keys" "$n" >/dev/null; done
cp "$T/keys/host1.pub" "$T/keys/host2.pub" "$T/workers/"
"$BIN/sluice-broker" --front "$FRONT" --back "$BACK_TCP" --approvals "$APPROVALS" --alerts "$ALERTS" \
	--data "$T/broker" --heartbeat-ms 500 --curve-secret "$T/keys/broker.key" --workers "$T/workers" \
	>>"$T/broker.log" 2>&1 &
BROKER_PID=$!; PIDS+=("$BROKER_PID")
for i in 1 2; do
	h=H$i
	nsenter --net=/run/netns/sl$$h$i "$BIN/sluice-worker" --broker "tcp://${!h}:$PORT" --host "host$i" \
		--state-dir "$T/host$i" --slots 2 --heartbeat-ms 500 --curve-key "$T/keys/host$i.key" \
		--broker-key "$T/keys/broker.pub" $WORKER_FLAGS >>"$T/host$i.log" 2>&1 &
	PIDS+=($!)
	printf -v "W_host$i" '%s' "$!"
done
require "both hosts' workers register over TCP" wait_workers 2

job=$(prog slowish.ts <<'EOF'
await new Promise((r) => setTimeout(r, 400));
console.log("done");
EOF
)
for i in $(seq 1 30); do printf '{"file":"%s","key":"h%d"}\n' "$job" "$i"; done >"$T/batch.jsonl"
"$BIN/sluice" batch "$T/batch.jsonl" --out "$T/res.jsonl" --concurrency 8 2>/dev/null &
BATCH=$!
sleep 2
kill -9 "$W_host1"
wait "$BATCH"
check "every job is accounted for after a host died mid-batch" test "$(grep -c . "$T/res.jsonl")" -eq 30
check "each ended ok or worker_lost, none silently dropped" test \
	"$(jq -r .status "$T/res.jsonl" | grep -cvE '^(ok|worker_lost)$')" -eq 0
ok_n=$(jq -r .status "$T/res.jsonl" | grep -c '^ok$')
check "the surviving host finished all but the dead host's running jobs ($ok_n ok)" test "$ok_n" -ge 28
check "the broker noticed the lost host" grep -q 'worker host1 lost' "$T/broker.log"
exit 0
