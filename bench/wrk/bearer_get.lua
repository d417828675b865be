-- bearer_get.lua: GET requests carrying an access token (RFC 6750 Authorization header).
--
--   TOKEN=... wrk -t2 -c64 -d10s --latency -s bench/wrk/bearer_get.lua URL
--
-- URL is the resource to read, e.g. keyhold's /workspaces/v1/credentials. The token is
-- fixed for the whole run: keep the run shorter than its lifetime (900 s for keyhold).

local dir = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
package.path = dir .. "?.lua;" .. package.path
local report = require("report")

local token = report.require_env("bearer_get.lua", "TOKEN")

wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Accept"] = "application/json"
