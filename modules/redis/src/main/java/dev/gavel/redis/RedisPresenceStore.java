package dev.gavel.redis;

import dev.gavel.core.AuctionId;
import dev.gavel.core.PresenceStore;
import dev.gavel.core.ViewerCount;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Counts in Redis: one hash per auction with one entry per replica, kept by the {@code report.lua} script.
 * A report for many auctions is one pipelined round trip. Each node also keeps the set of auctions where it
 * holds entries, so that it can remove them all when it stops or restarts. The script is refused whole when
 * Redis refuses writes (memory full): then nothing is swept, raised or announced, and the future fails.
 */
public final class RedisPresenceStore implements PresenceStore {

    /** A quiet auction's hash, and so its peak, is kept this long after its last write. */
    static final long KEY_RETENTION_MILLIS = 24L * 60 * 60 * 1000;
    /**
     * A report applied this long after it was sent arrived late, and the peak is not raised to a sum that
     * includes it (see report.lua). Well above a healthy round trip and the clock skew of synchronised hosts,
     * well below the stalls it is there for (a request timeout, a DEBUG SLEEP, a GC pause of Redis).
     */
    static final long LATE_REPORT_MILLIS = 1000;

    private static final RedisScript REPORT = RedisScript.load("report.lua");

    private final Redis redis;
    private final Clock clock;
    private final long leaseMillis;

    public RedisPresenceStore(Redis redis, Clock clock, long leaseMillis) {
        if (leaseMillis <= 0) {
            throw new IllegalArgumentException("leaseMillis must be positive: " + leaseMillis);
        }
        this.redis = redis;
        this.clock = clock;
        this.leaseMillis = leaseMillis;
    }

    @Override
    public Future<Map<AuctionId, ViewerCount>> report(String nodeId, Map<AuctionId, LocalCount> local) {
        if (local.isEmpty()) {
            return Future.succeededFuture(Map.of());
        }
        long now = clock.millis();
        List<AuctionId> auctions = new ArrayList<>(local.keySet());
        List<Request> requests = new ArrayList<>();
        Request watching = Request.cmd(Command.SADD).arg(RedisKeys.nodeAuctions(nodeId));
        Request left = Request.cmd(Command.SREM).arg(RedisKeys.nodeAuctions(nodeId));
        boolean anyWatching = false;
        boolean anyLeft = false;
        for (AuctionId auction : auctions) {
            LocalCount share = local.get(auction);
            if (share.viewers() < 0) {
                return Future.failedFuture(new IllegalArgumentException("negative viewers for " + auction + ": " + share.viewers()));
            }
            requests.add(reportRequest(auction, nodeId, share, now));
            if (share.viewers() > 0) {
                watching.arg(auction.value());
                anyWatching = true;
            } else {
                left.arg(auction.value());
                anyLeft = true;
            }
        }
        if (anyWatching) {
            requests.add(watching);
            requests.add(Request.cmd(Command.PEXPIRE).arg(RedisKeys.nodeAuctions(nodeId)).arg(KEY_RETENTION_MILLIS));
        }
        if (anyLeft) {
            requests.add(left);
        }
        return REPORT.batch(redis, requests).map(responses -> {
            Map<AuctionId, ViewerCount> counts = new LinkedHashMap<>();
            for (int i = 0; i < auctions.size(); i++) {
                counts.put(auctions.get(i), toCount(auctions.get(i), responses.get(i)));
            }
            return counts;
        });
    }

    @Override
    public Future<ViewerCount> read(AuctionId auction) {
        return REPORT.batch(redis, List.of(reportRequest(auction, "", new LocalCount(0, 0), clock.millis())))
                .map(responses -> toCount(auction, responses.get(0)));
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
                .arg(LATE_REPORT_MILLIS);
    }

    private static ViewerCount toCount(AuctionId auction, Response reply) {
        return new ViewerCount(auction, reply.get(0).toLong(), reply.get(1).toLong(), reply.get(2).toLong());
    }
}
