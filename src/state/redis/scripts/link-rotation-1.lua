--[[
  Marks a session as the successor of a rotated one, so rules can follow a rotation chain back.

  Input:
    KEYS[1] window hash of the NEW session   rg:{s:<new>}:w
    ARGV[1] hash of the session it was rotated from
    ARGV[2] rotation time, epoch ms
    ARGV[3] ttl, seconds

  Output: 1 when linked, 0 when the new session already had a predecessor (first link wins).
]]
local linked = redis.call('HSETNX', KEYS[1], 'prev', ARGV[1] .. '|' .. ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return linked
