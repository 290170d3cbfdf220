#!/usr/bin/env bash
# Session workspaces (issue 10): files a job keeps under /work/session/
# (skills/ included) are stored by the broker and seen by the next job of the
# same session on another worker; another session and another tenant never
# see them; every change is audited; quota overflow is a clear error;
# `sluice session ls|get|rm`.
. "$(dirname "$0")/lib.sh"

start_broker --session-quota 4096
start_worker w1 --slots 1
require "first worker registers" wait_workers 1
D=$T/broker

first=$(prog first.ts <<'EOF2'
Deno.writeTextFileSync("/work/session/skills/double.ts", "export const double = (x: number) => 2 * x;\n");
Deno.writeTextFileSync("/work/session/state.json", JSON.stringify({ step: 1 }));
console.log("saved");
EOF2
)
second=$(prog second.ts <<'EOF2'
const { double } = await import("file:///work/session/skills/double.ts");
const st = JSON.parse(Deno.readTextFileSync("/work/session/state.json"));
console.log(`step ${st.step} double ${double(21)}`);
Deno.writeTextFileSync("/work/session/state.json", JSON.stringify({ step: st.step + 1 }));
Deno.removeSync("/work/session/skills/double.ts");
EOF2
)
peek=$(prog peek.ts <<'EOF2'
const names = [...Deno.readDirSync("/work/session")].map((e) => e.name).sort();
const skills = [...Deno.readDirSync("/work/session/skills")].map((e) => e.name);
console.log(`session=[${names}] skills=[${skills}]`);
EOF2
)
j=$(run_json "$first" --session s1)
check "a job of session s1 writes its session folder" test "$(jfield "$j" .status)" = "ok"
check "session files are not returned as output files" test "$(jfield "$j" '.files // [] | length')" = "0"
ls=$("$BIN/sluice" session ls s1)
check "sluice session ls lists them" bash -c "grep -q 'skills/double.ts' <<<'$ls' && grep -q 'state.json' <<<'$ls'"

# The next job runs on another worker: w1 goes, w2 comes.
start_worker w2 --slots 1
require "second worker registers" wait_workers 2
kill "$W_w1"; wait "$W_w1" 2>/dev/null
sleep 2
j=$(run_json "$second" --session s1)
check "the next job of s1 on the other worker sees the skill and the state" \
	test "$(jfield "$j" .stdout)" = "step 1 double 42"
check "... and it ran on w2" grep -q "w2" <<<"$("$BIN/sluice" audit tail --data "$D" --json --type execution_start --count 100 | tail -n 1)"
j=$(run_json "$peek" --session s1)
check "changes and deletions carry over" test "$(jfield "$j" .stdout)" = "session=[skills,state.json] skills=[]"
"$BIN/sluice" session get s1 --path state.json >"$T/state.json"
check "sluice session get prints a file" test "$(cat "$T/state.json")" = '{"step":2}'
"$BIN/sluice" session get s1 --path nonexist >/dev/null 2>"$T/get1.err"; rc=$?
check "sluice session get --path of a file that is not there exits 1 (rc $rc), saying so" \
	test $rc -eq 1 -a -n "$(grep -o 'no file session/nonexist in session s1' "$T/get1.err")"
"$BIN/sluice" session get s1 --path state.json >/dev/full 2>/dev/null; rc=$?
check "... and one whose output cannot be written exits 1 (rc $rc)" test $rc -eq 1

j=$(run_json "$peek" --session s2)
check "another session sees an empty session folder" test "$(jfield "$j" .stdout)" = "session=[skills] skills=[]"
j=$(run_json "$peek" --session s1 --tenant other)
check "another tenant's session of the same name sees nothing" test "$(jfield "$j" .stdout)" = "session=[skills] skills=[]"
check "another tenant cannot list it" test -z "$("$BIN/sluice" session ls s1 --tenant other)"

ev=$("$BIN/sluice" audit tail --data "$D" --json --count 1000 --type file_access | jq -c 'select(.details.layer=="session") | .details')
check "every session change is audited (writes)" test "$(jq -r 'select(.op=="write") | .path' <<<"$ev" | sort | uniq | tr '\n' ' ')" = "session/skills/double.ts session/state.json "
check "every session change is audited (deletes)" test "$(jq -r 'select(.op=="delete") | .path' <<<"$ev")" = "session/skills/double.ts"

big=$(prog big.ts <<'EOF2'
Deno.writeTextFileSync("/work/session/big.txt", "x".repeat(8192));
EOF2
)
j=$(run_json "$big" --session s1)
check "quota overflow ends the job with a clear error" \
	bash -c "[ '$(jfield "$j" .status)' = error ] && grep -q 'over its quota: 8202 bytes' <<<'$(jfield "$j" .reason)'"
j=$(run_json "$peek" --session s1)
check "after the overflow the session kept its previous files" test "$(jfield "$j" .stdout)" = "session=[skills,state.json] skills=[]"

many=$(prog many.ts <<'EOF2'
Deno.mkdirSync("/work/session/many");
for (let i = 0; i < 70; i++) Deno.writeTextFileSync(`/work/session/many/${i}`, "x");
EOF2
)
j=$(run_json "$many" --session s1)
check "more files than a job may return: a clear error, the session is not half-saved" \
	bash -c "[ '$(jfield "$j" .status)' = error ] && grep -q 'session folder was not kept' <<<'$(jfield "$j" .reason)'"
