#!/usr/bin/env bash
# The `sluice` front binary (libc only) against sluice-cli, through a real
# farm: for the same jobs, stdout, stderr and the exit code must be the same
# bytes (job ids aside).  The front under test is a copy of build/bin/sluice
# alone in a directory, so a case it should run itself cannot pass by
# handing over to sluice-cli; the cases it must hand over are checked both
# ways (the lone copy fails with exit 2, build/bin/sluice matches sluice-cli).
. "$(dirname "$0")/lib.sh"

# The broker's front on plaintext loopback TCP (ipc:// is what every other
# integration test drives the front through).
port=$(( 20000 + RANDOM % 20000 ))
FRONT=tcp://127.0.0.1:$port
export SLUICE_BROKER=$FRONT
start_broker --approval-timeout-ms 20000
start_worker w1 --slots 4
start_approver
require "the worker registers" wait_workers 1

LONE=$T/lone
mkdir -p "$LONE" && cp "$BIN/sluice" "$LONE/sluice"
check "the front binary links libc only" bash -c \
	"! ldd '$BIN/sluice' | grep -vE 'linux-vdso|libc\.so|ld-linux' | grep -q ."

# run_as OUT PROG ARGS...: stdout in OUT.out, stderr (job ids and argv[0]
# normalised) in OUT.err, exit code in OUT.rc.  sluice-cli runs with argv[0]
# set to the front's path, as the front's execv gives it.  Log lines lose
# their time stamp and pid.
run_as() {
	local out=$1 prog=$2; shift 2
	(exec -a "$BIN/sluice" "$prog" "$@") >"$out.out" 2>"$out.err0" <"${STDIN:-/dev/null}"
	echo $? >"$out.rc"
	sed -E -e 's/[0-9a-f]{32}/JOBID/g' \
		-e 's/^[0-9T:.-]+Z (sluice[a-z-]*)\[[0-9]+\]/\1/' "$out.err0" >"$out.err"
}
# same NAME ARGS...: the lone front and sluice-cli agree byte for byte.
same() {
	local n=$1; shift
	run_as "$T/f" "$LONE/sluice" "$@"
	run_as "$T/c" "$BIN/sluice-cli" "$@"
	if cmp -s "$T/f.out" "$T/c.out" && cmp -s "$T/f.err" "$T/c.err" && cmp -s "$T/f.rc" "$T/c.rc"; then
		ok "$n (exit $(cat "$T/f.rc"))"
	else
		notok "$n" "front rc $(cat "$T/f.rc") / cli rc $(cat "$T/c.rc")"
		diff "$T/f.out" "$T/c.out" | head -5
		diff "$T/f.err" "$T/c.err" | head -5
	fi
}
# handed NAME ARGS...: the front hands over (the lone copy cannot), and
# build/bin/sluice then behaves as sluice-cli.  A JSON result is compared
# without its id and timings.
handed() {
	local n=$1; shift
	run_as "$T/l" "$LONE/sluice" "$@"
	check "$n: handed over to sluice-cli" test "$(cat "$T/l.rc")" = 2 -a \
		-n "$(grep -o 'cannot run .*/lone/sluice-cli' "$T/l.err")"
	run_as "$T/f" "$BIN/sluice" "$@"
	run_as "$T/c" "$BIN/sluice-cli" "$@"
	if [ "$(head -c1 "$T/f.out")" = "{" ]; then
		jq -S 'del(.id, .metrics)' "$T/f.out" >"$T/f.j" && mv "$T/f.j" "$T/f.out"
		jq -S 'del(.id, .metrics)' "$T/c.out" >"$T/c.j" && mv "$T/c.j" "$T/c.out"
	fi
	if cmp -s "$T/f.out" "$T/c.out" && cmp -s "$T/f.err" "$T/c.err" && cmp -s "$T/f.rc" "$T/c.rc"; then
		ok "$n: same output as sluice-cli (exit $(cat "$T/f.rc"))"
	else
		notok "$n: same output as sluice-cli"
		diff "$T/f.out" "$T/c.out" | head -5
		diff "$T/f.err" "$T/c.err" | head -5
	fi
}

hello=$(prog hello.ts <<'EOF2'
console.log("hello, sluice");
EOF2
)
throws=$(prog throws.ts <<'EOF2'
console.log("before");
console.error("on stderr");
throw new Error("deliberate failure 1234");
EOF2
)
loop=$(prog loop.ts <<'EOF2'
let spins = 0;
while (true) spins++;
EOF2
)
flood=$(prog flood.ts <<'EOF2'
const line = new TextEncoder().encode("x".repeat(1023) + "\n");
for (let i = 0; i < 4096; i++) Deno.stdout.writeSync(line);
EOF2
)
leak=$(prog leak.ts <<'EOF2'
const gh = "ghp_" + "R7fXw2Lq9ZkT4mB8nV1cY6sD3hJ0pQ5aE2uK";
console.log("contact alice.smith@acme-corp.io, token " + gh);
EOF2
)
js=$(prog plain.mjs <<'EOF2'
const x = [1, 2, 3].map((v) => v * 2);
console.log(JSON.stringify(x));
EOF2
)
l4="$ROOT/tests/risk/snippets/critical/01_env_exfil.ts"

