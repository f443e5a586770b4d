#!lua
-- (The shebang makes Redis 7 treat this as a script that may write and, without allow-oom, refuse it whole
-- when memory is full, before any write: a report either happens entirely or not at all, and a store that
-- refuses writes never sweeps entries and announces a count made of what is left.)
--
-- Sets one replica's viewer count for one auction, drops the entries of replicas whose lease ran out,
-- sums the rest, raises the peak, and announces a change on the auction's channel. Atomic per auction,
-- and every key it touches is the auction's own hash, so it runs on Redis Cluster too.
--
-- KEYS[1]  the auction's hash. Fields: "n:<node id>" -> "<viewers>:<lease end, ms>:<applied>" per replica,
--          where <applied> is when Redis applied that replica's last report (us, Redis's clock), or 0 when
--          that report arrived late; "held" (us): when a late report was last applied; "cur" (last announced
--          current), "peak", "ver" (version of the last change)
-- ARGV[1]  the reporting node's id, or "" to only sweep and read
-- ARGV[2]  that node's viewers in the auction; 0 removes its entry
-- ARGV[3]  now, in ms since the epoch, by the caller's clock (leases)
-- ARGV[4]  the lease, in ms
-- ARGV[5]  the auction's channel, where a change is published as "c <version> <current> <peak>"
-- ARGV[6]  how long the hash outlives its last write, in ms (keeps the peak of a quiet auction that long)
-- ARGV[7]  the peak the store last told that node (0 if none): the peak is raised to at least this, so it
--          survives a Redis that lost the hash while a replica still knows it
-- ARGV[8]  when the caller sent the report, in ms since the epoch by its wall clock
-- ARGV[9]  a report applied more than this many ms after it was sent arrived late
-- ARGV[10] how to publish: PUBLISH, or SPUBLISH on a Redis Cluster (the channel is in the hash's slot)
-- ARGV[11] (reads only, optional) the id of the node that reads: its own entry's viewers are returned too
--
-- The peak. The sum of the entries is a number of viewers that were connected at one moment only if every
-- entry is its replica's latest count. A report that arrived late (stuck behind a stalled Redis or a slow
-- link) may land after a newer report of another replica, and a viewer that moved from one replica to the
-- other is then in both entries. So the peak is raised to the sum only while every entry is trusted: its
-- report came in time, after the last late report of the auction, and recently (a replica renews its entry
-- every heartbeat, well within half a lease). Otherwise it is raised only to the largest single entry (one
-- replica's count at one moment, always true), and current is shown no higher than the peak, until every
-- replica has reported again. A single replica's entry is always the sum, so its peak follows at once.
--
-- Returns {current, peak, version, the reading node's viewers in its entry (0 without one)}. Versions come from Redis's clock and only grow, also across a
-- restart of Redis that lost the hash. When the key holds something else than a hash (left by a migration or a
-- bad script), returns {-1, 0, 0, <Redis's error>} and touches nothing: the failure is this auction's alone, not
-- an error reply that would fail the whole pipelined report of every auction. (Found by the first hash command,
-- through redis.pcall: no command beyond those the ACL of docs/redis.md allows.)
local key = KEYS[1]
local node, viewers, now, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local knownPeak, sent, lateAfter = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])

-- Reading an auction nobody ever reported: nothing to sweep or announce, and nothing is written, so reading
-- made-up ids (viewer-count is public) leaves nothing behind.
if node == '' and redis.call('EXISTS', key) == 0 then
  return {0, 0, 0, 0}
end
local reader = ARGV[11] and ('n:' .. ARGV[11]) or nil
local mine = 0

local time = redis.call('TIME')
local clock = tonumber(time[1]) * 1000000 + tonumber(time[2])
local held = redis.pcall('HGET', key, 'held')
if type(held) == 'table' and held.err then
  return {-1, 0, 0, held.err}
end
held = tonumber(held or '0')

if node ~= '' then
  local applied = clock
  if clock - sent * 1000 > lateAfter * 1000 then
    applied = 0
    held = clock
    redis.call('HSET', key, 'held', string.format('%d', held))
  end
  if viewers > 0 then
    redis.call('HSET', key, 'n:' .. node, string.format('%d:%d:%d', viewers, now + lease, applied))
  else
    redis.call('HDEL', key, 'n:' .. node)
  end
end

local fields = redis.call('HGETALL', key)
local current, largest, trusted, peak, announced, version = 0, 0, true, 0, -1, 0
for i = 1, #fields, 2 do
  local field, value = fields[i], fields[i + 1]
  if string.sub(field, 1, 2) == 'n:' then
    local count, leaseEnd, applied = string.match(value, '^(%d+):(%d+):?(%d*)$')
    if tonumber(leaseEnd) <= now then
      redis.call('HDEL', key, field)
    else
      count = tonumber(count)
      if field == reader then
        mine = count
      end
      applied = tonumber(applied) or 0
      current = current + count
      if count > largest then
        largest = count
      end
      if applied <= held or clock - applied > lease * 500 then
        trusted = false
      end
    end
  elseif field == 'peak' then
    peak = tonumber(value)
  elseif field == 'cur' then
    announced = tonumber(value)
  elseif field == 'ver' then
    version = tonumber(value)
  end
end

local raised = math.max(peak, knownPeak, largest)
if trusted then
  raised = math.max(raised, current)
end
local shown = math.min(current, raised)

if shown ~= announced or raised ~= peak then
  version = math.max(version + 1, clock)
  redis.call('HSET', key, 'cur', shown, 'peak', raised, 'ver', string.format('%d', version))
  redis.call(ARGV[10], ARGV[5], string.format('c %d %d %d', version, shown, raised))
end
redis.call('PEXPIRE', key, ARGV[6])
return {shown, raised, version, mine}
