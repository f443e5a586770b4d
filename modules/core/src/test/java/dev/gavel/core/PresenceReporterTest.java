package dev.gavel.core;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reporter on the in-memory engine, with a manual clock and timers: everything runs on one Vert.x context
 * (the broker delivers there), and time moves only when the test says so.
 */
class PresenceReporterTest {

    private static final AuctionId A = AuctionId.of("a");
    private static final AuctionId B = AuctionId.of("b");
    private static final AudienceSettings SETTINGS = new AudienceSettings(50, 200, 2000, 1000);

    private final ManualTimers timers = new ManualTimers();
    private final List<String> deliveries = new ArrayList<>();
    private final AtomicInteger broadcasts = new AtomicInteger();
    private Vertx vertx;
    private Context context;
    private InMemoryEngine engine;
    /** While set, subscriptions complete only when the test completes this (a SUBSCRIBE whose reply is slow). */
    private volatile io.vertx.core.Promise<Void> subscriptionsHeld;
    /** When true, this reporter's writes are refused, as a Redis with its memory full refuses them. */
    private volatile boolean refusing;
    private PresenceReporter reporter;
    private final RoomIndex rooms = new RoomIndex();
    /** Viewers per auction and loop, for {@link #changed}. */
    private final Map<List<Object>, Integer> held = new java.util.HashMap<>();

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        context = vertx.getOrCreateContext();
        engine = new InMemoryEngine(vertx, timers, 6000);
        reporter = onContext(() -> new PresenceReporter(new Refusing(engine), "node-1", SETTINGS, timers, timers, countingBroadcasts(), rooms, new PresenceReporter.Loops() {
            @Override
            public void count(int loop, ViewerCount count) {
                deliveries.add("loop " + loop + ": " + count.auctionId().value() + " " + count.current() + "/" + count.peak());
            }

            @Override
            public void event(int loop, AuctionId auction, ViewerEvent event) {
                deliveries.add("loop " + loop + ": " + auction.value() + " " + event.name());
            }
        }));
        onContext(() -> reporter.start());
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    @Test
    void twoLoopsAreReportedAsOneEntryOfTheirSum() throws Exception {
        run(() -> {
            changed(0, Map.of(A, 3), Map.of(A, Set.of("x", "y", "z")));
            changed(1, Map.of(A, 2), Map.of());
        });
        flushAndDeliver();
        run(() -> timers.advance(Duration.ofMillis(200)));
        drain();

        assertEquals(5, engine.presence().read(A).await(1, TimeUnit.SECONDS).current());
        assertEquals(Map.of(A, 5), onContext(() -> reporter.localRooms()));
        // the first subscriber's count goes out at once (loop 1 had not been added yet), the sum once the interval is over
        assertEquals(List.of("loop 0: a 3/3", "loop 0: a 5/5", "loop 1: a 5/5"), deliveries);
    }

    @Test
    void countsReachOnlyLoopsWithViewersAndAreCoalescedPerBroadcastInterval() throws Exception {
        run(() -> {
            changed(0, Map.of(A, 1), Map.of());
            changed(1, Map.of(A, 1), Map.of());
        });
        flushAndDeliver();
        deliveries.clear();

        // loop 1's viewer leaves, then three more join on loop 0 over two flushes: one broadcast, the latest
        run(() -> changed(1, Map.of(A, -1), Map.of()));
        flushAndDeliver();
        run(() -> changed(0, Map.of(A, 3), Map.of()));
        flushAndDeliver();
        assertEquals(List.of(), deliveries, "nothing before the broadcast interval is over");

        broadcasts.set(0);
        run(() -> timers.advance(Duration.ofMillis(200)));
        drain();
        assertEquals(List.of("loop 0: a 4/4"), deliveries);
        assertEquals(1, broadcasts.get(), "one broadcast, however many loops it reached");
    }

    @Test
    void eventsGoOnceToEachLoopWithViewersOfTheAuction() throws Exception {
        run(() -> {
            changed(0, Map.of(A, 1), Map.of());
            changed(1, Map.of(B, 1), Map.of());
        });
        flushAndDeliver();
        deliveries.clear();

        engine.broker().publish(A, ViewerEvent.of(ViewerEvent.PLAYER_SOLD_UPDATE, "\"sold\"")).await(1, TimeUnit.SECONDS);
        drain();

        assertEquals(List.of("loop 0: a playerSoldUpdate"), deliveries);
    }

