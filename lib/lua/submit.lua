--[[
  submit: accept one vote in a single round trip: take the next id, queue the vote.

  KEYS[1]  meta hash     (seq, limit, run)
  KEYS[2]  stream        (the queue)
  KEYS[3]  idempotency record for this request's key (any key of the prefix when ARGV[4] is "")
  ARGV[1]  option, already validated and NFC-normalised
  ARGV[2]  MAX_QUEUE_LENGTH
  ARGV[3]  idempotency record TTL, milliseconds
  ARGV[4]  Idempotency-Key, or "" for none
  ARGV[5]  run_id of the Redis server the caller is connected to, or "" when unknown

  Returns {code, id, created_at_ms}:
     1  queued
     2  replay: this key was used with the same option; nothing queued, the first answer's id
    -1  not seeded: no writer has seeded the id counter on this Redis run yet
    -2  queue full (MAX_QUEUE_LENGTH entries wait)
    -3  this key was used with another option
    -4  id reservation used up: the writer is not extending it
]]
local meta, stream, record = KEYS[1], KEYS[2], KEYS[3]
local option, key = ARGV[1], ARGV[4]

if key ~= '' then
  local prior = redis.call('GET', record)
  if prior then
    local id, ms, used = string.match(prior, '^(%d+):(%d+):(.*)$')
    if used == option then return {2, tonumber(id), tonumber(ms)} end
    return {-3, tonumber(id), tonumber(ms)}
  end
end

local state = redis.call('HMGET', meta, 'seq', 'limit', 'run')
if not state[1] or not state[2] or (ARGV[5] ~= '' and state[3] ~= ARGV[5]) then
  return {-1, 0, 0}
end
if redis.call('XLEN', stream) >= tonumber(ARGV[2]) then return {-2, 0, 0} end
local id = tonumber(state[1]) + 1
if id > tonumber(state[2]) then return {-4, 0, 0} end

local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local ids = string.format('%d', id)
redis.call('HSET', meta, 'seq', ids)
redis.call('XADD', stream, ids .. '-0', 'option', option, 'created_at', string.format('%d', ms))
if key ~= '' then
  redis.call('SET', record, ids .. ':' .. string.format('%d', ms) .. ':' .. option, 'PX', ARGV[3])
end
return {1, id, ms}
