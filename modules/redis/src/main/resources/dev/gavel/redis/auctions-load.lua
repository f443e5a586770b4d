-- Reads the whole registry of open auctions, for a replica that (re)connected. When Redis lost the registry
-- (no version: restarted empty), the replica's own copy is written back first.
--
-- KEYS[1]  the set of open auctions
-- KEYS[2]  the version of the last change
-- ARGV     the auctions the calling replica holds open (none on a first start)
--
-- Returns {version, auction id...}; version "0" when there never was a change.
local version = redis.call('GET', KEYS[2])
if not version then
  if #ARGV == 0 then
    version = '0'
  else
    for i = 1, #ARGV do
      redis.call('SADD', KEYS[1], ARGV[i])
    end
    local time = redis.call('TIME')
    version = string.format('%d', tonumber(time[1]) * 1000000 + tonumber(time[2]))
    redis.call('SET', KEYS[2], version)
  end
end
local result = redis.call('SMEMBERS', KEYS[1])
table.insert(result, 1, version)
return result
