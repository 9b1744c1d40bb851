-- wrk load for sfmc-sim: POSTs a two-recipient SMS batch with a valid token.
--   SIM_TOKEN=$(curl -s -X POST "$URL/v2/token" -H 'Content-Type: application/json' \
--     -d '{"grant_type":"client_credentials","client_id":"sim-client","client_secret":"sim-secret"}' \
--     | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
--   SIM_TOKEN=$SIM_TOKEN wrk -t2 -c64 -d10s -s tests/sim/bench-sms.lua "$URL"
-- For long runs start the simulator with --record-limit 0 and a short
-- --message-key-window (e.g. 60), so its memory stays flat; GET /_sim/stats
-- afterwards gives the counts by status.
-- No messageKeys in the body: the simulator generates them, so no request is
-- refused as a duplicate. Any non-2xx answer (e.g. 401) shows in "Non-2xx".
local token = os.getenv("SIM_TOKEN")
if token == nil or token == "" then
  error("set SIM_TOKEN to a token from POST /v2/token")
end

wrk.method = "POST"
wrk.path = "/messaging/v1/sms/messages/"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = '{"definitionKey":"bench","recipients":['
  .. '{"to":"15555550001","contactKey":"c1","attributes":{"FirstName":"Ann"}},'
  .. '{"to":"15555550002","contactKey":"c2","attributes":{"FirstName":"Bob"}}]}'

function done(summary, latency, requests)
  io.write(string.format("non-2xx: %d, socket errors: connect %d read %d write %d timeout %d\n",
    summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
end
