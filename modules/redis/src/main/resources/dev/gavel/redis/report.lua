-- Sets one replica's viewer count for one auction, drops the entries of replicas whose lease ran out,
-- sums the rest, raises the peak, and announces a change on the auction's channel. Atomic per auction,
-- and every key it touches is the auction's own hash, so it runs on Redis Cluster too.
--
-- KEYS[1]  the auction's hash. Fields: "n:<node id>" -> "<viewers>:<lease end, ms>" per replica,
--          "cur" (last announced current), "peak", "ver" (version of the last change)
-- ARGV[1]  the reporting node's id, or "" to only sweep and read
-- ARGV[2]  that node's viewers in the auction; 0 removes its entry
-- ARGV[3]  now, in ms since the epoch, by the caller's clock
-- ARGV[4]  the lease, in ms
-- ARGV[5]  the auction's channel, where a change is published as "c <version> <current> <peak>"
-- ARGV[6]  how long the hash outlives its last write, in ms (keeps the peak of a quiet auction that long)
--
-- Returns {current, peak, version}. Versions come from Redis's clock and only grow, also across a
-- restart of Redis that lost the hash.
local key = KEYS[1]
local node, viewers, now, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])

if node ~= '' then
  if viewers > 0 then
    redis.call('HSET', key, 'n:' .. node, string.format('%d:%d', viewers, now + lease))
  else
    redis.call('HDEL', key, 'n:' .. node)
  end
end

local fields = redis.call('HGETALL', key)
local current, peak, announced, version = 0, 0, -1, 0
for i = 1, #fields, 2 do
  local field, value = fields[i], fields[i + 1]
  if string.sub(field, 1, 2) == 'n:' then
    local sep = string.find(value, ':', 1, true)
    if tonumber(string.sub(value, sep + 1)) <= now then
      redis.call('HDEL', key, field)
    else
      current = current + tonumber(string.sub(value, 1, sep - 1))
    end
  elseif field == 'peak' then
    peak = tonumber(value)
  elseif field == 'cur' then
    announced = tonumber(value)
  elseif field == 'ver' then
    version = tonumber(value)
  end
end

if current ~= announced or current > peak then
  if current > peak then
    peak = current
  end
  local time = redis.call('TIME')
  version = math.max(version + 1, tonumber(time[1]) * 1000000 + tonumber(time[2]))
  redis.call('HSET', key, 'cur', current, 'peak', peak, 'ver', string.format('%d', version))
  redis.call('PUBLISH', ARGV[5], string.format('c %d %d %d', version, current, peak))
end
redis.call('PEXPIRE', key, ARGV[6])
return {current, peak, version}