# --- what the front runs itself ----------------------------------------------
same "an ok job" run "$hello"
check "... and prints the program's output" test "$(cat "$T/f.out")" = "hello, sluice"
same "a job that throws" run "$throws"
check "... with the one-line reason" grep -qE '^sluice: job JOBID error: exit code 1$' "$T/f.err"
same "a job over its timeout" run --timeout 1000 "$loop"
check "... ends timeout" grep -q '^sluice: job JOBID timeout' "$T/f.err"
same "an output over --output-bytes" run --output-bytes 65536 "$flood"
same "a privacy-redacted output" run "$leak"
check "... is redacted" grep -q 'REDACTED:email' "$T/f.out"
same "a privacy mode and a session" run --session s-front --privacy-mode tokenize "$leak"
same "a job denied by risk (L4)" run "$l4"
check "... ends blocked" grep -q '^sluice: job JOBID blocked' "$T/f.err"
same "limits, tenant, key, priority and tools" run --memory 256 --pids 64 --workspace 16 \
	--tenant acme --key front-k1 --priority 3 --tools 'none.*' --timeout 5000 "$hello"
same "options after FILE and abbreviated" run "$hello" --time 4000 --prio 2
same "a .mjs file runs as JavaScript" run "$js"
check "... and prints" test "$(cat "$T/f.out")" = "[2,4,6]"
STDIN=$hello same "code from stdin (-)" run -
same "tcp://localhost" run --broker "tcp://localhost:$port" "$hello"
same "an unreadable FILE" run "$T/missing.ts"
# L3: held for a human, approved, then run (the front waits without a
# deadline, saying why, as sluice-cli does).
l3=$(prog l3.ts <<'EOF2'
const formula = "6*7";
console.log(eval(formula));
try { await fetch("http://127.0.0.1:9/"); } catch { /* no network in the jail */ }
EOF2
)
held() {	# held PROG OUT: runs an L3 job with PROG, approves it
	(exec -a "$BIN/sluice" "$1" run "$l3") >"$2.out" 2>"$2.err0" &
	local pid=$! id=""
	for _ in $(seq 1 100); do
		id=$("$BIN/sluice" approvals list --json 2>/dev/null | jq -r '.[0].id // empty' 2>/dev/null)
		[ -n "$id" ] && break; sleep 0.1
	done
	[ -n "$id" ] && "$BIN/sluice" approvals approve "$id" --reason "expected" >/dev/null
	wait $pid; echo $? >"$2.rc"
	sed -E 's/[0-9a-f]{32}/JOBID/g' "$2.err0" >"$2.err"
}
held "$LONE/sluice" "$T/f"
held "$BIN/sluice-cli" "$T/c"
check "an L3 job held for approval, then approved: same output, notice and exit code" bash -c \
	"cmp -s '$T/f.out' '$T/c.out' && cmp -s '$T/f.err' '$T/c.err' && cmp -s '$T/f.rc' '$T/c.rc'"
check "... the notice says it waits and the job ran" test "$(cat "$T/f.out")" = 42 -a \
	"$(cat "$T/f.err")" = "sluice: job JOBID is waiting for human approval (risk L3)" -a "$(cat "$T/f.rc")" = 0

t0=$(date +%s%N)
run_as "$T/f" "$LONE/sluice" run --broker "ipc://$T/nobody" "$hello"
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
check "no broker: a clear error in bounded time (${dt} ms)" test "$(cat "$T/f.rc")" = 1 -a \
	"$dt" -lt 12000 -a "$(cat "$T/f.err")" = \
	"sluice run: the broker did not answer within 10000 ms (is it running?)"
msg=$("$LONE/sluice" run "$hello" 2>&1 >/dev/full); rc=$?
check "a failed write of the output fails the run loudly (/dev/full)" \
	test "$rc" = 1 -a -n "$(grep -o 'cannot write the output' <<<"$msg")"

# --- what it hands over --------------------------------------------------------
handed "an unknown option" run --bogus "$hello"
handed "--json" run --json "$hello"
handed "--help" run --help
handed "a bad --timeout" run --timeout 0 "$hello"
handed "a bad --privacy-mode" run --privacy-mode raw "$hello"
handed "another command" status --json --bogus
handed "a bad endpoint" run --broker "bogus://x" "$hello"
SLUICE_CURVE_KEY=$T/none.key SLUICE_BROKER_KEY=$T/none.pub handed "CURVE from the environment" run "$hello"
handed "CURVE from a flag" run --curve-key "$T/none.key" --broker-key "$T/none.pub" "$hello"
