package dev.gavel.redis;

import dev.gavel.core.AuctionId;
import dev.gavel.core.HistorySample;
import dev.gavel.core.HistorySteps;
import dev.gavel.core.ViewerStats;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Viewer stats in Redis, per auction under its hash tag: unique viewers in a HyperLogLog ({@code PFADD} /
 * {@code PFCOUNT}, standard error 0.81%, at most 12 KiB); history in a sorted set of steps, written by
 * {@code report.lua} when the announced count changes (nothing at rest) and filled in here on reading. Watched
 * auctions are read from the live replicas' indexes of the auctions they hold. Each call is one pipelined round trip,
 * whatever the number of auctions in it.
 */
final class RedisViewerStats implements ViewerStats {

    private final Redis redis;
    private final long intervalMillis;
    private final long retentionMillis;
    private final RedisPresenceStore presence;

    /** @param presence writes the history (report.lua, when a count changes) and knows which auctions are held */
    public RedisViewerStats(Redis redis, RedisPresenceStore presence, long intervalMillis, long retentionMillis) {
        if (intervalMillis <= 0 || retentionMillis < intervalMillis) {
            throw new IllegalArgumentException("need 0 < interval <= retention: " + intervalMillis + "/" + retentionMillis);
        }
        this.redis = redis;
        this.intervalMillis = intervalMillis;
        this.retentionMillis = retentionMillis;
        this.presence = presence;
    }

    @Override
    public Future<Void> addViewers(Map<AuctionId, Set<String>> viewerIds, long nowMillis) {
        List<Request> requests = new ArrayList<>();
        viewerIds.forEach((auction, ids) -> {
            if (ids.isEmpty()) {
                return;
            }
            Request add = Request.cmd(Command.PFADD).arg(RedisKeys.uniqueViewers(auction));
            ids.forEach(add::arg);
            requests.add(add);
            requests.add(Request.cmd(Command.PEXPIRE).arg(RedisKeys.uniqueViewers(auction)).arg(retentionMillis));
        });
        if (requests.isEmpty()) {
            return Future.succeededFuture();
        }
        return redis.batch(requests).<Void>mapEmpty().recover(error -> {
            if (error.getMessage() == null || !error.getMessage().contains("WRONGTYPE")) {
                return Future.failedFuture(error);
            }
            // One auction's key holds the wrong type: the pipeline failed as a whole; each command again on its own,
            // so that the other auctions' viewers are counted (the broken one's command fails alone).
            List<Future<Response>> each = new ArrayList<>();
            requests.forEach(request -> each.add(redis.send(request)));
            return Future.join(each).<Void>mapEmpty().otherwiseEmpty();
        });
    }

    @Override
    public Future<Long> uniqueViewers(AuctionId auction) {
        return redis.send(Request.cmd(Command.PFCOUNT).arg(RedisKeys.uniqueViewers(auction))).map(Response::toLong);
    }

    @Override
    public Future<List<HistorySample>> history(AuctionId auction, long fromMillis, long toMillis, long nowMillis) {
        long from = Math.max(fromMillis, HistorySteps.firstKept(nowMillis, intervalMillis, retentionMillis));
        long to = Math.min(toMillis, nowMillis);
        if (from > to) {
            return Future.succeededFuture(List.of());
        }
        String key = RedisKeys.history(auction);
        // the step that the intervals from "from" on take their count from, then the steps after it
        return redis.batch(List.of(
                Request.cmd(Command.ZREVRANGEBYSCORE).arg(key).arg(from).arg("-inf").arg("LIMIT").arg(0).arg(1),
                Request.cmd(Command.ZRANGEBYSCORE).arg(key).arg("(" + from).arg(to)))
                .map(replies -> {
                    List<HistorySteps.Step> steps = new ArrayList<>();
                    for (Response reply : replies) {
                        for (Response member : reply) {
                            steps.add(step(member.toString()));
                        }
                    }
                    return HistorySteps.samples(steps, intervalMillis, from, to);
                });
    }

    /** A member of the history: {@code <start>:<shown>:<end>} (see report.lua), or {@code <start>:<count>}. */
    private static HistorySteps.Step step(String member) {
        String[] parts = member.split(":");
        long shown = Long.parseLong(parts[1]);
        return new HistorySteps.Step(Long.parseLong(parts[0]), shown, parts.length > 2 ? Long.parseLong(parts[2]) : shown);
    }

    @Override
    public Future<Set<AuctionId>> activeAuctions(long nowMillis) {
        // who holds viewers is in the liveness hashes, whatever the time
        return presence.heldAuctions();
    }

    @Override
    public long intervalMillis() {
        return intervalMillis;
    }
}
