-- authzen.lua: AuthZEN decision requests over the data set of bench/loadiam (package
-- iamload): POST /access/v1/evaluation, or /access/v1/evaluations with BATCH evaluations
-- per request when BATCH > 0.
--
--   TOKEN=... WORKSPACES=10000 [BATCH=10] wrk -t2 -c64 -d10s --latency -s bench/wrk/authzen.lua URL
--
-- POOL=50000 requests are prepared per wrk thread (see init). Each evaluation picks a random
-- workspace and user of the data set; three in four ask for
-- something the user holds (svc.servers.view on a nic of its server), one in four for
-- something it does not (the same on a server of the next workspace). The caller (TOKEN)
-- must hold glp.authorization.view in every workspace: the bootstrap administrator does.

local dir = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
package.path = dir .. "?.lua;" .. package.path
local report = require("report")

local token = report.require_env("authzen.lua", "TOKEN")
local workspaces = tonumber(report.require_env("authzen.lua", "WORKSPACES"))
local batch = tonumber(os.getenv("BATCH") or "0")
local users = 35

local function id(kind, ws, n)
  return string.format("%08x-%04x-4000-8000-%012x", ws, kind, n)
end

local function resource(ws, path)
  return string.format("grn:glp/workspaces/%08x%04x40008000%012x/regions/default/providers/svc/%s", ws, 0, 0, path)
end

local function evaluation()
  local ws = math.random(0, workspaces - 1)
  local k = math.random(0, users - 1)
  local target = ws
  if math.random(4) == 1 then
    target = (ws + 1) % workspaces
  end
  return string.format(
    '{"subject":{"type":"user","id":"%s"},"action":{"name":"svc.servers.view"},' ..
    '"resource":{"type":"svc/nics","id":"%s"}}',
    id(1, ws, k), resource(target, string.format("servers/%d/nics/0", k)))
end

local path = "/access/v1/evaluation"
if batch > 0 then
  path = "/access/v1/evaluations"
end
local headers = {
  ["Authorization"] = "Bearer " .. token,
  ["Content-Type"] = "application/json",
  ["Accept"] = "application/json",
}

-- Requests are built in init, POOL per thread (default 50,000: spread over the data set
-- enough that caches do not hold what they touch), and sent in turn: building each one as
-- it is sent would cost wrk CPU that the server, on the same cores, then lacks.
local pool_size = tonumber(os.getenv("POOL") or "50000")
local pool = {}
local next_req = 0

local function build()
  local body
  if batch > 0 then
    local items = {}
    for i = 1, batch do
      items[i] = evaluation()
    end
    body = '{"evaluations":[' .. table.concat(items, ",") .. ']}'
  else
    body = evaluation()
  end
  return wrk.format("POST", path, headers, body)
end

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6) + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
  for i = 1, pool_size do
    pool[i] = build()
  end
end

function request()
  next_req = next_req % pool_size + 1
  return pool[next_req]
end
