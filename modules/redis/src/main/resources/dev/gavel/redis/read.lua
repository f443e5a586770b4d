#!lua flags=no-writes
-- Reads an auction's log: its head (epoch, last sequence number, last bid) and the entries after an offset, or the
-- newest ones. Read-only, and in the auction's slot, like publish.lua.
--
-- KEYS[1]  the auction's log head (see publish.lua)
-- KEYS[2]  the auction's log
-- ARGV[1]  the epoch of the offset to read after, or "" for the newest entries
-- ARGV[2]  the offset's sequence number
-- ARGV[3]  at most this many entries
--
-- Returns {} when the auction has no head, else {epoch, seq, last bid entry or "", continuous (1 or 0), entries}:
-- continuous is 0 when the offset is of another epoch, newer than the head, or older than the oldest entry kept
-- (then the entries are the oldest kept).
local head = redis.call('HMGET', KEYS[1], 'epoch', 'seq', 'bid')
if not head[1] then
  return {}
end
local seq = tonumber(head[2])
local length = redis.call('LLEN', KEYS[2])
local first = seq - length + 1
local limit = tonumber(ARGV[3])
local from = 0
local continuous = 1
if ARGV[1] == '' then
  from = math.max(0, length - limit)
else
  local after = tonumber(ARGV[2])
  if ARGV[1] ~= head[1] or after > seq or after < first - 1 then
    continuous = 0
  else
    from = after - first + 1
  end
end
local entries = redis.call('LRANGE', KEYS[2], from, from + limit - 1)
return {head[1], head[2], head[3] or '', continuous, entries}
