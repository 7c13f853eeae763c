#!/usr/bin/env bash
# The HTTP service under load, beside the library it serves:
#
#   GET  /players/{id}  with oha, at 1, 16 and 64 connections;
#   POST /trades        with wrk and a Lua script that gives every request a key
#                       of its own (oha sends the same headers on every request,
#                       and a key sent twice is a replay, not a trade);
#   player-cli bank --keyed  (the same keyed trade through the library, no HTTP)
#                       at the same worker counts;
#
# printing requests/s with p50 and p99 latencies, the service's peak memory (VmHWM),
# and its resident size over 600,000 more requests (flat, or it leaks).
# Target: trades over HTTP at 16 connections >= 0.8x the library's, judged on
# the median of ROUNDS more pairs of runs at 16 (one pair is as noisy as the
# machine under it): once with every process on every core, once with the
# local database on cores of its own, as TiDB has.
#
#   scripts/bench-http.sh                 # 10 s per run, 5 rounds
#   SECONDS_PER_RUN=3 ROUNDS=3 scripts/bench-http.sh
#   SERVE_ARGS="--async-threads 1" scripts/bench-http.sh   # flags for the service
#
# Why wrk for the trades, not oha or goose: oha sends the same headers on every
# request; goose (a load test written in Rust against its library) gives each
# request a key, but spent 0.09-0.10 ms of CPU per trade where wrk spends
# 0.02-0.03 ms, on the two cores the service and the database share.
#
# DATABASE_URL names the server (its database part is ignored); the runs use a
# database of their own, `player_bench_http`, and the bank's `player_bank`.
set -euo pipefail
if [ $# -gt 0 ]; then
  echo "error: bench-http takes no arguments ($1 given); set DATABASE_URL, SECONDS_PER_RUN and ROUNDS instead" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
per_run="${SECONDS_PER_RUN:-10}"
rounds="${ROUNDS:-5}"
for v in "$per_run" "$rounds"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "error: SECONDS_PER_RUN and ROUNDS take whole numbers from 1 (got '$v')" >&2; exit 2; }
done
connections=(1 16 64)
server_url="${DATABASE_URL:-mysql://root@127.0.0.1:4000/test}"
base="${server_url%/*}"
query=""
[[ "$server_url" == *\?* ]] && query="?${server_url#*\?}"
db_url="${base}/player_bench_http${query}"

need() { command -v "$1" >/dev/null 2>&1; }
apt_install() {
  if [[ $(id -u) -eq 0 ]]; then apt-get install -y "$@"; else sudo apt-get install -y "$@"; fi
}
need oha || cargo install --locked oha
need wrk || apt_install wrk
need jq || apt_install jq
need curl || apt_install curl

cargo build --release -p player-cli
cli=target/release/player-cli

port="${BENCH_HTTP_PORT:-18181}"
"$cli" --database-url "$db_url" setup >/dev/null 2>&1 || {
  echo "cannot set up $db_url (is the server running? scripts/local-db.sh start)" >&2
  exit 1
}
# SERVE_ARGS is split into words on purpose: several flags may be given.
# shellcheck disable=SC2086
"$cli" --database-url "$db_url" serve --listen "127.0.0.1:$port" --pool-size 64 ${SERVE_ARGS:-} 2>/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/ready" >/dev/null || { echo "the service did not get ready" >&2; exit 1; }

# 100 players rich enough that no trade of the runs is refused.
seed=$(jq -nc '[range(100) | {id: "p\(.)", coins: 1000000000, goods: 1000000000}]')
curl -s -o /dev/null "http://127.0.0.1:$port/players/bulk" \
  -H 'content-type: application/json' -d "$seed" || true

row() { printf '%-30s %5s %10s %9s %9s\n' "$@"; }
ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }

lua=$(mktemp --suffix=.lua)
trap 'kill "$server" 2>/dev/null || true; rm -f "$lua"' EXIT
cat >"$lua" <<'LUA'
-- Each request a key of its own (a prefix per thread and run, then a
-- counter), and a random pair of the 100 players.
local counter = 0
function setup(thread)
  thread:set("prefix", string.format("bench-%d-%d", os.time(), math.random(1, 1e9)))
end
function request()
  counter = counter + 1
  local seller = math.random(0, 99)
  local buyer = (seller + math.random(1, 99)) % 100
  local body = string.format('{"seller":"p%d","buyer":"p%d","amount":1,"price":1}', seller, buyer)
  return wrk.format("POST", "/trades", {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = prefix .. "-" .. counter,
  }, body)
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %.3f %.3f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA

# POST /trades over HTTP at $1 connections: sets http_rps, p50, p99 and
# http_trouble (answers not 2xx and socket errors, if any).
http_trades() {
  # Each run's ledger starts empty, as the bank's does (it empties its own
  # before each run): keys piling up from earlier runs would make each insert
  # into the ledger dearer than the bank's, and the ratio say so.
  "$cli" --database-url "$db_url" ledger prune --older-than 0s >/dev/null 2>&1
  local threads=$(( $1 < 2 ? 1 : 2 )) out bad_status socket_errors
  out=$("${pin[@]}" wrk -t "$threads" -c "$1" -d "${per_run}s" -s "$lua" "http://127.0.0.1:$port" | grep '^RESULT')
  read -r _ http_rps p50 p99 bad_status socket_errors <<<"$out"
  http_trouble=""
  if [[ "$bad_status" != 0 || "$socket_errors" != 0 ]]; then
    http_trouble="  ($bad_status answers not 2xx, $socket_errors socket errors)"
  fi
}

