--[[
  renewLease: extend the lease, only while this writer still holds it.

  KEYS[1]  lease
  ARGV[1]  lease value this writer set: "<writer id>:<token>"
  ARGV[2]  lease time, milliseconds

  Returns 1 when renewed, 0 when the lease is gone or another writer's.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
