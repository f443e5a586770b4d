package dev.gavel.redis;

import dev.gavel.core.AuctionId;
import dev.gavel.core.PresenceStore;
import dev.gavel.core.ViewerCount;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts in Redis: one hash per auction with one entry per replica, kept by the {@code report.lua} script.
 * A report for many auctions is one pipelined round trip. Each node also keeps the set of auctions where it
 * holds entries, so that it can remove them all when it stops or restarts. The script is refused whole when
 * Redis refuses writes (memory full): then nothing is swept, raised or announced, and the future fails.
 *
 * <p>On a Redis Cluster a report is one pipeline per shard, sent together; a shard that fails (its master is failing
 * over) leaves its auctions out of the answer, and the others are counted as usual: the report fails only when every
 * shard failed.
 */
final class RedisPresenceStore implements PresenceStore {

    /** A quiet auction's hash, and so its peak, is kept this long after its last write. */
    static final long KEY_RETENTION_MILLIS = 24L * 60 * 60 * 1000;
    /**
     * A report applied this long after it was sent arrived late, and the peak is not raised to a sum that
     * includes it (see report.lua). Well above a healthy round trip and the clock skew of synchronised hosts,
     * well below the stalls it is there for (a request timeout, a DEBUG SLEEP, a GC pause of Redis).
     */
    static final long LATE_REPORT_MILLIS = 1000;

    private static final RedisScript REPORT = RedisScript.load("report.lua");
    private static final Logger LOG = LoggerFactory.getLogger(RedisPresenceStore.class);
    /** A key of the wrong type is logged at most once in this long. */
    static final long WRONG_TYPE_LOG_MILLIS = 60_000;
    private final AtomicLong lastWrongTypeLog = new AtomicLong(System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(WRONG_TYPE_LOG_MILLIS));
    private final AtomicLong wrongTypeSinceLog = new AtomicLong();

    private final Redis redis;
    private final Clock clock;
    private final long leaseMillis;
    private final RedisTopology topology;
    private final String publish;

    /**
     * @param redis    routes each command to its key's shard
     * @param topology the shard that serves a key now (commands to one shard succeed or fail together), and how count
     *                 changes are announced
     */
    RedisPresenceStore(Redis redis, RedisTopology topology, Clock clock, long leaseMillis) {
        if (leaseMillis <= 0) {
            throw new IllegalArgumentException("leaseMillis must be positive: " + leaseMillis);
        }
        this.redis = redis;
        this.clock = clock;
        this.leaseMillis = leaseMillis;
        this.topology = topology;
        this.publish = topology.pubSub().publish();
    }

    @Override
    public Future<Map<AuctionId, ViewerCount>> report(String nodeId, Map<AuctionId, LocalCount> local) {
        if (local.isEmpty()) {
            return Future.succeededFuture(Map.of());
        }
        long now = clock.millis();
        Map<String, List<AuctionId>> shards = new LinkedHashMap<>();
        Request watching = Request.cmd(Command.SADD).arg(RedisKeys.nodeAuctions(nodeId));
        Request left = Request.cmd(Command.SREM).arg(RedisKeys.nodeAuctions(nodeId));
        boolean anyWatching = false;
        boolean anyLeft = false;
        for (Map.Entry<AuctionId, LocalCount> entry : local.entrySet()) {
            AuctionId auction = entry.getKey();
            if (entry.getValue().viewers() < 0) {
                return Future.failedFuture(new IllegalArgumentException("negative viewers for " + auction + ": "
                        + entry.getValue().viewers()));
            }
            shards.computeIfAbsent(String.valueOf(topology.shardOf(RedisKeys.counts(auction))), s -> new ArrayList<>()).add(auction);
            if (entry.getValue().viewers() > 0) {
                watching.arg(auction.value());
                anyWatching = true;
            } else {
                left.arg(auction.value());
                anyLeft = true;
            }
        }
        // The node's own index (where to clean up after it) goes with the pipeline of the shard that holds it: on one
        // Redis the report stays one round trip.
        String indexShard = String.valueOf(topology.shardOf(RedisKeys.nodeAuctions(nodeId)));
        shards.computeIfAbsent(indexShard, s -> new ArrayList<>());
        List<Request> index = new ArrayList<>();
        if (anyWatching) {
            index.add(watching);
            index.add(Request.cmd(Command.PEXPIRE).arg(RedisKeys.nodeAuctions(nodeId)).arg(KEY_RETENTION_MILLIS));
        }
        if (anyLeft) {
            index.add(left);
        }
        List<Future<Map<AuctionId, ViewerCount>>> parts = new ArrayList<>();
        shards.forEach((shard, auctions) -> {
            List<Request> requests = new ArrayList<>();
            for (AuctionId auction : auctions) {
                requests.add(reportRequest(auction, nodeId, local.get(auction), now));
            }
            if (shard.equals(indexShard)) {
                requests.addAll(index);
            }
            parts.add(REPORT.batch(redis, requests).map(responses -> {
                Map<AuctionId, ViewerCount> counts = new LinkedHashMap<>();
                for (int i = 0; i < auctions.size(); i++) {
                    ViewerCount count = toCount(auctions.get(i), responses.get(i));
                    if (count != null) {
                        counts.put(auctions.get(i), count);
                    }
                }
                return counts;
            }));
        });
        if (parts.size() == 1) {
            return parts.get(0);
        }
        return Future.join(parts).transform(ar -> {
            Map<AuctionId, ViewerCount> counts = new LinkedHashMap<>();
            Throwable failure = null;
            for (Future<Map<AuctionId, ViewerCount>> part : parts) {
                if (part.succeeded()) {
                    counts.putAll(part.result());
                } else {
                    failure = part.cause();
                }
            }
            return counts.isEmpty() && failure != null ? Future.failedFuture(failure) : Future.succeededFuture(counts);
        });
    }

