--[[
  Records one event in a session's window, atomically, and returns the window as it stands after it (or just
  what the caller needs to bring its own copy up to date). The only stateful step on the hot path: every worker
  goes through here, so concurrent workers on the same session never lose an update (the script is the unit of
  atomicity).

  Input:
    KEYS[1] window hash       rg:{s:<session>}:w
    KEYS[2] seen event ids    rg:{s:<session>}:ids   (zset, score = event time; idempotency)
    KEYS[3] transitions       rg:{s:<session>}:t     (list, newest first; where the session moved between)

    ARGV[1] mode: 'f' (the caller holds an exact copy of the window and the event has the same values and
            transition as the latest event in it, and ends nothing) or 'w' (anything else; full arguments)
    ARGV[2] event id
    ARGV[3] event time, epoch ms (an integer)
    ARGV[4] ttl, seconds
    ARGV[5] cap of remembered event ids
    ARGV[6] TTL refresh step, ms of event time: an event with the same values as the one before re-applies the
            TTLs only when the session's event time moved this far since the last refresh (0: every event)
    ARGV[7] the event count of the caller's copy of the window ('0': it expects no window; '': no copy)
    ARGV[8] `gid` of the caller's copy (the id of the event that created the window), or ''
    ARGV[9] batch token: once a call of a batch is refused ('retry'), every later call of the same batch on this
            session is refused too, so the caller can send them again in order
    mode 'w' only:
    ARGV[10] cap of distinct values per field (oldest-last-seen evicted, counted in `ev`)
    ARGV[11] cap of transitions
    ARGV[12] ending type: logout | revoke | rotate | '' (none)
    ARGV[13] new session hash of a rotation, or ''
    ARGV[14] transition key (network + client of this event), or '' to record none (a synthetic event)
    ARGV[15] the event's tuple: the hash field of each observed value, `v:<field>:<value>`, as "<bytes>:<name>",
             then the transition key the same way ("12:v:asn:13335" + "14:1.1.1.1|13335|..." ...)
    ARGV[16] the values' meta, in the same order, each as "<bytes>:<meta>" (facts kept on first sight)

  Window hash fields:
    n   events recorded           f / l   first / last event time
    ev  values evicted by the cap end     "type|time|new_session" of the earliest ending event
    c:<field>  distinct values held for field
    v:<field>:<value>  "first|last|meta"
    k   tuple (ARGV[15]) of the latest event recorded   tl  event time of the latest event with that tuple
    x   event time of the last TTL refresh               gid id of the event that created the window
    rj  token of a batch whose calls are being refused   prev, root   rotation link (link-rotation-1.lua)
  The values named in `k` were last seen at max(their own last, tl): an event with the same values and transition
  as the one before it (the common case: same network, same browser) moves only n, l and tl, and the values' own
  `last` is brought up to date when the tuple changes. Readers apply the same rule (RedisWindowStore).

  The caller's copy is current when the window is at ARGV[7] events, was created by ARGV[8], and carries no
  rotation link; then the window is not sent back.

  Output: 'retry' (mode 'f' with a copy that is not current or an event older than the window's latest, or a
          batch already refused: nothing recorded), or
          { duplicate (0|1), n, flat HGETALL of the window, transitions (list of "time|key") }, or, when the
          caller's copy is current: { duplicate, n } (nothing changed but n, l and the values' last sight) or
          { 0, n, evicted value fields (`v:<field>:<value>`, in eviction order) }
]]
local win, ids, trans = KEYS[1], KEYS[2], KEYS[3]
local fast = ARGV[1] == 'f'
local eventId, ts = ARGV[2], ARGV[3]
local t = tonumber(ts)
local ttl = ARGV[4]
local idCap = tonumber(ARGV[5])
local refresh = tonumber(ARGV[6])
local expected, gid, token = ARGV[7], ARGV[8], ARGV[9]

local head = redis.call('HMGET', win, 'n', 'l', 'x', 'prev', 'gid', 'rj', 'k', 'tl')
local before = head[1] or '0'
if head[6] == token then return 'retry' end
local cached = expected == before and not head[4] and (before == '0' or head[5] == gid)
local l = tonumber(head[2])
-- Mode 'f' needs the caller's copy to be current and the event to be in time order; otherwise nothing is
-- recorded and the caller sends this call, and every later one of its batch on this session, again in full.
if fast and (not cached or not l or t < l) then
  redis.call('HSET', win, 'rj', token)
  return 'retry'
end

local function full(dup, n)
  return { dup, n, redis.call('HGETALL', win), redis.call('LRANGE', trans, 0, -1) }
end

-- A re-delivered event changes nothing: the caller re-evaluates the rules and the incident store,
-- idempotent by event id too, absorbs the repeat. (An event later than every recorded one cannot be one.)
if not l or t <= l then
  if redis.call('ZSCORE', ids, eventId) then
    if cached then return { 1, tonumber(before) } end
    return full(1, tonumber(before))
  end
end

-- Make room first: a zset that ever grows past zset-max-listpack-entries turns into a skiplist for good
-- (about 4x the memory), so it never holds more than the cap, not even for a moment. n counts every id
-- ever added, so the set holds at most n ids: below the cap there is nothing to trim (no ZCARD needed).
local n = tonumber(before) + 1
if n > idCap then redis.call('ZREMRANGEBYRANK', ids, 0, -idCap) end
redis.call('ZADD', ids, t, eventId)

