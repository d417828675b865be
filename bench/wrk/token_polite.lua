-- token_polite.lua: token.lua's requests from clients that honour Retry-After, as OAuth
-- client libraries do: after a 503 or 429, the connection waits the seconds the answer asks
-- for before its next request. bench/overload.sh uses it, so that a refused client backs off
-- as a real one would instead of asking again at once (wrk is a closed loop: without this, a
-- refusal only makes room for the same client's next request).
--
--   CLIENT_ID=... CLIENT_SECRET=... wrk -t2 -c160 -d10s --latency -s bench/wrk/token_polite.lua URL

local dir = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
package.path = dir .. "?.lua;" .. package.path
dofile(dir .. "token.lua")

-- wrk calls response() for a connection's answer and then delay() for that connection's
-- next request, in the same thread, so one global carries the wait from one to the other.
local counted = response
local wait_ms = 0

function response(status, headers, body)
  counted(status, headers, body)
  if status == 503 or status == 429 then
    local s = tonumber(headers["Retry-After"] or headers["retry-after"] or "1") or 1
    wait_ms = math.min(s, 10) * 1000
  end
end

function delay()
  local d = wait_ms
  wait_ms = 0
  return d
end
