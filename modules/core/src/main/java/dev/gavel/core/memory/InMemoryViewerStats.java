package dev.gavel.core.memory;

import dev.gavel.core.AuctionId;
import dev.gavel.core.HistorySample;
import dev.gavel.core.HistorySteps;
import dev.gavel.core.ViewerCount;
import dev.gavel.core.ViewerStats;
import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The viewer stats of a single node. Unique viewers are counted with a {@link HyperLogLog} per auction (the same
 * layout and error as Redis's; sparse, a few dozen bytes, until it holds many viewers, then 16 KiB), so memory stays
 * bounded whatever the number of viewers. History is kept as steps in flat arrays, 24 bytes a step, written when the
 * node's {@link InMemoryPresenceStore} tells a change of an auction's count (nothing while nothing changes).
 *
 * <p>Auction ids come from anonymous viewers, so the tallies of auctions nobody watches any more are bounded in
 * memory: once all tallies together hold more than {@code idleBytesMax}, the least recently watched auctions that
 * have no viewers now are forgotten (their unique viewers and history), oldest first, until they fit again. An
 * auction that is watched is never forgotten; those are bounded by the viewers the node takes.
 */
final class InMemoryViewerStats implements ViewerStats {

    /** What the tallies of auctions nobody watches may hold before the least recently watched are forgotten. */
    public static final long DEFAULT_IDLE_BYTES_MAX = 16L * 1024 * 1024;

    private final long intervalMillis;
    private final long retentionMillis;
    private final long idleBytesMax;
    /** Least recently watched first. */
    private final LinkedHashMap<AuctionId, Tally> tallies = new LinkedHashMap<>();
    private long retainedBytes;

    /**
     * @param intervalMillis  one history sample per auction per this interval
     * @param retentionMillis samples, and tallies not added to, are kept this long
     */
    public InMemoryViewerStats(long intervalMillis, long retentionMillis) {
        this(intervalMillis, retentionMillis, DEFAULT_IDLE_BYTES_MAX);
    }

    /** @param idleBytesMax tallies hold at most this much, less what watched auctions hold beyond it */
    public InMemoryViewerStats(long intervalMillis, long retentionMillis, long idleBytesMax) {
        if (intervalMillis <= 0 || retentionMillis < intervalMillis) {
            throw new IllegalArgumentException("need 0 < interval <= retention: " + intervalMillis + "/" + retentionMillis);
        }
        this.intervalMillis = intervalMillis;
        this.retentionMillis = retentionMillis;
        this.idleBytesMax = idleBytesMax;
    }

    @Override
    public synchronized Future<Void> addViewers(Map<AuctionId, Set<String>> viewerIds, long nowMillis) {
        sweep(nowMillis);
        viewerIds.forEach((auction, ids) -> {
            Tally tally = watched(auction);
            retainedBytes -= tally.retainedBytes();
            ids.forEach(tally.unique::add);
            retainedBytes += tally.retainedBytes();
            tally.expiresAt = nowMillis + retentionMillis;
        });
        forgetIdle();
        return Future.succeededFuture();
    }

    /** Records a change of an auction's announced count as a step of its history (see {@link HistorySteps}). */
    synchronized void changed(ViewerCount count, long nowMillis) {
        sweep(nowMillis);
        Tally tally = watched(count.auctionId());
        retainedBytes -= tally.retainedBytes();
        tally.history.change(Math.floorDiv(nowMillis, intervalMillis) * intervalMillis, count.current());
        tally.history.dropBefore(nowMillis - retentionMillis);
        retainedBytes += tally.retainedBytes();
        tally.expiresAt = Math.max(tally.expiresAt, nowMillis + retentionMillis);
        forgetIdle();
    }

    @Override
    public synchronized Future<Long> uniqueViewers(AuctionId auction) {
        Tally tally = tallies.get(auction);
        return Future.succeededFuture(tally == null ? 0L : tally.unique.estimate());
    }

    @Override
    public synchronized Future<List<HistorySample>> history(AuctionId auction, long fromMillis, long toMillis, long nowMillis) {
        Tally tally = tallies.get(auction);
        long from = Math.max(fromMillis, HistorySteps.firstKept(nowMillis, intervalMillis, retentionMillis));
        long to = Math.min(toMillis, nowMillis);
        if (tally == null || from > to) {
            return Future.succeededFuture(List.of());
        }
        return Future.succeededFuture(HistorySteps.samples(tally.history.from(from), intervalMillis, from, to));
    }

    @Override
    public synchronized Future<Set<AuctionId>> activeAuctions(long nowMillis) {
        Set<AuctionId> active = new LinkedHashSet<>();
        tallies.forEach((auction, tally) -> {
            if (tally.history.watched()) {
                active.add(auction);
            }
        });
        return Future.succeededFuture(active);
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

    /** Drops the tallies whose retention ran out, but for those of auctions with viewers now. */
    private void sweep(long nowMillis) {
        tallies.values().removeIf(tally -> {
            if (tally.expiresAt <= nowMillis && !tally.history.watched()) {
                retainedBytes -= tally.retainedBytes();
                return true;
            }
            return false;
        });
    }

    /** Forgets the least recently watched auctions that have no viewers now, while the tallies hold too much. */
    private void forgetIdle() {
        for (Iterator<Map.Entry<AuctionId, Tally>> it = tallies.entrySet().iterator(); retainedBytes > idleBytesMax && it.hasNext(); ) {
            Map.Entry<AuctionId, Tally> entry = it.next();
            if (!entry.getValue().history.watched()) {
                retainedBytes -= entry.getValue().retainedBytes();
                it.remove();
            }
        }
    }

    private static final class Tally {
        /** The map entry, the key's share, this object and its history's arrays' headers, roughly. */
        private static final int OVERHEAD_BYTES = 200;

        final HyperLogLog unique = new HyperLogLog();
        final Steps history = new Steps();
        long expiresAt = Long.MAX_VALUE;

        long retainedBytes() {
            return OVERHEAD_BYTES + unique.retainedBytes() + history.retainedBytes();
        }
    }

    /** History steps in time order (see {@link HistorySteps}), in three flat arrays used as a queue: 24 bytes a step. */
    private static final class Steps {
        private long[] starts = new long[0];
        private long[] shown = new long[0];
        private long[] ends = new long[0];
        private int head;
        private int size;

        /** The count changed to {@code count} in the interval that starts at {@code start}. */
        void change(long start, long count) {
            if (size > 0 && starts[head + size - 1] >= start) {
                int last = head + size - 1;
                ends[last] = count;
                shown[last] = Math.max(shown[last], count);
                return;
            }
            long before = size > 0 ? ends[head + size - 1] : 0;
            if (head + size == starts.length) {
                int capacity = Math.max(4, size * 2);
                starts = Arrays.copyOfRange(starts, head, head + capacity);
                shown = Arrays.copyOfRange(shown, head, head + capacity);
                ends = Arrays.copyOfRange(ends, head, head + capacity);
                head = 0;
            }
            starts[head + size] = start;
            shown[head + size] = Math.max(before, count);
            ends[head + size] = count;
            size++;
        }

        /** Drops the steps before {@code time}, but for the last of them, which the intervals after it take their count from. */
        void dropBefore(long time) {
            while (size > 1 && starts[head + 1] <= time) {
                head++;
                size--;
            }
        }

        /** Whether the auction has viewers now, by its last step. */
        boolean watched() {
            return size > 0 && ends[head + size - 1] > 0;
        }

        /** The steps from the one that the interval at {@code time} takes its count from on. */
        List<HistorySteps.Step> from(long time) {
            int first = head;
            while (first + 1 < head + size && starts[first + 1] <= time) {
                first++;
            }
            List<HistorySteps.Step> steps = new ArrayList<>(head + size - first);
            for (int i = first; i < head + size; i++) {
                steps.add(new HistorySteps.Step(starts[i], shown[i], ends[i]));
            }
            return steps;
        }

        long retainedBytes() {
            return 3L * Long.BYTES * starts.length;
        }
    }
}
