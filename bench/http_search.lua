-- wrk script for bench/http_bench.py: POSTs pre-encoded search bodies (one JSON per line of
-- the file given as the first script argument) to the path given as the second, cycling
-- through them; prints the latency summary as one JSON line for the driver to parse.
local bodies = {}
local path = "/"
local counter = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  file:close()
  path = args[2]
  -- Each wrk thread starts at a different offset so connections do not replay in lockstep.
  counter = math.random(#bodies) - 1
end

function request()
  counter = counter % #bodies + 1
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, bodies[counter])
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'QUIVER_WRK {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, ' ..
    '"p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, errors, summary.errors.status,
    latency:percentile(50), latency:percentile(99)))
end
