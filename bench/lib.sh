# Shell functions of the bench's hand tools (bench/profile_get.sh,
# bench/compare_postgres.sh), so that they load a server as the bench's
# scenarios do and the same way as each other. Source it; it needs `here`
# (the bench/ directory).

# wait_for [-f] URL: waits up to 30 s for an HTTP answer at URL: any status
# (the baselines have no probe), or with -f a success (a server's /readyz).
wait_for() {
  local _
  for _ in $(seq 1 300); do
    curl -s -o /dev/null "$@" && return 0
    sleep 0.1
  done
  echo "no answer at ${!#} within 30 s" >&2
  return 1
}

# start_server COMMAND...: starts COMMAND (a server) in the background,
# its output discarded, its process id in `server`. stop_server stops it,
# and does nothing when none runs; call it from an EXIT trap too, so that
# a script that fails midway (a server that never answers) leaves no
# server behind.
server=""
start_server() {
  "$@" >/dev/null 2>&1 &
  server=$!
}
stop_server() {
  [ -n "$server" ] || return 0
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
}

# load_get PORT SECONDS PATHS: the GET scenario's load on 127.0.0.1:PORT
# (wrk, 64 connections, random paths of the file PATHS, the token in
# BENCH_TOKEN), with wrk's latency distribution.
load_get() {
  wrk -t2 -c64 -d"$2"s --latency -s "$here/get_paths.lua" "http://127.0.0.1:$1" -- "$3"
}
