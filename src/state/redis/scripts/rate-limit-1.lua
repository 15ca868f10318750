--[[
  Sliding-window rate limit: admits one more action if fewer than `max` were admitted in the last `per` ms.

  Input:
    KEYS[1] admitted actions   zset member = action id, score = time (ms)
    ARGV[1] now, epoch ms   ARGV[2] window, ms   ARGV[3] max   ARGV[4] action id

  Output: 1 when admitted (and recorded), 0 when over the limit.
]]
local now, per, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - per)
if redis.call('ZCARD', KEYS[1]) >= max then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], per)
return 1
