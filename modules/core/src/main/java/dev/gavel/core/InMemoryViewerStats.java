package dev.gavel.core;

import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * The viewer stats of a single node. Unique viewers are counted with a {@link HyperLogLog} per auction (16 KiB,
 * the same layout and error as Redis's), so memory stays bounded whatever the number of viewers. The current
 * count of a sample is read from the node's {@link PresenceStore}.
 */
public final class InMemoryViewerStats implements ViewerStats {

    private final PresenceStore presence;
    private final long intervalMillis;
    private final long retentionMillis;
    private final long activityLeaseMillis;
    private final Map<AuctionId, Tally> tallies = new HashMap<>();
    private final Map<AuctionId, Long> watchedUntil = new HashMap<>();

    /**
     * @param intervalMillis  one history sample per auction per this interval
     * @param retentionMillis samples, and tallies not added to, are kept this long
     */
    public InMemoryViewerStats(PresenceStore presence, long intervalMillis, long retentionMillis) {
        if (intervalMillis <= 0 || retentionMillis < intervalMillis) {
            throw new IllegalArgumentException("need 0 < interval <= retention: " + intervalMillis + "/" + retentionMillis);
        }
        this.presence = presence;
        this.intervalMillis = intervalMillis;
        this.retentionMillis = retentionMillis;
        this.activityLeaseMillis = activityLeaseMillis(intervalMillis);
    }

    /** How long a mark as watched holds: a replica renews it every interval, so three intervals survive a miss. */
    public static long activityLeaseMillis(long intervalMillis) {
        return 3 * intervalMillis;
    }

    @Override
    public synchronized Future<Void> addViewers(Map<AuctionId, Set<String>> viewerIds, long nowMillis) {
        sweep(nowMillis);
        viewerIds.forEach((auction, ids) -> {
            Tally tally = tally(auction);
            ids.forEach(tally.unique::add);
            tally.expiresAt = nowMillis + retentionMillis;
            watchedUntil.put(auction, nowMillis + activityLeaseMillis);
        });
        return Future.succeededFuture();
    }

    @Override
    public Future<Void> sample(Collection<AuctionId> watched, long nowMillis) {
        List<Future<ViewerCount>> reads = new ArrayList<>();
        for (AuctionId auction : watched) {
            reads.add(presence.read(auction));
        }
        return Future.all(reads).map(all -> {
            synchronized (this) {
                sweep(nowMillis);
                long slot = Math.floorDiv(nowMillis, intervalMillis);
                for (Future<ViewerCount> read : reads) {
                    ViewerCount count = read.result();
                    Tally tally = tally(count.auctionId());
                    if (slot > tally.lastSlot) {
                        tally.lastSlot = slot;
                        tally.history.put(slot * intervalMillis, count.current());
                        tally.history.headMap(nowMillis - retentionMillis).clear();
                    }
                    tally.expiresAt = Math.max(tally.expiresAt, nowMillis + retentionMillis);
                    watchedUntil.put(count.auctionId(), nowMillis + activityLeaseMillis);
                }
            }
            return null;
        });
    }

    @Override
    public synchronized Future<Long> uniqueViewers(AuctionId auction) {
        Tally tally = tallies.get(auction);
        return Future.succeededFuture(tally == null ? 0L : tally.unique.estimate());
    }

    @Override
    public synchronized Future<List<HistorySample>> history(AuctionId auction, long fromMillis, long toMillis) {
        Tally tally = tallies.get(auction);
        List<HistorySample> samples = new ArrayList<>();
        if (tally != null && fromMillis <= toMillis) {
            tally.history.subMap(fromMillis, true, toMillis, true)
                    .forEach((timestamp, count) -> samples.add(new HistorySample(timestamp, count)));
        }
        return Future.succeededFuture(samples);
    }

    @Override
    public synchronized Future<Set<AuctionId>> activeAuctions(long nowMillis) {
        sweep(nowMillis);
        return Future.succeededFuture(new LinkedHashSet<>(watchedUntil.keySet()));
    }

    @Override
    public long intervalMillis() {
        return intervalMillis;
    }

    private Tally tally(AuctionId auction) {
        return tallies.computeIfAbsent(auction, id -> new Tally());
    }

    /** Drops the tallies whose retention ran out. */
    private void sweep(long nowMillis) {
        tallies.values().removeIf(tally -> tally.expiresAt <= nowMillis);
        watchedUntil.values().removeIf(until -> until <= nowMillis);
    }

    private static final class Tally {
        final HyperLogLog unique = new HyperLogLog();
        final NavigableMap<Long, Long> history = new TreeMap<>();
        long lastSlot = Long.MIN_VALUE;
        long expiresAt = Long.MAX_VALUE;
    }
}
