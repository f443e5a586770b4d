package dev.gavel.core.audience;

import dev.gavel.core.AuctionId;
import dev.gavel.core.EventOffset;
import dev.gavel.core.ViewerCount;
import dev.gavel.core.ViewerEvent;
import dev.gavel.core.testing.ManualTime;
import io.vertx.core.Future;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static dev.gavel.core.audience.OnContexts.get;
import static dev.gavel.core.audience.OnContexts.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One event loop's rooms, on a real Vert.x context, fed by an auction feed over a broker the test drives. */
class LocalRoomsTest {

    private static final AuctionId A = AuctionId.of("a");
    private static final AuctionId B = AuctionId.of("b");
    /** Reads of the log time out after a minute: long enough never to fire while a test holds one back. */
    private static final AudienceSettings SETTINGS = new AudienceSettings(10_000, 6000, 2000, 50, 200, 60_000);

    private final ManualTime timers = new ManualTime();
    private final ScriptedBroker broker = new ScriptedBroker();
    private final List<Map<AuctionId, Integer>> shipped = new CopyOnWriteArrayList<>();
    private final List<Map<AuctionId, Set<String>>> shippedIds = new CopyOnWriteArrayList<>();
    private Vertx vertx;
    private Context home;
    private Context loop;
    private OnContexts contexts;
    private AuctionFeeds feeds;
    private LocalRooms rooms;

