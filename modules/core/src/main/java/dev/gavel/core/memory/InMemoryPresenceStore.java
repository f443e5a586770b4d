package dev.gavel.core.memory;

import dev.gavel.core.AuctionId;
import dev.gavel.core.PresenceStore;
import dev.gavel.core.ViewerCount;
import io.vertx.core.Future;

import java.time.Clock;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The presence store of a single node. It keeps the same per-replica leases as the Redis store, so that
 * both pass one contract suite; on a single node there is only ever one replica in it.
 *
 * <p>An auction keeps its count (and so its peak) after its last viewer left, but auction ids come from anonymous
 * viewers: beyond {@code idleAuctionsMax} auctions without viewers, the least recently reported one is forgotten (a
 * later read answers 0 and 0 for it). Reading an auction never seen keeps nothing.
 */
final class InMemoryPresenceStore implements PresenceStore {

    /** Auctions without viewers whose counts are kept; about 300 bytes each. */
    public static final int DEFAULT_IDLE_AUCTIONS_MAX = 50_000;

    private final Clock clock;
    private final long leaseMillis;
    private final InMemoryEventBroker broker;
    private final int idleAuctionsMax;
    /** Least recently reported first. */
    private final LinkedHashMap<AuctionId, Tally> tallies = new LinkedHashMap<>();
    private long lastVersion;

    /**
     * @param leaseMillis how long a reported entry counts without being reported again
     * @param broker      where count changes are announced
     */
    public InMemoryPresenceStore(Clock clock, long leaseMillis, InMemoryEventBroker broker) {
        this(clock, leaseMillis, broker, DEFAULT_IDLE_AUCTIONS_MAX);
    }

    /** @param idleAuctionsMax auctions without viewers whose counts are kept at most */
    public InMemoryPresenceStore(Clock clock, long leaseMillis, InMemoryEventBroker broker, int idleAuctionsMax) {
        if (leaseMillis <= 0) {
            throw new IllegalArgumentException("leaseMillis must be positive: " + leaseMillis);
        }
        this.clock = clock;
        this.leaseMillis = leaseMillis;
        this.broker = broker;
        this.idleAuctionsMax = idleAuctionsMax;
    }

    @Override
    public synchronized Future<Map<AuctionId, ViewerCount>> report(String nodeId, Map<AuctionId, LocalCount> local) {
        for (Map.Entry<AuctionId, LocalCount> entry : local.entrySet()) {
            if (entry.getValue().viewers() < 0) {
                return Future.failedFuture(new IllegalArgumentException(
                        "negative viewers for " + entry.getKey() + ": " + entry.getValue().viewers()));
            }
        }
        long now = clock.millis();
        Map<AuctionId, ViewerCount> counts = new LinkedHashMap<>();
        local.forEach((auction, share) -> {
            // moved to the end: the order of last reports, for forgetting auctions without viewers
            Tally tally = tallies.remove(auction);
            if (tally == null) {
                tally = new Tally(auction);
            }
            tallies.put(auction, tally);
            if (share.viewers() == 0) {
                tally.leases.remove(nodeId);
            } else {
                tally.leases.put(nodeId, new Lease(share.viewers(), now + leaseMillis));
            }
            tally.knownPeak = Math.max(tally.knownPeak, share.knownPeak());
            counts.put(auction, settle(tally, now));
        });
        forgetIdle(now);
        return Future.succeededFuture(counts);
    }

    @Override
    public synchronized Future<ViewerCount> read(AuctionId auction) {
        Tally tally = tallies.get(auction);
        return Future.succeededFuture(tally == null ? new ViewerCount(auction, 0, 0, 0) : settle(tally, clock.millis()));
    }

    /** How many auctions have a count kept, with viewers or not. */
    public synchronized int trackedAuctions() {
        return tallies.size();
    }

    /**
     * Forgets the least recently reported auctions without viewers while more than {@code idleAuctionsMax} are kept.
     * Auctions with viewers are counted as they go: at most every auction is walked once per report.
     */
    private void forgetIdle(long now) {
        if (tallies.size() <= idleAuctionsMax) {
            return;
        }
        int watched = 0;
        for (Tally tally : tallies.values()) {
            if (!tally.leases.isEmpty()) {
                watched++;
            }
        }
        for (Iterator<Tally> it = tallies.values().iterator(); tallies.size() - watched > idleAuctionsMax && it.hasNext(); ) {
            Tally tally = it.next();
            if (settle(tally, now).current() == 0) {
                it.remove();
            }
        }
    }

    @Override
    public synchronized Future<Void> removeNode(String nodeId) {
        long now = clock.millis();
        for (Tally tally : tallies.values()) {
            if (tally.leases.remove(nodeId) != null) {
                settle(tally, now);
            }
        }
        return Future.succeededFuture();
    }

    /** Drops expired leases, sums, raises the peak, and announces the count if it changed. */
    private ViewerCount settle(Tally tally, long now) {
        long current = 0;
        for (Iterator<Lease> it = tally.leases.values().iterator(); it.hasNext(); ) {
            Lease lease = it.next();
            if (lease.expiresAt <= now) {
                it.remove();
            } else {
                current += lease.viewers;
            }
        }
        // Reports here are applied in the order they are made, so the sum is always of entries current together.
        ViewerCount last = tally.count;
        long peak = Math.max(Math.max(current, tally.knownPeak), last == null ? 0 : last.peak());
        if (last == null || last.current() != current || last.peak() != peak) {
            tally.count = new ViewerCount(tally.auction, current, peak, ++lastVersion);
            broker.announce(tally.count);
        }
        return tally.count;
    }

    private static final class Tally {
        final AuctionId auction;
        final Map<String, Lease> leases = new HashMap<>();
        ViewerCount count;
        long knownPeak;

        Tally(AuctionId auction) {
            this.auction = auction;
        }
    }

    private record Lease(long viewers, long expiresAt) {
    }
}
