#!/usr/bin/env bash
# The warm pool (issue 9): a real broker and a real worker whose jobs run in
# pre-built jails with Deno already started.  Every job here is checked to
# have taken the path it should (the worker logs "job ID runs in warm jail
# NAME" at debug level), so a pool that silently fell back to cold starts
# fails these checks.
. "$(dirname "$0")/lib.sh"

if [ -n "$WORKER_FLAGS" ]; then
	skip "warm pool" "workers run with $WORKER_FLAGS (no jail: no warm pool)"
	exit 0
fi

# job_id JSON: the job id of a result.
job_id() { jfield "$1" .id; }
# ran_warm ID: the worker log says this job took a warm jail.
ran_warm() { grep -q "job $1 runs in warm jail" "$T/w1.log"; }
# warm_jail_of ID: the warm jail's name.
warm_jail_of() { sed -n "s/.*job $1 runs in warm jail \(warm-[0-9-]*\).*/\1/p" "$T/w1.log" | head -1; }
# warm_dirs WORKER: warm workspaces on disk (ready, starting or not yet torn down).
warm_dirs() { find "$T/$1" -maxdepth 1 -name 'warm-*' 2>/dev/null | wc -l; }
# wait_for SECONDS CMD...: until CMD succeeds (false after SECONDS).
pool_logged() { grep -q "warm pool: 1 jails, RSS per idle warm jail [1-9][0-9]* KB" "$T/w1.log"; }
# next_warm: waits until w1's pool has a ready jail again (or 20 s): more
# jails got ready than jobs took or the pool dropped.
has_ready() {
	[ "$(grep -c 'warm pool: warm-[0-9-]* ready' "$T/w1.log")" -gt \
		"$(( $(grep -c 'runs in warm jail' "$T/w1.log") + $(grep -c 'died while idle; dropped' "$T/w1.log") ))" ]
}
next_warm() { wait_for 20 has_ready; }
# expect NAME ACTUAL EXPECTED: ok when equal, else both are shown.
expect() { if [ "$2" = "$3" ]; then ok "$1"; else notok "$1" "got [$2], want [$3]"; fi; }

start_broker
start_worker w1 --slots 1 --warm 1 --log-level debug
require "worker with a warm pool registers" wait_workers 1
check "the pool reports the RSS of an idle warm jail" wait_for 20 pool_logged
rss=$(sed -n 's/.*RSS per idle warm jail \([0-9]*\) KB.*/\1/p' "$T/w1.log" | head -1)
echo "# RSS per idle warm jail: ${rss:-?} KB"
thread_names_ok() {
	local names
	names=" $(cat /proc/"$W_w1"/task/*/comm 2>/dev/null | sort | tr '\n' ' ')"
	case $names in *" sluice-reaper "*) case $names in *" sluice-warm "*) return 0 ;; esac ;; esac
	echo "#   threads:$names"
	return 1
}
check "the worker's pool threads carry their names (sluice-warm, sluice-reaper)" thread_names_ok
# warm_inits: pids of w1's jail inits that are sluice-jail-init (comm is cut
# to 15 characters).
warm_inits() {
	local p
	for p in $(pgrep -P "$W_w1"); do
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = sluice-jail-ini ] && echo "$p"
	done
}
small_init() {
	local p kb
	for p in $(warm_inits); do
		kb=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/"$p"/status)
		[ -n "$kb" ] && [ "$kb" -lt 1024 ] && return 0
		echo "#   init $p: VmRSS $kb kB"
	done
	return 1
}
check "a warm jail's init is sluice-jail-init, under 1 MB resident" small_init
# Deno's SQLite caches stay in memory (worker/jail_mnt.c): init put a
# directory where each database would be, Deno wrote no file there, and its
# transpile cache (gen/, from the bootstrap's TypeScript prime) is on disk.
deno_caches_in_memory() {
	local p d r f files
	for p in $(warm_inits); do
		for d in $(pgrep -P "$p"); do
			r=/proc/$d/root/tmp/deno
			[ -d "$r/gen" ] || { echo "#   $r/gen missing"; return 1; }
			for f in dep_analysis_cache_v2 node_analysis_cache_v2 v8_code_cache_v2; do
				[ -d "$r/$f" ] || { echo "#   $r/$f is not the directory init made"; return 1; }
			done
			files=$(find "$r" -maxdepth 1 ! -type d)
			[ -z "$files" ] && return 0
			echo "#   Deno created cache files:" $files
			return 1
		done
	done
	echo "#   no warm jail's Deno found"
	return 1
}
check "a warm jail's Deno keeps its caches in memory (no database files in its DENO_DIR)" deno_caches_in_memory

