-- Opens or closes one auction for viewers and announces the change to every replica.
--
-- KEYS[1]  the set of open auctions
-- KEYS[2]  the version of the last change
-- ARGV[1]  "o" to open, "c" to close
-- ARGV[2]  the auction id
-- ARGV[3]  the channel of changes, where the change is published as "<version> <o|c> <auction id>"
-- ARGV[4]  how to publish: PUBLISH, or SPUBLISH on a Redis Cluster (the channel is in the keys' slot)
--
-- Returns {was open (1 or 0), version}. Every call is a change with a new version, also when it changes
-- nothing in the set: a close always sends the auction's viewers away, open or not. Versions come from
-- Redis's clock and only grow, also across a restart of Redis that lost the keys.
local was = redis.call('SISMEMBER', KEYS[1], ARGV[2])
if ARGV[1] == 'o' then
  redis.call('SADD', KEYS[1], ARGV[2])
else
  redis.call('SREM', KEYS[1], ARGV[2])
end
local time = redis.call('TIME')
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local version = string.format('%d', math.max(last + 1, tonumber(time[1]) * 1000000 + tonumber(time[2])))
redis.call('SET', KEYS[2], version)
redis.call(ARGV[4], ARGV[3], version .. ' ' .. ARGV[1] .. ' ' .. ARGV[2])
return {was, version}
