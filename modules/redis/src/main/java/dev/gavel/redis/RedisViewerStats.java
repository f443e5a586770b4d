package dev.gavel.redis;

import dev.gavel.core.AuctionId;
import dev.gavel.core.HistorySample;
import dev.gavel.core.ViewerStats;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Viewer stats in Redis, per auction under its hash tag: unique viewers in a HyperLogLog ({@code PFADD} /
 * {@code PFCOUNT}, standard error 0.81%, at most 12 KiB), history in a sorted set trimmed to the retention and
 * written by {@code sample.lua}, which keeps the first sample of each interval. Watched auctions are one sorted
 * set of auction ids scored by when their mark runs out. Each call is one pipelined round trip, whatever the
 * number of auctions in it.
 */
final class RedisViewerStats implements ViewerStats {

    private static final RedisScript SAMPLE = RedisScript.load("sample.lua");

    private final Redis redis;
    private final long intervalMillis;
    private final long retentionMillis;
    private final long activityLeaseMillis;

    public RedisViewerStats(Redis redis, long intervalMillis, long retentionMillis) {
        if (intervalMillis <= 0 || retentionMillis < intervalMillis) {
            throw new IllegalArgumentException("need 0 < interval <= retention: " + intervalMillis + "/" + retentionMillis);
        }
        this.redis = redis;
        this.intervalMillis = intervalMillis;
        this.retentionMillis = retentionMillis;
        this.activityLeaseMillis = ViewerStats.activityLeaseMillis(intervalMillis);
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
        requests.addAll(markWatched(viewerIds.keySet(), nowMillis));
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
    public Future<Void> sample(Collection<AuctionId> watched, long nowMillis) {
        if (watched.isEmpty()) {
            return Future.succeededFuture();
        }
        long slot = Math.floorDiv(nowMillis, intervalMillis);
        List<Request> requests = new ArrayList<>();
        for (AuctionId auction : watched) {
            requests.add(SAMPLE.call(RedisKeys.counts(auction), RedisKeys.history(auction), RedisKeys.lastSample(auction))
                    .arg(slot)
                    .arg(slot * intervalMillis)
                    .arg(retentionMillis));
        }
        requests.addAll(markWatched(watched, nowMillis));
        return SAMPLE.batch(redis, requests).mapEmpty();
    }

    private List<Request> markWatched(Collection<AuctionId> auctions, long nowMillis) {
        Request mark = Request.cmd(Command.ZADD).arg(RedisKeys.watchedAuctions());
        long until = nowMillis + activityLeaseMillis;
        auctions.forEach(auction -> mark.arg(until).arg(auction.value()));
        return List.of(mark, Request.cmd(Command.PEXPIRE).arg(RedisKeys.watchedAuctions()).arg(activityLeaseMillis));
    }

    @Override
    public Future<Long> uniqueViewers(AuctionId auction) {
        return redis.send(Request.cmd(Command.PFCOUNT).arg(RedisKeys.uniqueViewers(auction))).map(Response::toLong);
    }

    @Override
    public Future<List<HistorySample>> history(AuctionId auction, long fromMillis, long toMillis) {
        if (fromMillis > toMillis) {
            return Future.succeededFuture(List.of());
        }
        return redis.send(Request.cmd(Command.ZRANGEBYSCORE).arg(RedisKeys.history(auction)).arg(fromMillis).arg(toMillis))
                .map(members -> {
                    List<HistorySample> samples = new ArrayList<>();
                    for (Response member : members) {
                        String text = member.toString();
                        int colon = text.indexOf(':');
                        samples.add(new HistorySample(Long.parseLong(text.substring(0, colon)), Long.parseLong(text.substring(colon + 1))));
                    }
                    return samples;
                });
    }

    @Override
    public Future<Set<AuctionId>> activeAuctions(long nowMillis) {
        String key = RedisKeys.watchedAuctions();
        return redis.batch(List.of(
                Request.cmd(Command.ZREMRANGEBYSCORE).arg(key).arg("-inf").arg(nowMillis),
                Request.cmd(Command.ZRANGEBYSCORE).arg(key).arg("(" + nowMillis).arg("+inf")))
                .map(replies -> {
                    Set<AuctionId> auctions = new LinkedHashSet<>();
                    for (Response member : replies.get(1)) {
                        auctions.add(AuctionId.of(member.toString()));
                    }
                    return auctions;
                });
    }

    @Override
    public long intervalMillis() {
        return intervalMillis;
    }
}
