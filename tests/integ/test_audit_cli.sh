#!/usr/bin/env bash
# Integration test of `sluice audit` (through tests/integ/tools/audit_tool until
# client/main.c dispatches to cmd_audit): a real store written by one process,
# read by another while the writer holds it, exported, verified, tampered.
set -u
ROOT=${SLUICE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SLUICE_BUILD:-$ROOT/build}
TOOL=$BUILD/test/audit_tool
T=$(mktemp -d /tmp/test-audit-cli-XXXXXX)
WRITER=
cleanup() { [ -n "$WRITER" ] && kill "$WRITER" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
n=0
check() { # check NAME EXPECTED_RC CMD...
	local name=$1 want=$2; shift 2
	n=$((n + 1))
	"$@" >"$T/out" 2>&1; local rc=$?
	if [ "$rc" -eq "$want" ]; then echo "ok $n - $name"
	else echo "not ok $n - $name (rc $rc, want $want)"; sed 's/^/#   /' "$T/out"; fi
}
grep_check() { # grep_check NAME PATTERN (on the last output)
	n=$((n + 1))
	if grep -q -- "$2" "$T/out"; then echo "ok $n - $1"
	else echo "not ok $n - $1"; sed 's/^/#   /' "$T/out"; fi
}

[ -x "$TOOL" ] || { echo "not ok 1 - $TOOL not built"; exit 1; }

# a writer that keeps the store open and appends every 100 ms
mkfifo "$T/ready"
"$TOOL" gen "$T/data" 200 30 >"$T/ready" 2>"$T/writer.log" &
WRITER=$!
read -r line <"$T/ready"
[ "$line" = ready ] || { echo "not ok 1 - writer did not start"; exit 1; }

check "tail while the writer holds the DB" 0 "$TOOL" audit tail --data "$T/data" --count 5
grep_check "tail prints 5 lines" "worker@host2"
[ "$(wc -l <"$T/out")" -eq 5 ] && echo "ok $((n += 1)) - exactly 5 lines" || echo "not ok $((n += 1)) - $(wc -l <"$T/out") lines"
check "tail --json filtered" 0 "$TOOL" audit tail --data "$T/data" --session s1 --type error --json --count 3
python3 - "$T/out" "$ROOT/schemas/audit_event.schema.json" <<'PY' && echo "ok $((n += 1)) - tail --json lines match the JSON Schema" || echo "not ok $((n += 1)) - schema"
import json, sys
try:
    import jsonschema
except ImportError:
    sys.exit(0)
s = json.load(open(sys.argv[2]))
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 3, lines
for l in lines:
    e = json.loads(l)
    assert e["session"] == "s1" and e["type"] == "error"
    jsonschema.validate(e, s, cls=jsonschema.Draft202012Validator)
PY

# --follow sees new events committed by the other process
timeout 2 "$TOOL" audit tail --data "$T/data" --follow --count 1 >"$T/follow" 2>&1
lines=$(wc -l <"$T/follow")
if [ "$lines" -ge 5 ]; then echo "ok $((n += 1)) - --follow streams new events ($lines lines in 2 s)"
else echo "not ok $((n += 1)) - --follow printed $lines lines"; fi

check "export by session" 0 "$TOOL" audit export --data "$T/data" --session s2 --out "$T/pack"
check "verify" 0 "$TOOL" audit verify "$T/pack"
PK=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['public_key'])" "$T/pack/manifest.json")
check "verify with pinned key" 0 "$TOOL" audit verify "$T/pack" --pubkey "$PK"
check "verify with another key" 1 "$TOOL" audit verify "$T/pack" --pubkey "$(printf '%064d' 1)"
check "export by job" 0 "$TOOL" audit export --data "$T/data" --job j3 --out "$T/pack-job"
check "verify job pack" 0 "$TOOL" audit verify "$T/pack-job"
check "export by time" 0 "$TOOL" audit export --data "$T/data" --since 2000 --until 2999 --out "$T/pack-time"
check "verify time pack" 0 "$TOOL" audit verify "$T/pack-time"

cp -r "$T/pack" "$T/bad"
sed -i '3s/"duration_ms":\([0-9]*\)/"duration_ms":9\1/' "$T/bad/events.jsonl"
check "an edited event fails" 1 "$TOOL" audit verify "$T/bad"
grep_check "the failure names line 3" "line 3"

# a FIFO (or a symlink to one) in place of a pack file: refused at once,
# never waited on (timeout 10 turns a hang into exit 124)
for f in events.jsonl manifest.json chain.json signature; do
	rm -rf "$T/fifo"; cp -r "$T/pack" "$T/fifo"; rm "$T/fifo/$f"; mkfifo "$T/fifo/$f"
	check "verify with a FIFO as $f fails at once" 1 timeout 10 "$TOOL" audit verify "$T/fifo"
done
grep_check "the failure says why" "not a regular file"
rm -rf "$T/fifo"; cp -r "$T/pack" "$T/fifo"; mkfifo "$T/fifo.pipe"
ln -sf "$T/fifo.pipe" "$T/fifo/events.jsonl"
check "verify with events.jsonl a symlink to a FIFO fails at once" 1 timeout 10 "$TOOL" audit verify "$T/fifo"

check "usage: empty --since/--until" 2 "$TOOL" audit export --data "$T/data" --since "" --until "" --out "$T/x"
check "usage: --until not a time" 2 "$TOOL" audit export --data "$T/data" --since 0 --until z --out "$T/x"
grep_check "the refusal shows the form" "2026-11-26T05:40:01.123456789Z"
check "usage: --since not a time" 2 "$TOOL" audit export --data "$T/data" --since yesterday --until 2999 --out "$T/x"
check "usage: --since after --until" 2 "$TOOL" audit export --data "$T/data" --since 2999 --until 2000 --out "$T/x"
grep_check "the refusal says which comes first" "must come before"
check "usage: --since equal to --until" 2 "$TOOL" audit export --data "$T/data" --since 2026-11 --until 2026-11 --out "$T/x"
check "no pack was written by a refused export" 0 test ! -e "$T/x"
check "usage: export without selection" 2 "$TOOL" audit export --data "$T/data" --out "$T/x"
check "usage: unknown subcommand" 2 "$TOOL" audit frobnicate
check "usage: bad --count" 2 "$TOOL" audit tail --data "$T/data" --count -3
check "no store" 1 "$TOOL" audit tail --data "$T/nothing"
check "export into an existing pack" 1 "$TOOL" audit export --data "$T/data" --session s2 --out "$T/pack"
