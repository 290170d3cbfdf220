#!/usr/bin/env bash
# `make bench`: every benchmark in bench/, one after the other.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.."
for b in bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "=== $b"
	bash "$b" "$BUILD"
done
for b in "$BUILD"/bench/bench_*; do
	[ -x "$b" ] || continue
	echo "=== $b"
	"$b"
done
