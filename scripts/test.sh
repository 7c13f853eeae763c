#!/usr/bin/env bash
# The whole test suite against a real server: installs what is missing, starts
# the local server (unless TEST_DATABASE_URL names another), and runs every test.
# Each test creates and drops its own database; extra arguments go to `cargo test`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/scripts/install-deps.sh" all
export PATH="$HOME/.cargo/bin:$PATH"
[ -n "${TEST_DATABASE_URL:-}" ] || "$root/scripts/local-db.sh" start   # honours LOCAL_DB_PORT
exec cargo test --workspace --all-targets "$@"
