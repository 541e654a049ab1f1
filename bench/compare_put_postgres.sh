#!/usr/bin/env bash
# PUT on PostgreSQL, build against build: each round starts every given
# server binary in turn on a fresh database and loads it as the bench's PUT
# scenario does (wrk, 16 connections, bench/put_runs.lua, the bench's body
# and writer token); prints one line per binary and round. Compare medians,
# and rounds of the same minute, never one figure alone.
#
#   cargo xbench run --keep --duration-secs 1 --warmup-secs 0 --rounds 1 \
#     --runs 300 --list-runs 300 --list-depth 100 --peer-kit none
#   bench/compare_put_postgres.sh 5 10 old/task-agent-server \
#     target/release/task-agent-server 'target/release/task-agent-server|?sslmode=disable'
#
# An argument BINARY|SUFFIX appends SUFFIX to the database URL the server
# gets. Environment: WORK (the kept work files, default target/bench/work),
# POSTGRES (a server URL psql accepts, default the bench's).
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,15p' "$0" >&2
  exit 2
fi
rounds=$1 seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
work=${WORK:-$here/../target/bench/work}
postgres=${POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}
database=task_agent_compare_put
database_url="${postgres%/*}/$database"
first_path=$(head -1 "$work/PostgreSQL/get-paths.txt")
runs=${first_path%/*}
org=$(echo "$first_path" | cut -d/ -f5)
export BENCH_TOKEN
BENCH_TOKEN=$(cat "$work/PostgreSQL/writer.token")
port=18777
load() {
  wrk -t2 -c16 -d"$1"s --latency -s "$here/put_runs.lua" "http://127.0.0.1:$port" \
    -- "$runs" "$work/PostgreSQL/put-body.json"
}
for round in $(seq 1 "$rounds"); do
  for entry in "$@"; do
    binary=${entry%%|*} suffix=""
    [ "$entry" != "$binary" ] && suffix=${entry#*|}
    psql -q "$postgres" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" \
      -c "CREATE DATABASE $database" 2>/dev/null
    "$binary" members add --database "$database_url" --org "$org" \
      --subject bench-writer --role writer >/dev/null
    "$binary" serve --bind "127.0.0.1:$port" --database "$database_url$suffix" \
      --dev-issuer --data-dir "$work/issuer" --log-level warn 2>/dev/null &
    server=$!
    for _ in $(seq 1 100); do
      curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
      sleep 0.1
    done
    load 3 >/dev/null
    # Statistics of the warmed-up table (a fresh one's would plan the
    # writes' lookups on the wrong index) and a checkpoint, so that no
    # round pays for another's full-page writes.
    psql -q "$database_url" -c "ANALYZE task_agent_runs" -c CHECKPOINT
    out=$(load "$seconds")
    echo "round $round $binary$suffix" \
      "writes/s=$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
      "p50=$(echo "$out" | awk '$1 == "50%" {print $2}')" \
      "non-2xx=$(echo "$out" | awk '/Non-2xx/ {n = $NF} END {print n + 0}')" \
      "load=$(cut -d' ' -f1 /proc/loadavg)"
    kill "$server"
    wait "$server" 2>/dev/null || true
  done
done
psql -q "$postgres" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"
