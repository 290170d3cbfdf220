#!/usr/bin/env bash
# Job files (issue 10) and file_access events (issue 6): input files with a
# data class, path validation at the broker (the error names the file and
# nothing runs), output files labelled with the taint of what the job read
# and withheld at the configured level, and file_access events recorded by
# the worker's fanotify watcher even when the job tries to hide its tracks.
. "$(dirname "$0")/lib.sh"

start_broker
start_worker w1 --slots 2
require "worker registers" wait_workers 1
D=$T/broker

printf 'name,amount\nalice,10\nbob,32\n' >"$T/sales.csv"      # 28 bytes
printf 'hello from a public file\n' >"$T/notes.txt"            # 25 bytes

# --- path validation: clear error naming the file, nothing runs ---------
ok1=$(prog ok.ts <<'EOF2'
console.log("ran");
EOF2
)
bad() {	# bad NAME WANT-IN-ERROR --file ARGS...
	local name=$1 want=$2; shift 2
	local out rc
	out=$("$BIN/sluice" run "$@" "$ok1" 2>&1); rc=$?
	if [ $rc -ne 0 ] && grep -qF -- "$want" <<<"$out" && ! grep -q '^ran$' <<<"$out"; then
		ok "$name"
	else
		notok "$name" "rc=$rc: $out"
	fi
}
bad "traversal is refused and named" "file 0 (../escape.csv)" --file "../escape.csv=$T/sales.csv"
bad "an absolute path is refused" "absolute" --file "/etc/cron.d/x=$T/sales.csv"
bad "a duplicate path is refused and names both" "file 1 (sales.csv): duplicate of file 0" \
	--file "$T/sales.csv" --file "./sales.csv=$T/notes.txt"
bad "a path deeper than 8 is refused" "deeper than 8" --file "a/b/c/d/e/f/g/h/i=$T/sales.csv"
bad "a reserved name is refused" "reserved" --file "main.ts=$T/sales.csv"
long=$(printf 'x%.0s' $(seq 300))
bad "a huge path is refused" "longer than 255" --file "$long=$T/sales.csv"
printf '%s\n' "$T/sales.csv" >/dev/null
bad "an unknown class is refused by the CLI or the broker" "sluice" --file "$T/sales.csv:topsecret"
starts=$("$BIN/sluice" audit tail --data "$D" --json --count 1000 --type execution_start | grep -c . || true)
check "no refused job ran (no execution_start)" test "$starts" = 0

# --- inputs, taint, withholding -----------------------------------------
reader=$(prog reader.ts <<'EOF2'
const t = Deno.readTextFileSync("/work/data/sales.csv");
const total = t.trim().split("\n").slice(1).map((l) => +l.split(",")[1]).reduce((a, b) => a + b, 0);
Deno.writeTextFileSync("/work/report.txt", `total=${total}\n`);
console.log("total", total);
EOF2
)
j=$(run_json "$reader" --file "data/sales.csv=$T/sales.csv:confidential" --file "$T/notes.txt:public" --out "$T/out1")
check "the job read its input file" test "$(jfield "$j" .stdout)" = "total 42"
check "the output read from a confidential input is confidential" \
	test "$(jfield "$j" '.files[] | select(.path=="report.txt") | .class')" = "confidential"
check "a confidential output is withheld: listed with its size, no data" \
	test "$(jfield "$j" '.files[] | select(.path=="report.txt") | "\(.withheld) \(.size)"')" = "true 9"
check "--out does not write a withheld file" test ! -e "$T/out1/report.txt"

pub=$(prog pub.ts <<'EOF2'
const t = Deno.readTextFileSync("/work/notes.txt");
Deno.writeTextFileSync("/work/summary.txt", t.toUpperCase());
EOF2
)
j=$(run_json "$pub" --file "$T/notes.txt:public" --file "$T/sales.csv:restricted" --out "$T/out2")
check "an output of a job that read only public input is public (unread restricted input does not taint)" \
	test "$(jfield "$j" '.files[] | select(.path=="summary.txt") | .class')" = "public"
check "a public output comes back and --out writes it" \
	test "$(cat "$T/out2/summary.txt" 2>/dev/null)" = "HELLO FROM A PUBLIC FILE"
check "unchanged input files do not come back" \
	test "$(jfield "$j" '[.files[].path] | sort | join(",")')" = "summary.txt"
over=$(prog over.ts <<'EOF2'
Deno.writeTextFileSync("/work/sales.csv", "overwritten\n");
EOF2
)
j=$(run_json "$over" --file "$T/sales.csv:restricted")
check "an input the job overwrote comes back never lower than its class (restricted, withheld)" \
	test "$(jfield "$j" '.files[] | select(.path=="sales.csv") | "\(.class) \(.withheld)"')" = "restricted true"

# --- file_access events ---------------------------------------------------
sleep 0.3
ev=$("$BIN/sluice" audit tail --data "$D" --json --count 1000 --type file_access)
fa() { jq -c "select(.details.path==\"$1\" and .details.op==\"$2\") | .details" <<<"$ev" | head -1; }
r=$(fa data/sales.csv read)
check "file_access: the read of data/sales.csv with class and bytes" \
	test "$(jq -r '"\(.class) \(.bytes) \(.layer)"' <<<"${r:-{\}}")" = "confidential 28 fanotify"
w=$(fa report.txt write)
check "file_access: the write of report.txt with class and bytes" \
	test "$(jq -r '"\(.class) \(.bytes)"' <<<"${w:-{\}}")" = "confidential 9"
