--[[
  Records one event in its user's baseline (the networks, countries and clients a user has been seen with)
  and returns the baseline after it, with the user's previous located observation from before it.

  Input:
    KEYS[1] user baseline hash   rg:{u:<user hash>}:b
    ARGV[1] event time, epoch ms (an integer)
    ARGV[2] ttl, seconds
    ARGV[3] cap of values per kind (least recently seen evicted)
    ARGV[4] 1 to learn this event's values, 0 to leave them out (anonymizer/relay/Tor traffic, failed logins:
            a baseline must not learn the attacker's network)
    ARGV[5] location "lat|lon|accuracy_km|network|session", or '' when the event has none
    ARGV[6] the event's values as their hash fields, `v:<kind>:<value>` (kind: asn|country|client), each as
            "<bytes>:<field>" ("11:v:asn:7922" ...)
    ARGV[7] TTL refresh step, ms of event time: an event that learns nothing new re-applies the TTL only when
            the user's event time moved this far since the last refresh (0: every event)
    ARGV[8] the event count of the caller's own copy of this baseline ('0': it expects none), or '': when the
            baseline is at that count before this event, it is not sent back: the caller applies the event to its
            copy, with the values this event evicted (if any)

  Baseline hash fields:
    f   first event time      n   events recorded
    g   last location "time|lat|lon|acc|network|session"
    k:<kind>  values held for kind
    v:<kind>:<value>  "first|last|count"
    tk  values (ARGV[6]) of the latest learning event   tl / tc  its time, and how many learning events in a row
        had those same values since they were last written: those values' count is their own plus tc, and
        their last sight is max(their own last, tl)
    x   event time of the last TTL refresh

  Output: { previous location or false, n, evicted, flat HGETALL of the baseline }, or, when the caller's copy is
          current (see ARGV[8]): { previous location or false, n, evicted value fields (`v:<kind>:<value>`) }
]]
local key = KEYS[1]
local ts = ARGV[1]
local t = tonumber(ts)
local ttl = ARGV[2]
local cap = tonumber(ARGV[3])
local learn = ARGV[4] == '1'
local loc = ARGV[5]
local tuple = ARGV[6]
local refresh = tonumber(ARGV[7])
local expected = ARGV[8]

local head = redis.call('HMGET', key, 'n', 'f', 'g', 'tk', 'tl', 'tc', 'x')
local before = head[1] or '0'
local n = tonumber(before) + 1
local prevLoc = head[3]
local w, nw = { 'n', n }, 2
local function put(k, v)
  w[nw + 1] = k
  w[nw + 2] = v
  nw = nw + 2
end
local f = tonumber(head[2])
if not f or t < f then put('f', ts) end
-- Only a newer observation moves the user's last location (late events don't rewind it).
if loc ~= '' then
  local prevTime = prevLoc and tonumber(string.match(prevLoc, '^([^|]*)'))
  if not prevTime or t >= prevTime then put('g', ts .. '|' .. loc) end
end

local tl = tonumber(head[5])
local simple = not learn or tuple == '' or (head[4] == tuple and tl and t >= tl)
if simple then
  if learn and tuple ~= '' then
    put('tl', ts)
    put('tc', (tonumber(head[6]) or 0) + 1)
  end
  local x = tonumber(head[7])
  local refreshNow = not x or t - x >= refresh
  if refreshNow then put('x', ts) end
  redis.call('HSET', key, unpack(w, 1, nw))
  if refreshNow then redis.call('EXPIRE', key, ttl) end
  if expected == before then return { prevLoc or false, n, {} } end
  return { prevLoc or false, n, {}, redis.call('HGETALL', key) }
end
local evicted = {}

-- "<bytes>:<item>" pairs into a list.
local function items(s)
  local out, pos, len = {}, 1, #s
  while pos <= len do
    local c = string.find(s, ':', pos, true)
    local size = tonumber(string.sub(s, pos, c - 1))
    out[#out + 1] = string.sub(s, c + 1, c + size)
    pos = c + size + 1
  end
  return out
end

-- Write the pending count and last sight of the previous values before anything reads them.
local tc = tonumber(head[6]) or 0
if head[4] and tl and head[4] ~= '' then
  local keys = items(head[4])
  local vals = redis.call('HMGET', key, unpack(keys))
  local fw, nfw = {}, 0
  for i = 1, #keys do
    local v = vals[i]
    if v then
      local first, last, count = string.match(v, '^([^|]*)|([^|]*)|(.*)$')
      if tc > 0 or tl > tonumber(last) then
        if tl > tonumber(last) then last = head[5] end
        fw[nfw + 1] = keys[i]
        fw[nfw + 2] = first .. '|' .. last .. '|' .. (tonumber(count) + tc)
        nfw = nfw + 2
      end
    end
  end
  if nfw > 0 then redis.call('HSET', key, unpack(fw, 1, nfw)) end
end

local function evictOldest(kind)
  local prefix = 'v:' .. kind .. ':'
  local all = redis.call('HGETALL', key)
  local oldestKey, oldestLast = nil, nil
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, #prefix) == prefix then
      local last = tonumber(string.match(all[i + 1], '^[^|]*|([^|]*)'))
      if oldestLast == nil or last < oldestLast then oldestKey, oldestLast = all[i], last end
    end
  end
  if oldestKey then
    redis.call('HDEL', key, oldestKey)
    evicted[#evicted + 1] = oldestKey
    return true
  end
  return false
end

local keys = items(tuple)
local kinds = {}
local names = {}
for i = 1, #keys do
  local kind = string.sub(keys[i], 3, string.find(keys[i], ':', 3, true) - 1)
  kinds[i] = kind
  names[i * 2 - 1] = 'k:' .. kind
  names[i * 2] = keys[i]
end
local cur = redis.call('HMGET', key, unpack(names))
for i = 1, #keys do
  local v = cur[i * 2]
  if v then
    local first, last, count = string.match(v, '^([^|]*)|([^|]*)|(.*)$')
    if t < tonumber(first) then first = ts end
    if t > tonumber(last) then last = ts end
    put(keys[i], first .. '|' .. last .. '|' .. (tonumber(count) + 1))
  else
    local c = tonumber(cur[i * 2 - 1]) or 0
    if c >= cap and evictOldest(kinds[i]) then c = c - 1 end
    put(keys[i], ts .. '|' .. ts .. '|1')
    put('k:' .. kinds[i], c + 1)
  end
end
put('tk', tuple)
put('tl', ts)
put('tc', 0)
put('x', ts)
redis.call('HSET', key, unpack(w, 1, nw))
redis.call('EXPIRE', key, ttl)
if expected == before then return { prevLoc or false, n, evicted } end
return { prevLoc or false, n, evicted, redis.call('HGETALL', key) }
