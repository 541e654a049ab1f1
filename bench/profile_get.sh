#!/usr/bin/env bash
# What a GET on SQLite costs beyond the dropshot baseline, per request:
# loads the release server (on the bench's kept 100,000 runs) and then the
# dropshot baseline (on the responses the bench recorded) as the bench's
# GET scenario does (wrk, 64 connections, random paths, the reader's
# token), samples each with `perf record` for SECS seconds, and prints the
# CPU per request of each, by area and by function, and the differences.
# Run it more than once: these machines are noisy.
#
#   cargo xbench run --keep --duration-secs 1 --warmup-secs 0 --rounds 1 \
#     --runs 100000 --list-runs 300 --list-depth 100 --peer-kit none
#   bench/profile_get.sh [SECS] [SERVER_BINARY]
#
# Environment: WORK (the kept work files, default target/bench/work).
set -euo pipefail
seconds=${1:-6}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
server_binary=${2:-$here/../target/release/task-agent-server}
baseline_binary=$here/../target/release/dropshot-baseline
work=${WORK:-$here/../target/bench/work}
out=$(mktemp -d)
trap 'stop_server; rm -rf "$out"' EXIT
port=18779
export BENCH_TOKEN
BENCH_TOKEN=$(cat "$work/SQLite/reader.token")

# profile NAME COMMAND...: starts COMMAND, waits for the port, warms it
# up, then loads it for SECS seconds while perf samples it, and leaves
# NAME.data (perf's samples) and NAME.rps (requests/s of the same seconds).
profile() {
  local name=$1
  shift
  start_server "$@"
  wait_for "http://127.0.0.1:$port/"
  load_get "$port" 3 "$work/SQLite/get-paths.txt" >/dev/null
  load_get "$port" "$seconds" "$work/SQLite/get-paths.txt" >"$out/$name.wrk" &
  local loading=$!
  perf record -F 2999 -p "$server" -o "$out/$name.data" -- sleep "$seconds" >/dev/null 2>&1
  wait "$loading"
  stop_server
  awk '/Requests\/sec/ {print $2}' "$out/$name.wrk" >"$out/$name.rps"
}

profile server "$server_binary" serve --bind "127.0.0.1:$port" \
  --database "sqlite://$(realpath "$work/runs.db")" --dev-issuer \
  --data-dir "$work/issuer" --log-level warn
profile dropshot "$baseline_binary" --bind "127.0.0.1:$port" \
  --responses "$work/SQLite/recorded-responses.tsv"
python3 "$here/profile_diff.py" "$out" "$seconds" server dropshot
