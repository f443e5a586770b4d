#!lua
-- (A script that may write: with memory full, Redis refuses it whole, before any write; an event is either in the
-- log and announced, or neither.)
--
-- Publishes one event of an auction: gives it the next sequence number of the auction's log, appends it to the log,
-- keeps it as the last bid if it is one, and announces it on the auction's channel, in one atomic step. Every key
-- and the channel carry the auction's hash tag, so it runs on a Redis Cluster too.
--
-- KEYS[1]  the auction's log head, a hash: "epoch", "seq" (the last sequence number), "bid" (the last bid's entry)
-- KEYS[2]  the auction's log, a list of entries "<seq> <published at, ms> <name> <payload JSON>", oldest first
-- ARGV[1]  the auction's channel, where the event is announced as "o <epoch> <entry>"
-- ARGV[2]  how to publish: PUBLISH, or SPUBLISH on a Redis Cluster
-- ARGV[3]  the event's name
-- ARGV[4]  its payload, JSON
-- ARGV[5]  when it was published, ms since the epoch by the publisher's clock
-- ARGV[6]  how many entries the log keeps (the newest)
-- ARGV[7]  how long (ms) the log outlives the auction's last event
-- ARGV[8]  how long (ms) the head outlives it
-- ARGV[9]  the epoch of a log made anew, when the auction has no head: a random name, so that offsets from before
--          (Redis restarted empty, or lost the head) are recognisably not of this log
--
-- Returns {epoch, seq}.
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[9]
  redis.call('HSET', KEYS[1], 'epoch', epoch)
  redis.call('DEL', KEYS[2])
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local entry = seq .. ' ' .. ARGV[5] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4]
redis.call('RPUSH', KEYS[2], entry)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1)
redis.call('PEXPIRE', KEYS[2], ARGV[7])
if ARGV[3] == 'playerBiddingUpdate' then
  redis.call('HSET', KEYS[1], 'bid', entry)
end
redis.call('PEXPIRE', KEYS[1], ARGV[8])
redis.call(ARGV[2], ARGV[1], 'o ' .. epoch .. ' ' .. entry)
return {epoch, seq}
