#!/usr/bin/env bash
# The benchmark of docs/benchmarks.md: installs what is missing, starts the local
# server unless --database-url names another, builds the release binaries and
# runs player-bench with the arguments given, e.g.
#
#   scripts/bench.sh --quick                       smoke run of the harness (< 1 min)
#   scripts/bench.sh                               full run (tables on stdout)
#   scripts/bench.sh --write-results docs/benchmarks.md --rtt-ms 0,1,5
#                                                  update the results, round-trip part included
#   scripts/bench.sh --http                        the HTTP service under load instead
#                                                  (scripts/bench-http.sh; docs/http.md)
#
# Progress goes to stderr, tables to stdout. `scripts/bench.sh --help` lists the flags.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# The client is the reference: the server packages bring `mariadb`.
"$root/scripts/install-deps.sh" all
export PATH="$HOME/.cargo/bin:$PATH"

# The tutorial's own stack for the peewee columns: peewee and PyMySQL in a
# git-ignored virtual environment, skipped when it is already there. If it
# cannot be made, player-bench skips those columns and says why.
install_peewee() {
  local venv="$root/.local/peewee-venv"
  "$venv/bin/python" -c 'import peewee, pymysql' >/dev/null 2>&1 && return 0
  command -v python3 >/dev/null 2>&1 || { echo "bench: no python3; the peewee columns will be skipped" >&2; return 0; }
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    local sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    echo "bench: installing python3-venv" >&2
    { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq python3-venv >/dev/null; } \
      || { echo "bench: cannot install python3-venv; the peewee columns will be skipped" >&2; return 0; }
  fi
  echo "bench: installing peewee and PyMySQL into .local/peewee-venv" >&2
  rm -rf "$venv"
  { python3 -m venv "$venv" && "$venv/bin/pip" install -q -r "$root/player-bench/peewee/requirements.txt"; } \
    || echo "bench: could not install peewee; its columns will be skipped" >&2
}
install_peewee
# A server already answering on the local port (e.g. started from another
# checkout) is used as it is.
port=${LOCAL_DB_PORT:-4000}
case " $* " in
  *" --database-url"*) ;;
  *) mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$port" -uroot -e 'DO 1' >/dev/null 2>&1 \
       || "$root/scripts/local-db.sh" start ;;
esac
if [ "${1:-}" = --http ]; then
  shift
  exec "$root/scripts/bench-http.sh" "$@"
fi
cargo build --quiet --release -p player-cli -p player-bench
exec "${CARGO_TARGET_DIR:-$root/target}/release/player-bench" "$@"
