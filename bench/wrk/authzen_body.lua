-- authzen_body.lua: the same AuthZEN evaluation in every request.
--
--   TOKEN=... BODY='{"subject":...}' wrk -t2 -c64 -d10s --latency -s bench/wrk/authzen_body.lua URL
--
-- For a decision whose cost does not depend on which of many entities it names (bench/run.sh
-- scenario h: one conditional assignment, evaluated on every request).

local dir = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
package.path = dir .. "?.lua;" .. package.path
local report = require("report")

local token = report.require_env("authzen_body.lua", "TOKEN")
local body = report.require_env("authzen_body.lua", "BODY")

wrk.method = "POST"
wrk.body = body
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"
