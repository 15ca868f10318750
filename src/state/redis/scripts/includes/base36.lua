--[[
  Integers (ms) in base 36, signed: the window's value times are kept this way, relative to its base time,
  because short entries keep the hash a listpack. Included by the scripts that write window values.
]]
local B36_DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz'
local function b36(x)
  if x == 0 then return '0' end
  local sign = ''
  if x < 0 then sign, x = '-', -x end
  local s = ''
  while x > 0 do
    local d = x % 36
    s = string.sub(B36_DIGITS, d + 1, d + 1) .. s
    x = (x - d) / 36
  end
  return sign .. s
end
local function unb36(s)
  if string.sub(s, 1, 1) == '-' then return -tonumber(string.sub(s, 2), 36) end
  return tonumber(s, 36)
end
