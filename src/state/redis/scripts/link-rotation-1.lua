--[[
  Links a rotated-to session to the one it replaced, and carries the old session's history over, so a
  session that rotates its id every few minutes is still judged as one session (its networks and clients
  accumulate across the chain) and the chain's root is known.

  Input:
    KEYS[1] window hash of the NEW session   rg:{s:<new>}:w
    ARGV[1] hash of the session it was rotated from
    ARGV[2] rotation time, epoch ms
    ARGV[3] ttl, seconds
    ARGV[4] cap of distinct values per field
    ARGV[5] root of the chain (the old session's root, or the old session itself)
    ARGV[6] number of values N, then N groups of five from the old session: field, value, first, last (epoch ms),
            meta (as observe-3.lua stores it)

  Values are stored in observe-3.lua's layout ("<first - b>|<last - first>|meta" in base 36, relative to the
  window's base time `b`, which the rotation time sets when the window is new).

  Output: 1 when linked, 0 when the new session already had a predecessor (first link wins; nothing merged).
]]
--- @include "base36"
local win = KEYS[1]
local head = redis.call('HMGET', win, 'b', 'n', 'prev')
-- A window in an older layout (no base time) is dropped, as observe-3.lua does.
if (head[2] or head[3]) and not head[1] then
  redis.call('DEL', win)
  head = { false, false, false }
end
local linked = redis.call('HSETNX', win, 'prev', ARGV[1] .. '|' .. ARGV[2])
if linked == 1 then
  redis.call('HSET', win, 'root', ARGV[5])
  local base = tonumber(head[1])
  if not base then
    base = tonumber(ARGV[2])
    redis.call('HSET', win, 'b', ARGV[2])
  end
  local cap = tonumber(ARGV[4])
  local n = tonumber(ARGV[6])
  for i = 0, n - 1 do
    local at = 7 + i * 5
    local field, value, first, last, meta = ARGV[at], ARGV[at + 1], tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3]), ARGV[at + 4]
    local key = 'v:' .. field .. ':' .. value
    if redis.call('HEXISTS', win, key) == 0 and tonumber(redis.call('HGET', win, 'c:' .. field) or '0') < cap then
      redis.call('HSET', win, key, b36(first - base) .. '|' .. b36(last - first) .. '|' .. meta)
      redis.call('HINCRBY', win, 'c:' .. field, 1)
    end
  end
  local f = tonumber(redis.call('HGET', win, 'f'))
  if not f or tonumber(ARGV[2]) < f then redis.call('HSET', win, 'f', ARGV[2]) end
end
redis.call('EXPIRE', win, tonumber(ARGV[3]))
return linked
