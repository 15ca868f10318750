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
    ARGV[15] the event's values: the hash field of each, `v:<field>:<value>`, as "<bytes>:<name>" ("8:v:A:13335"...)
    ARGV[16] the values' meta, in the same order, each as "<bytes>:<meta>" (facts kept on first sight; the caller
             sends long facts as a reference to a shared key, so every entry stays short)
    ARGV[17] the event's tuple: a digest of its values and transition key, equal for equal tuples

  Window hash fields (every field and value short, so Redis keeps the hash a listpack: see docs/performance.md):
    n   events recorded           f / l   first / last event time
    ev  values evicted by the cap end     "type|time|new_session" of the earliest ending event
    b   base time: value times are kept relative to it (set once, when the window is created)
    c:<field>  distinct values held for field
    v:<field>:<value>  "[*]<first - b>|<last - first>|meta", both numbers in base 36 (ms)
    k   tuple (ARGV[17]) of the latest event recorded   tl  event time of the latest event with that tuple
    x   event time of the last TTL refresh               gid id of the event that created the window
    rj  token of a batch whose calls are being refused   prev, root   rotation link (link-rotation-1.lua)
  The values marked `*` (those of the tuple `k`) were last seen at max(their own last, tl): an event with the same
  values and transition as the one before it (the common case: same network, same browser) moves only n, l and
  tl, and the values' own `last` is brought up to date when the tuple changes. Readers apply the same rule
  (RedisWindowStore). A window without `b` was written by an older layout: it is dropped and started afresh.

  The caller's copy is current when the window is at ARGV[7] events, was created by ARGV[8], and carries no
  rotation link; then the window is not sent back.

  Output: 'retry' (mode 'f' with a copy that is not current or an event older than the window's latest, or a
          batch already refused: nothing recorded), or
          { duplicate (0|1), n, flat HGETALL of the window, transitions (list of "time|key") }, or, when the
          caller's copy is current: { duplicate, n } (nothing changed but n, l and the values' last sight) or
          { 0, n, evicted value fields (`v:<field>:<value>`, in eviction order) }
]]
--- @include "base36"
local win, ids, trans = KEYS[1], KEYS[2], KEYS[3]
local fast = ARGV[1] == 'f'
local eventId, ts = ARGV[2], ARGV[3]
local t = tonumber(ts)
local ttl = ARGV[4]
local idCap = tonumber(ARGV[5])
local refresh = tonumber(ARGV[6])
local expected, gid, token = ARGV[7], ARGV[8], ARGV[9]

local head = redis.call('HMGET', win, 'n', 'l', 'x', 'prev', 'gid', 'rj', 'k', 'tl', 'b')
if (head[1] or head[4]) and not head[9] then
  -- An older layout cannot be read in place; its ids and transitions go with it, so n keeps bounding the id set.
  redis.call('DEL', win, ids, trans)
  head = { false, false, false, false, false, false, false, false, false }
end
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
local endType, newSession, transKey, tuple = ARGV[12], ARGV[13], ARGV[14], ARGV[17]

-- The same values and transition as the event recorded before, in time order, not an ending.
if head[7] == tuple and endType == '' and l and t >= l then
  unchanged()
  if cached then return { 0, n } end
  return full(0, n)
end
local cap = tonumber(ARGV[10])
local evicted = {}
local base = tonumber(head[9]) or t

-- A value entry: marked (in the latest tuple), first and last sight (absolute ms), meta.
local function parse(v)
  local s = 1
  local marked = string.sub(v, 1, 1) == '*'
  if marked then s = 2 end
  local p1 = string.find(v, '|', s, true)
  local p2 = string.find(v, '|', p1 + 1, true)
  local first = base + unb36(string.sub(v, s, p1 - 1))
  return marked, first, first + unb36(string.sub(v, p1 + 1, p2 - 1)), string.sub(v, p2 + 1)
end
local function entry(marked, first, last, meta)
  return (marked and '*' or '') .. b36(first - base) .. '|' .. b36(last - first) .. '|' .. meta
end

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

-- The window as it stands, once: a listpack hash of a few dozen short entries.
local all = redis.call('HGETALL', win)
local h = {}
for i = 1, #all, 2 do h[all[i]] = all[i + 1] end
-- Changed fields, written once at the end in first-change order (new fields land in the listpack in that order,
-- as in the memory store's map); a field evicted meanwhile is not written back.
local dirty, isDirty = { 'n', 'k', 'tl', 'x' }, { n = true, k = true, tl = true, x = true }
h['n'], h['k'], h['tl'], h['x'] = n, tuple, ts, ts
local function put(k, v)
  h[k] = v
  if not isDirty[k] then
    isDirty[k] = true
    dirty[#dirty + 1] = k
  end
end
if not head[9] then put('b', base) end
if not head[5] then put('gid', eventId) end
local f = tonumber(h['f'])
if not f or t < f then put('f', ts) end
if not l or t > l then put('l', ts) end

-- The previous tuple's values leave it: their last sight becomes max(own last, tl), unmarked.
local oldTl = tonumber(head[8]) or 0
for i = 1, #all, 2 do
  local k, v = all[i], all[i + 1]
  if string.sub(v, 1, 1) == '*' and string.sub(k, 1, 2) == 'v:' then
    local _, first, last, meta = parse(v)
    if oldTl > last then last = oldTl end
    put(k, entry(false, first, last, meta))
  end
end

-- Evict the value of `field` seen least recently; only reached when a field is at its cap.
local function evictOldest(field)
  local prefix = 'v:' .. field .. ':'
  local plen = #prefix
  local oldestKey, oldestLast = nil, nil
  for i = 1, #all, 2 do
    local k = all[i]
    local v = h[k]
    if v and string.sub(k, 1, plen) == prefix then
      local _, _, last = parse(v)
      if oldestLast == nil or last < oldestLast then oldestKey, oldestLast = k, last end
    end
  end
  if oldestKey then
    h[oldestKey] = nil
    redis.call('HDEL', win, oldestKey)
    redis.call('HINCRBY', win, 'ev', 1)
    evicted[#evicted + 1] = oldestKey
    return true
  end
  return false
end

-- Every value of the event, marked as the new tuple's.
local keys = items(ARGV[15])
local metas = items(ARGV[16])
for i = 1, #keys do
  local key = keys[i]
  local v = h[key]
  if v then
    local _, first, last, meta = parse(v)
    if t > last then last = t elseif t < first then first = t end
    put(key, entry(true, first, last, meta))
  else
    local field = string.sub(key, 3, string.find(key, ':', 3, true) - 1)
    local c = tonumber(h['c:' .. field]) or 0
    if c >= cap and evictOldest(field) then c = c - 1 end
    put(key, entry(true, t, t, metas[i] or ''))
    put('c:' .. field, c + 1)
  end
end

if endType ~= '' then
  local e = h['end']
  local endTime = e and tonumber(string.match(e, '^[^|]*|([^|]*)'))
  if not endTime or t < endTime then put('end', endType .. '|' .. ts .. '|' .. newSession) end
end
local w, nw = {}, 0
for i = 1, #dirty do
  local k = dirty[i]
  if h[k] then
    w[nw + 1] = k
    w[nw + 2] = h[k]
    nw = nw + 2
  end
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