j=$(run_json "$peek" --session s1)
check "... and it kept its previous files" test "$(jfield "$j" .stdout)" = "session=[skills,state.json] skills=[]"

"$BIN/sluice" session rm s1 >/dev/null
# rm answers only once its delete events are durable: they are in the trail now.
dels=$("$BIN/sluice" audit tail --data "$D" --json --count 1000 --type file_access |
	jq -c 'select(.details.layer=="session" and .details.op=="delete" and .details.session=="s1")' | wc -l)
check "sluice session rm answers after its delete events are in the audit trail ($dels)" test "$dels" -ge 1
check "sluice session rm clears it" test -z "$("$BIN/sluice" session ls s1)"
j=$(run_json "$peek" --session s1)
check "after rm the next job starts empty" test "$(jfield "$j" .stdout)" = "session=[skills] skills=[]"
out=$("$BIN/sluice" session frob s1 2>&1); rc=$?
check "a bad session command is a usage error" test $rc = 2
# `session get` withholds what the deployment withholds from job outputs: a
# job that read a confidential input leaves confidential session files.
printf 'top secret\n' >"$T/secret.txt"
copy=$(prog copy.ts <<'EOF2'
Deno.writeTextFileSync("/work/session/copy.txt", Deno.readTextFileSync("/work/secret.txt"));
EOF2
)
j=$(run_json "$copy" --session s3 --file "$T/secret.txt:confidential")
check "a job copies a confidential input into its session" test "$(jfield "$j" .status)" = ok
check "... the session file is labelled confidential" grep -q "copy.txt *confidential" <<<"$("$BIN/sluice" session ls s3)"
out=$("$BIN/sluice" session get s3 --path copy.txt 2>"$T/get.err")
check "... and sluice session get does not return its data" test -z "$out"
check "... but says it was withheld" grep -q "withheld" "$T/get.err"
# Names from outside never break the audit trail.  A session that would not
# fit the trail's session field whole is refused on SUBMIT (its events could
# not be selected by it); a worker's host name that is not printable ASCII
# is escaped in the actor.  Before, either made the commit round fail: every
# job acknowledged in it was refused.
long=$(printf 's%.0s' $(seq 65))
out=$("$BIN/sluice" run "$peek" --session "$long" 2>&1); rc=$?
check "a 65-byte session is refused with a clear error (rc $rc)" \
	bash -c "[ $rc -ne 0 ] && grep -q 'session must be 1-64 bytes of printable ASCII' <<<'$out'"
out=$("$BIN/sluice" session ls "$long" 2>&1); rc=$?
check "... also by sluice session ls (rc $rc)" \
	bash -c "[ $rc -ne 0 ] && grep -q 'session must be 1-64 bytes' <<<'$out'"
j=$(run_json "$peek" --session "$(printf 's%.0s' $(seq 64))")
check "a 64-byte session runs" test "$(jfield "$j" .status)" = ok
kill "$W_w2" 2>/dev/null; wait "$W_w2" 2>/dev/null
"$BIN/sluice-worker" --broker "$BACK" --host "wörker-ü" --state-dir "$T/w3" --slots 1 \
	--heartbeat-ms 500 $WORKER_FLAGS >>"$T/w3.log" 2>&1 &
PIDS+=("$!")
require "a worker with a non-ASCII host name registers" \
	wait_for 20 grep -aq 'rker-.* ready with 1 slots' "$T/broker.log"
j=$(run_json "$copy" --session s4 --file "$T/secret.txt")
check "its job runs and is stored (status $(jfield "$j" .status))" test "$(jfield "$j" .status)" = ok
actors() { "$BIN/sluice" audit tail --data "$D" --json --count 200 | jq -r .actor; }
check "its events name it escaped" grep -qxF 'worker@w\xc3\xb6rker-\xc3\xbc' <(actors)
"$BIN/sluice" audit export --data "$D" --session s4 --out "$T/pack-s4" >/dev/null
check "... and the session's pack verifies" bash -c "'$BIN/sluice' audit verify '$T/pack-s4' >/dev/null"
# `session get --out` never writes through a symlink already in DIR.
deep=$(prog deep.ts <<'EOF2'
Deno.mkdirSync("/work/session/d", { recursive: true });
Deno.writeTextFileSync("/work/session/d/f.txt", "deep");
EOF2
)
j=$(run_json "$deep" --session s5)
mkdir -p "$T/sget" "$T/sget-elsewhere"
ln -s "$T/sget-elsewhere" "$T/sget/d"
"$BIN/sluice" session get s5 --out "$T/sget" >/dev/null 2>"$T/sget.err"; rc=$?
check "sluice session get --out does not follow a symlinked directory in DIR (rc $rc)" \
	test $rc -eq 1 -a -z "$(ls -A "$T/sget-elsewhere")" -a \
	-n "$(grep -o 'a symlink or a file is in the way' "$T/sget.err")"
"$BIN/sluice" session get s5 --out "$T/sget2" >/dev/null 2>&1
check "... into a fresh DIR it writes the file" test "$(cat "$T/sget2/d/f.txt")" = deep
exit 0
