package dev.gavel.core.audience;

import dev.gavel.core.AuctionId;
import dev.gavel.core.EventBroker;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static dev.gavel.core.audience.OnContexts.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One auction's feed on a replica, between a broker whose every move the test makes ({@link ScriptedBroker}) and two
 * event loops' rooms on real Vert.x contexts: what each viewer is told, in which order, whatever the broker does.
 * Nothing sleeps: the test waits for the contexts' queues ({@link OnContexts#drain}).
 */
class AuctionFeedTest {

    private static final AuctionId A = AuctionId.of("a");
    /** Reads of the log time out after a minute: long enough never to fire while a test holds one back. */
    private static final AudienceSettings SETTINGS = new AudienceSettings(10_000, 6000, 2000, 50, 200, 60_000);

    private final ManualTime timers = new ManualTime();
    private final ScriptedBroker broker = new ScriptedBroker();
    private final RecordingMetrics metrics = new RecordingMetrics();
    private Vertx vertx;
    private Context home;
    private OnContexts contexts;
    private AuctionFeeds feeds;
    private LocalRooms loop1;
    private LocalRooms loop2;
    private int viewers;
    /** This replica's viewers of an auction, as the feeds are told. */
    private volatile long viewersHere;

    @BeforeEach
    void start() {
        // the feeds' context and each loop's rooms on an event loop of their own, as in a server (contexts made from
        // the test's thread would all share one event loop)
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(3));
        List<Context> made = OnContexts.onEachEventLoop(vertx);
        home = made.get(0);
        Context context1 = made.get(1);
        Context context2 = made.get(2);
        contexts = new OnContexts(home, context1, context2);
        feeds = new AuctionFeeds(home, broker, SETTINGS, timers, timers, metrics, now -> 0,
                auction -> viewersHere, auction -> Future.succeededFuture(null));
        loop1 = new LocalRooms(context1, (deltas, persons, ids) -> { }, metrics, feeds);
        loop2 = new LocalRooms(context2, (deltas, persons, ids) -> { }, metrics, feeds);
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    @Test
    void aNewViewerOfALiveFeedGetsItsCountThenItsStartThenTheCurrentBidAtItsPositionThenOnlyLaterEvents() {
        broker.appendBid("b1");
        broker.appendEvent("x2");
        RecordingViewer first = join(loop1, null);
        onHome(() -> broker.listener().onCount(new ViewerCount(A, 3, 3, 1)));

        RecordingViewer second = join(loop2, null);
        onHome(() -> broker.publish("x3"));

        assertEquals(List.of("count 3/3", "started e1-2 null 0", "bid b1@e1-2", "ev x3@e1-3"), second.seen,
                "the bid of e1-1 is shown at e1-2, where the viewer starts");
        assertEquals(List.of("started e1-2 null 0", "bid b1@e1-2", "count 3/3", "ev x3@e1-3"), first.seen);
        assertEquals(1, broker.subscriptions.size(), "one subscription for both loops");
        assertEquals(1, broker.reads.size(), "a new viewer of a live feed costs no read");
    }

    @Test
    void aViewerJoiningWhileTheFeedSubscribesWaitsAndIsStartedWithTheBidOnceTheHeadIsRead() {
        broker.appendBid("b1");
        broker.holdSubscribes = true;
        broker.holdReads = true;

        RecordingViewer viewer = join(loop1, null);
        assertEquals(List.of(), viewer.seen, "subscribing");
        onHome(() -> broker.pendingSubscriptions().get(0).complete());
        assertEquals(List.of(), viewer.seen, "reading the head");
        RecordingViewer other = join(loop2, null);
        assertEquals(List.of(), other.seen, "reading the head");

        onHome(() -> broker.pendingRead().answer());
        assertEquals(List.of("started e1-1 null 0", "bid b1@e1-1"), viewer.seen);
        assertEquals(List.of("started e1-1 null 0", "bid b1@e1-1"), other.seen);
        onHome(() -> broker.publish("x2"));
        assertEquals(List.of("started e1-1 null 0", "bid b1@e1-1", "ev x2@e1-2"), viewer.seen);
    }

