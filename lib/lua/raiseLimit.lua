--[[
  raiseLimit: let the API hand out ids up to a higher limit, already recorded in SQLite.

  KEYS[1]  meta hash
  KEYS[2]  writer lease
  ARGV[1]  new limit
  ARGV[2]  run_id the meta hash was seeded on
  ARGV[3]  the caller's lease value

  Returns 1 when raised, 0 when the meta hash is missing or from another Redis run (re-seed),
  -1 when the caller does not hold the lease.
]]
if redis.call('GET', KEYS[2]) ~= ARGV[3] then return -1 end
if redis.call('HGET', KEYS[1], 'run') ~= ARGV[2] then return 0 end
local limit = tonumber(redis.call('HGET', KEYS[1], 'limit') or '0')
if tonumber(ARGV[1]) > limit then redis.call('HSET', KEYS[1], 'limit', ARGV[1]) end
return 1
