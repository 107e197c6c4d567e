--[[
  releaseLease: give the lease up, only when this writer still holds it.

  KEYS[1]  lease
  ARGV[1]  lease value this writer set: "<writer id>:<token>"

  Returns 1 when released, 0 when it was not this writer's.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