    /**
     * Events that arrive while the feed subscribes and reads the head are held; those at or before the head are in the
     * viewers' start already, those after it are handed on, once.
     */
    @Test
    void eventsHeldWhileSubscribingAreHandedOnOnceWhenAfterTheHeadAndNotAtAllWhenAtOrBeforeIt() {
        broker.appendBid("b1");
        broker.holdSubscribes = true;
        broker.holdReads = true;
        RecordingViewer viewer = join(loop1, null);

        ViewerEvent x2 = broker.appendEvent("x2");
        onHome(() -> broker.deliver(x2));
        onHome(() -> broker.pendingSubscriptions().get(0).complete());
        ViewerEvent x3 = broker.appendEvent("x3");
        onHome(() -> {
            broker.deliver(x3);
            broker.deliver(x2);
            broker.deliver(x3);
        });
        assertEquals(List.of(), viewer.seen);
        assertEquals(List.of(), metrics.delivered);

        onHome(() -> broker.pendingRead().answer());
        assertEquals(List.of(x3.publishedAtMillis()), metrics.delivered, "x3 once, x2 (the head) not at all");
        assertEquals(List.of("started e1-3 null 0", "bid b1@e1-3"), viewer.seen,
                "started after x3, which was on its way to the loop before it");

        ViewerEvent x4 = broker.appendEvent("x4");
        onHome(() -> {
            broker.deliver(x3);
            broker.deliver(x4);
        });
        assertEquals(List.of(x3.publishedAtMillis(), x4.publishedAtMillis()), metrics.delivered);
        assertEquals(List.of("started e1-3 null 0", "bid b1@e1-3", "ev x4@e1-4"), viewer.seen);
    }

    @Test
    void aDuplicateIsDropped() {
        ViewerEvent b1 = broker.appendBid("b1");
        RecordingViewer viewer = join(loop1, null);

        onHome(() -> {
            ViewerEvent x2 = broker.publish("x2");
            broker.deliver(x2);
            broker.deliver(b1);
            broker.deliver(x2);
            broker.publish("x3");
            broker.deliver(x2);
        });

        assertEquals(List.of("started e1-1 null 0", "bid b1@e1-1", "ev x2@e1-2", "ev x3@e1-3"), viewer.seen);
        assertEquals(0, metrics.gapsRepaired.get());
    }

    /**
     * Pub/sub lost x2 and x3 and brought x4: the feed reads the gap from the log and hands on x2, x3, x4 in order,
     * then x5, which arrived during the read; x3, arriving late, is not handed on twice. Answered as the log was when
     * read (x5 not in it), or as it is when answered (x5 in it, and arriving too).
     */
    @ParameterizedTest(name = "read answered as the log is when answered: {0}")
    @ValueSource(booleans = {false, true})
    void aJumpInSequenceNumbersIsReadFromTheLogAndHandedOnInOrderOnce(boolean answerNow) {
        broker.appendBid("b1");
        RecordingViewer viewer = join(loop1, null);
        broker.holdReads = true;

        ViewerEvent x2 = broker.appendEvent("x2");
        ViewerEvent x3 = broker.appendEvent("x3");
        onHome(() -> broker.publish("x4"));
        assertEquals(new EventOffset("e1", 1), broker.pendingRead().after);
        onHome(() -> {
            broker.deliver(x3);
            broker.publish("x5");
            broker.deliver(x2);
        });
        assertEquals(List.of("started e1-1 null 0", "bid b1@e1-1"), viewer.seen, "nothing while the gap is read");

        onHome(() -> answer(broker.pendingRead(), answerNow));
        onHome(() -> broker.publish("x6"));
        assertEquals(List.of("started e1-1 null 0", "bid b1@e1-1",
                "ev x2@e1-2", "ev x3@e1-3", "ev x4@e1-4", "ev x5@e1-5", "ev x6@e1-6"), viewer.seen);
        assertEquals(1, metrics.gapsRepaired.get());
        assertEquals(0, metrics.gapsUnrecoverable.get());
    }

