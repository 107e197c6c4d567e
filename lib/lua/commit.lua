--[[
  commit: after a batch committed to SQLite, publish its totals, dead-letter what could not be
  applied, acknowledge every entry of the batch and trim what is acknowledged.

  KEYS[1]  stream
  KEYS[2]  totals hash
  KEYS[3]  dead-letter stream
  KEYS[4]  writer lease
  KEYS[5]  meta hash
  ARGV[1]  consumer group name; ARGV[#ARGV] is the lease value of the calling writer
  ARGV[2]  trim bound: the entry id just above the batch's last entry
  ARGV[3]  n, the number of entry ids that follow
  ARGV[4 .. 3+n]        entry ids to acknowledge
  ARGV[4+n]             m, the number of option/total pairs that follow
  ARGV[5+n .. 4+n+2m]   option, absolute total, ...
  then                  d, the number of dead letters, then d times: entry id, reason, fields (JSON)

  then                  the caller's lease value

  Returns {acknowledged, seq, limit}, or {-1, 0, 0} when the caller no longer holds the lease
  (then nothing is published or acknowledged: a newer writer owns the queue).
  Entries still pending (delivered, not acknowledged) are never trimmed.
]]
local stream, totals, dead = KEYS[1], KEYS[2], KEYS[3]
if redis.call('GET', KEYS[4]) ~= ARGV[#ARGV] then return {-1, 0, 0} end
local group = ARGV[1]
local n = tonumber(ARGV[3])
local i = 4 + n
local m = tonumber(ARGV[i])
for j = i + 1, i + 2 * m, 2 do redis.call('HSET', totals, ARGV[j], ARGV[j + 1]) end
i = i + 2 * m + 1
local d = tonumber(ARGV[i])
for j = i + 1, i + 3 * d, 3 do
  redis.call('XADD', dead, '*', 'entry', ARGV[j], 'reason', ARGV[j + 1], 'fields', ARGV[j + 2])
end

local acked = 0
for j = 4, 3 + n, 500 do
  acked = acked + redis.call('XACK', stream, group, unpack(ARGV, j, math.min(j + 499, 3 + n)))
end

local function less(a, b)
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  if #ams ~= #bms then return #ams < #bms end
  if ams ~= bms then return ams < bms end
  if #aseq ~= #bseq then return #aseq < #bseq end
  return aseq < bseq
end
local bound = ARGV[2]
local pending = redis.call('XPENDING', stream, group)
if pending[1] > 0 and less(pending[2], bound) then bound = pending[2] end
redis.call('XTRIM', stream, 'MINID', bound)
local ids = redis.call('HMGET', KEYS[5], 'seq', 'limit')
return {acked, tonumber(ids[1]) or 0, tonumber(ids[2]) or 0}