local function expireAll()
  redis.call('EXPIRE', win, ttl)
  redis.call('EXPIRE', ids, ttl)
  redis.call('EXPIRE', trans, ttl)
end

local function unchanged()
  local x = tonumber(head[3])
  if not head[5] then redis.call('HSET', win, 'gid', eventId) end -- a window from before `gid` existed
  if not x or t - x >= refresh then
    redis.call('HSET', win, 'n', n, 'l', ts, 'tl', ts, 'x', ts)
    expireAll()
  else
    redis.call('HSET', win, 'n', n, 'l', ts, 'tl', ts)
  end
end

-- Mode 'f': the caller knows the event repeats the latest one (same values, same transition).
if fast then
  unchanged()
  return { 0, n }
end

local transCap = tonumber(ARGV[11])
local endType, newSession, transKey, tuple = ARGV[12], ARGV[13], ARGV[14], ARGV[15]

-- The same values and transition as the event recorded before, in time order, not an ending.
if not fast and head[7] == tuple and endType == '' and l and t >= l then
  unchanged()
  if cached then return { 0, n } end
  return full(0, n)
end
local cap = tonumber(ARGV[10])
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

-- Bring the previous tuple's values up to date (their last sight may be tl) before anything reads them.
local oldTl = tonumber(head[8])
if head[7] and oldTl then
  local keys = items(head[7])
  keys[#keys] = nil -- the transition key
  if #keys > 0 then
    local vals = redis.call('HMGET', win, unpack(keys))
    local w, nw = {}, 0
    for i = 1, #keys do
      local v = vals[i]
      if v then
        local p1 = string.find(v, '|', 1, true)
        local p2 = string.find(v, '|', p1 + 1, true)
        if oldTl > tonumber(string.sub(v, p1 + 1, p2 - 1)) then
          w[nw + 1] = keys[i]
          w[nw + 2] = string.sub(v, 1, p1) .. head[8] .. string.sub(v, p2)
          nw = nw + 2
        end
      end
    end
    if nw > 0 then redis.call('HSET', win, unpack(w, 1, nw)) end
  end
end

-- Every value of the event: one read, one write.
local keys = items(tuple)
keys[#keys] = nil
local metas = items(ARGV[16])
local nFields = #keys
local fields = {}
local names = { 'f', 'end' }
for i = 1, nFields do
  local key = keys[i]
  local field = string.sub(key, 3, string.find(key, ':', 3, true) - 1)
  fields[i] = field
  names[1 + i * 2] = 'c:' .. field
  names[2 + i * 2] = key
end
local cur = redis.call('HMGET', win, unpack(names))
local w, nw = { 'n', n, 'k', tuple, 'tl', ts, 'x', ts }, 8
local function put(k, v)
  w[nw + 1] = k
  w[nw + 2] = v
  nw = nw + 2
end
if not head[5] then put('gid', eventId) end
local f = tonumber(cur[1])
if not f or t < f then put('f', ts) end
if not l or t > l then put('l', ts) end

-- Evict the value of `field` seen least recently; only reached when a field is at its cap.
local function evictOldest(field)
  local prefix = 'v:' .. field .. ':'
  local plen = #prefix
  local all = redis.call('HGETALL', win)
  local oldestKey, oldestLast = nil, nil
  for i = 1, #all, 2 do
    local k = all[i]
    if string.sub(k, 1, plen) == prefix then
      local last = tonumber(string.match(all[i + 1], '^[^|]*|([^|]*)'))
      if oldestLast == nil or last < oldestLast then oldestKey, oldestLast = k, last end
    end
  end
  if oldestKey then
    redis.call('HDEL', win, oldestKey)
    redis.call('HINCRBY', win, 'ev', 1)
    evicted[#evicted + 1] = oldestKey
    return true
  end
  return false
end

for i = 1, nFields do
  local key = keys[i]
  local v = cur[2 + i * 2]
  if v then
    local p1 = string.find(v, '|', 1, true)
    local p2 = string.find(v, '|', p1 + 1, true)
    local lastS = string.sub(v, p1 + 1, p2 - 1)
    if t > tonumber(lastS) then
      put(key, string.sub(v, 1, p1) .. ts .. string.sub(v, p2))
    elseif t < tonumber(string.sub(v, 1, p1 - 1)) then
      put(key, ts .. string.sub(v, p1))
    end
  else
    local c = tonumber(cur[1 + i * 2]) or 0
    if c >= cap and evictOldest(fields[i]) then c = c - 1 end
    put(key, ts .. '|' .. ts .. '|' .. (metas[i] or ''))
    put('c:' .. fields[i], c + 1)
  end
end

if endType ~= '' then
  local e = cur[2]
  local endTime = e and tonumber(string.match(e, '^[^|]*|([^|]*)'))
  if not endTime or t < endTime then put('end', endType .. '|' .. ts .. '|' .. newSession) end
end
redis.call('HSET', win, unpack(w, 1, nw))
if head[6] then redis.call('HDEL', win, 'rj') end

-- Remember where the session moved: only changes are stored, which keeps the list short and is
-- exactly what alternation (A, B, A, B) and travel-speed checks need.
if transKey ~= '' then
  local last = redis.call('LINDEX', trans, 0)
  if not last or string.sub(last, (string.find(last, '|', 1, true) or 0) + 1) ~= transKey then
    if redis.call('LPUSH', trans, ts .. '|' .. transKey) > transCap then redis.call('LTRIM', trans, 0, transCap - 1) end
  end
end

expireAll()
if cached then return { 0, n, evicted } end
return full(0, n)
