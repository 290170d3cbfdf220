# The worker's Deno flags and environment (worker/warm.h: WARM_DENO_RUN,
# WARM_JOB_ENV without the permission audit; memory_mb 512 by default
# gives --max-old-space-size=384), for the benchmarks that run Deno
# without the farm (latency_lib.bash's bare command, jail.sh, deno_ir.sh).
# Source it; it defines arrays and one function.
# shellcheck disable=SC2034  # used by the scripts that source it
DENO_RUN=(run --quiet --no-remote --no-npm --cached-only --no-config --no-lock --no-prompt)
DENO_ENV=(NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 DENO_NO_PACKAGE_JSON=1 HOME=/nonexistent
	PATH=/nonexistent LANG=C.UTF-8)
DENO_V8=(--v8-flags=--max-old-space-size=384)
# The stand-ins a jail's init puts in its fresh DENO_DIR (worker/jail_mnt.c):
# a directory where each SQLite cache would be, so Deno keeps them in memory.
# deno_jail_dir DIR: makes DIR as a jail's DENO_DIR is.
DENO_CACHES=(dep_analysis_cache_v2 node_analysis_cache_v2 v8_code_cache_v2)
deno_jail_dir() {
	local c
	mkdir -p "$1" || return 1
	for c in "${DENO_CACHES[@]}"; do mkdir "$1/$c" || return 1; done
}
