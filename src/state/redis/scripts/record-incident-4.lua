--[[
  Records a detection in its incident: creates the incident, or folds the detection into the open one
  with the same dedup key. Idempotent by triggering event id: a repeat changes nothing.

  The caller reads the open incident id for the dedup key first (it names the incident's keys, and
  every key a script touches must be in KEYS); if it changed in between, the script answers 'retry'.

  Input:
    KEYS[1] open incidents      rg:{inc}:open      hash dedup_key -> incident id
    KEYS[2] incident index      rg:{inc}:idx       zset incident id, score = created time (ms)
    KEYS[3] incident            rg:{inc}:i:<id>    hash (fields below)
    KEYS[4] triggering events   rg:{inc}:i:<id>:ev zset event id, score = event time

    ARGV[1] dedup key
    ARGV[2] incident id the caller expects: the open one it read, or a new one if none was open
    ARGV[3] 1 if the caller read no open incident (create), else 0
    ARGV[4] triggering event id
    ARGV[5] event time, epoch ms
    ARGV[6] severity name        ARGV[7] severity rank (higher is worse)
    ARGV[8] base JSON (fields that never change: id, rule, session, tenant, user, mitre, ...)
    ARGV[9] evidence JSON
    ARGV[10] now, epoch ms       ARGV[11] ttl, seconds      ARGV[12] cap of remembered event ids
    ARGV[13] cooldown, ms: a hit this soon after the last emitted one is counted but not emitted again,
             unless its severity is higher or it lifts the incident out of monitor mode
    ARGV[14] 1 if the detection is in monitor mode (user without a baseline), else 0

  Incident hash: base, sev, sevrank, status, first, last, count, supp (suppressed hits), mon (monitor mode),
                 emitted / emitsev (event time and severity rank of the last emitted hit), evidence, created, updated

  Output: { outcome: 'created' | 'updated' | 'suppressed' | 'unchanged' | 'retry', flat HGETALL incident,
            event ids oldest first }
]]
local openKey, idxKey, incKey, evKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local dedup, expectedId, creating = ARGV[1], ARGV[2], ARGV[3] == '1'
local eventId, t = ARGV[4], tonumber(ARGV[5])
local sev, sevRank = ARGV[6], tonumber(ARGV[7])
local base, evidence = ARGV[8], ARGV[9]
local now, ttl, evCap = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local cooldown, monitor = tonumber(ARGV[13]), ARGV[14]

local function reply(outcome)
  return { outcome, redis.call('HGETALL', incKey), redis.call('ZRANGE', evKey, 0, -1) }
end

local openId = redis.call('HGET', openKey, dedup)
if creating then
  if openId then return { 'retry', {}, {} } end
  redis.call('HSET', openKey, dedup, expectedId)
  redis.call('ZADD', idxKey, now, expectedId)
  redis.call('HSET', incKey, 'base', base, 'sev', sev, 'sevrank', sevRank, 'status', 'open',
    'first', t, 'last', t, 'count', 1, 'supp', 0, 'mon', monitor, 'emitted', t, 'emitsev', sevRank,
    'evidence', evidence, 'created', now, 'updated', now)
  redis.call('ZADD', evKey, t, eventId)
  redis.call('EXPIRE', incKey, ttl)
  redis.call('EXPIRE', evKey, ttl)
  return reply('created')
end

if openId ~= expectedId then return { 'retry', {}, {} } end
-- The open incident's keys expired (its TTL ran out while the dedup entry stayed): forget the stale entry, so the
-- caller's next attempt finds nothing open and creates a new incident instead of retrying forever.
if redis.call('EXISTS', incKey) == 0 then
  redis.call('HDEL', openKey, dedup)
  redis.call('ZREM', idxKey, expectedId)
  return { 'retry', {}, {} }
end
if redis.call('ZSCORE', evKey, eventId) then return reply('unchanged') end

redis.call('ZADD', evKey, t, eventId)
if redis.call('ZCARD', evKey) > evCap then redis.call('ZREMRANGEBYRANK', evKey, 0, -(evCap + 1)) end
redis.call('HINCRBY', incKey, 'count', 1)
if t < tonumber(redis.call('HGET', incKey, 'first')) then redis.call('HSET', incKey, 'first', t) end
-- The newest detection carries the fullest window, so its evidence replaces the older one.
if t >= tonumber(redis.call('HGET', incKey, 'last')) then
  redis.call('HSET', incKey, 'last', t, 'evidence', evidence)
end
-- Severity only ever rises while the incident is open.
if sevRank > tonumber(redis.call('HGET', incKey, 'sevrank')) then
  redis.call('HSET', incKey, 'sev', sev, 'sevrank', sevRank)
end
redis.call('HSET', incKey, 'updated', now)
redis.call('EXPIRE', incKey, ttl)
redis.call('EXPIRE', evKey, ttl)

local leavesMonitor = monitor == '0' and redis.call('HGET', incKey, 'mon') == '1'
if leavesMonitor then redis.call('HSET', incKey, 'mon', '0') end
local emitted = tonumber(redis.call('HGET', incKey, 'emitted'))
local emitSev = tonumber(redis.call('HGET', incKey, 'emitsev'))
if cooldown > 0 and math.abs(t - emitted) < cooldown and sevRank <= emitSev and not leavesMonitor then
  redis.call('HINCRBY', incKey, 'supp', 1)
  return reply('suppressed')
end
redis.call('HSET', incKey, 'emitted', t, 'emitsev', math.max(sevRank, emitSev))
return reply('updated')