    /** The subscription was lost and is back: what was published meanwhile is read, and handed on before newer events. */
    @ParameterizedTest(name = "read answered as the log is when answered: {0}")
    @ValueSource(booleans = {false, true})
    void whenResubscribedTheFeedReadsWhatItMissed(boolean answerNow) {
        broker.appendBid("b1");
        RecordingViewer viewer = join(loop1, null);
        broker.holdReads = true;

        broker.appendEvent("x2");
        broker.appendEvent("x3");
        onHome(() -> broker.listener().onResubscribed());
        assertEquals(new EventOffset("e1", 1), broker.pendingRead().after);
        onHome(() -> broker.publish("x4"));
        assertEquals(List.of("started e1-1 null 0", "bid b1@e1-1"), viewer.seen);

        onHome(() -> answer(broker.pendingRead(), answerNow));
        onHome(() -> broker.publish("x5"));
        assertEquals(List.of("started e1-1 null 0", "bid b1@e1-1",
                "ev x2@e1-2", "ev x3@e1-3", "ev x4@e1-4", "ev x5@e1-5"), viewer.seen);
    }

    @Test
    void aResubscriptionWithNothingMissedHandsOnNothingTwice() {
        broker.appendBid("b1");
        RecordingViewer viewer = join(loop1, null);
        onHome(() -> broker.publish("x2"));

        onHome(() -> broker.listener().onResubscribed());
        onHome(() -> broker.publish("x3"));

        assertEquals(List.of("started e1-1 null 0", "bid b1@e1-1", "ev x2@e1-2", "ev x3@e1-3"), viewer.seen);
    }

    /** The log was made anew (a new epoch): its events are handed on from its first, the missed one included. */
    @Test
    void aNewEpochHandsOnTheNewLogsEvents() {
        broker.appendBid("b1");
        broker.appendEvent("x2");
        RecordingViewer viewer = join(loop1, null);

        broker.newEpoch("e2");
        broker.appendBid("b9");
        onHome(() -> broker.publish("y2"));
        onHome(() -> broker.publish("y3"));

        assertEquals(List.of("started e1-2 null 0", "bid b1@e1-2", "bid b9@e2-1", "ev y2@e2-2", "ev y3@e2-3"), viewer.seen);
        assertEquals(1, metrics.gapsUnrecoverable.get());
        RecordingViewer joiner = join(loop2, null);
        assertEquals(List.of("started e2-3 null 0", "bid b9@e2-3"), joiner.seen);
    }

    /**
     * Redis failed over to a replica that lacked x2 to x4, which the viewers had: the head is behind the feed's
     * position. The feed starts again from the head, so that the events published after it, which take the same
     * sequence numbers again, are handed on and not taken for duplicates: y2, which arrived during the read, and y3
     * and y4, whose sequence numbers the viewers had seen before.
     */
    @Test
    void aHeadBehindThePositionRebasesWithoutDroppingLaterEvents() {
        broker.appendBid("b1");
        broker.appendEvent("x2");
        broker.appendEvent("x3");
        RecordingViewer viewer = join(loop1, null);
        onHome(() -> broker.publish("x4"));
        broker.holdReads = true;

        broker.loseWrites(3);
        onHome(() -> broker.listener().onResubscribed());
        onHome(() -> broker.publish("y2"));
        onHome(() -> broker.pendingRead().answer());
        onHome(() -> broker.publish("y3"));
        onHome(() -> broker.publish("y4"));
        onHome(() -> broker.publish("y5"));

        assertEquals(List.of("started e1-3 null 0", "bid b1@e1-3", "ev x4@e1-4",
                "ev y2@e1-2", "ev y3@e1-3", "ev y4@e1-4", "ev y5@e1-5"), viewer.seen);
        assertEquals(1, metrics.gapsUnrecoverable.get());
        RecordingViewer joiner = join(loop2, null);
        assertEquals(List.of("started e1-5 null 0", "bid b1@e1-5"), joiner.seen);
    }

    /**
     * As above, for a viewer that joined after the last event before the loss and got no event since: the loop holds
     * it back from events up to the offset it started at (they might be on their way through the loop still), and the
     * events after the rebase take those offsets again: the feed tells the loops (LocalRooms.rebased), and y2 and y3
     * reach it.
     */
    @Test
    void aHeadBehindThePositionDropsNothingForAViewerThatGotNoEventSinceItJoined() {
        broker.appendBid("b1");
        broker.appendEvent("x2");
        broker.appendEvent("x3");
        RecordingViewer viewer = join(loop1, null);
        broker.holdReads = true;

        broker.loseWrites(2);
        onHome(() -> broker.listener().onResubscribed());
        onHome(() -> broker.publish("y2"));
        onHome(() -> broker.pendingRead().answer());
        onHome(() -> broker.publish("y3"));
        onHome(() -> broker.publish("y4"));

        assertEquals(List.of("started e1-3 null 0", "bid b1@e1-3", "ev y2@e1-2", "ev y3@e1-3", "ev y4@e1-4"), viewer.seen);
    }

