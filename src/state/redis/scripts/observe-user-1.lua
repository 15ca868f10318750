--[[
  Records one event in its user's baseline (the networks, countries and clients a user has been seen with)
  and returns the baseline after it, with the user's previous located observation from before it.

  Input:
    KEYS[1] user baseline hash   rg:{u:<user hash>}:b
    ARGV[1] event time, epoch ms
    ARGV[2] ttl, seconds
    ARGV[3] cap of values per kind (least recently seen evicted)
    ARGV[4] 1 to learn this event's values, 0 to leave them out (anonymizer/relay/Tor traffic, failed logins:
            a baseline must not learn the attacker's network)
    ARGV[5] location "lat|lon|accuracy_km|network|session", or '' when the event has none
    ARGV[6] number of values N, then N pairs: kind (asn|country|client), value

  Baseline hash fields:
    f   first event time      n   events recorded
    g   last location "time|lat|lon|acc|network|session"
    k:<kind>  values held for kind
    v:<kind>:<value>  "first|last|count"

  Output: { previous location or false, flat HGETALL of the baseline }
]]
local key = KEYS[1]
local t = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local learn = ARGV[4] == '1'
local loc = ARGV[5]
local n = tonumber(ARGV[6])

local prevLoc = redis.call('HGET', key, 'g')

redis.call('HINCRBY', key, 'n', 1)
local f = tonumber(redis.call('HGET', key, 'f'))
if not f or t < f then redis.call('HSET', key, 'f', t) end

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
    redis.call('HINCRBY', key, 'k:' .. kind, -1)
  end
end

if learn then
  for i = 0, n - 1 do
    local kind, value = ARGV[7 + i * 2], ARGV[8 + i * 2]
    local vkey = 'v:' .. kind .. ':' .. value
    local cur = redis.call('HGET', key, vkey)
    if cur then
      local first, last, count = string.match(cur, '^([^|]*)|([^|]*)|(.*)$')
      first, last, count = tonumber(first), tonumber(last), tonumber(count)
      if t < first then first = t end
      if t > last then last = t end
      redis.call('HSET', key, vkey, first .. '|' .. last .. '|' .. (count + 1))
    else
      if tonumber(redis.call('HGET', key, 'k:' .. kind) or '0') >= cap then evictOldest(kind) end
      redis.call('HSET', key, vkey, t .. '|' .. t .. '|1')
      redis.call('HINCRBY', key, 'k:' .. kind, 1)
    end
  end
end

-- Only a newer observation moves the user's last location (late events don't rewind it).
if loc ~= '' then
  local prevTime = prevLoc and tonumber(string.match(prevLoc, '^([^|]*)'))
  if not prevTime or t >= prevTime then redis.call('HSET', key, 'g', t .. '|' .. loc) end
end

redis.call('EXPIRE', key, ttl)
return { prevLoc or false, redis.call('HGETALL', key) }