    @Override
    public Future<ViewerCount> read(AuctionId auction) {
        return REPORT.batch(redis, List.of(reportRequest(auction, "", new LocalCount(0, 0), clock.millis())))
                .compose(responses -> {
                    ViewerCount count = toCount(auction, responses.get(0));
                    return count != null ? Future.succeededFuture(count) : Future.failedFuture(new IllegalStateException(
                            "the auction's key " + RedisKeys.counts(auction) + " in Redis is not a hash: "
                                    + responses.get(0).get(3)));
                });
    }

    @Override
    public Future<ViewerCount> read(AuctionId auction, String nodeId, long localViewers) {
        Request call = reportRequest(auction, "", new LocalCount(0, 0), clock.millis()).arg(nodeId);
        return REPORT.batch(redis, List.of(call)).compose(responses -> {
            Response reply = responses.get(0);
            ViewerCount count = toCount(auction, reply);
            if (count == null) {
                return Future.failedFuture(new IllegalStateException("the auction's key " + RedisKeys.counts(auction)
                        + " in Redis is not a hash: " + reply.get(3)));
            }
            long current = Math.max(0, count.current() - reply.get(3).toLong() + localViewers);
            return Future.succeededFuture(new ViewerCount(auction, current, Math.max(count.peak(), current), count.version()));
        });
    }

    @Override
    public Future<Void> removeNode(String nodeId) {
        String index = RedisKeys.nodeAuctions(nodeId);
        return redis.send(Request.cmd(Command.SMEMBERS).arg(index)).compose(members -> {
            long now = clock.millis();
            List<Request> requests = new ArrayList<>();
            for (Response member : members) {
                requests.add(reportRequest(AuctionId.of(member.toString()), nodeId, new LocalCount(0, 0), now));
            }
            requests.add(Request.cmd(Command.DEL).arg(index));
            return REPORT.batch(redis, requests);
        }).mapEmpty();
    }

    private Request reportRequest(AuctionId auction, String nodeId, LocalCount share, long now) {
        return REPORT.call(RedisKeys.counts(auction))
                .arg(nodeId)
                .arg(share.viewers())
                .arg(now)
                .arg(leaseMillis)
                .arg(RedisKeys.channel(auction))
                .arg(KEY_RETENTION_MILLIS)
                .arg(share.knownPeak())
                // The wall clock, not the injected one: it is compared with Redis's own clock.
                .arg(System.currentTimeMillis())
                .arg(LATE_REPORT_MILLIS)
                .arg(publish);
    }

    /** The count of a reply of report.lua, or null (logged, rate-limited) when the auction's key is not a hash. */
    private ViewerCount toCount(AuctionId auction, Response reply) {
        // {-1, 0, 0, error}: see report.lua
        if (reply.get(0).toLong() < 0) {
            wrongType(auction, reply.get(3).toString());
            return null;
        }
        return new ViewerCount(auction, reply.get(0).toLong(), reply.get(1).toLong(), reply.get(2).toLong());
    }

    /** One line per {@link #WRONG_TYPE_LOG_MILLIS} at most, whatever the number of auctions or writes. */
    private void wrongType(AuctionId auction, String error) {
        long now = System.nanoTime();
        long last = lastWrongTypeLog.get();
        if (now - last < TimeUnit.MILLISECONDS.toNanos(WRONG_TYPE_LOG_MILLIS) || !lastWrongTypeLog.compareAndSet(last, now)) {
            wrongTypeSinceLog.incrementAndGet();
            return;
        }
        LOG.atWarn().addKeyValue("auction", auction.value()).log("The auction's key {} in Redis is not a hash ({}): "
                        + "its count is not written (the other auctions' are); remove the key ({} more such failures "
                        + "since the last line)", RedisKeys.counts(auction), error, wrongTypeSinceLog.getAndSet(0));
    }
}
