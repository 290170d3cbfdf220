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
exit 0
