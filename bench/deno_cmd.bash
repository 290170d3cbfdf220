# The worker's Deno flags and environment (worker/warm.h: WARM_DENO_RUN,
# WARM_JOB_ENV without the permission audit; memory_mb 512 by default
# gives --max-old-space-size=384), for the benchmarks that run Deno
# without the farm (latency_lib.bash's bare command, jail.sh, deno_ir.sh).
# Source it; it defines arrays only.
# shellcheck disable=SC2034  # used by the scripts that source it
DENO_RUN=(run --quiet --no-remote --no-npm --cached-only --no-config --no-lock --no-prompt)
DENO_ENV=(NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 DENO_NO_PACKAGE_JSON=1 HOME=/nonexistent
	PATH=/nonexistent LANG=C.UTF-8)
DENO_V8=(--v8-flags=--max-old-space-size=384)