    @BeforeEach
    void start() {
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        List<Context> made = OnContexts.onEachEventLoop(vertx);
        home = made.get(0);
        loop = made.get(1);
        contexts = new OnContexts(home, loop);
        feeds = new AuctionFeeds(home, broker, SETTINGS, timers, timers, AudienceMetrics.NONE, now -> 0,
                auction -> 0, auction -> Future.succeededFuture(null));
        rooms = new LocalRooms(loop, (deltas, persons, ids) -> {
            shipped.add(deltas);
            shippedIds.add(ids);
        }, AudienceMetrics.NONE, feeds);
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    /** A viewer that is closed while an event goes out leaves at once; everyone else still gets the event. */
    @Test
    void aViewerLeavingDuringAFanOutDoesNotCostTheOthersTheEvent() {
        List<String> received = new CopyOnWriteArrayList<>();
        run(loop, () -> {
            for (int i = 0; i < 50; i++) {
                String name = "viewer-" + i;
                rooms.join(A, new RecordingViewer(name) {
                    @Override
                    public void send(ViewerEvent event) {
                        received.add(name);
                        if (name.equals("viewer-7")) {
                            rooms.leave(A, this);
                        }
                    }
                }, name, null, null);
            }
        });
        contexts.drain();

        run(home, () -> broker.publish("sold"));
        contexts.drain();

        assertEquals(50, received.size(), "every viewer got the event: " + received);
        assertEquals(49, get(loop, rooms::viewers));
    }

    /** Closing one auction's room closes its viewers with the code, leaves the others, and reports them gone. */
    @Test
    void closingARoomClosesItsViewersOnlyAndReportsThemGone() {
        List<RecordingViewer> inA = new ArrayList<>();
        RecordingViewer inB = new RecordingViewer("b");
        run(loop, () -> {
            for (int i = 0; i < 3; i++) {
                RecordingViewer viewer = new RecordingViewer("a-" + i);
                inA.add(viewer);
                rooms.join(A, viewer, "a-" + i, null, null);
            }
            rooms.join(B, inB, "b", null, null);
        });
        contexts.drain();
        assertEquals(List.of(Map.of(A, 3, B, 1)), shipped, "one shipment for the turn's joins");
        assertEquals(List.of(Map.of(A, Set.of("a-0", "a-1", "a-2"), B, Set.of("b"))), shippedIds);
        assertEquals(2, broker.activeSubscriptions());

        assertEquals(3, get(loop, () -> rooms.closeRoom(A, Viewer.NORMAL_CLOSURE, "auction closed")));
        contexts.drain();

        for (RecordingViewer viewer : inA) {
            assertEquals("closed 1000", viewer.seen.get(viewer.seen.size() - 1));
        }
        assertFalse(inB.seen.contains("closed 1000"));
        assertEquals(1, get(loop, rooms::viewers));
        assertEquals(List.of(Map.of(A, 3, B, 1), Map.of(A, -3)), shipped);
        assertEquals(1, broker.activeSubscriptions(), "a's feed ended, b's goes on");
        assertNull(feeds.known(A));
        assertFalse(get(loop, () -> rooms.leave(A, inA.get(0))), "gone already");
    }

    /** A joiner is shown the count the auction's other viewers were last shown, at once and before its start. */
    @Test
    void aJoinerIsShownTheLastCountAtOnceAndAViewerJoinsOnce() {
        RecordingViewer first = new RecordingViewer("first");
        assertTrue(get(loop, () -> rooms.join(A, first, "first", null, null)));
        contexts.drain();
        run(home, () -> broker.listener().onCount(new ViewerCount(A, 1, 1, 1)));
        contexts.drain();
        assertEquals(List.of("started null null 0", "count 1/1"), first.seen);

        RecordingViewer second = new RecordingViewer("second");
        assertTrue(get(loop, () -> rooms.join(A, second, "second", null, null)));
        assertFalse(get(loop, () -> rooms.join(A, first, "first", null, null)), "here already");
        contexts.drain();
        assertEquals(List.of("count 1/1", "started null null 0"), second.seen);
        assertEquals(2, get(loop, rooms::viewers));
        assertEquals(List.of(Map.of(A, 1), Map.of(A, 1)), shipped);
    }

    /**
     * The feed handed x3 and x4 to the loop, and a viewer joins before the loop got to them: it starts after x4 (the
     * feed's position), so neither is for it; x5 and every later event is.
     */
    @Test
    void aViewerJoiningWhileEventsAreQueuedOnItsLoopGetsNoneOfThoseButEveryLaterOne() {
        broker.appendBid("b1");
        broker.appendEvent("x2");
        RecordingViewer before = join(null);

        RecordingViewer joiner = new RecordingViewer("joiner");
        run(loop, () -> {
            broker.publish("x3");
            broker.publish("x4");
            // x3 and x4 are queued on this loop, behind this task
            rooms.join(A, joiner, "joiner", null, null);
        });
        contexts.drain();
        run(home, () -> {
            broker.publish("x5");
            broker.publish("x6");
        });
        contexts.drain();

        assertEquals(List.of("started e1-4 null 0", "bid b1@e1-4", "ev x5@e1-5", "ev x6@e1-6"), joiner.seen);
        assertEquals(List.of("started e1-2 null 0", "bid b1@e1-2", "ev x3@e1-3", "ev x4@e1-4", "ev x5@e1-5", "ev x6@e1-6"),
                before.seen);
    }

    /** The same for a viewer that comes back from x2: it gets x3 and x4 once, as what it missed, then the rest. */
    @Test
    void aReturningViewerJoiningWhileEventsAreQueuedOnItsLoopGetsThemOnce() {
        broker.appendBid("b1");
        broker.appendEvent("x2");
        join(null);

        RecordingViewer back = new RecordingViewer("back");
        run(loop, () -> {
            broker.publish("x3");
            broker.publish("x4");
            rooms.join(A, back, "back", null, new EventOffset("e1", 2));
        });
        contexts.drain();
        run(home, () -> broker.publish("x5"));
        contexts.drain();

        assertEquals(List.of("started e1-4 true 2", "ev x3@e1-3", "ev x4@e1-4", "ev x5@e1-5"), back.seen);
    }

    /** A viewer that waits for its start (the feed is reading the head) gets no event before it. */
    @Test
    void aWaitingViewerGetsNoEventBeforeItsStart() {
        broker.appendBid("b1");
        broker.holdReads = true;
        RecordingViewer viewer = join(null);
        assertEquals(List.of(), viewer.seen);
        // an event that reaches the loop without the feed (it holds its own while it reads)
        run(loop, () -> rooms.event(A, broker.appendEvent("x2")));
        assertEquals(List.of(), viewer.seen);

        run(home, () -> broker.pendingRead().answerNow());
        contexts.drain();
        run(home, () -> broker.publish("x3"));
        contexts.drain();
        assertEquals(List.of("started e1-2 null 0", "bid b1@e1-2", "ev x3@e1-3"), viewer.seen);
    }

    @Test
    void closingAllClosesEveryViewerEndsTheFeedsAndRefusesJoins() {
        RecordingViewer a = join(null);
        RecordingViewer b = new RecordingViewer("b");
        run(loop, () -> rooms.join(B, b, "b", null, null));
        contexts.drain();
        assertEquals(2, broker.activeSubscriptions());

        run(loop, () -> rooms.closeAll(Viewer.SERVICE_RESTART, "server stopping"));
        contexts.drain();

        assertEquals("closed 1012", a.seen.get(a.seen.size() - 1));
        assertEquals("closed 1012", b.seen.get(b.seen.size() - 1));
        assertTrue(get(loop, rooms::isClosed));
        assertEquals(0, get(loop, rooms::viewers));
        assertEquals(0, broker.activeSubscriptions());
    }

    @Test
    void closingSomeTakesThemOutOfTheirRoomsAtOnce() {
        List<RecordingViewer> all = new ArrayList<>();
        run(loop, () -> {
            for (int i = 0; i < 5; i++) {
                RecordingViewer viewer = new RecordingViewer("v" + i);
                all.add(viewer);
                rooms.join(A, viewer, viewer.name, null, null);
            }
        });
        contexts.drain();

        assertEquals(2, get(loop, () -> rooms.closeSome(2, Viewer.SERVICE_RESTART, "server stopping")));
        assertEquals(3, get(loop, rooms::viewers));
        assertEquals(2, all.stream().filter(v -> v.seen.contains("closed 1012")).count());
        contexts.drain();
        assertEquals(List.of(Map.of(A, 5), Map.of(A, -2)), shipped);
        assertNotNull(broker.listener(), "three viewers left: the feed goes on");
    }

    private RecordingViewer join(EventOffset resumeFrom) {
        RecordingViewer viewer = new RecordingViewer("v" + System.identityHashCode(resumeFrom));
        assertTrue(get(loop, () -> rooms.join(A, viewer, viewer.name, null, resumeFrom)));
        contexts.drain();
        return viewer;
    }
}
