-- wrk: GET random paths of a file (one per line) with a bearer token.
--   BENCH_TOKEN=... wrk ... -s get_paths.lua URL -- PATHS_FILE
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local shared = require("shared")

local paths = {}
local headers

setup = shared.setup

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  headers = shared.bearer_headers()
  math.randomseed(7919 * (number or 1))
end

function request()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end

done = shared.done