    /** A viewer that joined a moment ago, whose loop has not reported it yet, gets what arrives meanwhile. */
    @Test
    void eventsAndCountsReachALoopThatHoldsARoomBeforeItReportedIt() throws Exception {
        run(() -> changed(0, Map.of(A, 1), Map.of()));
        flushAndDeliver();
        deliveries.clear();

        rooms.opened(A, 1);
        engine.broker().publish(A, ViewerEvent.of(ViewerEvent.PLAYER_SOLD_UPDATE, "\"sold\"")).await(1, TimeUnit.SECONDS);
        drain();
        assertEquals(List.of("loop 0: a playerSoldUpdate", "loop 1: a playerSoldUpdate"), deliveries);

        // another replica's viewer arrives: the count reaches loop 1 too, before it reported its viewer
        deliveries.clear();
        engine.presence().report("node-2", Map.of(A, new PresenceStore.LocalCount(1, 0))).await(1, TimeUnit.SECONDS);
        run(() -> timers.advance(Duration.ofMillis(200)));
        drain();
        assertEquals(List.of("loop 0: a 2/2", "loop 1: a 2/2"), deliveries);
    }

    @Test
    void anAuctionWithoutViewersIsWrittenAsZeroThenForgotten() throws Exception {
        run(() -> changed(0, Map.of(A, 2), Map.of()));
        run(() -> changed(1, Map.of(A, 1, B, 1), Map.of()));
        flushAndDeliver();
        assertEquals(2, reporter.auctionsWithViewers());
        run(() -> changed(0, Map.of(A, -2), Map.of()));
        assertEquals(2, reporter.auctionsWithViewers(), "a viewer of a is left on loop 1");
        run(() -> changed(1, Map.of(A, -1, B, -1), Map.of()));
        assertEquals(0, reporter.auctionsWithViewers());
        flushAndDeliver();

        assertEquals(0, engine.presence().read(A).await(1, TimeUnit.SECONDS).current());
        assertEquals(Map.of(), onContext(() -> reporter.localRooms()));
        assertNull(reporter.shown(A));
        deliveries.clear();
        engine.broker().publish(A, ViewerEvent.of(ViewerEvent.PLAYER_SOLD_UPDATE, "\"sold\"")).await(1, TimeUnit.SECONDS);
        drain();
        assertEquals(List.of(), deliveries, "unsubscribed");
    }

    @Test
    void heartbeatsKeepTheEntryAliveAndAHaltedReplicaLapses() throws Exception {
        run(() -> changed(0, Map.of(A, 4), Map.of()));
        flushAndDeliver();

        // ten heartbeats later the lease (6 s) would long have run out without them
        for (int i = 0; i < 10; i++) {
            long before = reporter.lastGoodHeartbeatMillis();
            run(() -> timers.advance(Duration.ofMillis(2000)));
            drain();
            assertTrue(reporter.lastGoodHeartbeatMillis() > before);
            assertTrue(timers.millis() - reporter.lastGoodHeartbeatMillis() < SETTINGS.heartbeatMillis());
        }
        assertEquals(4, engine.presence().read(A).await(1, TimeUnit.SECONDS).current());
        assertNull(reporter.storeFailure());

        reporter.halt();
        long lastHeartbeat = reporter.lastGoodHeartbeatMillis();
        run(() -> timers.advance(Duration.ofMillis(7000)));
        drain();
        assertEquals(0, engine.presence().read(A).await(1, TimeUnit.SECONDS).current());
        assertEquals(lastHeartbeat, reporter.lastGoodHeartbeatMillis());
    }

    @Test
    void whileWritesAreRefusedViewersKeepTheLastGoodCountAndTheReplicaSaysSo() throws Exception {
        run(() -> changed(0, Map.of(A, 3), Map.of()));
        flushAndDeliver();
        assertEquals(List.of("loop 0: a 3/3"), deliveries);
        assertNull(reporter.storeFailure());
        long goodHeartbeat = reporter.lastGoodHeartbeatMillis();

        refusing = true;
        run(() -> changed(0, Map.of(A, 1), Map.of()));
        flushAndDeliver();
        assertEquals("store refuses writes", reporter.storeFailure());
        // Another replica's count arrives meanwhile (a sum that lacks this replica's newest share): not shown.
        engine.presence().report("node-2", Map.of(A, new PresenceStore.LocalCount(2, 0))).await(1, TimeUnit.SECONDS);
        for (int i = 0; i < 2; i++) {
            run(() -> timers.advance(Duration.ofMillis(2000)));
            drain();
        }
        assertEquals(List.of("loop 0: a 3/3"), deliveries);
        assertEquals(goodHeartbeat, reporter.lastGoodHeartbeatMillis(), "no heartbeat got through");
        assertEquals(3, reporter.shown(A).current(), "a viewer joining now is shown what the others see");

        refusing = false;
        flushAndDeliver();
        assertNull(reporter.storeFailure());
        assertEquals(6, engine.presence().read(A).await(1, TimeUnit.SECONDS).current());
        assertEquals(List.of("loop 0: a 3/3"), deliveries, "held for a heartbeat while the replicas write again");
        run(() -> timers.advance(Duration.ofMillis(2000)));
        drain();
        assertEquals(List.of("loop 0: a 3/3", "loop 0: a 6/6"), deliveries);
        assertEquals(6, reporter.shown(A).current());
        assertTrue(reporter.lastGoodHeartbeatMillis() > goodHeartbeat);
    }