# --- correctness on the warm path
hello=$(prog hello.ts <<'EOF'
interface P { n: number }
const p: P = { n: 6 * 7 };
console.log("answer", p.n);
EOF
)
next_warm
j=$(run_json "$hello"); id=$(job_id "$j")
check "a TypeScript job runs in a warm jail" ran_warm "$id"
expect "the warm job's result is ok with its stdout" \
	"$(jfield "$j" '[.status, .exit_code, .stdout, .stderr]|@json')" '["ok",0,"answer 42\n",""]'
check "cpu and memory metrics are reported" test "$(jfield "$j" '(.metrics.cpu_ms > 0) and (.metrics.max_rss_kb > 0)')" = true

js=$(prog plain.js <<'EOF'
console.log(typeof Deno.version.deno, Deno.cwd());
EOF
)
next_warm
j=$(run_json "$js")
check "a JavaScript job runs warm in /work" test "$(jfield "$j" .stdout)" = "string /work"
check "... in a warm jail" ran_warm "$(job_id "$j")"

throws=$(prog throws.ts <<'EOF'
console.log("before");
throw new Error("deliberate warm failure 5150");
EOF
)
next_warm
j=$(run_json "$throws"); rc=$?; id=$(job_id "$j")
check "an uncaught error ends error, exit code 1, non-zero CLI exit" test \
	"$(jfield "$j" '[.status, .exit_code]|@csv')" = '"error",1' -a $rc -ne 0
check "... with the message on stderr and stdout kept" test \
	"$(jfield "$j" '(.stderr|contains("deliberate warm failure 5150")) and .stdout == "before\n"')" = true
check "... in a warm jail" ran_warm "$id"

exits=$(prog exits.ts <<'EOF'
console.log("bye");
setTimeout(() => Deno.exit(3), 10);
EOF
)
next_warm
j=$(run_json "$exits"); id=$(job_id "$j")
expect "Deno.exit(3) ends error with exit code 3 and its output" \
	"$(jfield "$j" '[.status, .exit_code, .stdout]|@json')" '["error",3,"bye\n"]'
check "... in a warm jail" ran_warm "$id"
check "the bootstrap's exit record never reaches the result" test \
	"$(jfield "$j" '.stderr|contains("SLUICE")')" = false

# A job that closes its stderr: the bootstrap's exit record cannot be
# written, and the job still ends as it would cold (ok, exit 0, no
# bootstrap internals on stderr); and with an exit code of its own.
closes=$(prog closes.ts <<'EOF'
Deno.stderr.close();
console.log("x");
EOF
)
next_warm
j=$(run_json "$closes"); id=$(job_id "$j")
expect "a warm job that closes its stderr ends ok, exit 0, stderr empty" \
	"$(jfield "$j" '[.status, .exit_code, .stdout, .stderr]|@json')" '["ok",0,"x\n",""]'
check "... in a warm jail" ran_warm "$id"
closes4=$(prog closes4.ts <<'EOF'
Deno.stderr.close();
Deno.exitCode = 4;
EOF
)
next_warm
j=$(run_json "$closes4")
expect "... and with Deno.exitCode = 4 it ends error, exit code 4" \
	"$(jfield "$j" '[.status, .exit_code]|@json')" '["error",4]'

# A warm jail whose Deno died before its init noticed (init stopped here
# to hold that moment open): dropped at take, and the job runs cold.
next_warm
dead_deno() {
	local p d
	for p in $(warm_inits); do
		kill -STOP "$p"
		for d in $(pgrep -P "$p"); do kill -9 "$d"; done
		echo "$p"
	done
}
stopped=$(dead_deno)
sleep 0.2
after_dead=$(prog hello2.ts <<<'console.log("hello");')
j=$(run_json "$after_dead")
for p in $stopped; do kill -CONT "$p" 2>/dev/null; done
expect "a warm jail whose Deno died is dropped and the job runs cold" \
	"$(jfield "$j" '[.status, .stdout]|@json')" '["ok","hello\n"]'
