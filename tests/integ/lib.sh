# Shared helpers for tests/integ/test_*.sh.  Source it; it sets up a temp dir,
# starts real binaries on ipc:// endpoints inside it, and kills them by pid on
# exit.  Each check prints "ok - NAME" or "not ok - NAME" (tests/run.sh counts
# those lines); "skip - NAME: reason" for what this host cannot do.
set -u
ROOT=${SLUICE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${SLUICE_BUILD:-$ROOT/build}
BIN=$BUILD/bin
TOOLS=$BUILD/test
T=$(mktemp -d /tmp/sluice-integ.XXXXXX)
FRONT=ipc://$T/front
BACK=ipc://$T/back
APPROVALS=ipc://$T/approvals
ALERTS=ipc://$T/alerts
export SLUICE_ALERTS=$ALERTS SLUICE_APPROVER_DATA=$T/approver
export SLUICE_BROKER=$FRONT
PIDS=()
FAILS=0
# Workers run the real jail; SLUICE_WORKER_FLAGS=--insecure-no-jail overrides.
WORKER_FLAGS=${SLUICE_WORKER_FLAGS-}

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	# A killed worker leaves its jobs' tmpfs workspaces mounted.
	awk -v t="$T" 'index($2, t) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	if [ "$FAILS" -gt 0 ]; then
		echo "--- logs of the failed run ($T)"
		tail -n 30 "$T"/*.log 2>/dev/null
	fi
	[ -n "${SLUICE_KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT

ok() { echo "ok - $1"; }
notok() { echo "not ok - $1${2:+: $2}"; FAILS=$((FAILS + 1)); }
skip() { echo "skip - $1: $2"; }
# check NAME CMD...: ok when CMD succeeds.
check() { local n=$1; shift; if "$@"; then ok "$n"; else notok "$n"; fi; }
# wait_for SECONDS CMD...: true as soon as CMD succeeds (polled every 0.1 s).
wait_for() {
	local n=$(( $1 * 10 )); shift
	while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}
# require NAME CMD...: like check, but the rest of the script cannot run without it.
require() { local n=$1; shift; if "$@"; then ok "$n"; else notok "$n" "cannot go on"; exit 1; fi; }

# start_broker [extra flags]: broker on $FRONT/$BACK, pid in BROKER_PID.
start_broker() {
	${SLUICE_BROKER_WRAP:-} "$BIN/sluice-broker" --front "$FRONT" --back "$BACK" --data "$T/broker" \
		--approvals "$APPROVALS" --alerts "$ALERTS" \
		--heartbeat-ms 500 "$@" >>"$T/broker.log" 2>&1 &
	BROKER_PID=$!
	PIDS+=("$BROKER_PID")
}

# start_worker NAME [extra flags]: pid in WORKER_PID (and W_<NAME>).
start_worker() {
	local name=$1; shift
	"$BIN/sluice-worker" --broker "$BACK" --host "$name" --state-dir "$T/$name" \
		--heartbeat-ms 500 $WORKER_FLAGS "$@" >>"$T/$name.log" 2>&1 &
	WORKER_PID=$!
	PIDS+=("$WORKER_PID")
	printf -v "W_$name" '%s' "$WORKER_PID"
}

# start_approver [extra flags]: pid in APPROVER_PID; control socket in $T/approver.
start_approver() {
	"$BIN/sluice-approver" --broker "$APPROVALS" --data "$T/approver" --heartbeat-ms 500 "$@" \
		>>"$T/approver.log" 2>&1 &
	APPROVER_PID=$!
	PIDS+=("$APPROVER_PID")
}

# wait_workers N: until the broker has N workers (10 s at most).
wait_workers() {
	"$BIN/sluice" status --wait-workers "$1" --timeout 10000 >/dev/null
}

# run_json FILE [flags]: runs a job, JSON result on stdout.
run_json() {
	local f=$1; shift
	"$BIN/sluice" run --json "$@" "$f"
}

# jfield JSON FIELD: one field of a JSON object (jq path).
jfield() { printf '%s' "$1" | jq -r "$2"; }

alive() { kill -0 "$1" 2>/dev/null; }

# prog NAME <<'EOF' ... EOF: writes a test program into $T, prints its path.
prog() { cat >"$T/$1"; printf '%s' "$T/$1"; }
