#!lua flags=allow-cross-slot-keys
-- A dead node's entries are all removed: its record leaves the liveness hash, unless it came back meanwhile (then
-- its record is alive again and stays).
--
-- KEYS[1]  the liveness hash (see heartbeat.lua)
-- ARGV[1]  the node's id
-- ARGV[2]  "1" to mark it found dead first (a stopping node removing itself), else "0"
-- ARGV[3]  with ARGV[2] = "1": its record becomes "dead:<this>"
--
-- Returns 1 when the record was removed or marked, else 0.
local record = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], ARGV[1], 'dead:' .. ARGV[3])
  return 1
end
if record and string.sub(record, 1, 5) == 'dead:' then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
