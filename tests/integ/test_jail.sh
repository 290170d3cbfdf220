#!/usr/bin/env bash
# Integration test of the jail: real Deno programs run through build/test/jailrun.
# Each check prints "ok - name", "not ok - name" or "skip - name: reason".
# Needs root (namespaces, cgroups, tmpfs mounts); without it every check is
# skipped loudly.  The escape programs in tests/escape/ run with Deno's -A
# (all permissions) on purpose: the jail must hold without Deno's own checks.
set -u
ROOT=${SLUICE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SLUICE_BUILD:-$ROOT/build}
JR="$BUILD/test/jailrun"
ESC="$ROOT/tests/escape"
export SLUICE_DENO=${SLUICE_DENO:-$ROOT/node_modules/deno/deno}
TMP=$(mktemp -d /tmp/sluice-test-jail.XXXXXX)
chmod 755 "$TMP"
SERVER_PID=""
UDP_PID=""
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
	[ -n "$UDP_PID" ] && kill "$UDP_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { echo "ok - $1"; }
nok() { echo "not ok - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | head -20 | sed 's/^/#   /'; }
skip() { echo "skip - $1: $2"; }
check() { # name, condition-exit-status, output
	if [ "$2" -eq 0 ]; then ok "$1"; else nok "$1" "$3"; fi
}
field() { printf '%s\n' "$1" | sed -n "s/^jailrun: $2: //p" | head -1; }

NAMES="deno-version ts-program-and-harvest insecure-mode escape-programs"
if [ "$(id -u)" -ne 0 ]; then
	for n in $NAMES; do skip "$n" "needs root (namespaces, cgroups, mounts)"; done
	exit 0
fi
if [ ! -x "$JR" ] || [ ! -x "$(realpath "$SLUICE_DENO" 2>/dev/null)" ]; then
	for n in $NAMES; do skip "$n" "jailrun or deno missing ($JR, $SLUICE_DENO)"; done
	exit 0
fi

# Host features the jail needs; a missing one skips everything (loudly).
missing=""
unshare -Urpmnui --fork true 2>/dev/null || missing="user/pid/mount/net/ipc/uts namespaces (unshare failed)"
if [ ! -d /sys/fs/cgroup/memory ] && ! grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null &&
    ! grep -qw memory /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
	missing="${missing:+$missing, }a memory cgroup controller (v1 or v2)"
fi
if [ -n "$missing" ]; then
	for n in $NAMES; do skip "$n" "host lacks $missing"; done
	exit 0
fi

# run FILE [jailrun options...] -- [deno run options...] [-- script args...]
run() {
	local f=$1; shift
	local opts=() dargs=() sargs=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do dargs+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	sargs=("$@")
	SLUICE_CANARY=canary-$$ timeout 120 "$JR" --collect --parent "$TMP" "${opts[@]}" --file "$f" -- \
	    deno run --no-prompt "${dargs[@]}" "$(basename "$f")" "${sargs[@]}" 2>&1
}
no_escape() { ! printf '%s\n' "$1" | grep -q '^ESCAPED'; }

# 1. the runtime starts in a jail
out=$("$JR" --parent "$TMP" -- deno --version 2>&1)
printf '%s\n' "$out" | grep -q '^deno [0-9]' && [ "$(field "$out" exit_code)" = 0 ]
check "jail: deno --version runs inside the jail" $? "$out"

# 1b. sluice-jail-init, what each jail's init execs once its job runs
JI="$BUILD/bin/sluice-jail-init"
out=$("$JI" 1 -1 1 2>&1); rc=$?
[ $rc -eq 2 ] && printf '%s\n' "$out" | grep -q 'as a jail.s init'
check "jail init: refuses to run outside a pid namespace (its kill(-1) stays in the jail)" $? "rc=$rc $out"
bad=""
for args in "" "1" "1 -1" "x -1 2" "1 -2 2" "1 -1 0" "1 -1 2 3" "99999999999 -1 2" "1 -1 2x"; do
	# shellcheck disable=SC2086 # word splitting wanted
	unshare -p --fork "$JI" $args >/dev/null 2>&1
	rc=$?
	[ $rc -eq 2 ] || bad+="[$args] rc=$rc "
done
[ -z "$bad" ]
check "jail init: bad arguments exit 2, also as pid 1" $? "$bad"
unshare -p --fork "$JI" 1 -1 2 >"$TMP/ji.out" 2>&1; rc=$?
[ $rc -eq 0 ] && [ "$(stat -c %s "$TMP/ji.out")" = 128 ] && head -c 4 "$TMP/ji.out" | od -An -tu4 | grep -qw 2
check "jail init: as pid 1 with no job left, reports STARTED then EXIT and exits 0" $? "rc=$rc $(od -An -tu4 "$TMP/ji.out" | head -3)"
out=$(SLUICE_JAIL_INIT=/nonexistent/sluice-jail-init timeout 20 "$BUILD/bin/sluice-worker" \
    --broker "ipc://$TMP/nobroker" --state-dir "$TMP/wstate" 2>&1); rc=$?
[ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q 'sluice-jail-init not found: /nonexistent/sluice-jail-init'
check "jail init: a worker without it refuses to start, naming where it looked" $? "rc=$rc $out"

# 2. a TypeScript program: identity, hostname, /proc, /etc, output files
cat > "$TMP/prog.ts" <<'TS'
const n: number = 6 * 7;
const pids = [...Deno.readDirSync("/proc")].filter((e) => /^\d+$/.test(e.name)).map((e) => e.name);
let shadow = "absent";
try { Deno.readTextFileSync("/etc/shadow"); shadow = "READ"; } catch { /* */ }
console.log(`answer=${n} uid=${Deno.uid()} host=${Deno.hostname()} pids=${pids.join(",")} shadow=${shadow} cwd=${Deno.cwd()}`);
Deno.mkdirSync("/work/out", { recursive: true });
Deno.writeTextFileSync("/work/out/result.json", JSON.stringify({ n }));
TS
out=$(run "$TMP/prog.ts" -- -A)
printf '%s\n' "$out" | grep -q 'answer=42 uid=1000 host=sluice pids=1,2 shadow=absent cwd=/work'
check "jail: TypeScript runs as uid 1000, hostname sluice, /proc shows only pids 1,2, no /etc/shadow" $? "$out"
printf '%s\n' "$out" | grep -q '^jailrun: file: out/result.json 8$'
check "jail: output file harvested with its relative path" $? "$out"

# 3. insecure mode: plain fork/exec, still an empty environment
out=$(run "$ESC/env_canary.ts" --insecure -- --allow-env)
printf '%s\n' "$out" | grep -q '^BLOCKED: canary env absent' && [ "$(field "$out" exit_code)" = 0 ]
check "insecure: runs, environment is only conf->env" $? "$out"

# 4. escape programs (Deno -A: the jail alone must hold)
python3 -m http.server --bind 127.0.0.1 0 >"$TMP/http.log" 2>&1 &
SERVER_PID=$!
port=""
for _ in $(seq 50); do
	port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$TMP/http.log" | head -1)
	[ -n "$port" ] && break
	sleep 0.1
done
if [ -n "$port" ] && python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null; then
	out=$(run "$ESC/net_fetch_loopback.ts" -- -A -- "http://127.0.0.1:$port/")
	printf '%s\n' "$out" | grep -q '^BLOCKED: fetch' && no_escape "$out"
	check "escape: fetch to a host loopback server fails" $? "$out"
else
	skip "escape: fetch to a host loopback server fails" "could not start a host http server"
fi

python3 -c "
import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('127.0.0.1',0))
print(s.getsockname()[1], flush=True); s.settimeout(30)
try:
    d=s.recv(100); open('$TMP/udp.got','wb').write(d)
except Exception: pass
" >"$TMP/udp.port" &
UDP_PID=$!
sleep 0.3
uport=$(head -1 "$TMP/udp.port")
out=$(run "$ESC/net_udp.ts" -- -A --unstable-net -- "${uport:-9}")
sleep 0.2
printf '%s\n' "$out" | grep -q '^BLOCKED: udp' && no_escape "$out" && [ ! -e "$TMP/udp.got" ]
check "escape: UDP datagram to the host is not sent" $? "$out"

out=$(run "$ESC/net_dns.ts" -- -A)
printf '%s\n' "$out" | grep -q '^BLOCKED: dns' && no_escape "$out"
check "escape: DNS lookup fails" $? "$out"

echo "host secret" > "$TMP/canary.txt"
out=$(run "$ESC/read_host_files.ts" -- -A -- "$TMP/canary.txt" /tmp)
[ "$(printf '%s\n' "$out" | grep -c '^BLOCKED: read')" -eq 8 ] && no_escape "$out"
check "escape: /etc/shadow, host /tmp canary, /root, /home, /var unreadable" $? "$out"

out=$(run "$ESC/write_outside.ts" -- -A)
[ "$(printf '%s\n' "$out" | grep -c '^BLOCKED: write')" -eq 7 ] && printf '%s\n' "$out" | grep -q '^OK:' && no_escape "$out"
check "escape: writes outside /work and /tmp fail" $? "$out"

out=$(run "$ESC/spawn_shell.ts" -- -A)
[ "$(printf '%s\n' "$out" | grep -c '^BLOCKED: spawn')" -eq 3 ] && no_escape "$out"
check "escape: no shell to spawn with Deno.Command" $? "$out"

out=$(run "$ESC/env_canary.ts" -- -A)
printf '%s\n' "$out" | grep -q '^BLOCKED: canary env absent' && no_escape "$out"
check "escape: worker env canary not visible" $? "$out"

out=$(run "$ESC/proc_list.ts" -- -A)
printf '%s\n' "$out" | grep -q '^PIDS: 1,2$' && no_escape "$out"
check "escape: /proc lists only the jail's processes" $? "$out"

out=$(run "$ESC/kill_init.ts" -- -A -- $$ 1)
[ "$(printf '%s\n' "$out" | grep -c '^BLOCKED: kill')" -eq 3 ] && no_escape "$out" && kill -0 $$
check "escape: cannot kill the jail's init or a host process" $? "$out"

out=$(run "$ESC/memory_bomb.ts" --memory 128 -- -A)
[ "$(field "$out" oom)" = 1 ] && no_escape "$out"
check "escape: memory bomb is OOM-killed at the cgroup limit (oom=1)" $? "$out"

out=$(run "$ESC/cpu_loop.ts" --cpu 2 --timeout 30 -- -A)
sig=$(field "$out" term_signal)
{ [ "$sig" = 24 ] || [ "$sig" = 9 ]; } && [ "$(field "$out" timed_out)" = 0 ]
check "escape: CPU loop ended by RLIMIT_CPU (SIGXCPU)" $? "$out"

out=$(run "$ESC/cpu_loop.ts" --timeout 2 -- -A)
[ "$(field "$out" timed_out)" = 1 ] && [ "$(field "$out" term_signal)" = 9 ]
check "escape: CPU loop killed at the wall clock (jail_kill)" $? "$out"

out=$(run "$ESC/worker_bomb.ts" --pids 32 --timeout 60 -- -A)
[ "$(field "$out" timed_out)" = 0 ] && ! printf '%s\n' "$out" | grep -q '^WORKERS: 2000'
check "escape: Worker bomb stopped by the pids limit" $? "$out"

out=$(run "$ESC/output_flood.ts" --max-output 100000 -- -A)
[ "$(field "$out" output_truncated)" = 1 ] && [ "$(field "$out" term_signal)" = 9 ]
check "escape: output flood cut and killed" $? "$(printf '%s\n' "$out" | grep jailrun)"

out=$(run "$ESC/disk_fill.ts" --ws-size 8 -- -A)
printf '%s\n' "$out" | grep -q '^BLOCKED: fill /work after [0-8] MB' &&
    printf '%s\n' "$out" | grep -q '^BLOCKED: fill /tmp after [0-9]* MB' && no_escape "$out"
check "escape: disk fill stops at the /work and /tmp tmpfs limits" $? "$out"

out=$(run "$ESC/link_escape.ts" -- -A)
! printf '%s\n' "$out" | grep -qE '^jailrun: file: (sym_|hard_|real)' &&
    printf '%s\n' "$out" | grep -q '^BLOCKED: hardlink /etc/passwd' && no_escape "$out"
check "escape: symlinks and hard links are not harvested, host hard links fail" $? "$out"

out=$(run "$ESC/remote_import.ts" -- -A)
printf '%s\n' "$out" | grep -q '^BLOCKED: remote import' && no_escape "$out"
check "escape: remote import fails even without --no-remote" $? "$out"

for s in ffi_syscall:unshare ffi_ptrace:ptrace ffi_mount:mount; do
	f=${s%%:*} sc=${s##*:}
	out=$(run "$ESC/$f.ts" -- -A)
	[ "$(field "$out" seccomp_kill)" = 1 ] && [ "$(field "$out" violation)" = "$sc" ] && no_escape "$out"
	check "escape: $sc through FFI is a seccomp violation named \"$sc\"" $? "$out"
done

out=$(run "$ESC/ffi_socket_families.ts" -- -A)
[ "$(printf '%s\n' "$out" | grep -c '^BLOCKED: socket AF_.* errno 97$')" -eq 5 ] &&
    printf '%s\n' "$out" | grep -q '^OK: socket AF_UNIX' &&
    printf '%s\n' "$out" | grep -q '^BLOCKED: clone3 errno 38$' &&
    printf '%s\n' "$out" | grep -q '^BLOCKED: io_uring_setup errno 38$' &&
    [ "$(field "$out" seccomp_kill)" = 0 ] && [ "$(field "$out" exit_code)" = 0 ] && no_escape "$out"
check "escape: only AF_UNIX sockets (others EAFNOSUPPORT), clone3/io_uring ENOSYS, job not killed" $? "$out"

out=$(run "$ESC/ffi_dlopen_work.ts" -- -A)
printf '%s\n' "$out" | grep -q '^BLOCKED: dlopen' && no_escape "$out"
check "escape: a .so written to /work cannot be loaded (noexec)" $? "$out"

# 5. jails side by side
pids=()
for i in 1 2 3 4; do
	run "$TMP/prog.ts" -- -A >"$TMP/par.$i" &
	pids+=($!)
done
wait "${pids[@]}"
good=0
for i in 1 2 3 4; do grep -q 'answer=42 uid=1000 host=sluice pids=1,2' "$TMP/par.$i" && good=$((good + 1)); done
[ "$good" -eq 4 ]
check "jail: four jails run side by side, each sees only its own pids" $? "$(cat "$TMP"/par.*)"

# 6. nothing is left behind
left=$(find /sys/fs/cgroup -maxdepth 6 -type d -name 'jailrun-*' 2>/dev/null; ls "$TMP" | grep jailrun-)
[ -z "$left" ]
check "jail: cgroups and workspaces removed after every run" $? "$left"
