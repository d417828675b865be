-- token.lua: OAuth 2.0 client_credentials token requests (RFC 6749 section 4.4) with
-- client_secret_post: the client id and secret travel in the form body.
--
--   CLIENT_ID=... CLIENT_SECRET=... wrk -t2 -c64 -d10s --latency -s bench/wrk/token.lua URL
--
-- URL is the token endpoint (keyhold's tokenUrl, or the minimal signer's /token).

local dir = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
package.path = dir .. "?.lua;" .. package.path
local report = require("report")

local client_id = report.require_env("token.lua", "CLIENT_ID")
local client_secret = report.require_env("token.lua", "CLIENT_SECRET")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
wrk.body = "grant_type=client_credentials"
  .. "&client_id=" .. report.form_encode(client_id)
  .. "&client_secret=" .. report.form_encode(client_secret)
