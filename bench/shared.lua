-- Shared by the bench's wrk scripts: thread numbering, the bearer token, and
-- the result as one JSON line.
local shared = {}

local threads = 0

-- wrk's setup hook: gives each thread a distinct `number` (its seeds and ids).
function shared.setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end

-- Request headers carrying the token of $BENCH_TOKEN.
function shared.bearer_headers()
  return { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }
end

function shared.done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  local function ms(us) return us / 1000 end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"elapsed_s":%.3f,"requests_per_s":%.1f,' ..
    '"latency_ms":{"p50":%.3f,"p90":%.3f,"p99":%.3f,"max":%.3f},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d}}\n',
    summary.requests, seconds, summary.requests / seconds,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)), ms(latency.max),
    errors.connect, errors.read, errors.write, errors.timeout, errors.status))
end

return shared
