--[[
  Changes an incident's status and records who did it and why. Resolving it (resolved, false_positive)
  closes it: the dedup key is released, so a later hit of the same rule on the same session opens a new
  incident rather than silently folding into a closed one.

  Input:
    KEYS[1] open incidents   rg:{inc}:open      hash dedup_key -> incident id
    KEYS[2] incident         rg:{inc}:i:<id>    hash
    KEYS[3] status history   rg:{inc}:i:<id>:h  list of JSON entries, oldest first
    ARGV[1] dedup key   ARGV[2] incident id   ARGV[3] new status   ARGV[4] history entry (JSON)
    ARGV[5] now, epoch ms   ARGV[6] history cap

  Output: 1 when changed, 0 when there is no such incident.
]]
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
local status = ARGV[3]
redis.call('HSET', KEYS[2], 'status', status, 'updated', ARGV[5])
redis.call('RPUSH', KEYS[3], ARGV[4])
redis.call('LTRIM', KEYS[3], -tonumber(ARGV[6]), -1)
redis.call('EXPIRE', KEYS[3], redis.call('TTL', KEYS[2]))
if (status == 'resolved' or status == 'false_positive') and redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
end
if status == 'open' or status == 'acknowledged' then
  -- Reopening: take the dedup key back unless a newer incident holds it.
  if not redis.call('HGET', KEYS[1], ARGV[1]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
end
return 1