check "... the pool says so" grep -q "warm pool: warm-[0-9-]* died while idle; dropped" "$T/w1.log"

timers=$(prog timers.ts <<'EOF'
let n = 0;
const t = setInterval(() => { if (++n === 5) { clearInterval(t); console.log("ticks", n); } }, 20);
await new Promise((r) => setTimeout(r, 50));
console.log("awaited");
EOF
)
next_warm
j=$(run_json "$timers")
check "top-level await and timers finish before the job ends" test "$(jfield "$j" .stdout)" = $'awaited\nticks 5'

# The bootstrap dispatches an event of its own at boot (it compiles Deno's
# event code off the job's path): the job's load, beforeunload and unload
# listeners still run, once each, and the bootstrap's listener is gone.
events=$(prog events.ts <<'EOF'
let primes = 0;
addEventListener("sluice-prime", () => primes++);
dispatchEvent(new Event("sluice-prime"));
for (const e of ["load", "beforeunload", "unload"]) addEventListener(e, () => console.log(e, primes));
EOF
)
next_warm
j=$(run_json "$events")
expect "a warm job's load, beforeunload and unload listeners run once each" \
	"$(jfield "$j" '[.status, .stdout]|@json')" '["ok","load 1\nbeforeunload 1\nunload 1\n"]'
check "... in a warm jail" ran_warm "$(job_id "$j")"

# While a warm job runs, <state dir>/<job id> links to its warm workspace
# (made right after the handover, while Deno wakes).
linger=$(prog linger.ts <<'EOF'
await new Promise((r) => setTimeout(r, 1500));
console.log("done");
EOF
)
next_warm
"$BIN/sluice" run --json "$linger" >"$T/linger.json" 2>&1 &
LINGER=$!
warm_link() { find "$T/w1" -maxdepth 1 -type l -lname 'warm-*' -printf '%f\n' | head -1; }
has_warm_link() { test -n "$(warm_link)"; }
check "while a warm job runs, a link in the state dir points to its warm jail" wait_for 5 has_warm_link
link_name=$(warm_link)
wait "$LINGER"
expect "... named by the job's id" "$link_name" "$(jq -r .id "$T/linger.json")"

# --- nothing survives from one job to the next (same worker, one slot)
writer=$(prog writer.ts <<'EOF'
Deno.writeTextFileSync("/work/leak.txt", "secret from job A");
try { Deno.writeTextFileSync("/tmp/leak.txt", "tmp from job A"); } catch { /* Deno: /work only */ }
(globalThis as any).leaked = 42;
Object.defineProperty(Object.prototype, "polluted", { value: "yes", configurable: true });
console.log("wrote");
EOF
)
reader=$(prog reader.ts <<'EOF'
const seen: string[] = [];
for (const p of ["/work/leak.txt", "/tmp/leak.txt"]) {
  try { Deno.readTextFileSync(p); seen.push(p); } catch { /* absent: good */ }
}
if ((globalThis as any).leaked !== undefined) seen.push("global");
if (({} as any).polluted !== undefined) seen.push("prototype");
const files = [...Deno.readDirSync("/work")].map((e) => e.name).sort();
console.log(seen.length === 0 ? "clean" : "LEAK " + seen.join(","), files.join(","));
EOF
)
next_warm
ja=$(run_json "$writer"); ida=$(job_id "$ja")
next_warm
jb=$(run_json "$reader"); idb=$(job_id "$jb")
expect "job A ran warm and wrote its file" "$(jfield "$ja" .stdout) $(ran_warm "$ida" && echo warm)" "wrote warm"
check "job B ran in another warm jail of the same worker" \
	test -n "$(warm_jail_of "$idb")" -a "$(warm_jail_of "$ida")" != "$(warm_jail_of "$idb")"
check "job B sees no file, tmp file, global or prototype change of job A; /work holds only main.ts" \
	test "$(jfield "$jb" .stdout)" = "clean main.ts"
check "job A's output file came back with A's result only" test \
	"$(jfield "$ja" '[.files[]?.path]|join(",")'),$(jfield "$jb" '[.files[]?.path]|join(",")')" = "leak.txt,"

