#!/usr/bin/env bash
# Contract tests: schemathesis drives a live, authenticated server on
# loopback from openapi.yaml (examples, coverage, fuzzing and stateful
# sequences) with every check on. Exits non-zero on any failure.
#
#   scripts/conformance.sh [--max-examples N] [--seed N]
#
# Needs schemathesis on PATH (or SCHEMATHESIS=/path/to/st) and the
# task-agent-server binary (built here with cargo if TASK_AGENT_SERVER is not set).
set -euo pipefail
cd "$(dirname "$0")/.."

max_examples=60 seed=20261128
while [ $# -gt 0 ]; do
  case "$1" in
    --max-examples) max_examples="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

st="${SCHEMATHESIS:-st}"
server="${TASK_AGENT_SERVER:-}"
if [ -z "$server" ]; then
  cargo build --quiet -p task-agent-server
  server="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/task-agent-server"
fi

work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
org=5c4e6d2a-8a4b-4c1e-9d3f-1a2b3c4d5e6f project=6d5f7e3b-9b5c-4d2f-8e4a-2b3c4d5e6f70 agent=7e6a8f4c-ac6d-4e3a-9f5b-3c4d5e6f7081
database="sqlite://$work/runs.db"

"$server" members add --database "$database" --org "$org" --subject conformance --role writer
token="$("$server" token --data-dir "$work" --sub conformance --scope task_agent_runs:write --ttl-secs 3600)"
"$server" serve --bind "127.0.0.1:$port" --database "$database" --dev-issuer --data-dir "$work" \
  --log-level warn > "$work/server.log" 2>&1 &
pid=$!
ready=false
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" > /dev/null 2>&1 && ready=true && break
  sleep 0.1
done
if [ "$ready" != true ]; then
  echo "the server did not become ready in 10 s; its log:" >&2
  cat "$work/server.log" >&2
  exit 1
fi

# Every operation works on one organization the token is a writer of, so
# that requests reach the handlers instead of stopping at 403; run ids vary.
# Valid data may still be refused for what a schema cannot say: 409 (a
# finished run cannot change), 412 (a stale If-Match), 422 (a documented rule
# such as total_tokens = input_tokens + output_tokens, or created_after later
# than created_before).
cat > "$work/schemathesis.toml" <<TOML
[parameters]
org_id = "$org"
project_id = "$project"
task_agent_id = "$agent"

[checks.positive_data_acceptance]
expected-statuses = ["2XX", "401", "403", "404", "409", "412", "422"]
TOML

status=0
"$st" --config-file "$work/schemathesis.toml" run openapi.yaml \
  --url "http://127.0.0.1:$port" \
  --header "Authorization: Bearer $token" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$max_examples" \
  --seed "$seed" \
  --workers 1 \
  --report junit --report-dir "$work/report" \
  || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log ---" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
