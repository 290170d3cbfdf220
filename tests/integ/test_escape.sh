#!/usr/bin/env bash
# The escape suite through the real farm: every program in tests/escape/ is
# submitted with `sluice run` to a broker whose risk gate is switched off (all
# category multipliers 0, so nothing is held or blocked and the jail alone must
# contain it), on a jailed worker.  Each attempt must be contained — no
# "ESCAPED" line, an expected status — and the worker must keep serving.
. "$(dirname "$0")/lib.sh"

cat >"$T/nogate.conf" <<'EOF'
# Test only: every risk category off, so hostile code reaches the jail.
multiplier.code_execution = 0
multiplier.filesystem = 0
multiplier.network = 0
multiplier.exfiltration = 0
multiplier.privilege_escalation = 0
multiplier.deceptive_compliance = 0
multiplier.resource_abuse = 0
multiplier.hardcoded_secret = 0
EOF

# A host-only canary file and a loopback server the jobs must not reach.
echo "host secret 5521" >"$T/host-only.txt"
python3 -m http.server 0 --bind 127.0.0.1 >"$T/http.log" 2>&1 &
PIDS+=($!)

start_broker --risk-config "$T/nogate.conf"
SLUICE_CANARY=leak-me-99 start_worker w1 --slots 2 --max-memory-mb 512
require "jailed worker registers" wait_workers 1

hello=$(prog hello.ts <<'EOF'
console.log("still serving");
EOF
)
declare -A want=(
	[cpu_loop]="timeout" [memory_bomb]="memory" [output_flood]="ok|error|timeout"
	[worker_bomb]="ok|error|timeout|memory" [disk_fill]="ok|error"
)
for f in "$ROOT"/tests/escape/*.ts; do
	name=$(basename "$f" .ts)
	j=$("$BIN/sluice" run --json --timeout 5000 --memory 256 --output-bytes 65536 "$f" 2>/dev/null)
	st=$(jq -r .status <<<"$j" 2>/dev/null)
	pattern=${want[$name]:-ok|error|violation}
	if [ -z "$st" ]; then
		notok "escape $name: no result"
	elif jq -r '.stdout + .stderr' <<<"$j" | grep -q 'ESCAPED\|host secret 5521\|leak-me-99'; then
		notok "escape $name: ESCAPED" "$(jq -r .stdout <<<"$j" | grep ESCAPED | head -2)"
	elif ! [[ "$st" =~ ^($pattern)$ ]]; then
		notok "escape $name: status $st, expected $pattern"
	else
		ok "escape $name contained ($st)"
	fi
done
j=$("$BIN/sluice" run --json --output-bytes 65536 "$ROOT/tests/escape/output_flood.ts")
check "an output flood is cut at the cap" test "$(jq -r '[.truncated, (.stdout|length) <= 65536]|@csv' <<<"$j")" = 'true,true'
check "the worker is alive after the suite" alive "$W_w1"
check "and still serves jobs" test "$("$BIN/sluice" run "$hello")" = "still serving"
check "no job left a cgroup behind" bash -c "! ls -d /sys/fs/cgroup/memory/*/sluice/* /sys/fs/cgroup/memory/sluice/* 2>/dev/null | grep -q ."
exit 0
