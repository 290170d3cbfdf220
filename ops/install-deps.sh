#!/usr/bin/env bash
# Install everything sluice needs on Debian 12, as root.  Idempotent.
#
#   ops/install-deps.sh              install what is missing (apt, then npm ci)
#   ops/install-deps.sh --if-needed  same, but return at once if all is present
#   ops/install-deps.sh --check      only report; exit 1 if something is missing
#
# Debian packages come from apt; Deno and the MCP servers are pinned in
# package.json / package-lock.json and installed with `npm ci` into node_modules/.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PKGS=(
  build-essential pkg-config clang libclang-rt-14-dev
  libzmq3-dev libczmq-dev libmsgpack-dev libseccomp-dev libhyperscan-dev
  librocksdb-dev libcmocka-dev libjansson-dev libsodium-dev libssl-dev
  nodejs npm iproute2 procps util-linux hyperfine ca-certificates jq psmisc python3
)
PKGCONF=(libczmq libzmq msgpack libseccomp libhs rocksdb jansson libsodium libcrypto cmocka)

missing_apt() {
  local p out=()
  for p in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || out+=("$p")
  done
  # node/npm may come from elsewhere than Debian (a preinstalled toolchain): accept that.
  if command -v node >/dev/null && command -v npm >/dev/null; then
    out=("${out[@]/#nodejs/}"); out=("${out[@]/#npm/}")
  fi
  local x; for x in "${out[@]}"; do [ -n "$x" ] && printf '%s\n' "$x"; done
  return 0
}

# node_modules is current when npm's own record of it is not older than the lock.
npm_ok() {
  [ -x node_modules/.bin/deno ] && [ -f node_modules/.package-lock.json ] &&
    [ ! package-lock.json -nt node_modules/.package-lock.json ]
}

all_present() {
  [ -z "$(missing_apt)" ] || return 1
  pkg-config --exists "${PKGCONF[@]}" || return 1
  npm_ok || return 1
}

case "${1:-}" in
  --check)
    if all_present; then echo "install-deps: everything present"; exit 0; fi
    echo "install-deps: missing: $(missing_apt | tr '\n' ' ') $(npm_ok || echo 'node_modules (npm ci)')"
    exit 1 ;;
  --if-needed)
    all_present && exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--check|--if-needed]" >&2; exit 2 ;;
esac

if [ "$(id -u)" != 0 ]; then
  echo "install-deps: must run as root to install Debian packages" >&2
  exit 1
fi

need=$(missing_apt)
if [ -n "$need" ]; then
  echo "install-deps: apt-get install $(echo $need)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $need
fi

if ! npm_ok; then
  echo "install-deps: npm ci (Deno and MCP servers pinned in package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi
node_modules/.bin/deno --version | head -1
echo "install-deps: done"
