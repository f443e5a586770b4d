package dev.gavel.core;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Keeps one replica's share of the counts in the {@link PresenceStore}, and brings the cluster's counts and the
 * auctions' events back to the event loops that hold viewers.
 *
 * <p>The event loops tell it how their rooms changed ({@link #changed}); it sums them per auction, so the store
 * sees one entry per auction and replica however many loops there are. Every flush interval it writes the
 * auctions whose local count changed, in one batch; every heartbeat interval all of them, which renews their
 * leases and sweeps entries of dead replicas. An auction is subscribed on the {@link EventBroker} once per
 * replica, while the replica has viewers there; what arrives goes once to each loop with viewers of the auction.
 * Count broadcasts are coalesced per auction to one per broadcast interval, always ending on the latest count.
 *
 * <p>A write that fails never becomes a count: the store announces nothing it did not write, and viewers keep
 * the last good count. While this replica's writes fail, counts announced by others are taken in but not shown
 * (they may be sums that lack entries that expired because no replica could renew them). Once writes work again,
 * or the store came back after it was lost, every replica writes its entries again within a flush interval; for
 * a heartbeat interval more counts are still only taken in, so that viewers never see a count made only of the
 * entries written again so far.
 *
 * <p>Confined to one thread (a Vert.x context in a node); time comes from the injected clock and timers.
 */
final class PresenceReporter {

    /** Where the viewers are: the event loops, by index. Calls return at once; the work happens on each loop. */
    interface Loops {

        /** The auction's count changed: tell the loop's viewers of the auction. */
        void count(int loop, ViewerCount count);

        /** An event of the auction: deliver it to the loop's viewers of the auction. */
        void event(int loop, AuctionId auction, ViewerEvent event);
    }

    /**
     * How long after a viewer last asked for an auction ({@link #readyNow}, {@link #prepare}) its subscription is kept
     * although the auction has no viewers here: the viewer's join reaches this reporter a few tasks after it was let go
     * (a node whose loops are 2 s late takes no viewers), and the auction's last viewer may have left meanwhile.
     */
    static final long KEEP_ASKED_MILLIS = 5000;
    /** When a tally was never asked for: its viewers joined without {@link #readyNow}. */
    private static final long NEVER = Long.MIN_VALUE / 2;

    private static final Logger LOG = LoggerFactory.getLogger(PresenceReporter.class);

    private final Engine engine;
    private final String nodeId;
    private final AudienceSettings settings;
    private final Clock clock;
    private final Timers timers;
    private final Loops loops;
    private final AudienceMetrics metrics;
    private final RoomIndex rooms;
    private final NewViewerIds newViewerIds;
    private final Map<AuctionId, Tally> tallies = new HashMap<>();
    /**
     * The count last shown of each auction with a tally, for viewers joining on any loop: a joiner sees what the
     * auction's other viewers see, never a count that is held back (see the class comment).
     */
    private final Map<AuctionId, ViewerCount> shownCounts = new ConcurrentHashMap<>();
    /**
     * The tallies of the auctions whose events this replica receives now: a viewer of one may be told it is
     * connected at once. The loops read it ({@link #readyNow}); an auction leaves it only through
     * {@link #forgetUnlessAsked}, atomically with a viewer asking for it.
     */
    private final Map<AuctionId, Tally> receiving = new ConcurrentHashMap<>();
    private final long keepAskedMillis;

    private long flushTimer = -1;
    private long lastHeartbeatAt;
    private Future<?> inFlight = Future.succeededFuture();
    private boolean flushing;
    /** Why the last write to the store failed, or null when it succeeded. Read from any thread by metrics and health. */
    private volatile String storeFailure;
    private volatile long lastGoodHeartbeatAt;
    private volatile int auctionsWithViewers;
    /** Counts are not shown before this time (ms): the store is back, and the replicas are writing again. */
    private long quietUntil;
    private boolean stopping;
    private boolean earlierEntriesCleared;
    private volatile boolean halted;

    PresenceReporter(Engine engine, String nodeId, AudienceSettings settings, Clock clock, Timers timers,
                     AudienceMetrics metrics, RoomIndex rooms, Loops loops) {
        this.engine = engine;
        this.nodeId = nodeId;
        this.settings = settings;
        this.clock = clock;
        this.timers = timers;
        this.metrics = metrics;
        this.rooms = rooms;
        this.loops = loops;
        this.lastGoodHeartbeatAt = clock.millis();
        this.newViewerIds = new NewViewerIds(timers, engine, clock, settings);
        this.keepAskedMillis = Math.max(settings.heartbeatMillis(), KEEP_ASKED_MILLIS);
    }

    /**
     * Removes whatever an earlier run under the same node id left in the store, then starts flushing. A store
     * that is away is not fatal: the entries are written once it is back ({@link #rewriteAll}).
     */
    Future<Void> start() {
        lastGoodHeartbeatAt = clock.millis();
        return clearEarlierEntries().otherwiseEmpty().onComplete(x -> scheduleFlush()).mapEmpty();
    }

    private void scheduleFlush() {
        flushTimer = timers.schedule(settings.flushMillis(), () -> {
            flush();
            if (!stopping) {
                scheduleFlush();
            }
        });
    }

    private Future<Void> clearEarlierEntries() {
        return engine.presence().removeNode(nodeId)
                .timeout(settings.requestTimeoutMillis(), TimeUnit.MILLISECONDS)
                .onSuccess(v -> earlierEntriesCleared = true)
                .onFailure(e -> LOG.warn("Could not clear earlier entries of node {} yet: {}", nodeId, e.toString()));
    }

    /** Stops all writing to the store at once and for good, leaving the entries there, as a killed process does. */
    void halt() {
        halted = true;
    }

    /**
     * A loop's rooms changed: {@code deltas} is the change of its viewers per auction, {@code newViewerIds} the
     * ids of the viewers that joined. Which loops hold the viewers is the {@link RoomIndex}'s to say.
     */
    void changed(Map<AuctionId, Integer> deltas, Map<AuctionId, Set<String>> newViewerIds) {
        if (stopping) {
            return;
        }
        deltas.forEach((auction, delta) -> {
            if (delta == 0) {
                return;
            }
            Tally tally = tallies.get(auction);
            boolean opened = tally == null;
            if (opened) {
                tally = new Tally(auction);
                tallies.put(auction, tally);
            }
            tally.add(delta);
            if (opened) {
                subscribe(tally);
            }
        });
        newViewerIds.forEach((auction, ids) -> ids.forEach(id -> this.newViewerIds.add(auction, id)));
    }

    /**
     * Completes once this replica receives the auction's events, so that a viewer told it is connected after that
     * misses none: at once when it does already; else it subscribes, as for a first viewer, and completes when
     * the subscription is confirmed or has failed (the viewer is taken then all the same, as it always was). If
     * no viewer joins, the auction is forgotten at the first heartbeat {@link #KEEP_ASKED_MILLIS} after the last
     * viewer asked, as after its last viewer left.
     */
    Future<Void> prepare(AuctionId auction) {
        if (stopping || readyNow(auction)) {
            return Future.succeededFuture();
        }
        Tally tally = tallies.computeIfAbsent(auction, Tally::new);
        tally.askedAt = clock.millis();
        Promise<Void> ready = Promise.promise();
        tally.waiting.add(ready);
        if (tally.subscription == null && !tally.subscribing) {
            subscribe(tally);
        }
        return ready.future();
    }

    /**
     * True when the auction's events reach this replica now, and then they keep coming for a viewer about to join
     * (see {@link #KEEP_ASKED_MILLIS}): it may be told it is connected at once. False: {@link #prepare} it. Any thread.
     */
    boolean readyNow(AuctionId auction) {
        long now = clock.millis();
        return receiving.computeIfPresent(auction, (id, tally) -> {
            tally.askedAt = now;
            return tally;
        }) != null;
    }

    /** True once the auction's events reach this replica (see {@link #prepare}). Any thread. */
    boolean receives(AuctionId auction) {
        return receiving.containsKey(auction);
    }

    /** This replica's viewers per auction, as the loops last reported them. */
    Map<AuctionId, Integer> localRooms() {
        Map<AuctionId, Integer> sizes = new LinkedHashMap<>();
        tallies.forEach((id, tally) -> {
            if (tally.viewers > 0) {
                sizes.put(id, (int) tally.viewers);
            }
        });
        return sizes;
    }

    /** Auctions with viewers on this replica. Any thread. */
    int auctionsWithViewers() {
        return auctionsWithViewers;
    }

    /** The count last shown to the viewers of an auction this replica has viewers in, or null. Any thread. */
    ViewerCount shown(AuctionId auction) {
        return shownCounts.get(auction);
    }

    /**
     * Stops reporting and removes this replica's entries from the store at once, so the other replicas count
     * without it. Completes when the entries are gone or the store did not answer in time.
     */
    Future<Void> stop() {
        stopping = true;
        timers.cancel(flushTimer);
        return inFlight.transform(x -> engine.presence().removeNode(nodeId))
                .timeout(settings.requestTimeoutMillis(), TimeUnit.MILLISECONDS)
                .onFailure(e -> LOG.warn("Could not remove node {} from the counts: {}", nodeId, e.toString()))
                .otherwiseEmpty()
                .mapEmpty();
    }

    /** Ends every subscription; after {@link #stop}. */
    Future<Void> unsubscribeAll() {
        List<Future<Void>> unsubscribed = new ArrayList<>();
        for (Tally tally : tallies.values()) {
            tally.cancelBroadcast();
            tally.release();
            if (tally.subscription != null) {
                unsubscribed.add(tally.subscription.unsubscribe());
            }
        }
        tallies.clear();
        receiving.clear();
        auctionsWithViewers = 0;
        shownCounts.clear();
        return Future.join(unsubscribed).otherwiseEmpty().mapEmpty();
    }

    /** Why writing counts to the store fails, or null while it works. Any thread. */
    String storeFailure() {
        return storeFailure;
    }

    /**
     * When (ms, by the clock) the last heartbeat renewed every entry, or found nothing to renew; it stays put
     * while writes fail. Any thread.
     */
    long lastGoodHeartbeatMillis() {
        return lastGoodHeartbeatAt;
    }

    /** After the store was lost: every entry may be gone, and changes may have been missed. */
    void rewriteAll() {
        LOG.info("Store connection restored; rewriting entries of {} auctions", tallies.size());
        quietUntil = clock.millis() + settings.heartbeatMillis();
        Future<Void> cleared = earlierEntriesCleared ? Future.succeededFuture() : clearEarlierEntries();
        cleared.onComplete(x -> {
            tallies.values().forEach(tally -> tally.dirty = true);
            lastHeartbeatAt = 0;
            flush();
        });
    }

    private void subscribe(Tally tally) {
        tally.subscribing = true;
        engine.broker().subscribe(tally.auction, tally).onComplete(ar -> {
            tally.subscribing = false;
            tally.release();
            if (ar.failed()) {
                LOG.atWarn().addKeyValue("auction", tally.auction.value())
                        .log("Could not subscribe to the auction's events: {}", ar.cause().toString());
                return;
            }
            if (tallies.get(tally.auction) != tally || stopping) {
                ar.result().unsubscribe();
                return;
            }
            tally.subscription = ar.result();
            receiving.put(tally.auction, tally);
            flush();
        });
    }

    /** Writes changed auctions (all of them when a heartbeat is due) to the store in one batch. */
    void flush() {
        if (flushing || stopping || halted || !engine.isReady()) {
            return;
        }
        long now = clock.millis();
        boolean heartbeat = now - lastHeartbeatAt >= settings.heartbeatMillis();
        Map<AuctionId, PresenceStore.LocalCount> batch = new HashMap<>();
        // a copy: a subscription made here may complete at once and flush again, and forgetting changes the map
        for (Tally tally : List.copyOf(tallies.values())) {
            if (!tally.hadViewers && heartbeat && tally.waiting.isEmpty() && forgetUnlessAsked(tally, now)) {
                // only prepared for a viewer (see prepare), and none came: nothing was written
                continue;
            }
            if (tally.subscription == null) {
                if (!tally.subscribing) {
                    subscribe(tally);
                }
            } else if (tally.hadViewers && (heartbeat || tally.dirty)) {
                tally.dirty = false;
                batch.put(tally.auction, new PresenceStore.LocalCount(tally.viewers, tally.known == null ? 0 : tally.known.peak()));
            }
        }
        if (batch.isEmpty()) {
            if (heartbeat && storeFailure == null) {
                lastGoodHeartbeatAt = now;
            }
            return;
        }
        flushing = true;
        Future<Map<AuctionId, ViewerCount>> reported = engine.presence().report(nodeId, batch)
                .timeout(settings.requestTimeoutMillis(), TimeUnit.MILLISECONDS);
        inFlight = reported;
        reported.onComplete(ar -> {
            flushing = false;
            if (ar.succeeded()) {
                if (heartbeat) {
                    lastHeartbeatAt = now;
                    lastGoodHeartbeatAt = now;
                }
                if (storeFailure != null) {
                    storeFailure = null;
                    quietUntil = clock.millis() + settings.heartbeatMillis();
                    LOG.info("Writing counts to the store works again");
                }
                ar.result().forEach((auction, count) -> reported(auction, batch.get(auction).viewers(), count));
                batch.keySet().forEach(auction -> {
                    Tally tally = tallies.get(auction);
                    if (tally != null && !ar.result().containsKey(auction)) {
                        // its shard of the store failed: written again on the next flush
                        tally.dirty = true;
                    }
                });
            } else {
                if (storeFailure == null) {
                    LOG.warn("Could not write counts to the store, will retry: {}", ar.cause().toString());
                }
                storeFailure = String.valueOf(ar.cause().getMessage());
                batch.keySet().forEach(auction -> {
                    Tally tally = tallies.get(auction);
                    if (tally != null) {
                        tally.dirty = true;
                    }
                });
            }
        });
    }

    private void reported(AuctionId auction, long viewers, ViewerCount count) {
        Tally tally = tallies.get(auction);
        if (tally == null) {
            return;
        }
        tally.onCount(count);
        if (tally.viewers == 0 && viewers == 0 && !tally.dirty) {
            // else written as zero again at the next heartbeat, and asked again then
            forgetUnlessAsked(tally, clock.millis());
        }
    }

    /**
     * Forgets an auction without viewers here unless a viewer asked for it within {@link #KEEP_ASKED_MILLIS}: decided
     * atomically with {@link #readyNow}, so that a viewer told "ready" always finds the subscription there.
     *
     * @return true when forgotten
     */
    private boolean forgetUnlessAsked(Tally tally, long now) {
        boolean[] asked = {false};
        receiving.compute(tally.auction, (id, held) -> {
            asked[0] = now - tally.askedAt < keepAskedMillis;
            return asked[0] ? held : null;
        });
        if (asked[0]) {
            return false;
        }
        forget(tally);
        return true;
    }

    /** The auction has no viewers here, and the store knows: no more subscription, nothing kept. */
    private void forget(Tally tally) {
        tallies.remove(tally.auction);
        shownCounts.remove(tally.auction);
        receiving.remove(tally.auction);
        tally.cancelBroadcast();
        tally.release();
        if (tally.subscription != null) {
            tally.subscription.unsubscribe();
        }
    }

    /** One auction's viewers on this replica: how many, and what they were last shown. */
    private final class Tally implements EventBroker.AuctionListener {
        final AuctionId auction;
        final BroadcastThrottle throttle = new BroadcastThrottle(settings.broadcastMillis());
        long viewers;
        EventBroker.Subscription subscription;
        boolean subscribing;
        boolean dirty;
        ViewerCount known;
        ViewerCount shown;
        long broadcastTimer = -1;
        /** False while the tally was only {@link #prepare}d: no viewer joined yet, nothing was written. */
        boolean hadViewers;
        /**
         * When a viewer last asked for it or was let go by it (a subscription may take seconds to settle, so not from
         * the asking alone); see {@link #KEEP_ASKED_MILLIS}. Written by the loops too, inside {@link #receiving}'s lock.
         */
        volatile long askedAt = NEVER;
        /** Viewers waiting for {@link #prepare}: told once the subscription is settled. */
        final List<Promise<Void>> waiting = new ArrayList<>(0);

        Tally(AuctionId auction) {
            this.auction = auction;
        }

        void add(int delta) {
            hadViewers = true;
            long before = viewers;
            viewers += delta;
            dirty = true;
            if (before <= 0 && viewers > 0) {
                auctionsWithViewers++;
            } else if (before > 0 && viewers <= 0) {
                auctionsWithViewers--;
            }
        }

        @Override
        public void onEvent(ViewerEvent event) {
            forEachLoopWithViewers(loop -> loops.event(loop, auction, event));
        }

        /**
         * The loops that hold a room of the auction now ({@link RoomIndex}): also one whose newest viewers are not
         * reported yet, so a viewer who joined a moment ago is not passed over.
         */
        private void forEachLoopWithViewers(IntConsumer action) {
            for (int loop : rooms.loopsOf(auction)) {
                action.accept(loop);
            }
        }

        @Override
        public void onCount(ViewerCount count) {
            if (!count.isNewerThan(known)) {
                return;
            }
            known = count;
            if (broadcastTimer == -1) {
                scheduleBroadcast();
            }
        }

        /** Shows the latest count as soon as the throttle allows, and not while counts are held back. */
        private void scheduleBroadcast() {
            long now = clock.millis();
            long held = storeFailure != null ? settings.flushMillis() : quietUntil - now;
            long delay = Math.max(throttle.delayBeforeNext(now), held);
            if (delay <= 0) {
                broadcast();
            } else {
                broadcastTimer = timers.schedule(delay, () -> {
                    broadcastTimer = -1;
                    scheduleBroadcast();
                });
            }
        }

        private void broadcast() {
            if (shown != null && shown.current() == known.current() && shown.peak() == known.peak()) {
                return;
            }
            shown = known;
            shownCounts.put(auction, known);
            throttle.sent(clock.millis());
            metrics.broadcast();
            forEachLoopWithViewers(loop -> loops.count(loop, known));
        }

        /** Lets the viewers waiting for the subscription go on. */
        void release() {
            if (!waiting.isEmpty()) {
                askedAt = clock.millis();
                List<Promise<Void>> ready = new ArrayList<>(waiting);
                waiting.clear();
                ready.forEach(Promise::tryComplete);
            }
        }

        void cancelBroadcast() {
            if (broadcastTimer != -1) {
                timers.cancel(broadcastTimer);
                broadcastTimer = -1;
            }
        }
    }
}
