--[[
  submitBatch: accept n votes in one round trip. Each vote gets exactly the outcome it would get
  from submit.lua if the n calls ran one after another in this order (same checks, same order,
  same codes): the API process gathers the votes of one event-loop turn into one call, which
  saves Redis and the client the per-script overhead of each.

  KEYS[1]      meta hash     (seq, limit, run)
  KEYS[2]      stream        (the queue)
  KEYS[3 ..]   the idempotency records of the votes that carry a key, in vote order
  ARGV[1]      MAX_QUEUE_LENGTH
  ARGV[2]      idempotency record TTL, milliseconds
  ARGV[3]      run_id of the Redis server the caller is connected to, or "" when unknown
  ARGV[4 ..]   per vote, two values: option (validated, NFC), Idempotency-Key or ""

  Returns 3n values, per vote {code, id, created_at_ms}, codes as in submit.lua:
     1 queued, 2 replay, -1 not seeded, -2 queue full, -3 key used with another option,
    -4 id reservation used up
]]
local meta, stream = KEYS[1], KEYS[2]
local maxQueue, ttl, run = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local out = {}
local nextKey = 3
-- Nothing else runs while the script does: meta and the stream length are read once and
-- tracked here; the counter is written back once, after the last vote.
local state = redis.call('HMGET', meta, 'seq', 'limit', 'run')
local seeded = state[1] and state[2] and (run == '' or state[3] == run)
local seq, limit = tonumber(state[1]), tonumber(state[2])
local length = nil
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local mss = string.format('%d', ms)
local queued = false

local function answer(code, id, at)
  out[#out + 1] = code
  out[#out + 1] = id
  out[#out + 1] = at
end

for i = 4, #ARGV, 2 do
  local option, key = ARGV[i], ARGV[i + 1]
  local record = nil
  local prior = nil
  if key ~= '' then
    record = KEYS[nextKey]
    nextKey = nextKey + 1
    prior = redis.call('GET', record)
  end
  if prior then
    local id, pms, used = string.match(prior, '^(%d+):(%d+):(.*)$')
    answer((used == option) and 2 or -3, tonumber(id), tonumber(pms))
  elseif not seeded then
    answer(-1, 0, 0)
  else
    length = length or redis.call('XLEN', stream)
    if length >= maxQueue then
      answer(-2, 0, 0)
    elseif seq + 1 > limit then
      answer(-4, 0, 0)
    else
      seq = seq + 1
      local ids = string.format('%d', seq)
      redis.call('XADD', stream, ids .. '-0', 'option', option, 'created_at', mss)
      length = length + 1
      queued = true
      if record then
        redis.call('SET', record, ids .. ':' .. mss .. ':' .. option, 'PX', ttl)
      end
      answer(1, seq, ms)
    end
  end
end
if queued then redis.call('HSET', meta, 'seq', string.format('%d', seq)) end
return out