# --- limits are applied when the job is assigned (the jail was built with
# the defaults: 512 MB, 64 pids)
hog=$(prog hog.ts <<'EOF'
const keep: Uint8Array[] = [];
for (let i = 0; i < 200; i++) keep.push(new Uint8Array(1 << 20).fill(i));
console.log("allocated", keep.length, "MB");
EOF
)
next_warm
j=$(run_json "$hog" --memory 64); id=$(job_id "$j")
check "a 200 MB hog with memory_mb 64 ends memory" test "$(jfield "$j" .status)" = memory
check "... in a warm jail" ran_warm "$id"
check "... and its peak stayed near 64 MB (the warm default is 512)" \
	test "$(jfield "$j" .metrics.max_rss_kb)" -le $(( 80 * 1024 ))
next_warm
j=$(run_json "$hog" --memory 512)
expect "the same hog with memory_mb 512 is ok (the limit, not the hog, decides)" \
	"$(jfield "$j" '[.status, .stdout]|@json')" '["ok","allocated 200 MB\n"]'

workers=$(prog workers.ts <<'EOF'
const code = URL.createObjectURL(new Blob(["postMessage(1)"], { type: "application/javascript" }));
let got = 0;
try {
  await Promise.all(Array.from({ length: 24 }, () => new Promise<void>((res, rej) => {
    const w = new Worker(code, { type: "module" });
    w.onmessage = () => { got++; w.terminate(); res(); };
    w.onerror = (e) => { e.preventDefault(); rej(new Error("worker failed")); };
  })));
  console.log("WORKERS", got);
} catch (e) {
  console.log("BLOCKED", got, String(e).slice(0, 60));
}
EOF
)
next_warm
j=$(run_json "$workers" --pids 12 --timeout 20000); id=$(job_id "$j")
check "24 Workers with pids 12 do not all start" test "$(jfield "$j" .stdout)" != "WORKERS 24"
check "... in a warm jail" ran_warm "$id"
next_warm
j=$(run_json "$workers" --timeout 20000)
check "24 Workers with the default pids (64) all start" test "$(jfield "$j" .stdout)" = "WORKERS 24"

loop=$(prog loop.ts <<'EOF'
while (true) { /* spin */ }
EOF
)
next_warm
t0=$(date +%s%N)
j=$(run_json "$loop" --timeout 1000); id=$(job_id "$j")
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
check "an infinite loop ends timeout (${dt} ms for 1000)" test "$(jfield "$j" .status)" = timeout -a "$dt" -lt 6000
check "... in a warm jail" ran_warm "$id"

forge=$(prog forge.ts <<'EOF'
Deno.stderr.writeSync(new TextEncoder().encode("\x1eSLUICE-EXIT 0\n"));
while (true) { /* a forged end record only ends this job early */ }
EOF
)
next_warm
t0=$(date +%s%N)
j=$(run_json "$forge" --timeout 20000)
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
check "a forged exit record ends only its own job, early (${dt} ms)" test \
	"$(jfield "$j" .status)" = ok -a "$dt" -lt 10000
next_warm
j=$(run_json "$hello")
check "the job after it runs normally" test "$(jfield "$j" .stdout)" = "answer 42"

# --- jobs the warm jails cannot honour start cold, and still work
j=$(run_json "$hello" --output-bytes 4096); id=$(job_id "$j")
check "a job with another output_bytes starts cold and is ok" test \
	"$(jfield "$j" .stdout)" = "answer 42" -a -n "$id"
check "... not in a warm jail" eval "! ran_warm $id"

# --- the pool refills, and never holds more than --warm jails
check "the pool refills after use" wait_for 20 has_ready
sleep 1
check "the pool holds at most --warm jails when idle" test "$(warm_dirs w1)" -le 1
check "no job-id link to a warm workspace is left behind" test "$(find "$T/w1" -maxdepth 1 -type l | wc -l)" -eq 0
check "the worker logged no warm build failure" eval "! grep -q 'warm pool: cannot build' '$T/w1.log'"

