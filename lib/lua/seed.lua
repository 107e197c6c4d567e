--[[
  seed: make this Redis ready for votes, from SQLite's state. Run by the writer holding the
  lease, at start and whenever Redis lost its data or restarted.

  KEYS[1]  meta hash
  KEYS[2]  stream
  KEYS[3]  totals hash
  KEYS[4]  writer lease
  ARGV[1]  consumer group name
  ARGV[2]  highest vote id in SQLite
  ARGV[3]  id ceiling: the highest id the API may ever have handed out (from SQLite)
  ARGV[4]  new id limit (already recorded in SQLite as the ceiling)
  ARGV[5]  run_id of this Redis server
  ARGV[6]  the caller's lease value
  ARGV[7..] option, total, option, total, ... (all totals, from SQLite)

  Returns the id counter after seeding, or -1 when the caller does not hold the lease.
  The counter never goes down: when the old counter is gone or cannot be trusted, it jumps to the
  ceiling, above any id that was ever handed out, so no id is reused.
]]
local meta, stream, totals = KEYS[1], KEYS[2], KEYS[3]
if redis.call('GET', KEYS[4]) ~= ARGV[6] then return -1 end
local maxId, ceiling, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])

local created = redis.pcall('XGROUP', 'CREATE', stream, ARGV[1], '0', 'MKSTREAM')
if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP') then
  return created
end

local state = redis.call('HMGET', meta, 'seq', 'limit', 'run')
local seq = tonumber(state[1])
-- A counter from another Redis run may have rolled back (restart, failover, restored backup).
if not seq or state[3] ~= ARGV[5] then seq = ceiling end
if seq < maxId then seq = maxId end
local oldLimit = tonumber(state[2]) or 0
if oldLimit > limit then limit = oldLimit end

redis.call('DEL', totals)
for i = 7, #ARGV, 2 do redis.call('HSET', totals, ARGV[i], ARGV[i + 1]) end
redis.call('HSET', meta, 'seq', string.format('%d', seq), 'limit', string.format('%d', limit), 'run', ARGV[5])
return seq
