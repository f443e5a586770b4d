package dev.gavel.redis;

import dev.gavel.core.AuctionId;
import dev.gavel.core.PresenceStore;
import dev.gavel.core.ViewerCount;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Counts in Redis: one hash per auction with one entry per replica, kept by the {@code report.lua} script.
 * A report for many auctions is one pipelined round trip. Each node also keeps the set of auctions where it
 * holds entries, so that it can remove them all when it stops or restarts.
 */
public final class RedisPresenceStore implements PresenceStore {

    /** A quiet auction's hash, and so its peak, is kept this long after its last write. */
    static final long KEY_RETENTION_MILLIS = 24L * 60 * 60 * 1000;

    private static final String REPORT_SCRIPT = loadScript("report.lua");
    private static final String REPORT_SHA = sha1(REPORT_SCRIPT);

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
    public Future<Map<AuctionId, ViewerCount>> report(String nodeId, Map<AuctionId, Long> localViewers) {
        if (localViewers.isEmpty()) {
            return Future.succeededFuture(Map.of());
        }
        long now = clock.millis();
        List<AuctionId> auctions = new ArrayList<>(localViewers.keySet());
        List<Request> requests = new ArrayList<>();
        Request watching = Request.cmd(Command.SADD).arg(RedisKeys.nodeAuctions(nodeId));
        Request left = Request.cmd(Command.SREM).arg(RedisKeys.nodeAuctions(nodeId));
        boolean anyWatching = false;
        boolean anyLeft = false;
        for (AuctionId auction : auctions) {
            long viewers = localViewers.get(auction);
            if (viewers < 0) {
                return Future.failedFuture(new IllegalArgumentException("negative viewers for " + auction + ": " + viewers));
            }
            requests.add(reportRequest(auction, nodeId, viewers, now));
            if (viewers > 0) {
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
        return runScripts(requests).map(responses -> {
            Map<AuctionId, ViewerCount> counts = new LinkedHashMap<>();
            for (int i = 0; i < auctions.size(); i++) {
                counts.put(auctions.get(i), toCount(auctions.get(i), responses.get(i)));
            }
            return counts;
        });
    }

    @Override
    public Future<ViewerCount> read(AuctionId auction) {
        return runScripts(List.of(reportRequest(auction, "", 0, clock.millis())))
                .map(responses -> toCount(auction, responses.get(0)));
    }

    @Override
    public Future<Void> removeNode(String nodeId) {
        String index = RedisKeys.nodeAuctions(nodeId);
        return redis.send(Request.cmd(Command.SMEMBERS).arg(index)).compose(members -> {
            long now = clock.millis();
            List<Request> requests = new ArrayList<>();
            for (Response member : members) {
                requests.add(reportRequest(AuctionId.of(member.toString()), nodeId, 0, now));
            }
            requests.add(Request.cmd(Command.DEL).arg(index));
            return runScripts(requests);
        }).mapEmpty();
    }

    private Request reportRequest(AuctionId auction, String nodeId, long viewers, long now) {
        return Request.cmd(Command.EVALSHA).arg(REPORT_SHA).arg(1)
                .arg(RedisKeys.counts(auction))
                .arg(nodeId)
                .arg(viewers)
                .arg(now)
                .arg(leaseMillis)
                .arg(RedisKeys.channel(auction))
                .arg(KEY_RETENTION_MILLIS);
    }

    /** Sends a pipeline that calls the script by its hash, loading the script first if Redis lost it. */
    private Future<List<Response>> runScripts(List<Request> requests) {
        return redis.batch(requests).recover(error -> {
            if (error.getMessage() == null || !error.getMessage().contains("NOSCRIPT")) {
                return Future.failedFuture(error);
            }
            return redis.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(REPORT_SCRIPT))
                    .compose(sha -> redis.batch(requests));
        });
    }

    private static ViewerCount toCount(AuctionId auction, Response reply) {
        return new ViewerCount(auction, reply.get(0).toLong(), reply.get(1).toLong(), reply.get(2).toLong());
    }

    private static String loadScript(String name) {
        try (InputStream in = RedisPresenceStore.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing script resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