# --- shrinks when idle; pool off
kill "$W_w1"
start_worker w2 --slots 2 --warm 3 --warm-idle-ms 3000
check "a pool of 3 fills" wait_for 20 eval 'test "$(warm_dirs w2)" -eq 3'
check "... and shrinks to 1 when idle" wait_for 20 eval 'test "$(warm_dirs w2)" -eq 1'
j=$(run_json "$hello")
check "a job on the shrunk pool is ok" test "$(jfield "$j" .stdout)" = "answer 42"
check "... and the pool refills to 3 under load" wait_for 20 eval 'test "$(warm_dirs w2)" -eq 3'
# A worker killed with SIGKILL leaves its jails' cgroups behind; the next
# worker on the host removes them (and only those of workers that are gone).
groups_of() { find /sys/fs/cgroup -maxdepth 6 -type d -name "warm-$1-*" 2>/dev/null | wc -l; }
kill -9 "$W_w2"
wait "$W_w2" 2>/dev/null
check "a worker killed with SIGKILL leaves its warm jails' cgroups" test "$(groups_of "$W_w2")" -gt 0
# ... but not their processes: each jail's init dies with its worker (the
# parent-death signal is armed again after the init's uid change, which
# clears it), and its pid namespace with it.
procs_of() {
	find /sys/fs/cgroup -maxdepth 6 -type d -name "warm-$1-*" 2>/dev/null |
		while read -r g; do cat "$g/cgroup.procs"; done | wc -l
}
check "... and no process: the jails die with their worker" wait_for 3 eval 'test "$(procs_of "$W_w2")" -eq 0'
start_worker w3 --slots 1 --warm 0 --log-level debug
# (the broker may still count w2 for a heartbeat or two: wait for w3's log)
# (A group whose killed process is still exiting -- or is a zombie the
# host's init has not reaped yet -- cannot be removed yet; only an empty one
# left behind would be a failure.)
empty_groups_of() {
	local g n=0
	for g in $(find /sys/fs/cgroup -maxdepth 6 -type d -name "warm-$1-*" 2>/dev/null); do
		[ -n "$(cat "$g/cgroup.procs" 2>/dev/null)" ] || n=$((n + 1))
	done
	echo "$n"
}
check "the next worker removes them at start and says so" wait_for 20 eval \
	'grep -q "cgroups left behind by workers that are gone" "$T/w3.log" && test "$(empty_groups_of "$W_w2")" -eq 0'
wait_for 20 grep -q "worker w3:" "$T/w3.log"
sleep 2	# the broker drops the killed w2 after missed heartbeats
j=$(run_json "$hello"); id=$(job_id "$j")
check "with --warm 0 jobs run cold and are ok" test "$(jfield "$j" .stdout)" = "answer 42"
check "... with no warm jail built" test "$(warm_dirs w3)" -eq 0 -a -z "$(grep 'runs in warm jail' "$T/w3.log")"

# --- --warm-prime: a bad list is refused at start; primed jails run jobs
out=$("$BIN/sluice-worker" --warm-prime bogus 2>&1); rc=$?
check "--warm-prime with an unknown name: exit 2, naming it" \
	test "$rc" -eq 2 -a -n "$(grep -F "unknown prime 'bogus'" <<<"$out")"
out=$("$BIN/sluice-worker" --warm-prime "timers," 2>&1); rc=$?
check "--warm-prime with an empty name: exit 2" test "$rc" -eq 2
kill "$W_w3"
start_worker w4 --slots 1 --warm 1 --warm-prime timers,intl,web,inspect --log-level debug
check "a primed pool says what it primes" wait_for 20 grep -q "jails prime intl before their job" "$T/w4.log"
wait_for 20 grep -q "warm pool: warm-[0-9-]* ready" "$T/w4.log"
sleep 2	# the broker drops w3 after missed heartbeats
timer=$(prog timer.ts <<'EOF'
await new Promise((r) => setTimeout(r, 5));
console.log("tick", new Intl.NumberFormat("en-US").format(1234), Deno.inspect([1]));
EOF
)
j=$(run_json "$timer"); id=$(job_id "$j")
check "a primed warm jail runs a job with timers and Intl" test "$(jfield "$j" .stdout)" = "tick 1,234 [ 1 ]"
check "... in a warm jail" grep -q "job $id runs in warm jail" "$T/w4.log"
j=$(run_json "$hello")
check "... and a job that uses none of it ends as usual (nothing primed stays pending)" \
	test "$(jfield "$j" .status) $(jfield "$j" .stdout)" = "ok answer 42"

