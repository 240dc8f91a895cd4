-- LuaJIT harness for Envoy HTTP Lua filters (used by lua.ts). It mimics the request-side stream handle API of
-- https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/lua_filter (headers() with
-- get/getAtIndex/getNumValues/add/replace/remove, clearRouteCache(), respond(), log*(), and streamInfo() with
-- dynamicMetadata() get(filterName)/set(filterName, key, value): per stream, shared by every filter of the chain,
-- as Envoy's StreamInfo is), loads each filter source once in its own environment (each defines its own global
-- envoy_on_request, as each Lua filter instance of an Envoy filter chain has its own Lua state), then for each input
-- line runs the filters in order on one handle (a respond() ends the chain) and prints the resulting headers as one
-- JSON line. Input lines: tab-separated, percent-encoded key/value pairs (header names lower-cased by the caller, as
-- HTTP/2 and Envoy do). Argument 1: the first filter file; argument 2: the math.random seed of the batch; arguments
-- 3...: further filter files, run after the first.
local seed = tonumber(arg[2] or "1")
local filter_files = { arg[1] }
for i = 3, #arg do filter_files[#filter_files + 1] = arg[i] end

local function decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == '\\' then return '\\\\' end
    return string.format("\\u%04x", string.byte(c))
  end) .. '"'
end

local function new_headers(pairs_list)
  local order, values = {}, {}
  local function add(k, v)
    k = string.lower(k)
    if values[k] == nil then values[k] = {}; order[#order + 1] = k end
    table.insert(values[k], tostring(v))
  end
  for _, p in ipairs(pairs_list) do add(p[1], p[2]) end
  local h = {}
  function h:get(k)
    local vs = values[string.lower(k)]
    if vs == nil or #vs == 0 then return nil end
    return table.concat(vs, ",")
  end
  function h:getAtIndex(k, i) local vs = values[string.lower(k)]; return vs and vs[i + 1] end
  function h:getNumValues(k) local vs = values[string.lower(k)]; return vs and #vs or 0 end
  function h:add(k, v) add(k, v) end
  function h:replace(k, v)
    k = string.lower(k)
    if values[k] == nil then add(k, v) else values[k] = { tostring(v) } end
  end
  function h:remove(k) values[string.lower(k)] = nil end
  function h:to_json()
    local parts = {}
    for _, k in ipairs(order) do
      local vs = values[k]
      if vs ~= nil then
        local enc = {}
        for i, v in ipairs(vs) do enc[i] = json_string(v) end
        parts[#parts + 1] = json_string(k) .. ":[" .. table.concat(enc, ",") .. "]"
      end
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return h
end

math.randomseed(seed)
local filters = {}
for _, file in ipairs(filter_files) do
  local chunk, load_err = loadfile(file)
  if chunk == nil then
    io.write('{"fatal":' .. json_string(load_err) .. '}\n')
    os.exit(1)
  end
  local env = setmetatable({}, { __index = _G })
  setfenv(chunk, env)
  chunk()
  filters[#filters + 1] = env.envoy_on_request
end

for line in io.lines() do
  local list = {}
  for k, v in string.gmatch(line, "([^\t]*)\t([^\t]*)\t") do list[#list + 1] = { decode(k), decode(v) } end
  local headers = new_headers(list)
  local state = { cleared = false, respond = nil, logs = 0 }
  local metadata = {}
  local dynamic = {}
  function dynamic:get(name) return metadata[name] end
  function dynamic:set(name, key, value)
    metadata[name] = metadata[name] or {}
    metadata[name][key] = value
  end
  local stream_info = {}
  function stream_info:dynamicMetadata() return dynamic end
  local handle = {}
  function handle:headers() return headers end
  function handle:streamInfo() return stream_info end
  function handle:clearRouteCache() state.cleared = true end
  function handle:respond(h, body) state.respond = { status = h and h[":status"] or "200", body = body or "" } end
  for _, level in ipairs({ "logTrace", "logDebug", "logInfo", "logWarn", "logErr", "logCritical" }) do
    handle[level] = function() state.logs = state.logs + 1 end
  end
  local ok, err = true, nil
  for _, f in ipairs(filters) do
    ok, err = pcall(f, handle)
    if not ok or state.respond then break end
  end
  local out = '{"headers":' .. headers:to_json() .. ',"routeCacheCleared":' .. tostring(state.cleared)
  if state.respond then
    out = out .. ',"respond":{"status":' .. json_string(tostring(state.respond.status)) .. ',"body":' .. json_string(tostring(state.respond.body)) .. '}'
  end
  if not ok then out = out .. ',"error":' .. json_string(tostring(err)) end
  io.write(out .. "}\n")
end