    @Test
    void anAuctionPreparedForAViewerIsSubscribedAtOnceAndForgottenWhenNoneCameWithinFiveSeconds() throws Exception {
        Future<Void> ready = onContext(() -> reporter.prepare(A));
        drain();
        assertTrue(ready.succeeded());
        assertTrue(reporter.receives(A));
        assertTrue(onContext(() -> reporter.prepare(A)).succeeded(), "a second viewer goes on at once");

        Future<Void> readyB = onContext(() -> reporter.prepare(B));
        drain();
        assertTrue(readyB.succeeded());
        run(() -> changed(0, Map.of(B, 1), Map.of()));
        elapse(4000);
        assertTrue(reporter.receives(A), "two heartbeats, but asked 4 s ago: kept");
        elapse(3000);
        assertFalse(reporter.receives(A), "no viewer came: forgotten");
        assertTrue(reporter.receives(B), "its viewer came: kept");
        assertEquals(Map.of(B, 1), onContext(() -> reporter.localRooms()));
        assertEquals(1, engine.presence().read(B).await(1, TimeUnit.SECONDS).current());
    }

    /**
     * The last viewer of an auction leaves while another is told it is connected at once (the replica receives the
     * auction's events): the subscription stays for that viewer, whose join comes after the zero was written.
     */
    @Test
    void anAuctionWhoseLastViewerLeftIsKeptForAViewerWhoJustAskedForIt() throws Exception {
        run(() -> changed(0, Map.of(A, 1), Map.of()));
        flushAndDeliver();
        assertTrue(reporter.receives(A));

        assertTrue(reporter.readyNow(A), "told at once: the replica receives the auction's events");
        run(() -> changed(0, Map.of(A, -1), Map.of()));
        flushAndDeliver();
        assertEquals(0, engine.presence().read(A).await(1, TimeUnit.SECONDS).current());
        assertTrue(reporter.receives(A), "kept for the viewer who asked");

        // it joins on loop 1 and gets what is published from then on; it leaves, and nobody asks for 5 s: forgotten
        run(() -> changed(1, Map.of(A, 1), Map.of()));
        deliveries.clear();
        engine.broker().publish(A, ViewerEvent.of(ViewerEvent.PLAYER_SOLD_UPDATE, "\"sold\"")).await(1, TimeUnit.SECONDS);
        drain();
        assertEquals(List.of("loop 1: a playerSoldUpdate"), deliveries);
        run(() -> changed(1, Map.of(A, -1), Map.of()));
        elapse(7000);
        assertFalse(reporter.receives(A));
        assertFalse(reporter.readyNow(A));
    }

    /** A subscription that takes longer than a heartbeat: the auction is kept for the viewer let go at its end. */
    @Test
    void anAuctionWhoseSubscriptionWasSlowIsKeptForTheViewerThatWaitedForIt() throws Exception {
        subscriptionsHeld = io.vertx.core.Promise.promise();
        Future<Void> ready = onContext(() -> reporter.prepare(A));
        for (int i = 0; i < 2; i++) {
            run(() -> timers.advance(Duration.ofMillis(2000)));
            drain();
        }
        assertFalse(ready.isComplete());

        io.vertx.core.Promise<Void> held = subscriptionsHeld;
        subscriptionsHeld = null;
        run(() -> held.complete());
        drain();
        assertTrue(ready.succeeded());
        run(() -> timers.advance(Duration.ofMillis(50)));
        drain();
        assertTrue(reporter.receives(A), "kept for the viewer that was just let go");
    }