    /** A read of the gap that fails is tried again a second later (by the feeds' timers); nothing is handed on before. */
    @Test
    void aReadThatFailsIsTriedAgainASecondLater() {
        broker.appendBid("b1");
        RecordingViewer viewer = join(loop1, null);
        broker.holdReads = true;

        broker.appendEvent("x2");
        onHome(() -> broker.publish("x3"));
        onHome(() -> broker.pendingRead().fail("store away"));
        onHome(() -> broker.publish("x4"));
        onHome(() -> timers.advance(Duration.ofMillis(AuctionFeed.RETRY_MILLIS - 1)));
        assertEquals(List.of(), broker.pendingReads(), "not yet");
        assertEquals(List.of("started e1-1 null 0", "bid b1@e1-1"), viewer.seen);

        onHome(() -> timers.advance(Duration.ofMillis(1)));
        assertEquals(new EventOffset("e1", 1), broker.pendingRead().after);
        onHome(() -> broker.pendingRead().answer());
        onHome(() -> broker.publish("x5"));
        assertEquals(List.of("started e1-1 null 0", "bid b1@e1-1", "ev x2@e1-2", "ev x3@e1-3", "ev x4@e1-4", "ev x5@e1-5"),
                viewer.seen);
    }

    /** The feed keeps the newest 64 events: a viewer that comes back within them gets what it missed with no read. */
    @Test
    void aReturningViewerWithinTheNewest64EventsGetsExactlyWhatItMissedThenLiveEvents() {
        broker.appendUpTo(100);
        join(loop1, null);
        int reads = broker.reads.size();

        RecordingViewer back = join(loop2, new EventOffset("e1", 97));
        RecordingViewer upToDate = join(loop2, new EventOffset("e1", 100));
        RecordingViewer oldest = join(loop1, new EventOffset("e1", 100 - AuctionFeed.RECENT_EVENTS));
        onHome(() -> broker.publish("x101"));

        assertEquals(List.of("started e1-100 true 3", "ev x98@e1-98", "ev x99@e1-99", "ev x100@e1-100", "ev x101@e1-101"),
                back.seen);
        assertEquals(List.of("started e1-100 true 0", "ev x101@e1-101"), upToDate.seen);
        List<String> expected = new ArrayList<>(List.of("started e1-100 true 64"));
        expected.addAll(events(37, 101));
        assertEquals(expected, oldest.seen);
        assertEquals(reads, broker.reads.size(), "no read of the log");
    }

    /** A viewer that comes back while the feed subscribes waits, and gets what it missed from the head's read. */
    @Test
    void aReturningViewerJoiningWhileTheFeedSubscribesGetsWhatItMissedOnceTheHeadIsRead() {
        broker.appendBid("b1");
        broker.appendEvent("x2");
        broker.appendEvent("x3");
        broker.holdReads = true;

        RecordingViewer back = join(loop1, new EventOffset("e1", 1));
        assertEquals(List.of(), back.seen);
        onHome(() -> broker.pendingRead().answer());
        onHome(() -> broker.publish("x4"));

        assertEquals(List.of("started e1-3 true 2", "ev x2@e1-2", "ev x3@e1-3", "ev x4@e1-4"), back.seen);
        assertEquals(1, broker.reads.size(), "the head's read served it");
    }

    /**
     * A viewer that comes back from before the newest 64 events is served from a read of the log; events that arrive
     * while the read is in flight are neither missed nor sent twice.
     */
    @ParameterizedTest(name = "read answered as the log is when answered: {0}")
    @ValueSource(booleans = {false, true})
    void aReturningViewerFromBeforeTheNewest64EventsIsServedFromTheLog(boolean answerNow) {
        broker.appendUpTo(100);
        join(loop1, null);
        broker.holdReads = true;

        RecordingViewer back = join(loop2, new EventOffset("e1", 35));
        assertEquals(new EventOffset("e1", 35), broker.pendingRead().after);
        onHome(() -> {
            broker.publish("x101");
            broker.publish("x102");
        });
        assertEquals(List.of(), back.seen, "waits for the read");

        onHome(() -> answer(broker.pendingRead(), answerNow));
        onHome(() -> broker.publish("x103"));

        List<String> expected = new ArrayList<>(List.of("started e1-102 true 67"));
        expected.addAll(events(36, 103));
        assertEquals(expected, back.seen);
    }