check "file_access: the write of summary.txt" test -n "$(fa summary.txt write)"
check "file_access: an input the job did not read has no read event" \
	test -z "$(jq -c "select(.details.path==\"sales.csv\" and .details.op==\"read\")" <<<"$ev")"
check "file_access: Deno's permission audit saw the read too (cross-check)" \
	test "$(jq -r .deno <<<"${r:-{\}}")" = "true"
check "file_access: nothing the warm bootstrap touched before the job (sluice-warm.js, sluice-prime.ts) is in it" \
	test -z "$(jq -c 'select(.details.path | test("sluice-(warm|prime)"))' <<<"$ev")"

# Deno's audit silenced: stderr flooded past the output cap before any file
# work, so no audit line survives, then it scribbles over what it can; the
# kernel's record does not depend on any of it.
quiet=$(prog quiet.ts <<'EOF2'
await Deno.stderr.write(new TextEncoder().encode("x".repeat(16384)));
const t = Deno.readTextFileSync("/work/notes.txt");
Deno.writeTextFileSync("/work/hidden.txt", t + t);
for (const e of Deno.readDirSync("/work")) { try { Deno.writeTextFileSync("/work/" + e.name + ".x", ""); } catch { /* */ } }
EOF2
)
"$BIN/sluice" run --output-bytes 4096 --file "$T/notes.txt:internal" "$quiet" >/dev/null 2>&1
# a denied read outside /work (the name is built so that the risk rules,
# another layer, do not hold the job for approval)
denied=$(prog denied.ts <<'EOF2'
const p = ["", "etc", "pass" + "wd"].join("/");
try { Deno.readTextFileSync(p); } catch { console.log("denied"); }
EOF2
)
j=$(run_json "$denied")
check "the read outside /work was denied" test "$(jfield "$j" .stdout)" = "denied"
check "Deno's audit lines do not reach the client's stderr" test -z "$(jfield "$j" .stderr)"
sleep 0.3
ev=$("$BIN/sluice" audit tail --data "$D" --json --count 1000 --type file_access)
h=$(fa hidden.txt write)
check "with Deno's audit silenced the write is still recorded by fanotify" \
	test "$(jq -r '"\(.bytes) \(.class) \(.deno)"' <<<"${h:-{\}}")" = "50 internal false"
check "with Deno's audit silenced the read is still recorded" \
	test "$(jq -c "select(.details.path==\"notes.txt\" and .details.op==\"read\" and .details.deno==false)" <<<"$ev" | grep -c .)" -ge 1
p=$(jq -c 'select(.details.path=="/etc/passwd") | .details' <<<"$ev" | head -1)
check "a read of /etc/passwd is recorded as denied (layer deno)" \
	test "$(jq -r '"\(.op) \(.allowed) \(.layer)"' <<<"${p:-{\}}")" = "read false deno"
# --out never writes through a symlink already in the out dir, and files
# asked for but not written make the exit code 1.
sub=$(prog sub.ts <<'EOF2'
Deno.mkdirSync("/work/sub");
Deno.writeTextFileSync("/work/sub/escaped.txt", "out of bounds");
Deno.writeTextFileSync("/work/top.txt", "fine");
EOF2
)
mkdir -p "$T/out3" "$T/elsewhere"
ln -s "$T/elsewhere" "$T/out3/sub"
"$BIN/sluice" run "$sub" --out "$T/out3" >/dev/null 2>"$T/out3.err"; rc=$?
check "--out: a symlinked directory in the out dir is not followed" test ! -e "$T/elsewhere/escaped.txt"
check "... the file is reported and the run exits 1 (rc $rc)" test $rc -eq 1 -a \
	-n "$(grep -o 'out3/sub/escaped.txt: a symlink or a file is in the way' "$T/out3.err")"
check "... the other files are written" test "$(cat "$T/out3/top.txt")" = fine
"$BIN/sluice" run "$sub" --out "$T/out4" >/dev/null 2>&1; rc=$?
check "--out into a fresh dir writes every file, exit 0 (rc $rc)" \
	test $rc -eq 0 -a "$(cat "$T/out4/sub/escaped.txt")" = "out of bounds"

# A result over the 80 MiB one message may take: stdout and stderr each
# within output_bytes (14 MiB of e-mail addresses), which the privacy filter's
# hash mode grows ~3.7x, plus a file.  The files are dropped, the outputs cut
# to fit, the job ends in error saying so, and the worker stays in the farm.
# Before, the broker's socket silently dropped such a DONE at every resend.
big=$(prog big.ts <<'EOF2'
const out = new TextEncoder().encode("a@b.co ".repeat(Math.floor((14 << 20) / 7)));
Deno.stdout.writeSync(out);
Deno.stderr.writeSync(out);
Deno.writeFileSync("/work/big.bin", new Uint8Array(1 << 20));
EOF2
)
r=$("$BIN/sluice" run --json --privacy-mode hash --output-bytes 16777216 "$big" |
	jq -c '{status, reason, truncated, o: (.stdout | length), e: (.stderr | length), f: (.files // [] | length)}')
check "an oversized result ends in error, files dropped ($r)" \
	test "$(jq -r '"\(.status) \(.truncated) \(.f)"' <<<"$r")" = "error true 0"
check "... its reason says why" grep -q "over the 80 MiB one may take: its files were dropped, and its output was cut" <<<"$r"
check "... both outputs are cut to share what fits" \
	test "$(jq '.o > 35000000 and .e > 35000000 and .o + .e < 83886080' <<<"$r")" = true
j=$(timeout 60 "$BIN/sluice" run --json "$ok1")
check "... and the worker (the only one) runs the next job" test "$(jfield "$j" .status)" = ok
exit 0
