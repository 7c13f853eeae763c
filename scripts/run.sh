#!/usr/bin/env bash
# The main job: installs what is missing, starts the local server unless
# DATABASE_URL is set (environment or .env), and runs the tutorial's scenarios.
# Extra arguments go to player-cli, e.g. `scripts/run.sh ping`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/scripts/install-deps.sh" build
export PATH="$HOME/.cargo/bin:$PATH"
if [ -z "${DATABASE_URL:-}" ] && ! grep -qs '^[[:space:]]*DATABASE_URL=' .env; then
  "$root/scripts/local-db.sh" start
fi
# The dev profile: what scripts/test.sh builds too, so the test suite after
# this reuses every compiled dependency (the scenarios need no optimiser).
exec cargo run --quiet -p player-cli -- "$@"
