--[[
  acquireLease: take the writer lease when nobody holds it, with a fencing token that only grows.

  KEYS[1]  lease
  KEYS[2]  fencing token counter
  ARGV[1]  this writer's id
  ARGV[2]  lease time, milliseconds
  ARGV[3]  highest fencing token recorded in SQLite (the counter may have been lost with Redis)

  Returns the new fencing token, or 0 when another writer holds the lease.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local floor = tonumber(ARGV[3])
local token = redis.call('INCR', KEYS[2])
if token <= floor then
  token = floor + 1
  redis.call('SET', KEYS[2], string.format('%d', token))
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. string.format('%d', token), 'PX', ARGV[2])
return token