    /** So many events arrived during the read that neither it nor the newest events cover what the viewer missed: read again. */
    @Test
    void aReturningViewerWhoseReadWasOvertakenIsReadForAgain() {
        broker.appendUpTo(100);
        join(loop1, null);
        broker.holdReads = true;

        RecordingViewer back = join(loop2, new EventOffset("e1", 10));
        ScriptedBroker.Read first = broker.pendingRead();
        onHome(() -> {
            for (int seq = 101; seq <= 170; seq++) {
                broker.publish("x" + seq);
            }
        });
        onHome(first::answer);
        assertEquals(List.of(), back.seen, "101 to 106 are neither in the read nor kept by the feed");

        ScriptedBroker.Read second = broker.pendingRead();
        assertEquals(new EventOffset("e1", 10), second.after);
        onHome(second::answer);
        onHome(() -> broker.publish("x171"));

        List<String> expected = new ArrayList<>(List.of("started e1-170 true 160"));
        expected.addAll(events(11, 171));
        assertEquals(expected, back.seen);
    }

    /** An offset of no log this auction has: the viewer is told its events were not found, and gets the current bid. */
    @Test
    void anUnknownOffsetGetsNotRecoveredAndTheCurrentBid() {
        broker.appendEvent("x1");
        broker.appendEvent("x2");
        broker.appendBid("b3");
        broker.appendEvent("x4");
        broker.appendEvent("x5");
        join(loop1, null);

        RecordingViewer otherEpoch = join(loop2, new EventOffset("e0", 3));
        RecordingViewer unknown = join(loop2, EventOffset.UNKNOWN);
        RecordingViewer ahead = join(loop1, new EventOffset("e1", 50));
        onHome(() -> broker.publish("x6"));

        List<String> expected = List.of("started e1-5 false 0", "bid b3@e1-5", "ev x6@e1-6");
        assertEquals(expected, otherEpoch.seen);
        assertEquals(expected, unknown.seen);
        assertEquals(expected, ahead.seen);
    }

    @Test
    void theLastLoopLeavingEndsTheFeedAndAJoinAfterMakesANewOneThatSubscribesAgain() {
        broker.appendBid("b1");
        RecordingViewer one = join(loop1, null);
        RecordingViewer two = join(loop2, null);
        RecordingViewer three = join(loop2, null);
        assertEquals(1, broker.subscriptions.size());
        EventBroker.AuctionListener first = broker.listener();

        leave(loop1, one);
        leave(loop2, two);
        assertEquals(1, broker.activeSubscriptions(), "loop 2 still has a viewer");
        leave(loop2, three);
        assertEquals(0, broker.activeSubscriptions());
        assertEquals(1, broker.unsubscribes.get());
        assertNull(feeds.known(A));

        // the old feed hands on nothing more, even if the broker still calls it
        ViewerEvent x2 = broker.appendEvent("x2");
        onHome(() -> first.onEvent(x2));
        assertEquals(List.of(), metrics.delivered);

        RecordingViewer again = join(loop1, null);
        assertEquals(2, broker.subscriptions.size());
        assertEquals(1, broker.activeSubscriptions());
        onHome(() -> broker.publish("x3"));
        assertEquals(List.of("started e1-2 null 0", "bid b1@e1-2", "ev x3@e1-3"), again.seen);
    }

