#!lua flags=allow-cross-slot-keys
-- (allow-cross-slot-keys only so that report.lua and this script may share the key on a Redis Cluster; this one
-- touches KEYS[1] alone.)
--
-- A replica proves that it is alive: one call per replica per heartbeat on each shard, whatever the number of
-- auctions. It also claims the replicas found dead, so that the caller removes their entries from every auction
-- they held (its node's index of auctions) and announces the corrected counts; a claim that was not finished in
-- time (the claimer died too) is claimed again.
--
-- KEYS[1]  the liveness hash: "<node id>" -> "<deadline ms>:<applied us>" while alive (applied: when Redis applied
--          the heartbeat, by its clock, or 0 when it arrived late), "dead:<claim end ms>" once found dead and until
--          its entries are removed ("dead:0": found dead by a report or a read, not claimed yet)
-- ARGV[1]  the node's id
-- ARGV[2]  now, in ms since the epoch, by the caller's clock
-- ARGV[3]  the lease, in ms: the node counts until now + lease
-- ARGV[4]  when the caller sent the heartbeat, in ms since the epoch by its wall clock
-- ARGV[5]  a heartbeat applied more than this many ms after it was sent arrived late
-- ARGV[6]  how long a claim of a dead node lasts, in ms
-- ARGV[7]  how long the hash outlives its last write, in ms
--
-- Returns {lapsed, claimed node ids...}: lapsed is 1 when the node was not alive here before (never seen, lost, or
-- found dead: its entries may have been removed, and it writes them all again), else 0.
local live, node = KEYS[1], ARGV[1]
local now, lease, sent, lateAfter, claim = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

local time = redis.call('TIME')
local clock = tonumber(time[1]) * 1000000 + tonumber(time[2])
local applied = clock
if clock - sent * 1000 > lateAfter * 1000 then
  applied = 0
end

local before = redis.call('HGET', live, node)
local lapsed = 1
if before and string.match(before, '^%d+:%d+$') then
  -- alive, or its deadline passed and nobody found it dead yet: its entries are all still there
  lapsed = 0
end
redis.call('HSET', live, node, string.format('%d:%d', now + lease, applied))

local result = {lapsed}
local fields = redis.call('HGETALL', live)
for i = 1, #fields, 2 do
  local id, record = fields[i], fields[i + 1]
  if id ~= node then
    local deadline = string.match(record, '^(%d+):%d+$') or string.match(record, '^dead:(%d+)$')
    if deadline and tonumber(deadline) <= now then
      redis.call('HSET', live, id, string.format('dead:%d', now + claim))
      table.insert(result, id)
    end
  end
end
redis.call('PEXPIRE', live, ARGV[7])
return result