    @Test
    void stopRemovesTheReplicasEntries() throws Exception {
        run(() -> changed(0, Map.of(A, 4, B, 1), Map.of()));
        flushAndDeliver();

        CompletableFuture<Void> stopped = new CompletableFuture<>();
        context.runOnContext(v -> reporter.stop().onComplete(ar -> stopped.complete(null)));
        stopped.get(5, TimeUnit.SECONDS);

        assertEquals(0, engine.presence().read(A).await(1, TimeUnit.SECONDS).current());
        assertEquals(0, engine.presence().read(B).await(1, TimeUnit.SECONDS).current());
    }

    private AudienceMetrics countingBroadcasts() {
        return new AudienceMetrics() {
            @Override
            public void joined() {
            }

            @Override
            public void left(int viewers) {
            }

            @Override
            public void broadcast() {
                broadcasts.incrementAndGet();
            }

            @Override
            public void countsSent(int viewers) {
            }

            @Override
            public void eventDelivered(int viewers, long publishedAtMillis) {
            }
        };
    }

    /** A loop's rooms changed, as {@link LocalRooms} tells it: rooms marked as they open and close, then the sums. */
    private void changed(int loop, Map<AuctionId, Integer> deltas, Map<AuctionId, Set<String>> newViewerIds) {
        deltas.forEach((auction, delta) -> {
            int before = held.getOrDefault(List.of(auction, loop), 0);
            int after = before + delta;
            held.put(List.of(auction, loop), after);
            if (before == 0 && after > 0) {
                rooms.opened(auction, loop);
            } else if (before > 0 && after == 0) {
                rooms.closed(auction, loop);
            }
        });
        reporter.changed(deltas, newViewerIds);
    }

    /** Runs {@code action} on the reporter's context and waits for it. */
    private void run(Runnable action) {
        onContext(() -> {
            action.run();
            return null;
        });
    }

    /** One flush interval passes; what the broker then delivers on the context has arrived. */
    private void flushAndDeliver() throws Exception {
        run(() -> timers.advance(Duration.ofMillis(50)));
        drain();
    }

    /** Time passes in steps of a quarter second, each with what it brings delivered (writes complete between flushes). */
    private void elapse(long millis) throws Exception {
        for (long passed = 0; passed < millis; passed += 250) {
            run(() -> timers.advance(Duration.ofMillis(250)));
            drain();
        }
    }

    /** Waits until everything queued on the context so far has run (the broker delivers with runOnContext). */
    private void drain() throws Exception {
        for (int i = 0; i < 3; i++) {
            onContext(() -> null);
        }
    }

    private <T> T onContext(Supplier<T> action) {
        CompletableFuture<T> result = new CompletableFuture<>();
        context.runOnContext(v -> {
            try {
                result.complete(action.get());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        try {
            return result.get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The engine with this test's switch in front of its store. */
    private final class Refusing implements Engine {
        private final Engine engine;
        private final PresenceStore store;

        Refusing(Engine engine) {
            this.engine = engine;
            PresenceStore real = engine.presence();
            this.store = new PresenceStore() {
                @Override
                public Future<Map<AuctionId, ViewerCount>> report(String nodeId, Map<AuctionId, LocalCount> local) {
                    return refusing ? Future.failedFuture("store refuses writes") : real.report(nodeId, local);
                }

                @Override
                public Future<ViewerCount> read(AuctionId auction) {
                    return real.read(auction);
                }

                @Override
                public Future<Void> removeNode(String nodeId) {
                    return real.removeNode(nodeId);
                }
            };
        }

        @Override
        public PresenceStore presence() {
            return store;
        }

        @Override
        public EventBroker broker() {
            EventBroker real = engine.broker();
            return new EventBroker() {
                @Override
                public Future<Void> publish(AuctionId auction, ViewerEvent event) {
                    return real.publish(auction, event);
                }

                @Override
                public Future<Subscription> subscribe(AuctionId auction, AuctionListener listener) {
                    io.vertx.core.Promise<Void> held = subscriptionsHeld;
                    return held == null ? real.subscribe(auction, listener)
                            : held.future().compose(v -> real.subscribe(auction, listener));
                }
            };
        }

        @Override
        public ViewerStats stats() {
            return engine.stats();
        }

        @Override
        public AuctionRegistry auctions() {
            return engine.auctions();
        }

        @Override
        public boolean isReady() {
            return engine.isReady();
        }

        @Override
        public void onReconnected(Runnable action) {
            engine.onReconnected(action);
        }

        @Override
        public Future<Void> close() {
            return engine.close();
        }
    }
}