    /**
     * The last viewer leaves on one loop while another joins on another, at the same moment: the joiner finds the feed
     * or makes a new one that subscribes; never a feed that is ending. Either way it is started and gets the events.
     */
    @Test
    void aJoinRacingWithTheLastLeaveAlwaysEndsSubscribed() {
        broker.appendBid("b1");
        RecordingViewer leaving = join(loop1, null);
        assertTrue(OnContexts.get(loop1.context(), Thread::currentThread) != OnContexts.get(loop2.context(), Thread::currentThread),
                "the loops run on threads of their own");
        for (int round = 0; round < 300; round++) {
            RecordingViewer joining = new RecordingViewer("joining-" + round);
            RecordingViewer left = leaving;
            LocalRooms from = loop1;
            LocalRooms to = loop2;
            // both at once, each on its own event loop: a barrier lets them go together
            CyclicBarrier together = new CyclicBarrier(2);
            from.context().runOnContext(v -> {
                awaitQuietly(together);
                from.leave(A, left);
            });
            to.context().runOnContext(v -> {
                awaitQuietly(together);
                to.join(A, joining, joining.name, null, null);
            });
            contexts.drain();

            assertEquals(1, broker.activeSubscriptions(), "round " + round);
            ViewerEvent event = broker.last();
            onHome(() -> broker.publish("r" + event.offset().seq()));
            List<String> seen = joining.events();
            assertEquals(3, seen.size(), "round " + round + ": " + seen);
            assertTrue(seen.get(0).startsWith("started "), seen::toString);
            assertEquals("ev r" + event.offset().seq() + "@" + broker.head(), seen.get(2));
            // the next round: the joiner is the one that leaves, on the other loop
            leaving = joining;
            LocalRooms swap = loop1;
            loop1 = loop2;
            loop2 = swap;
        }
        assertEquals(broker.subscriptions.size() - 1, broker.unsubscribes.get());
    }

    @Test
    void countsAreShownToEveryLoopCoalescedPerBroadcastInterval() {
        RecordingViewer one = join(loop1, null);
        RecordingViewer two = join(loop2, null);

        onHome(() -> broker.listener().onCount(new ViewerCount(A, 2, 2, 1)));
        onHome(() -> {
            broker.listener().onCount(new ViewerCount(A, 3, 3, 2));
            broker.listener().onCount(new ViewerCount(A, 4, 4, 3));
            broker.listener().onCount(new ViewerCount(A, 1, 4, 2));
        });
        assertEquals(List.of("2/2"), one.counts());
        onHome(() -> timers.advance(Duration.ofMillis(200)));

        assertEquals(List.of("2/2", "4/4"), one.counts());
        assertEquals(List.of("2/2", "4/4"), two.counts());
        assertEquals(2, metrics.broadcasts.get());
        assertEquals(4, feeds.known(A).current());
    }

    @Test
    void aBigAudienceHereIsShownItsCountAtMostOnceASecond() {
        viewersHere = 5_000;
        RecordingViewer one = join(loop1, null);

        onHome(() -> broker.listener().onCount(new ViewerCount(A, 6_000, 6_000, 1)));
        onHome(() -> broker.listener().onCount(new ViewerCount(A, 6_001, 6_001, 2)));
        onHome(() -> timers.advance(Duration.ofMillis(999)));
        assertEquals(List.of("6000/6000"), one.counts(), "5,000 viewers here: a second between broadcasts");
        onHome(() -> timers.advance(Duration.ofMillis(1)));

        assertEquals(List.of("6000/6000", "6001/6001"), one.counts());
    }

    private static void awaitQuietly(CyclicBarrier barrier) {
        try {
            barrier.await(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void answer(ScriptedBroker.Read read, boolean now) {
        if (now) {
            read.answerNow();
        } else {
            read.answer();
        }
    }

    /** "ev x{seq}@e1-{seq}" for seq from {@code first} to {@code last}. */
    private static List<String> events(long first, long last) {
        return LongStream.rangeClosed(first, last).mapToObj(seq -> "ev x" + seq + "@e1-" + seq).toList();
    }

    private RecordingViewer join(LocalRooms loop, EventOffset resumeFrom) {
        RecordingViewer viewer = new RecordingViewer("v" + ++viewers);
        run(loop.context(), () -> assertTrue(loop.join(A, viewer, viewer.name, null, resumeFrom)));
        contexts.drain();
        return viewer;
    }

    private void leave(LocalRooms loop, RecordingViewer viewer) {
        run(loop.context(), () -> assertTrue(loop.leave(A, viewer)));
        contexts.drain();
    }

    /** Runs on the feeds' context (where the broker calls back), then lets what it queued run. */
    private void onHome(Runnable action) {
        run(home, action);
        contexts.drain();
    }
}
