#!/usr/bin/env bash
# Local stand-in for TiDB: a MariaDB server from the OS packages on 127.0.0.1:4000,
# user root without password, database `test` created, like `tiup playground`.
# Data lives in .local/mariadb (git-ignored).
#
#   scripts/local-db.sh start    install what is missing (server, build tools), start (idempotent)
#   scripts/local-db.sh stop     stop the server started here
#   scripts/local-db.sh status   say whether it is running
#   scripts/local-db.sh reset    stop and delete its data
#
# Environment: LOCAL_DB_PORT (default 4000).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=${LOCAL_DB_PORT:-4000}
base="$root/.local/mariadb"
data="$base/data"
tmp="$base/tmp"
sock="$base/mysqld.sock"
pidf="$base/mysqld.pid"
log="$base/mysqld.log"

say() { printf 'local-db: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

is_running() { [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; }

client() { mariadb --no-defaults --socket="$sock" -uroot "$@"; }

# The server, and the build tools the project needs next to it (skipped when present).
install_missing() {
  "$root/scripts/install-deps.sh" all
}

start() {
  install_missing
  mkdir -p "$base" "$tmp"
  if is_running; then
    say "already running on 127.0.0.1:$port (pid $(cat "$pidf"))"
    return 0
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    # A server started elsewhere (another checkout, tiup playground) that takes
    # root without a password is as good as ours.
    if mariadb --no-defaults --protocol=tcp -h127.0.0.1 -P"$port" -uroot \
        -e 'CREATE DATABASE IF NOT EXISTS test' >/dev/null 2>&1; then
      say "a server started elsewhere answers on 127.0.0.1:$port; using it"
      return 0
    fi
    die "port $port is taken by another program; stop it or set LOCAL_DB_PORT"
  fi
  local fresh=0
  if [ ! -d "$data/mysql" ]; then
    fresh=1
    say "initialising $data"
    mariadb-install-db --no-defaults --datadir="$data" --tmpdir="$tmp" --auth-root-authentication-method=normal \
      --skip-test-db ${user_flag[@]+"${user_flag[@]}"} >"$base/install.log" 2>&1 \
      || { cat "$base/install.log" >&2; die "mariadb-install-db failed"; }
  fi
  say "starting MariaDB on 127.0.0.1:$port"
  # Settings close to TiDB's defaults: strict SQL mode, utf8mb4 with a binary collation.
  mariadbd --no-defaults ${user_flag[@]+"${user_flag[@]}"} \
    --datadir="$data" --tmpdir="$tmp" --socket="$sock" --pid-file="$pidf" --log-error="$log" \
    --bind-address=127.0.0.1 --port="$port" --skip-name-resolve \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
    --sql-mode=ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION \
    --transaction-isolation=REPEATABLE-READ --max-connections=500 \
    --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=1 \
    </dev/null >/dev/null 2>&1 &
  local i
  for i in $(seq 1 120); do
    if client -e 'SELECT 1' >/dev/null 2>&1; then break; fi
    if ! kill -0 $! 2>/dev/null; then tail -n 20 "$log" >&2 || true; die "the server exited while starting"; fi
    sleep 0.5
  done
  client -e 'SELECT 1' >/dev/null 2>&1 || { tail -n 20 "$log" >&2 || true; die "the server did not answer within 60 s"; }
  if [ "$fresh" = 1 ]; then
    # TCP connections from 127.0.0.1 are not `localhost` with --skip-name-resolve.
    client -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
               GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
               FLUSH PRIVILEGES;"
  fi
  client -e 'CREATE DATABASE IF NOT EXISTS test'
  say "ready: mysql://root@127.0.0.1:$port/test"
}

stop() {
  if ! is_running; then say "not running"; return 0; fi
  local pid; pid=$(cat "$pidf")
  kill "$pid"
  local i
  for i in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || { say "stopped"; return 0; }; sleep 0.5; done
  die "pid $pid did not stop within 60 s"
}

user_flag=()
[ "$(id -u)" = 0 ] && user_flag=(--user=root)

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if is_running; then say "running on 127.0.0.1:$port (pid $(cat "$pidf"))"; else say "not running"; exit 3; fi ;;
  reset) stop; rm -rf "$base"; say "data deleted" ;;
  *) echo "usage: $0 start|stop|status|reset" >&2; exit 2 ;;
esac
