package dev.gavel.core.memory;

import dev.gavel.core.AuctionId;
import dev.gavel.core.CountBy;
import dev.gavel.core.PresenceStore;
import dev.gavel.core.ViewerCount;
import io.vertx.core.Future;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The presence store of a single node. It keeps the same rules as the Redis store (an entry counts while its replica's
 * heartbeat is younger than the lease; a person counts once however many replicas hold it), so that both pass one
 * contract suite; on a single node there is only ever one replica in it.
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
    private final CountBy countBy;
    /** Told every change of an auction's current count (the audience history), under this store's lock. */
    private volatile CountChanges countChanges = (count, now) -> { };
    /** Least recently reported first. */
    private final LinkedHashMap<AuctionId, Tally> tallies = new LinkedHashMap<>();
    /** Each replica's deadline (ms); a replica found dead without a heartbeat since is kept as {@link #FOUND_DEAD}. */
    private final Map<String, Long> deadlines = new HashMap<>();
    private long lastVersion;

    private static final long FOUND_DEAD = Long.MIN_VALUE;

    /**
     * @param leaseMillis how long a replica's entries count after its last heartbeat
     * @param broker      where count changes are announced
     */
    public InMemoryPresenceStore(Clock clock, long leaseMillis, InMemoryEventBroker broker) {
        this(clock, leaseMillis, broker, DEFAULT_IDLE_AUCTIONS_MAX, CountBy.CONNECTION);
    }

    /** @param idleAuctionsMax auctions without viewers whose counts are kept at most */
    public InMemoryPresenceStore(Clock clock, long leaseMillis, InMemoryEventBroker broker, int idleAuctionsMax, CountBy countBy) {
        if (leaseMillis <= 0) {
            throw new IllegalArgumentException("leaseMillis must be positive: " + leaseMillis);
        }
        this.clock = clock;
        this.leaseMillis = leaseMillis;
        this.broker = broker;
        this.idleAuctionsMax = idleAuctionsMax;
        this.countBy = countBy;
    }

    /** Who is told each change of an auction's current count, with the time of the change (one listener). */
    void onCountChange(CountChanges listener) {
        this.countChanges = listener;
    }

    /** Told each change of an auction's current count. */
    interface CountChanges {
        void changed(ViewerCount count, long nowMillis);
    }

    @Override
    public CountBy countBy() {
        return countBy;
    }

    @Override
    public synchronized Future<Boolean> heartbeat(String nodeId) {
        long now = clock.millis();
        Long before = deadlines.put(nodeId, now + leaseMillis);
        boolean lapsed = before == null || before == FOUND_DEAD;
        List<String> dead = new ArrayList<>();
        deadlines.forEach((node, deadline) -> {
            if (deadline <= now) {
                dead.add(node);
            }
        });
        for (String node : dead) {
            dropNode(node, now);
            deadlines.remove(node);
        }
        return Future.succeededFuture(lapsed);
    }

    @Override
    public synchronized Future<Map<AuctionId, ViewerCount>> report(String nodeId, Map<AuctionId, LocalCount> local) {
        for (Map.Entry<AuctionId, LocalCount> entry : local.entrySet()) {
            LocalCount share = entry.getValue();
            if (share.connections() < 0 || share.anonymous() < 0 || share.anonymous() > share.connections()) {
                return Future.failedFuture(new IllegalArgumentException("bad share for " + entry.getKey() + ": "
                        + share.connections() + " connections, " + share.anonymous() + " anonymous"));
            }
        }
        long now = clock.millis();
        if (!alive(nodeId, now)) {
            return Future.failedFuture(new NotAliveException(nodeId));
        }
        Map<AuctionId, ViewerCount> counts = new LinkedHashMap<>();
        local.forEach((auction, share) -> {
            // moved to the end: the order of last reports, for forgetting auctions without viewers
            Tally tally = tallies.remove(auction);
            if (tally == null) {
                tally = new Tally(auction);
            }
            tallies.put(auction, tally);
            tally.apply(nodeId, share);
            tally.knownPeak = Math.max(tally.knownPeak, share.knownPeak());
            counts.put(auction, settle(tally, now).count());
        });
        forgetIdle(now);
        return Future.succeededFuture(counts);
    }

    @Override
    public synchronized Future<ViewerCount> read(AuctionId auction) {
        Tally tally = tallies.get(auction);
        return Future.succeededFuture(tally == null ? new ViewerCount(auction, 0, 0, 0) : settle(tally, clock.millis()).count());
    }

    @Override
    public synchronized Future<Reading> read(AuctionId auction, String nodeId, LocalCount local) {
        Tally tally = tallies.get(auction);
        Reading stored = tally == null ? new Reading(new ViewerCount(auction, 0, 0, 0), 0, 0) : settle(tally, clock.millis());
        Entry mine = tally == null ? null : tally.entries.get(nodeId);
        long connections = Math.max(0, stored.connections() - (mine == null ? 0 : mine.connections) + local.connections());
        long people = Math.max(0, stored.people() - (mine == null ? 0 : mine.anonymous) + local.anonymous());
        long current = countBy == CountBy.PERSON ? people : connections;
        ViewerCount count = stored.count();
        return Future.succeededFuture(new Reading(
                new ViewerCount(auction, current, Math.max(count.peak(), current), count.version()), connections, people));
    }

    @Override
    public synchronized Future<Map<String, Long>> replicas(AuctionId auction) {
        Tally tally = tallies.get(auction);
        Map<String, Long> replicas = new HashMap<>();
        if (tally != null) {
            long now = clock.millis();
            tally.entries.forEach((node, entry) -> {
                if (alive(node, now) && entry.connections > 0) {
                    replicas.put(node, entry.connections);
                }
            });
        }
        return Future.succeededFuture(replicas);
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
            if (!tally.entries.isEmpty()) {
                watched++;
            }
        }
        for (Iterator<Tally> it = tallies.values().iterator(); tallies.size() - watched > idleAuctionsMax && it.hasNext(); ) {
            Tally tally = it.next();
            if (settle(tally, now).count().current() == 0) {
                it.remove();
            }
        }
    }

    @Override
    public synchronized Future<Void> removeNode(String nodeId) {
        dropNode(nodeId, clock.millis());
        deadlines.remove(nodeId);
        return Future.succeededFuture();
    }

    private boolean alive(String nodeId, long now) {
        Long deadline = deadlines.get(nodeId);
        return deadline != null && deadline > now;
    }

    private void dropNode(String nodeId, long now) {
        for (Tally tally : tallies.values()) {
            if (tally.drop(nodeId)) {
                settle(tally, now);
            }
        }
    }

    /** Drops the shares of replicas that are not alive, sums, raises the peak, and announces the count if it changed. */
    private Reading settle(Tally tally, long now) {
        for (String node : List.copyOf(tally.entries.keySet())) {
            if (!alive(node, now)) {
                tally.drop(node);
                // found dead: its next heartbeat tells it that its entries are gone
                deadlines.computeIfPresent(node, (n, deadline) -> FOUND_DEAD);
            }
        }
        long connections = 0;
        long people = tally.persons.size();
        for (Entry entry : tally.entries.values()) {
            connections += entry.connections;
            people += entry.anonymous;
        }
        long current = countBy == CountBy.PERSON ? people : connections;
        // Reports here are applied in the order they are made, so the sum is always of entries current together.
        ViewerCount last = tally.count;
        long peak = Math.max(Math.max(current, tally.knownPeak), last == null ? 0 : last.peak());
        if (last == null || last.current() != current || last.peak() != peak) {
            tally.count = new ViewerCount(tally.auction, current, peak, ++lastVersion);
            broker.announce(tally.count);
            if (current != (last == null ? 0 : last.current())) {
                countChanges.changed(tally.count, now);
            }
        }
        return new Reading(tally.count, connections, people);
    }

    private static final class Tally {
        final AuctionId auction;
        final Map<String, Entry> entries = new HashMap<>();
        /** Each person with the replicas that hold it; a person held by none is not kept. */
        final Map<String, Set<String>> persons = new HashMap<>();
        ViewerCount count;
        long knownPeak;

        Tally(AuctionId auction) {
            this.auction = auction;
        }

        void apply(String node, LocalCount share) {
            if (share.connections() == 0) {
                drop(node);
                return;
            }
            entries.put(node, new Entry(share.connections(), share.anonymous()));
            if (share.complete()) {
                for (Iterator<Map.Entry<String, Set<String>>> it = persons.entrySet().iterator(); it.hasNext(); ) {
                    Map.Entry<String, Set<String>> person = it.next();
                    if (!Boolean.TRUE.equals(share.persons().get(person.getKey())) && person.getValue().remove(node)
                            && person.getValue().isEmpty()) {
                        it.remove();
                    }
                }
            }
            share.persons().forEach((person, here) -> {
                if (here) {
                    persons.computeIfAbsent(person, p -> new HashSet<>()).add(node);
                } else {
                    Set<String> holders = persons.get(person);
                    if (holders != null && holders.remove(node) && holders.isEmpty()) {
                        persons.remove(person);
                    }
                }
            });
        }

        /** Removes a replica's entry and persons; true if it had any. */
        boolean drop(String node) {
            boolean had = entries.remove(node) != null;
            for (Iterator<Set<String>> it = persons.values().iterator(); it.hasNext(); ) {
                Set<String> holders = it.next();
                if (holders.remove(node)) {
                    had = true;
                    if (holders.isEmpty()) {
                        it.remove();
                    }
                }
            }
            return had;
        }
    }

    private record Entry(long connections, long anonymous) {
    }
}
