-- wrk load for sfmc-sim with the benchmark's own request bodies: the HTTP
-- limit of tests/bench/run-bench. Each request POSTs the next body of
-- BENCH_BODIES (one JSON body per line, from `kafka_bench bodies`: the same
-- 1-2 KB one-recipient SMS sends the relay is fed, without messageKeys, so
-- the simulator makes them and nothing is refused as a duplicate).
--   SIM_TOKEN=<token from POST /v2/token> BENCH_BODIES=bodies.txt \
--     wrk -t2 -c128 -d10s -s tests/bench/relay-bench.lua "$URL"
local token = os.getenv("SIM_TOKEN")
local path = os.getenv("BENCH_BODIES")
if token == nil or token == "" then error("set SIM_TOKEN to a token from POST /v2/token") end
if path == nil or path == "" then error("set BENCH_BODIES to a file of request bodies") end

local bodies = {}
for line in io.lines(path) do
  if #line > 0 then bodies[#bodies + 1] = line end
end
if #bodies == 0 then error("no bodies in " .. path) end

local headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json",
                 ["Authorization"] = "Bearer " .. token}
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("offset", next_id * 7919)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local i = 0
function init(args)
  i = offset or 0
end

function request()
  i = i + 1
  return wrk.format("POST", "/messaging/v1/sms/messages/", headers, bodies[(i % #bodies) + 1])
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx: %d, socket errors: connect %d read %d write %d timeout %d\n",
    summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
end
