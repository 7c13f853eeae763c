#!/usr/bin/env bash
# Checks that `diesel print-schema` on a freshly migrated database equals the
# committed player-core/src/schema.rs. Installs diesel_cli if it is missing.
# Uses the local server (scripts/local-db.sh start) unless TEST_DATABASE_URL names another;
# the database it creates there is dropped there, by diesel itself.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v diesel >/dev/null 2>&1; then
  cargo install diesel_cli --version '~2.3' --locked --no-default-features --features mysql-bundled
fi
server=${TEST_DATABASE_URL:-mysql://root@127.0.0.1:${LOCAL_DB_PORT:-4000}/}
server=${server%/*}
export DATABASE_URL="$server/schema_check_$$"
trap 'diesel database drop >/dev/null 2>&1 || true' EXIT
# --locked-schema: fail rather than rewrite the committed schema file.
diesel database setup --locked-schema >/dev/null
diesel print-schema | diff -u player-core/src/schema.rs -
echo "check-schema: player-core/src/schema.rs matches diesel print-schema"
