--[[
  Records one event in a session's window, atomically, and returns the window as it stands after it.
  The only stateful step on the hot path: every worker goes through here, so concurrent workers on the same
  session never lose an update (the script is the unit of atomicity).

  Input:
    KEYS[1] window hash       rg:{s:<session>}:w
    KEYS[2] seen event ids    rg:{s:<session>}:ids   (zset, score = event time; idempotency)
    KEYS[3] transitions       rg:{s:<session>}:t     (list, newest first; where the session moved between)

    ARGV[1] event id
    ARGV[2] event time, epoch ms
    ARGV[3] ttl, seconds (applied to every key on every call)
    ARGV[4] cap of distinct values per field (oldest-last-seen evicted, counted in `ev`)
    ARGV[5] cap of remembered event ids
    ARGV[6] cap of transitions
    ARGV[7] ending type: logout | revoke | rotate | '' (none)
    ARGV[8] new session hash of a rotation, or ''
    ARGV[9] transition key (network + client of this event), or '' to record none (a synthetic event)
    ARGV[10] number of observed fields N, then N triples: field, value, meta

  Window hash fields:
    n   events recorded           f / l   first / last event time
    ev  values evicted by the cap end     "type|time|new_session" of the earliest ending event
    c:<field>  distinct values held for field
    v:<field>:<value>  "first|last|meta"

  Output: { duplicate (0|1), flat HGETALL of the window, transitions (list of "time|key") }
]]
local win, ids, trans = KEYS[1], KEYS[2], KEYS[3]
local eventId = ARGV[1]
local t = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local cap = tonumber(ARGV[4])
local idCap = tonumber(ARGV[5])
local transCap = tonumber(ARGV[6])
local endType = ARGV[7]
local newSession = ARGV[8]
local transKey = ARGV[9]
local nFields = tonumber(ARGV[10])

local function reply(dup)
  return { dup, redis.call('HGETALL', win), redis.call('LRANGE', trans, 0, -1) }
end

-- A re-delivered event changes nothing: the caller re-evaluates the rules and the incident store,
-- idempotent by event id too, absorbs the repeat.
if redis.call('ZSCORE', ids, eventId) then
  return reply(1)
end

-- Make room first: a zset that ever grows past zset-max-listpack-entries turns into a skiplist for good
-- (about 4x the memory), so it never holds more than the cap, not even for a moment.
if redis.call('ZCARD', ids) >= idCap then
  redis.call('ZREMRANGEBYRANK', ids, 0, -idCap)
end
redis.call('ZADD', ids, t, eventId)

redis.call('HINCRBY', win, 'n', 1)
local f = tonumber(redis.call('HGET', win, 'f'))
if not f or t < f then redis.call('HSET', win, 'f', t) end
local l = tonumber(redis.call('HGET', win, 'l'))
if not l or t > l then redis.call('HSET', win, 'l', t) end

-- Evict the value of `field` seen least recently; only reached when a field is at its cap.
local function evictOldest(field)
  local prefix = 'v:' .. field .. ':'
  local all = redis.call('HGETALL', win)
  local oldestKey, oldestLast = nil, nil
  for i = 1, #all, 2 do
    local k = all[i]
    if string.sub(k, 1, #prefix) == prefix then
      local _, _, last = string.find(all[i + 1], '^[^|]*|([^|]*)')
      last = tonumber(last)
      if oldestLast == nil or last < oldestLast then oldestKey, oldestLast = k, last end
    end
  end
  if oldestKey then
    redis.call('HDEL', win, oldestKey)
    redis.call('HINCRBY', win, 'c:' .. field, -1)
    redis.call('HINCRBY', win, 'ev', 1)
  end
end

for i = 0, nFields - 1 do
  local field, value, meta = ARGV[11 + i * 3], ARGV[12 + i * 3], ARGV[13 + i * 3]
  local key = 'v:' .. field .. ':' .. value
  local cur = redis.call('HGET', win, key)
  if cur then
    local _, _, first, last, oldMeta = string.find(cur, '^([^|]*)|([^|]*)|(.*)$')
    first, last = tonumber(first), tonumber(last)
    if t < first then first = t end
    if t > last then last = t end
    redis.call('HSET', win, key, first .. '|' .. last .. '|' .. oldMeta)
  else
    if tonumber(redis.call('HGET', win, 'c:' .. field) or '0') >= cap then evictOldest(field) end
    redis.call('HSET', win, key, t .. '|' .. t .. '|' .. meta)
    redis.call('HINCRBY', win, 'c:' .. field, 1)
  end
end

if endType ~= '' then
  local cur = redis.call('HGET', win, 'end')
  local curTime = cur and tonumber(string.match(cur, '^[^|]*|([^|]*)'))
  if not curTime or t < curTime then
    redis.call('HSET', win, 'end', endType .. '|' .. t .. '|' .. newSession)
  end
end

-- Remember where the session moved: only changes are stored, which keeps the list short and is
-- exactly what alternation (A, B, A, B) and travel-speed checks need.
local head = redis.call('LINDEX', trans, 0)
if transKey ~= '' and (not head or string.match(head, '^[^|]*|(.*)$') ~= transKey) then
  redis.call('LPUSH', trans, t .. '|' .. transKey)
  redis.call('LTRIM', trans, 0, transCap - 1)
end

redis.call('EXPIRE', win, ttl)
redis.call('EXPIRE', ids, ttl)
redis.call('EXPIRE', trans, ttl)
return reply(0)
