-- exchange.lua: RFC 8693 token exchange of an MSP's access token at a tenant's token
-- endpoint, in GreenLake's form (no client authentication).
--
--   SUBJECT_TOKEN=... wrk -t2 -c64 -d10s --latency -s bench/wrk/exchange.lua TENANT_TOKEN_URL

local dir = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
package.path = dir .. "?.lua;" .. package.path
local report = require("report")

local subject = report.require_env("exchange.lua", "SUBJECT_TOKEN")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
wrk.body = "grant_type=" .. report.form_encode("urn:ietf:params:oauth:grant-type:token-exchange")
  .. "&subject_token=" .. report.form_encode(subject)
  .. "&subject_token_type=" .. report.form_encode("urn:ietf:params:oauth:token-type:access_token")