# The same keyed trade through the library at $1 workers: sets bank_json and
# bank_rps.
bank_trades() {
  # BANK_ARGS is split into words on purpose: several flags may be given.
  # shellcheck disable=SC2086
  bank_json=$("${pin[@]}" "$cli" --database-url "$server_url" bank --workers "$1" --players 100 \
    --seconds "$per_run" --json ${BANK_ARGS:---keyed} 2>/dev/null)
  bank_rps=$(jq -r '.trades_per_sec | floor' <<<"$bank_json")
}

pin=() # a command that runs wrk and the bank on chosen cores, when set
ratio() { awk -v h="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", h / b; else print "n/a" }'; }

echo
row "what" "conns" "req/s" "p50 ms" "p99 ms"
# Each connection count in turn, the three runs back to back, so that a
# machine whose load changes (a shared one) weighs on the three alike.
for c in "${connections[@]}"; do
  json=$(oha --no-tui --output-format json -z "${per_run}s" -c "$c" \
    --rand-regex-url "http://127.0.0.1:$port/players/p[0-9]{1,2}")
  row "GET /players/{id} (oha)" "$c" \
    "$(jq -r '.summary.requestsPerSec | floor' <<<"$json")" \
    "$(ms "$(jq -r '.latencyPercentiles.p50' <<<"$json")")" \
    "$(ms "$(jq -r '.latencyPercentiles.p99' <<<"$json")")"

  http_trades "$c"
  row "POST /trades (wrk)" "$c" "$http_rps" "$p50" "$p99"
  [[ -z "$http_trouble" ]] || echo "$http_trouble"
  bank_trades "$c"
  row "player-cli bank --keyed" "$c" "$bank_rps" "$(jq -r '.p50_ms' <<<"$bank_json")" "$(jq -r '.p99_ms' <<<"$bank_json")"
  echo "  trades over HTTP / library at $c: $(ratio "$http_rps" "$bank_rps")x"
done

# The target's ratio again, from ROUNDS pairs of runs back to back at 16,
# and their median. $1 says where the processes ran.
rounds_at_16() {
  local ratios=() r median verdict
  echo
  for r in $(seq "$rounds"); do
    http_trades 16
    bank_trades 16
    ratios+=("$(ratio "$http_rps" "$bank_rps")")
    printf 'round %d at 16 (%s): %s trades/s over HTTP, %s through the library: %sx\n' \
      "$r" "$1" "$http_rps" "$bank_rps" "${ratios[-1]}"
    [[ -z "$http_trouble" ]] || echo "$http_trouble"
  done
  median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  verdict=$(awk -v m="$median" 'BEGIN { print (m >= 0.8) ? "met" : "missed" }')
  echo "median of $rounds rounds ($1): ${median}x (target 0.8x: $verdict)"
}
rounds_at_16 "all on the same cores"

# The same pairs with the database on cores of its own, as TiDB has (it runs
# on machines of its own): the server of scripts/local-db.sh on the upper
# half of the cores; the service, wrk and the bank on the lower half. Above,
# the three share every core, and what the service spends on HTTP is taken
# from the database. Skipped for any other server.
pidf=.local/mariadb/mysqld.pid
cores=$(nproc)
db_pid=$(cat "$pidf" 2>/dev/null || true)
# The pid file may be stale: only a running server of ours is pinned.
if [[ "$server_url" =~ @(127\.0\.0\.1|localhost):${LOCAL_DB_PORT:-4000}(/|$) ]] &&
  [[ -n "$db_pid" && "$(cat "/proc/$db_pid/comm" 2>/dev/null)" =~ ^(mariadbd|mysqld)$ ]] &&
  ((cores >= 2)) && need taskset; then
  half=$((cores / 2))
  mine="0-$((half - 1))"
  theirs="$half-$((cores - 1))"
  every="0-$((cores - 1))"
  was=$(taskset -c -p "$db_pid" | sed 's/.*: //')
  named() { if [[ "${1%-*}" == "${1#*-}" ]]; then echo "core ${1%-*}"; else echo "cores $1"; fi; }
  trap 'taskset -a -p -c "$was" "$db_pid" >/dev/null 2>&1 || true; kill "$server" 2>/dev/null || true; rm -f "$lua"' EXIT
  taskset -a -p -c "$theirs" "$db_pid" >/dev/null
  taskset -a -p -c "$mine" "$server" >/dev/null
  pin=(taskset -c "$mine")
  rounds_at_16 "the database on $(named "$theirs"), the rest on $(named "$mine")"
  pin=()
  taskset -a -p -c "$was" "$db_pid" >/dev/null
  taskset -a -p -c "$every" "$server" >/dev/null
else
  echo "(the database on cores of its own: skipped, for the local server of scripts/local-db.sh on 2 cores or more only)"
fi
peak=$(awk '/VmHWM/ { print $2, $3 }' "/proc/$server/status")
echo
echo "service peak memory (VmHWM): $peak"

# Memory that requests leave behind: the resident size after each of three
# rounds of 200,000 `GET /health`, read 6 s after the round, once the
# metrics' samples (held up to 5 s) are folded. It stays flat once the
# allocator is warm; a size that keeps rising is a leak.
rss() { awk '/VmRSS/ { print $2 }' "/proc/$server/status"; }
sizes=()
for _ in 1 2 3; do
  oha --no-tui -n 200000 -c 16 "http://127.0.0.1:$port/health" >/dev/null
  sleep 6
  sizes+=("$(rss)")
done
printf 'service resident size after 200,000 / 400,000 / 600,000 GET /health: %s / %s / %s kB (the last 200,000: %+d kB)\n' \
  "${sizes[@]}" $(( sizes[2] - sizes[1] ))
