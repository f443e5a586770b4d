#!lua flags=allow-cross-slot-keys
-- (The shebang makes Redis 7 treat this as a script that may write and, without allow-oom, refuse it whole
-- when memory is full, before any write: a report either happens entirely or not at all, and a store that
-- refuses writes never sweeps entries and announces a count made of what is left. allow-cross-slot-keys: on a
-- Redis Cluster, ARGV[15] is the liveness hash of the shard that serves the auction, in another slot of that shard; it
-- is not declared in KEYS, which a Cluster routes and checks against one slot.)
--
-- Sets one replica's share of one auction (its connections, its anonymous ones, and which persons arrived or left),
-- drops the shares of replicas that are not alive, sums the rest, raises the peak, and announces a change on the
-- auction's channel. Atomic per auction; every key but the liveness hash carries the auction's hash tag.
--
-- KEYS[1]  the auction's hash. Fields: "n:<node id>" -> "<connections>:<anonymous>:<applied>" per replica, where
--          <applied> is when Redis applied that replica's last report (us, Redis's clock), or 0 when that report
--          arrived late; "held" (us): when a late report was last applied; "cur" (last announced current), "peak",
--          "ver" (version of the last change)
--          Beside it, in its slot: KEYS[1]..":persons", a hash person key -> how many replicas hold it (a person
--          held by none is not there), and KEYS[1]..":p:<node id>", the set of persons that replica holds.
-- ARGV[15] the liveness hash of the replicas (see heartbeat.lua): "<node id>" -> "<deadline ms>:<applied us>" while
--          alive, "dead:<claim end ms>" once found dead. A replica counts while its deadline is after now.
-- ARGV[1]  the reporting node's id, or "" to only sweep and read
-- ARGV[2]  that node's connections in the auction; 0 removes its entry and its persons
-- ARGV[3]  how many of them have no person key (each is a person of its own)
-- ARGV[4]  now, in ms since the epoch, by the caller's clock (liveness)
-- ARGV[5]  the lease, in ms
-- ARGV[6]  the auction's channel, where a change is published as "c <version> <current> <peak>"
-- ARGV[7]  how long the auction's keys outlive their last write, in ms (keeps the peak of a quiet auction that long)
-- ARGV[8]  the peak the store last told that node (0 if none): the peak is raised to at least this, so it
--          survives a Redis that lost the hash while a replica still knows it
-- ARGV[9]  when the caller sent the report, in ms since the epoch by its wall clock
-- ARGV[10] a report applied more than this many ms after it was sent arrived late
-- ARGV[11] how to publish: PUBLISH, or SPUBLISH on a Redis Cluster (the channel is in the hash's slot)
-- ARGV[12] what current and peak count: "connection" or "person"
-- ARGV[13] the id of the node that reads, or "": its own entry's connections and anonymous ones are returned too
-- ARGV[14] "1" when the persons below are every person the node holds here (the rest of its persons leave), else "0"
-- ARGV[16] the audience history's interval, in ms
-- ARGV[17] the audience history's retention, in ms
-- ARGV[18...] person changes: "+<person key>" arrived here, "-<person key>" left here
--
-- The audience history. Beside the hash, in its slot, KEYS[1]..":history" is the step function of the announced
-- count: a sorted set with one member per interval in which the count changed, score = the interval's start (ms),
-- member = "<start>:<shown>:<end>", where <shown> is the interval's sample, the highest count it had (at its start
-- or after a change in it), and <end> the count at its end. An interval without a member had the <end> of the latest
-- one before it all along, and has a sample while that is above 0: readers fill them in. So the history is written when the count changes, here, the only place where it changes,
-- and never at rest. The member before the retention that later intervals take their count from is kept.
--
-- Liveness. An entry counts only while its replica is alive in the liveness hash. A script that meets an entry of a replica that
-- is not (its deadline passed, it was found dead, or it is missing) marks it found dead ("dead:0", which a survivor's
-- heartbeat claims to clean up the rest of its auctions) and removes its entry and its persons, so every read is exact
-- and a replica that comes back learns at its heartbeat that its entries are gone. A report of a replica that is not
-- alive is refused and writes nothing: it heartbeats, then writes everything again.
--
-- The peak. The sum of the entries is a number of viewers that were connected at one moment only if every
-- entry is its replica's latest count. A report that arrived late (stuck behind a stalled Redis or a slow
-- link) may land after a newer report of another replica, and a viewer that moved from one replica to the
-- other is then in both entries. So the peak is raised to the sum only while every entry is trusted: its
-- report, or its replica's last heartbeat (which follows that replica's earlier reports on its connection), came in
-- time, after the last late report of the auction, and recently (a replica heartbeats well within half a lease).
-- Otherwise it is raised only to the largest single entry (one replica's count at one moment, always true), and
-- current is shown no higher than the peak, until every replica has heartbeaten again (a replica sends its changes
-- first, then its heartbeat). A single replica's entry is
-- always the sum, so its peak follows at once. (A person is counted once whatever the entries: persons never make the
-- sum too high.)
--
-- Returns {current, peak, version, the reading node's connections, its anonymous ones, connections, people, trusted}
-- (trusted: 0 while the peak follows single entries only; the caller reads the auction again after the next
-- heartbeats, which nothing else would do while the auction does not change).
-- Versions come from Redis's clock and only grow, also across a restart of Redis that lost the hash. When the key holds
-- something else than a hash (left by a migration or a bad script), returns {-1, 0, 0, <Redis's error>} and touches
-- nothing: the failure is this auction's alone, not an error reply that would fail the whole pipelined report of every
-- auction. (Found by the first hash command, through redis.pcall.) A report of a node that is not alive returns
-- {-2, 0, 0, "not alive"}.
local key, live = KEYS[1], ARGV[15]
local persons = key .. ':persons'
local node, connections, anonymous = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now, lease = tonumber(ARGV[4]), tonumber(ARGV[5])
local knownPeak, sent, lateAfter = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local byPerson = ARGV[12] == 'person'

-- Reading an auction nobody ever reported: nothing to sweep or announce, and nothing is written, so reading
-- made-up ids (viewer-count is public) leaves nothing behind.
if node == '' and redis.call('EXISTS', key) == 0 then
  return {0, 0, 0, 0, 0, 0, 0, 1}
end
local reader = ARGV[13] ~= '' and ('n:' .. ARGV[13]) or nil

local time = redis.call('TIME')
local clock = tonumber(time[1]) * 1000000 + tonumber(time[2])
local held = redis.pcall('HGET', key, 'held')
if type(held) == 'table' and held.err then
  return {-1, 0, 0, held.err}
end
held = tonumber(held or '0')

-- While the auction's slot moves to another shard (Redis Cluster, ASK), this script can run on the shard that takes
-- the slot, where the liveness hash of the shard it leaves is not: for that one call every entry counts, as its
-- replica last wrote it (none is dropped or found dead, and the peak is not trusted), until the move completes and
-- the caller names the new shard's hash.
local liveHere = true
do
  local probe = redis.pcall('HGET', live, '')
  if type(probe) == 'table' and probe.err then
    liveHere = false
  end
end

-- The replica's liveness: alive, and when its last heartbeat was applied in time (0 if late); or not alive.
local function liveness(id)
  if not liveHere then
    return true, 0
  end
  local record = redis.call('HGET', live, id)
  if not record then
    return false, 0
  end
  local deadline, applied = string.match(record, '^(%d+):(%d+)$')
  if not deadline or tonumber(deadline) <= now then
    return false, 0
  end
  return true, tonumber(applied)
end

local function leave(person)
  if redis.call('HINCRBY', persons, person, -1) <= 0 then
    redis.call('HDEL', persons, person)
  end
end

-- Removes a replica's share of this auction: its entry and its persons.
local function drop(id)
  redis.call('HDEL', key, 'n:' .. id)
  local set = key .. ':p:' .. id
  for _, person in ipairs(redis.call('SMEMBERS', set)) do
    leave(person)
  end
  redis.call('DEL', set)
end

if node ~= '' then
  if not liveness(node) then
    return {-2, 0, 0, 'not alive'}
  end
  local applied = clock
  if clock - sent * 1000 > lateAfter * 1000 then
    applied = 0
    held = clock
    redis.call('HSET', key, 'held', string.format('%d', held))
  end
  if connections > 0 then
    redis.call('HSET', key, 'n:' .. node, string.format('%d:%d:%d', connections, anonymous, applied))
    local set = key .. ':p:' .. node
    if ARGV[14] == '1' then
      local given = {}
      for i = 18, #ARGV do
        given[string.sub(ARGV[i], 2)] = true
      end
      for _, person in ipairs(redis.call('SMEMBERS', set)) do
        if not given[person] then
          redis.call('SREM', set, person)
          leave(person)
        end
      end
    end
    for i = 18, #ARGV do
      local change, person = string.sub(ARGV[i], 1, 1), string.sub(ARGV[i], 2)
      if change == '+' then
        if redis.call('SADD', set, person) == 1 then
          redis.call('HINCRBY', persons, person, 1)
        end
      elseif redis.call('SREM', set, person) == 1 then
        leave(person)
      end
    end
    redis.call('PEXPIRE', set, ARGV[7])
  else
    drop(node)
  end
end

local fields = redis.call('HGETALL', key)
local total, anonymousTotal, largest, trusted, peak, announced, version = 0, 0, 0, true, 0, -1, 0
local mineConnections, mineAnonymous = 0, 0
for i = 1, #fields, 2 do
  local field, value = fields[i], fields[i + 1]
  if string.sub(field, 1, 2) == 'n:' then
    local id = string.sub(field, 3)
    local alive, beat = liveness(id)
    if not alive then
      local record = redis.call('HGET', live, id)
      if record and string.sub(record, 1, 5) ~= 'dead:' then
        redis.call('HSET', live, id, 'dead:0')
      end
      drop(id)
    else
      local count, anon, applied = string.match(value, '^(%d+):(%d+):(%d+)$')
      count, anon, applied = tonumber(count), tonumber(anon), tonumber(applied)
      if field == reader then
        mineConnections, mineAnonymous = count, anon
      end
      total = total + count
      anonymousTotal = anonymousTotal + anon
      local single = count
      if byPerson then
        single = anon + redis.call('SCARD', key .. ':p:' .. id)
      end
      if single > largest then
        largest = single
      end
      local latest = math.max(applied, beat)
      if latest <= held or clock - latest > lease * 500 then
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

-- Records a change of the announced count in the history (see above).
local function record(count)
  local history, interval, retention = key .. ':history', tonumber(ARGV[16]), tonumber(ARGV[17])
  local start = math.floor(now / interval) * interval
  local last = redis.pcall('ZREVRANGE', history, 0, 0, 'WITHSCORES')
  if type(last) == 'table' and last.err then
    -- the key holds something else (left by a migration or a script): the count is announced, its history not kept
    return
  end
  local shown = count
  local _, lastShown, lastEnd
  if #last > 0 then
    _, lastShown, lastEnd = string.match(last[1], '^(%d+):(%d+):?(%d*)$')
  end
  if lastShown then
    local lastStart = tonumber(last[2])
    lastShown = tonumber(lastShown)
    lastEnd = tonumber(lastEnd ~= '' and lastEnd or lastShown)
    if lastStart >= start then
      -- this interval has its step already (or a replica with a clock ahead wrote a later one): it moves
      redis.call('ZREM', history, last[1])
      redis.call('ZADD', history, last[2], string.format('%d:%d:%d', lastStart, math.max(lastShown, count), count))
      return
    end
    shown = math.max(lastEnd, count)
  end
  redis.call('ZADD', history, string.format('%d', start), string.format('%d:%d:%d', start, shown, count))
  -- a new step: trimmed to the retention, but for the step that the first interval kept takes its count from
  local base = redis.call('ZREVRANGEBYSCORE', history, string.format('%d', now - retention), '-inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #base > 0 then
    redis.call('ZREMRANGEBYSCORE', history, '-inf', '(' .. base[2])
  end
end

local people = redis.call('HLEN', persons) + anonymousTotal
local current = total
if byPerson then
  current = people
end
local raised = math.max(peak, knownPeak, largest)
if trusted then
  raised = math.max(raised, current)
end
local shown = math.min(current, raised)

if shown ~= announced or raised ~= peak then
  version = math.max(version + 1, clock)
  redis.call('HSET', key, 'cur', shown, 'peak', raised, 'ver', string.format('%d', version))
  redis.call(ARGV[11], ARGV[6], string.format('c %d %d %d', version, shown, raised))
  if shown ~= math.max(announced, 0) then
    record(shown)
  end
end
redis.call('PEXPIRE', key, ARGV[7])
redis.call('PEXPIRE', persons, ARGV[7])
-- the history outlives the hash: an auction whose count has not changed for a day keeps it while the hash is kept
redis.call('PEXPIRE', key .. ':history', string.format('%d', math.max(tonumber(ARGV[17]), tonumber(ARGV[7]))))
return {shown, raised, version, mineConnections, mineAnonymous, total, people, trusted and 1 or 0}
