#!/usr/bin/env bash
# The benchmark of docs/benchmarks.md: installs what is missing, starts the local
# server unless --database-url names another, builds the release binaries and
# runs player-bench with the arguments given, e.g.
#
#   scripts/bench.sh --quick                       smoke run of the harness (< 1 min)
#   scripts/bench.sh                               full run (tables on stdout)
#   scripts/bench.sh --write-results docs/benchmarks.md --chart docs/bank-throughput.svg
#
# Progress goes to stderr, tables to stdout. `scripts/bench.sh --help` lists the flags.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# The client is the reference: the server packages bring `mariadb`.
"$root/scripts/install-deps.sh" all
export PATH="$HOME/.cargo/bin:$PATH"
# A server already answering on the local port (e.g. started from another
# checkout) is used as it is.
port=${LOCAL_DB_PORT:-4000}
case " $* " in
  *" --database-url"*) ;;
  *) mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$port" -uroot -e 'DO 1' >/dev/null 2>&1 \
       || "$root/scripts/local-db.sh" start ;;
esac
cargo build --quiet --release -p player-cli -p player-bench
exec "${CARGO_TARGET_DIR:-$root/target}/release/player-bench" "$@"
