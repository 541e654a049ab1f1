-- wrk: PUT new runs (a new run id on every request) with the same body.
--   BENCH_TOKEN=... wrk ... -s put_runs.lua URL -- RUNS_PATH BODY_FILE
-- RUNS_PATH is /api/v1/org/O/project/P/task-agent/A/run.
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local shared = require("shared")

local prefix, body, headers
local sent = 0

setup = shared.setup

function init(args)
  prefix = args[1] .. "/"
  local file = io.open(args[2], "rb")
  body = file:read("*a")
  file:close()
  headers = shared.bearer_headers()
  headers["Content-Type"] = "application/json"
  -- Run ids differ between threads and between benchmark invocations.
  epoch = os.time()
end

function request()
  sent = sent + 1
  local id = string.format("%08x-%04x-4000-8000-%012x", epoch, number, sent)
  return wrk.format("PUT", prefix .. id, headers, body)
end

done = shared.done
