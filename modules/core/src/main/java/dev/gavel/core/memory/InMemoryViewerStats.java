package dev.gavel.core.memory;

import dev.gavel.core.AuctionId;
import dev.gavel.core.HistorySample;
import dev.gavel.core.PresenceStore;
import dev.gavel.core.ViewerCount;
import dev.gavel.core.ViewerStats;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The viewer stats of a single node. Unique viewers are counted with a {@link HyperLogLog} per auction (the same
 * layout and error as Redis's; sparse, a few dozen bytes, until it holds many viewers, then 16 KiB), so memory stays
 * bounded whatever the number of viewers. History is kept in flat arrays, 16 bytes a sample. The current count of a
 * sample is read from the node's {@link PresenceStore}.
 *
 * <p>Auction ids come from anonymous viewers, so the tallies of auctions nobody watches any more are bounded in
 * memory: once all tallies together hold more than {@code idleBytesMax}, the least recently watched auctions that
 * are not watched now are forgotten (their unique viewers and history), oldest first, until they fit again. An
 * auction that is watched is never forgotten; those are bounded by the viewers the node takes.
 */
final class InMemoryViewerStats implements ViewerStats {

    /** What the tallies of auctions nobody watches may hold before the least recently watched are forgotten. */
    public static final long DEFAULT_IDLE_BYTES_MAX = 16L * 1024 * 1024;

    private final PresenceStore presence;
    private final long intervalMillis;
    private final long retentionMillis;
    private final long activityLeaseMillis;
    private final long idleBytesMax;
    /** Least recently watched first. */
    private final LinkedHashMap<AuctionId, Tally> tallies = new LinkedHashMap<>();
    private final Map<AuctionId, Long> watchedUntil = new HashMap<>();
    private long retainedBytes;

    /**
     * @param intervalMillis  one history sample per auction per this interval
     * @param retentionMillis samples, and tallies not added to, are kept this long
     */
    public InMemoryViewerStats(PresenceStore presence, long intervalMillis, long retentionMillis) {
        this(presence, intervalMillis, retentionMillis, DEFAULT_IDLE_BYTES_MAX);
    }

    /** @param idleBytesMax tallies hold at most this much, less what watched auctions hold beyond it */
    public InMemoryViewerStats(PresenceStore presence, long intervalMillis, long retentionMillis, long idleBytesMax) {
        if (intervalMillis <= 0 || retentionMillis < intervalMillis) {
            throw new IllegalArgumentException("need 0 < interval <= retention: " + intervalMillis + "/" + retentionMillis);
        }
        this.presence = presence;
        this.intervalMillis = intervalMillis;
        this.retentionMillis = retentionMillis;
        this.activityLeaseMillis = ViewerStats.activityLeaseMillis(intervalMillis);
        this.idleBytesMax = idleBytesMax;
    }

    @Override
    public synchronized Future<Void> addViewers(Map<AuctionId, Set<String>> viewerIds, long nowMillis) {
        sweep(nowMillis);
        viewerIds.forEach((auction, ids) -> {
            watchedUntil.put(auction, nowMillis + activityLeaseMillis);
            Tally tally = watched(auction);
            retainedBytes -= tally.retainedBytes();
            ids.forEach(tally.unique::add);
            retainedBytes += tally.retainedBytes();
            tally.expiresAt = nowMillis + retentionMillis;
        });
        forgetIdle(nowMillis);
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
                    watchedUntil.put(count.auctionId(), nowMillis + activityLeaseMillis);
                    Tally tally = watched(count.auctionId());
                    if (slot > tally.lastSlot) {
                        retainedBytes -= tally.retainedBytes();
                        tally.lastSlot = slot;
                        tally.history.add(slot * intervalMillis, count.current());
                        tally.history.dropBefore(nowMillis - retentionMillis);
                        retainedBytes += tally.retainedBytes();
                    }
                    tally.expiresAt = Math.max(tally.expiresAt, nowMillis + retentionMillis);
                }
                forgetIdle(nowMillis);
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
            tally.history.forEachBetween(fromMillis, toMillis, (timestamp, count) -> samples.add(new HistorySample(timestamp, count)));
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

    /** What the tallies hold in memory, in bytes, roughly (HyperLogLogs, history and their entries). */
    public synchronized long retainedBytes() {
        return retainedBytes;
    }

    /** How many auctions have tallies. */
    public synchronized int trackedAuctions() {
        return tallies.size();
    }

    /** The auction's tally, made the most recently watched. */
    private Tally watched(AuctionId auction) {
        Tally tally = tallies.remove(auction);
        if (tally == null) {
            tally = new Tally();
            retainedBytes += tally.retainedBytes();
        }
        tallies.put(auction, tally);
        return tally;
    }

    /** Drops the tallies whose retention ran out. */
    private void sweep(long nowMillis) {
        tallies.values().removeIf(tally -> {
            if (tally.expiresAt <= nowMillis) {
                retainedBytes -= tally.retainedBytes();
                return true;
            }
            return false;
        });
        watchedUntil.values().removeIf(until -> until <= nowMillis);
    }

    /** Forgets the least recently watched auctions that nobody watches now, while the tallies hold too much. */
    private void forgetIdle(long nowMillis) {
        for (Iterator<Map.Entry<AuctionId, Tally>> it = tallies.entrySet().iterator(); retainedBytes > idleBytesMax && it.hasNext(); ) {
            Map.Entry<AuctionId, Tally> entry = it.next();
            Long until = watchedUntil.get(entry.getKey());
            if (until == null || until <= nowMillis) {
                retainedBytes -= entry.getValue().retainedBytes();
                it.remove();
            }
        }
    }

    private static final class Tally {
        /** The map entry, the key's share, this object and its history's arrays' headers, roughly. */
        private static final int OVERHEAD_BYTES = 200;

        final HyperLogLog unique = new HyperLogLog();
        final Samples history = new Samples();
        long lastSlot = Long.MIN_VALUE;
        long expiresAt = Long.MAX_VALUE;

        long retainedBytes() {
            return OVERHEAD_BYTES + unique.retainedBytes() + history.retainedBytes();
        }
    }

    /** History samples in time order, in two flat arrays used as a queue: 16 bytes a sample. */
    private static final class Samples {
        private long[] times = new long[0];
        private long[] counts = new long[0];
        private int head;
        private int size;

        /** Adds a sample later than every sample held. */
        void add(long time, long count) {
            if (head + size == times.length) {
                int capacity = Math.max(4, size * 2);
                times = Arrays.copyOfRange(times, head, head + capacity);
                counts = Arrays.copyOfRange(counts, head, head + capacity);
                head = 0;
            }
            times[head + size] = time;
            counts[head + size] = count;
            size++;
        }

        void dropBefore(long time) {
            while (size > 0 && times[head] < time) {
                head++;
                size--;
            }
            if (size == 0) {
                head = 0;
            }
        }

        void forEachBetween(long from, long to, LongBiConsumer action) {
            for (int i = head; i < head + size; i++) {
                if (times[i] >= from && times[i] <= to) {
                    action.accept(times[i], counts[i]);
                }
            }
        }

        long retainedBytes() {
            return 2L * Long.BYTES * times.length;
        }
    }

    private interface LongBiConsumer {
        void accept(long first, long second);
    }
}
