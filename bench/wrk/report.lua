-- report.lua: shared by the wrk scripts in this folder (loaded with require, see token.lua).
--
-- Counts every response whose status is not 2xx, per wrk thread, and prints the totals in
-- done(), so a run that measured errors instead of work is obvious. bench/run.sh reads the
-- line that starts with "bench: non-2xx responses:".
--
-- Counters are plain numeric globals (non2xx, st_<code>) plus two strings, because wrk's
-- thread:get copies scalars between Lua states reliably and tables less so.
--
-- Defining response() makes wrk hand each response to Lua, which costs the generator a
-- little CPU per request; it costs the same in every scenario, so comparisons stay fair.

local M = {}

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

non2xx = 0
first_error = nil

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    local key = "st_" .. status
    _G[key] = (_G[key] or 0) + 1
    if first_error == nil then
      local snippet = (body or ""):sub(1, 200):gsub("%s+", " ")
      snippet = snippet:gsub("^ ", ""):gsub(" $", "")
      first_error = tostring(status) .. " " .. snippet
    end
  end
end

function done(summary, latency, requests)
  local total = 0
  local by_status = {}
  local first = nil
  for _, t in ipairs(threads) do
    total = total + (t:get("non2xx") or 0)
    for code = 100, 599 do
      local n = t:get("st_" .. code)
      if n then
        by_status[code] = (by_status[code] or 0) + n
      end
    end
    if first == nil then
      first = t:get("first_error")
    end
  end
  io.write(string.format("bench: non-2xx responses: %d\n", total))
  if total > 0 then
    local parts = {}
    for code = 100, 599 do
      if by_status[code] then
        table.insert(parts, code .. "=" .. by_status[code])
      end
    end
    io.write("bench: non-2xx by status: " .. table.concat(parts, " ") .. "\n")
    io.write("bench: first non-2xx: " .. (first or "?") .. "\n")
  end
end

-- Percent-encodes s for an application/x-www-form-urlencoded body (RFC 3986 unreserved
-- characters stay as they are).
function M.form_encode(s)
  return (s:gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

-- Returns the environment variable name, or stops wrk with a message naming it. (error()
-- would not do: wrk reports a script error and then runs the test anyway.)
function M.require_env(script, name)
  local v = os.getenv(name)
  if v == nil or v == "" then
    io.stderr:write(script .. ": environment variable " .. name .. " is not set\n")
    os.exit(2)
  end
  return v
end

return M