# --- the bootstrap itself (build/bench/warm_source writes it as warm.c
# does), outside any jail: it must run a job, and stay free of what made it
# cost Deno more (docs/BENCHMARKS.md, fifth pass: comments in the entry
# module, a data: URL import)
WS=$BUILD/bench/warm_source
DENO=$(realpath "${SLUICE_DENO:-$ROOT/node_modules/deno/deno}")
mkdir -p "$T/boot"
"$WS" "$T/boot" bogus >/dev/null 2>&1
check "warm_source with an unknown prime: exit 2" test $? -eq 2
"$WS" >/dev/null 2>&1
check "warm_source without a directory: exit 2" test $? -eq 2
"$WS" "$T/boot"
check "warm_source writes the bootstrap and its TypeScript prime" \
	test -s "$T/boot/sluice-warm.js" -a -s "$T/boot/sluice-prime.ts"
check "the bootstrap has no comment and imports no data: URL" \
	test -z "$(grep -nE '^[[:space:]]*//|[[:space:]]//|data:' "$T/boot/sluice-warm.js")"
echo 'console.log("booted " + (1 as number));' >"$T/boot/main.ts"
out=$(cd "$T/boot" && printf 'main.ts\n' | env -i DENO_DIR="$T/boot-deno" NO_COLOR=1 \
	"$DENO" run --quiet --no-config --allow-read=. --allow-write=. sluice-warm.js 2>"$T/boot.err")
check "run by Deno with main.ts on stdin, the bootstrap prints its ready marker, then the job's line" \
	test "$(tr -d '\036' <<<"$out")" = "$(printf 'SLUICE-WARM\nbooted 1')"
check "... ends with the exit record on stderr" grep -q "SLUICE-EXIT 0" "$T/boot.err"
check "... and deletes itself and the prime (only main.ts is left)" \
	test "$(ls "$T/boot")" = "main.ts"
"$WS" "$T/boot"
out=$(cd "$T/boot" && printf 'evil.ts\n' | env -i DENO_DIR="$T/boot-deno" NO_COLOR=1 \
	"$DENO" run --quiet --no-config --allow-read=. --allow-write=. sluice-warm.js 2>&1)
check "a name other than main.ts / main.js: the bootstrap exits 70 without importing it" test $? -eq 70

# --slots above the pool's bound without --warm: the pool is capped (one
# jail per slot up to 128), the worker starts.
"$BIN/sluice-worker" --broker "ipc://$T/slots-nobroker" --state-dir "$T/slots200" \
	--slots 200 >"$T/slots200.log" 2>&1 &
SP=$!
PIDS+=("$SP")
check "--slots 200 without --warm starts with a pool of 128" \
	wait_for 20 grep -q "200 slots, 128 warm jails" "$T/slots200.log"
kill "$SP" 2>/dev/null; wait "$SP" 2>/dev/null

# --- descriptors: the worker lifts its soft open-files limit to the hard
# one, and warns at start when even that is short for its slots and pool
if command -v prlimit >/dev/null; then
	prlimit --nofile=200:4096 "$BIN/sluice-worker" --broker "ipc://$T/nofile-nobroker" \
		--state-dir "$T/nofile1" --slots 1 --warm 1 >"$T/nofile1.log" 2>&1 &
	NP=$!
	PIDS+=("$NP")
	lifted() { grep -Eq '^Max open files +4096 +4096' /proc/"$NP"/limits 2>/dev/null; }
	check "the soft open-files limit is raised to the hard one (200:4096 -> 4096)" wait_for 20 lifted
	kill "$NP" 2>/dev/null
	prlimit --nofile=64:64 "$BIN/sluice-worker" --broker "ipc://$T/nofile-nobroker" \
		--state-dir "$T/nofile2" --slots 16 --warm 16 >"$T/nofile2.log" 2>&1 &
	NP=$!
	PIDS+=("$NP")
	warned() { grep -q 'open files limit 64 is below the ~352 that 16 slots and 16 warm jails' "$T/nofile2.log"; }
	check "a limit too low for --slots 16 --warm 16 is named at start" wait_for 20 warned
	kill "$NP" 2>/dev/null
else
	echo "skip - open-files limit checks: prlimit (util-linux) not installed"
fi

exit $((FAILS > 0))
