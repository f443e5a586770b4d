#!lua
-- Offers one audience history sample of an auction for one sampling interval. The first offer of an
-- interval is kept, whichever replica makes it, so the history has one sample per interval however many
-- replicas sample. Atomic per auction, and every key carries the auction's hash tag, so it runs on Redis
-- Cluster too.
--
-- KEYS[1]  the auction's counts hash (see report.lua); its "cur" field is the count that is sampled
-- KEYS[2]  the auction's history: a sorted set, score = the interval's start in ms,
--          member = "<interval start>:<count>"
-- KEYS[3]  the number of the last interval that has a sample
-- ARGV[1]  the interval's number: its start divided by the interval length
-- ARGV[2]  the interval's start, in ms since the epoch
-- ARGV[3]  the retention in ms: older samples are removed, and the keys expire this long after a write
--
-- Returns 1 when this offer was kept, 0 when the interval (or a later one) had a sample already, -1 when one of the
-- auction's keys holds the wrong type (left by a migration or a script): nothing is written, and the failure stays
-- this auction's, not an error reply that would fail the pipelined samples of every auction (redis.pcall).
local slot, start, retention = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])

local function failed(reply)
  return type(reply) == 'table' and reply.err ~= nil
end

local last = redis.pcall('GET', KEYS[3])
if failed(last) then
  return -1
end
if slot <= tonumber(last or '-1') then
  return 0
end

local current = redis.pcall('HGET', KEYS[1], 'cur')
if failed(current) then
  return -1
end
current = tonumber(current or '0')
if failed(redis.pcall('ZADD', KEYS[2], start, string.format('%d:%d', start, current))) then
  return -1
end
redis.call('SET', KEYS[3], string.format('%d', slot), 'PX', retention)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.format('%d', start - retention))
redis.call('PEXPIRE', KEYS[2], retention)
return 1
