#!/usr/bin/env bash
# Installs what building and running this project needs on Debian or Ubuntu,
# skipping what is already there.
#
#   scripts/install-deps.sh build    C/C++ tool chain, CMake and OpenSSL headers
#                                    (mysqlclient-sys builds the MySQL client library)
#   scripts/install-deps.sh server   MariaDB server and client (the local stand-in for TiDB)
#   scripts/install-deps.sh all      both
#
# Needs root or sudo for apt-get. A missing Rust tool chain is installed with rustup.
set -euo pipefail

say() { printf 'install-deps: %s\n' "$*" >&2; }

apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || { say "error: apt-get not found; install ${missing[*]} by hand"; exit 1; }
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  say "installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_rust() {
  command -v cargo >/dev/null 2>&1 && return 0
  [ -x "$HOME/.cargo/bin/cargo" ] && return 0
  apt_install curl ca-certificates
  say "installing the Rust tool chain with rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt
}

case "${1:-all}" in
  build) apt_install build-essential cmake pkg-config libssl-dev; ensure_rust ;;
  server) apt_install mariadb-server mariadb-client ;;
  all) apt_install build-essential cmake pkg-config libssl-dev mariadb-server mariadb-client; ensure_rust ;;
  *) echo "usage: $0 build|server|all" >&2; exit 2 ;;
esac
