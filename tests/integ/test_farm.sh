#!/usr/bin/env bash
# The farm end to end: a real broker and two real workers on ipc endpoints,
# real Deno programs, garbage on both sockets, a worker killed mid-job.
. "$(dirname "$0")/lib.sh"

start_broker
start_worker w1 --slots 4
start_worker w2 --slots 4
require "two workers register" wait_workers 2

hello=$(prog hello.ts <<'EOF'
console.log("hello, sluice");
EOF
)
out=$("$BIN/sluice" run "$hello"); rc=$?
check "hello world prints and exits 0" test "$out" = "hello, sluice" -a $rc -eq 0
msg=$("$BIN/sluice" run "$hello" 2>&1 >/dev/full); rc=$?
check "sluice run fails loudly when its output cannot be written (/dev/full)" \
	test "$rc" -ne 0 -a -n "$(printf '%s' "$msg" | grep 'cannot write the output')"

typed=$(prog typed.ts <<'EOF'
interface Point { x: number; y: number }
function norm(p: Point): number { return Math.hypot(p.x, p.y); }
const pts: Point[] = [{ x: 3, y: 4 }, { x: 6, y: 8 }];
console.log(JSON.stringify(pts.map(norm)));
EOF
)
j=$(run_json "$typed")
check "TypeScript with types runs" test "$(jfield "$j" .stdout)" = "[5,10]"
check "result has id, status, exit_code, metrics" test \
	"$(jfield "$j" '[.status, .exit_code, (.id|length), (.metrics.wall_ms>=0), (.metrics.cpu_ms>0), (.metrics.max_rss_kb>0), .truncated]|@csv')" = '"ok",0,32,true,true,true,false'

throws=$(prog throws.ts <<'EOF'
throw new Error("deliberate failure 1234");
EOF
)
j=$(run_json "$throws"); rc=$?
check "a throwing program ends error with a non-zero CLI exit" test "$(jfield "$j" .status)" = error -a $rc -ne 0
check "the exception message is in stderr" grep -q "deliberate failure 1234" <<<"$(jfield "$j" .stderr)"
msg=$("$BIN/sluice" run "$throws" 2>&1 >/dev/null | tail -1)
check "the CLI prints a one-line reason" grep -qE '^sluice: job [0-9a-f]{32} error: exit code 1$' <<<"$msg"

loop=$(prog loop.ts <<'EOF'
let spins = 0;
while (true) spins++;
EOF
)
t0=$(date +%s%N)
j=$(run_json "$loop" --timeout 1000)
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
check "an infinite loop ends timeout" test "$(jfield "$j" .status)" = timeout
check "the timeout is enforced near its limit (${dt} ms for 1000)" test "$dt" -lt 6000

flood=$(prog flood.ts <<'EOF'
const line = new TextEncoder().encode("x".repeat(1023) + "\n");
for (let i = 0; i < 4096; i++) Deno.stdout.writeSync(line);
EOF
)
j=$(run_json "$flood" --output-bytes 65536)
check "an output flood is capped and flagged truncated" test \
	"$(jfield "$j" '[.status, .truncated, (.stdout|length)]|@csv')" = '"ok",true,65536'

envp=$(prog env.ts <<'EOF'
try { console.log(Deno.env.get("SLUICE_CANARY") ?? "absent"); } catch (_e) { console.log("denied"); }
EOF
)
j=$(run_json "$envp")
check "the job cannot read the worker's environment" test "$(jfield "$j" .stdout)" != leaked

msg=$("$BIN/sluice" run --timeout 9999999 "$hello" 2>&1); rc=$?
check "an over-maximum limit is rejected with a clear error" test $rc -ne 0 -a -n "$(grep -o 'timeout_ms 9999999 is outside' <<<"$msg")"
empty=$(prog empty.ts </dev/null)
msg=$("$BIN/sluice" run "$empty" 2>&1); rc=$?
check "empty code is rejected with a clear error" test $rc -ne 0 -a -n "$(grep -o 'code is empty' <<<"$msg")"

outf=$(prog outfiles.ts <<'EOF'
Deno.mkdirSync("/work/out", { recursive: true });
Deno.writeTextFileSync("/work/out/report.txt", "owner: " + ["ann.lee", "example.net"].join("@") + "\n");
Deno.writeTextFileSync("/work/plain.csv", "a,b\n1,2\n");
try { Deno.symlinkSync("/home", "/work/passwd-link"); } catch { /* Deno may refuse: fine */ }
console.log("wrote");
EOF
)
"$BIN/sluice" run --out "$T/outdir" "$outf" >/dev/null
check "output files come back with --out" test -f "$T/outdir/out/report.txt" -a -f "$T/outdir/plain.csv"
check "returned files pass the privacy filter" grep -q 'REDACTED:email' "$T/outdir/out/report.txt"
check "a symlink left in /work is not followed or returned" test ! -e "$T/outdir/passwd-link"

# 200 concurrent jobs, each answered exactly once.
j=$("$BUILD/bench/loadgen" --broker "$FRONT" --jobs 200 --concurrency 200 --timeout-ms 60000 "$hello")
check "200 concurrent jobs all answered exactly once" test \
	"$(jfield "$j" '[.answered, .duplicates, .lost, .status.ok]|@csv')" = '200,0,0,200'

