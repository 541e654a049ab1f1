#!/usr/bin/env bash
# GET or PUT on PostgreSQL, build against build: each round starts every
# given server binary in turn and loads it as the bench's scenario does
# (wrk; GET: 64 connections, bench/get_paths.lua on 100,000 runs seeded
# once; PUT: 16 connections, bench/put_runs.lua on a fresh database each
# time), with the bench's tokens; prints one line per binary and round.
# Compare medians, and rounds of the same minute, never one figure alone.
#
#   cargo xbench run --keep --duration-secs 1 --warmup-secs 0 --rounds 1 \
#     --runs 100000 --list-runs 300 --list-depth 100 --peer-kit none
#   bench/compare_postgres.sh get 5 10 old/task-agent-server \
#     target/release/task-agent-server
#   POSTGRES='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' \
#     bench/compare_postgres.sh get 5 10 target/release/task-agent-server \
#     'target/release/task-agent-server|&sslmode=prefer'
#
# An argument BINARY|SUFFIX appends SUFFIX to the database URL the server
# gets (the last `sslmode` wins; an added `host` is only tried after the
# URL's own, so TCP against the socket takes two runs with two POSTGRES).
# Environment: WORK (the kept work files, default target/bench/work),
# POSTGRES (a server URL psql accepts, whose parameters the servers get
# too; default the bench's: the Unix socket, no TLS).
set -euo pipefail
if [ $# -lt 4 ] || { [ "$1" != get ] && [ "$1" != put ]; }; then
  sed -n '2,22p' "$0" >&2
  exit 2
fi
scenario=$1 rounds=$2 seconds=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
work=${WORK:-$here/../target/bench/work}
postgres=${POSTGRES:-postgres://postgres@%2Fvar%2Frun%2Fpostgresql/postgres}
database=task_agent_compare
# The same server and parameters, another database: libpq and the server
# both take a `dbname` parameter over the URL's path.
case $postgres in
  *\?*) database_url="$postgres&dbname=$database" ;;
  *) database_url="$postgres?dbname=$database" ;;
esac
paths="$work/PostgreSQL/get-paths.txt"
first_path=$(head -1 "$paths")
org=$(echo "$first_path" | cut -d/ -f5)
port=18777
export BENCH_TOKEN
trap stop_server EXIT
fresh_database() {
  psql -q "$postgres" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" \
    -c "CREATE DATABASE $database" 2>/dev/null
}
case $scenario in
  get)
    BENCH_TOKEN=$(cat "$work/PostgreSQL/reader.token")
    load() {
      load_get "$port" "$1" "$paths"
    }
    # The bench's runs (its generator's seed 1, four task agents), once.
    fresh_database
    "$here/../target/release/task-agent-bench" sample-runs --count "$(wc -l < "$paths")" |
      "$1" import --database "$database_url" /dev/stdin >/dev/null
    "$1" members add --database "$database_url" --org "$org" \
      --subject bench-reader --role reader >/dev/null
    psql -q "$database_url" -c "VACUUM ANALYZE task_agent_runs" -c CHECKPOINT
    ;;
  put)
    BENCH_TOKEN=$(cat "$work/PostgreSQL/writer.token")
    load() {
      wrk -t2 -c16 -d"$1"s --latency -s "$here/put_runs.lua" "http://127.0.0.1:$port" \
        -- "${first_path%/*}" "$work/PostgreSQL/put-body.json"
    }
    ;;
esac
for round in $(seq 1 "$rounds"); do
  for entry in "$@"; do
    binary=${entry%%|*} suffix=""
    [ "$entry" != "$binary" ] && suffix=${entry#*|}
    if [ "$scenario" = put ]; then
      fresh_database
      "$binary" members add --database "$database_url" --org "$org" \
        --subject bench-writer --role writer >/dev/null
    fi
    start_server "$binary" serve --bind "127.0.0.1:$port" \
      --database "$database_url$suffix" --dev-issuer --data-dir "$work/issuer" \
      --log-level warn
    wait_for -f "http://127.0.0.1:$port/readyz"
    load 3 >/dev/null
    if [ "$scenario" = put ]; then
      # Statistics of the warmed-up table (a fresh one's would plan the
      # writes' lookups on the wrong index) and a checkpoint, so that no
      # round pays for another's full-page writes.
      psql -q "$database_url" -c "ANALYZE task_agent_runs" -c CHECKPOINT
    fi
    out=$(load "$seconds")
    echo "round $round $binary$suffix" \
      "requests/s=$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
      "p50=$(echo "$out" | awk '$1 == "50%" {print $2}')" \
      "p99=$(echo "$out" | awk '$1 == "99%" {print $2}')" \
      "non-2xx=$(echo "$out" | awk '/Non-2xx/ {n = $NF} END {print n + 0}')" \
      "load=$(cut -d' ' -f1 /proc/loadavg)"
    stop_server
  done
done
psql -q "$postgres" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"