# Garbage on both sockets: the broker survives and keeps serving.
"$TOOLS/zgarbage" "$FRONT" 20 >"$T/garbage-front.out" 2>&1
"$TOOLS/zgarbage" "$BACK" 20 >"$T/garbage-back.out" 2>&1
check "broker alive after garbage" alive "$BROKER_PID"
check "broker answered garbage with errors" grep -qE '^[1-9][0-9]* replies' "$T/garbage-front.out"
check "broker still serves after garbage" test "$("$BIN/sluice" run "$hello")" = "hello, sluice"
check "garbage logging is rate-limited" test "$(grep -c 'rejected message' "$T/broker.log")" -lt 20

# A worker killed with SIGKILL mid-job: the job is resolved, the farm serves on.
sleeper=$(prog sleeper.ts <<'EOF'
console.log("started");
await new Promise((r) => setTimeout(r, 5000));
console.log("finished");
EOF
)
"$BIN/sluice" run --json "$sleeper" >"$T/sleeper.json" 2>&1 &
SLEEPER=$!
victim=""
# The worker running it: the job's workspace (cold), or its link to a warm
# jail, is named by the job id in that worker's state dir.  (Not "the worker
# with a child process": warm jails are children of an idle worker too.)
for _ in $(seq 1 100); do
	for w in w1 w2; do
		if ls "$T/$w" 2>/dev/null | grep -qE '^[0-9a-f]{32}$'; then
			victim_var=W_$w
			victim=${!victim_var}
			break 2
		fi
	done
	sleep 0.05
done
if [ -z "$victim" ]; then
	notok "found the worker running the job"
else
	sleep 0.3
	kill -9 "$victim"
	wait "$SLEEPER"
	check "the killed worker's running job ends worker_lost" test "$(jq -r .status "$T/sleeper.json")" = worker_lost
	check "broker keeps serving with one worker" test "$("$BIN/sluice" run "$hello")" = "hello, sluice"
	check "the broker logged the lost worker" grep -q "lost (no heartbeat)" "$T/broker.log"
fi

# SIGTERM stops the broker cleanly.
kill -TERM "$BROKER_PID"
for _ in $(seq 1 50); do alive "$BROKER_PID" || break; sleep 0.1; done
check "broker exits on SIGTERM" bash -c "! kill -0 $BROKER_PID 2>/dev/null"
wait "$BROKER_PID"; rc=$?
check "broker exit status 0 after SIGTERM" test $rc -eq 0

# bench_fork (bench/): junk arguments get the usage line and exit 2; a
# small run prints its table, one row per heap size.
out=$("$BUILD/bench/bench_fork" 12x 2>&1); rc=$?
check "bench_fork with a junk RUNS: exit 2 and its usage" test $rc -eq 2 -a -n "$(grep -o 'usage: bench_fork' <<<"$out")"
out=$("$BUILD/bench/bench_fork" 5 99 2>&1); rc=$?
check "bench_fork with ROUNDS above its bound: exit 2" test $rc -eq 2
out=$("$BUILD/bench/bench_fork" 5 1 2>&1); rc=$?
check "bench_fork 5 1: exit 0 and a row for each of 1, 3, 9, 27 MB" \
	test $rc -eq 0 -a "$(grep -cE '^\| (1|3|9|27) MB \| [0-9]+ \| [0-9]+ \|$' <<<"$out")" -eq 4
# cpu_split.sh (bench/): a JOBS that is not a positive number gets the
# usage line and exit 2, before it starts a farm (or finds perf missing).
# So does deno_caches.sh with a PAIRS that is not.
for junk in x 0 -3; do
	out=$("$ROOT/bench/cpu_split.sh" "$BUILD" "$junk" 2>&1); rc=$?
	check "cpu_split.sh with JOBS '$junk': exit 2 and its usage" \
		test $rc -eq 2 -a -n "$(grep -o 'usage: cpu_split.sh' <<<"$out")"
	out=$("$ROOT/bench/deno_caches.sh" "$BUILD" "$junk" 2>&1); rc=$?
	check "deno_caches.sh with PAIRS '$junk': exit 2 and its usage" \
		test $rc -eq 2 -a -n "$(grep -o 'usage: deno_caches.sh' <<<"$out")"
done
# Bad paths at start: refused at once with the reason, never a daemon that
# starts and fails every job, never a hang on a FIFO.
touch "$T/not-a-dir"
out=$(timeout 10 "$BIN/sluice-worker" --broker "ipc://$T/nobroker" --state-dir "$T/not-a-dir" 2>&1); rc=$?
check "a worker whose --state-dir is a file exits 1 (rc $rc) saying why" \
	test $rc -eq 1 -a -n "$(grep -o 'Not a directory' <<<"$out")"
mkfifo "$T/rules.fifo"
for flag in --risk-rules --risk-config; do
	out=$(timeout 10 "$BIN/sluice-broker" --front "ipc://$T/f-front" --back "ipc://$T/f-back" \
		--data "$T/f-data" "$flag" "$T/rules.fifo" 2>&1); rc=$?
	check "a broker given a FIFO as $flag exits 1 (rc $rc) at once, saying why" \
		test $rc -eq 1 -a -n "$(grep -o 'not a regular file' <<<"$out")"
done
exit 0
