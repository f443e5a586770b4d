package dev.gavel.testkit;

import dev.gavel.core.AuctionId;
import dev.gavel.core.Backend;
import dev.gavel.core.EventBroker;
import dev.gavel.core.EventLogSettings;
import dev.gavel.core.EventOffset;
import dev.gavel.core.LogRead;
import dev.gavel.core.PresenceStore.LocalCount;
import dev.gavel.core.ViewerCount;
import dev.gavel.core.ViewerEvent;
import dev.gavel.core.testing.ManualTime;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every backend must do, written once: a backend passes this suite against its real backend or it is
 * not done. Time is a {@link ManualTime} that the tests move; nothing sleeps.
 */
public abstract class BackendContract {

    protected static final long LEASE_MILLIS = 3000;

    private final ManualTime clock = new ManualTime();
    private Vertx vertx;
    private Backend backend;

    /** Creates the backend under test, connected and ready. */
    protected abstract Backend createBackend(Vertx vertx, Clock clock, long leaseMillis);

    @BeforeEach
    void createBackend() {
        vertx = Vertx.vertx();
        backend = createBackend(vertx, clock, LEASE_MILLIS);
    }

    @AfterEach
    void closeEngine() throws Exception {
        backend.close().await(10, TimeUnit.SECONDS);
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    /** A fresh auction per test, so tests sharing one backend do not see each other. */
    private static AuctionId auction() {
        return AuctionId.of("t" + UUID.randomUUID().toString().replace("-", "").substring(0, 20));
    }

    private static <T> T result(Future<T> future) {
        try {
            return future.await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private ViewerCount report(String node, AuctionId auction, long viewers) {
        return result(backend.presence().report(node, Map.of(auction, new LocalCount(viewers, 0)))).get(auction);
    }

    private ViewerCount read(AuctionId auction) {
        return result(backend.presence().read(auction));
    }

    private static void assertCount(long current, long peak, ViewerCount count) {
        assertEquals(current, count.current(), "current of " + count);
        assertEquals(peak, count.peak(), "peak of " + count);
    }

    @Test
    void anAuctionNeverSeenCountsZero() {
        assertCount(0, 0, read(auction()));
    }

    @Test
    void entriesOfAllNodesAreSummed() {
        AuctionId a = auction();
        assertCount(2, 2, report("n1", a, 2));
        assertCount(5, 5, report("n2", a, 3));
        assertCount(5, 5, read(a));
    }

    @Test
    void aNodeReportingAgainReplacesItsEntry() {
        AuctionId a = auction();
        report("n1", a, 2);
        assertCount(4, 4, report("n1", a, 4));
        assertCount(1, 4, report("n1", a, 1));
    }

    @Test
    void zeroRemovesTheEntryAndThePeakHolds() {
        AuctionId a = auction();
        report("n1", a, 2);
        report("n2", a, 1);
        assertCount(1, 3, report("n1", a, 0));
        assertCount(0, 3, report("n2", a, 0));
        assertCount(0, 3, read(a));
    }

    @Test
    void aPeakAReplicaKnowsRaisesThePeakAndNotTheCurrent() {
        AuctionId a = auction();
        ViewerCount count = result(backend.presence().report("n1", Map.of(a, new LocalCount(3, 20)))).get(a);
        assertCount(3, 20, count);
        assertCount(3, 20, read(a));
        assertCount(4, 20, report("n2", a, 1));
    }

    @Test
    void auctionsCountIndependently() {
        AuctionId a = auction();
        AuctionId b = auction();
        Map<AuctionId, ViewerCount> counts = result(backend.presence().report("n1", Map.of(a, new LocalCount(3, 0), b, new LocalCount(7, 0))));
        assertCount(3, 3, counts.get(a));
        assertCount(7, 7, counts.get(b));
        report("n2", a, 1);
        assertCount(7, 7, read(b));
    }

    @Test
    void anEntryNotRenewedWithinTheLeaseStopsCounting() {
        AuctionId a = auction();
        report("alive", a, 3);
        report("dead", a, 2);
        clock.advance(Duration.ofMillis(LEASE_MILLIS - 1));
        assertCount(5, 5, report("alive", a, 3));
        clock.advance(Duration.ofMillis(2));
        assertCount(3, 5, read(a));
    }

    @Test
    void removingANodeRemovesAllItsEntries() {
        AuctionId a = auction();
        AuctionId b = auction();
        result(backend.presence().report("leaving", Map.of(a, new LocalCount(2, 0), b, new LocalCount(4, 0))));
        report("staying", a, 1);
        result(backend.presence().removeNode("leaving"));
        assertCount(1, 3, read(a));
        assertCount(0, 4, read(b));
    }

    @Test
    void aNegativeCountIsRefusedAndNothingIsWritten() {
        AuctionId a = auction();
        AuctionId b = auction();
        report("n1", a, 2);
        Future<Map<AuctionId, ViewerCount>> bad = backend.presence().report("n1", Map.of(a, new LocalCount(5, 0), b, new LocalCount(-1, 0)));
        assertThrows(Exception.class, () -> bad.await(10, TimeUnit.SECONDS));
        assertCount(2, 2, read(a));
        assertCount(0, 0, read(b));
    }

    @Test
    void changesAreAnnouncedInOrderWithGrowingVersions() {
        AuctionId a = auction();
        Recorder recorder = subscribe(a);
        report("n1", a, 1);
        report("n2", a, 2);
        report("n1", a, 0);
        await().atMost(TestViewer.PATIENCE).until(() -> recorder.counts.size() >= 3);
        List<ViewerCount> counts = recorder.counts;
        assertEquals(List.of(1L, 3L, 2L), counts.stream().map(ViewerCount::current).toList().subList(counts.size() - 3, counts.size()));
        for (int i = 1; i < counts.size(); i++) {
            assertTrue(counts.get(i).isNewerThan(counts.get(i - 1)), "versions grow: " + counts);
        }
        assertEquals(3, counts.get(counts.size() - 1).peak());
    }

    @Test
    void anExpiryFoundByASweepIsAnnounced() {
        AuctionId a = auction();
        report("alive", a, 1);
        report("dead", a, 4);
        Recorder recorder = subscribe(a);
        clock.advance(Duration.ofMillis(LEASE_MILLIS + 1));
        report("alive", a, 1);
        await().atMost(TestViewer.PATIENCE).until(() -> !recorder.counts.isEmpty()
                && recorder.counts.get(recorder.counts.size() - 1).current() == 1);
    }

    @Test
    void publishedEventsReachSubscribersOfThatAuctionOnly() {
        AuctionId a = auction();
        AuctionId other = auction();
        Recorder first = subscribe(a);
        Recorder second = subscribe(a);
        Recorder elsewhere = subscribe(other);
        result(backend.broker().publish(a, ViewerEvent.of(ViewerEvent.PLAYER_SOLD_UPDATE, "\"sold!\"")));
        result(backend.broker().publish(other, ViewerEvent.of(ViewerEvent.PLAYER_SOLD_UPDATE, "\"marker\"")));
        await().atMost(TestViewer.PATIENCE).until(() -> first.events.size() == 1 && second.events.size() == 1
                && elsewhere.events.size() == 1);
        assertEquals("\"sold!\"", first.events.get(0).dataJson());
        assertEquals(ViewerEvent.PLAYER_SOLD_UPDATE, second.events.get(0).name());
        assertEquals("\"marker\"", elsewhere.events.get(0).dataJson());
    }

    @Test
    void eventsArriveInPublishOrder() {
        AuctionId a = auction();
        Recorder recorder = subscribe(a);
        Future<?> last = null;
        for (int i = 0; i < 1000; i++) {
            last = backend.broker().publish(a, ViewerEvent.of(ViewerEvent.PLAYER_BIDDING_UPDATE, "{\"bid\":" + i + "}"));
        }
        result(last);
        await().atMost(TestViewer.PATIENCE).until(() -> recorder.events.size() == 1000);
        List<String> expected = IntStream.range(0, 1000).mapToObj(i -> "{\"bid\":" + i + "}").toList();
        assertEquals(expected, recorder.events.stream().map(ViewerEvent::dataJson).toList());
    }

    @Test
    void anEndedSubscriptionGetsNothingMore() {
        AuctionId a = auction();
        Recorder leaving = subscribe(a);
        Recorder staying = subscribe(a);
        result(leaving.subscription.unsubscribe());
        result(backend.broker().publish(a, ViewerEvent.of(ViewerEvent.PLAYER_SOLD_UPDATE, "\"one\"")));
        result(backend.broker().publish(a, ViewerEvent.of(ViewerEvent.PLAYER_SOLD_UPDATE, "\"two\"")));
        await().atMost(TestViewer.PATIENCE).until(() -> staying.events.size() == 2);
        assertEquals(0, leaving.events.size());
    }

    @Test
    void anAuctionIsOpenOnlyOnceOpenedAndOpeningAgainChangesNothing() {
        AuctionId a = auction();
        AuctionId other = auction();
        assertFalse(backend.auctions().isOpen(a));
        assertFalse(result(backend.auctions().open(a)), "was not open before");
        assertTrue(backend.auctions().isOpen(a), "this replica's copy shows it once the open completed");
        assertTrue(result(backend.auctions().open(a)), "was open already");
        assertTrue(backend.auctions().isOpen(a));
        assertFalse(backend.auctions().isOpen(other));
    }

    @Test
    void closingAnAuctionClosesItAndIsAnnouncedWhetherOrNotItWasOpen() {
        AuctionId a = auction();
        AuctionId neverOpened = auction();
        List<AuctionId> closed = new CopyOnWriteArrayList<>();
        backend.auctions().onClosed(closed::add);
        result(backend.auctions().open(a));
        assertTrue(result(backend.auctions().close(a)), "was open");
        assertFalse(backend.auctions().isOpen(a));
        assertFalse(result(backend.auctions().close(a)), "closing again is no error");
        assertFalse(result(backend.auctions().close(neverOpened)));
        await().atMost(TestViewer.PATIENCE).until(() -> closed.size() >= 3);
        assertEquals(List.of(a, a, neverOpened), closed);
        result(backend.auctions().open(a));
        assertTrue(backend.auctions().isOpen(a), "an auction closed may be opened again");
    }

    private ViewerEvent publish(AuctionId auction, String name, String dataJson) {
        return result(backend.broker().publish(auction, ViewerEvent.published(name, dataJson, clock.millis())));
    }

    private List<ViewerEvent> publishBids(AuctionId auction, int howMany) {
        return IntStream.rangeClosed(1, howMany)
                .mapToObj(i -> publish(auction, ViewerEvent.PLAYER_BIDDING_UPDATE, "{\"bid\":" + i + "}")).toList();
    }

    @Test
    void everyEventGetsTheNextOffsetOfItsAuctionAndArrivesWithIt() {
        AuctionId a = auction();
        AuctionId other = auction();
        Recorder recorder = subscribe(a);
        List<ViewerEvent> published = publishBids(a, 3);
        ViewerEvent elsewhere = publish(other, ViewerEvent.PLAYER_SOLD_UPDATE, "\"sold\"");
        EventOffset first = published.get(0).offset();
        assertEquals(1, first.seq());
        assertEquals(List.of(new EventOffset(first.epoch(), 2), new EventOffset(first.epoch(), 3)),
                List.of(published.get(1).offset(), published.get(2).offset()));
        assertEquals(1, elsewhere.offset().seq(), "each auction counts its own events");
        await().atMost(TestViewer.PATIENCE).until(() -> recorder.events.size() == 3);
        assertEquals(published.stream().map(ViewerEvent::offset).toList(), recorder.events.stream().map(ViewerEvent::offset).toList());
        assertEquals("{\"bid\":3}", recorder.events.get(2).dataJson());
    }

    @Test
    void theLogGivesWhatFollowsAnOffsetInOrderOrItsNewest() {
        AuctionId a = auction();
        List<ViewerEvent> published = publishBids(a, 5);
        LogRead after2 = result(backend.broker().read(a, published.get(1).offset(), 100));
        assertTrue(after2.continuous());
        assertEquals(List.of("{\"bid\":3}", "{\"bid\":4}", "{\"bid\":5}"), after2.events().stream().map(ViewerEvent::dataJson).toList());
        assertEquals(published.get(4).offset(), after2.head());
        assertEquals(published.stream().skip(2).map(ViewerEvent::offset).toList(), after2.events().stream().map(ViewerEvent::offset).toList());

        LogRead twoAfter2 = result(backend.broker().read(a, published.get(1).offset(), 2));
        assertEquals(List.of("{\"bid\":3}", "{\"bid\":4}"), twoAfter2.events().stream().map(ViewerEvent::dataJson).toList());
        LogRead atHead = result(backend.broker().read(a, published.get(4).offset(), 100));
        assertTrue(atHead.continuous());
        assertEquals(List.of(), atHead.events());
        LogRead newest = result(backend.broker().read(a, null, 2));
        assertEquals(List.of("{\"bid\":4}", "{\"bid\":5}"), newest.events().stream().map(ViewerEvent::dataJson).toList());
    }

    @Test
    void theLastBidIsKeptAndASoldIsNeverTakenForOne() {
        AuctionId a = auction();
        publish(a, ViewerEvent.PLAYER_BIDDING_UPDATE, "{\"player\":\"Virat\"}");
        publish(a, ViewerEvent.PLAYER_SOLD_UPDATE, "\"sold to Mumbai\"");
        LogRead read = result(backend.broker().read(a, null, 10));
        assertEquals("{\"player\":\"Virat\"}", read.lastBid().dataJson());
        assertEquals(1, read.lastBid().offset().seq());
        assertEquals(2, read.head().seq());
    }

    @Test
    void anAuctionWithoutEventsHasNoHeadAndEveryOffsetIsUnknownToIt() {
        AuctionId a = auction();
        LogRead none = result(backend.broker().read(a, null, 10));
        assertEquals(null, none.head());
        assertEquals(List.of(), none.events());
        assertEquals(null, none.lastBid());
        assertFalse(result(backend.broker().read(a, new EventOffset("abc", 3), 10)).continuous());
    }

    @Test
    void anOffsetOfAnotherEpochOrBeyondTheHeadIsNotContinuous() {
        AuctionId a = auction();
        List<ViewerEvent> published = publishBids(a, 3);
        String epoch = published.get(0).offset().epoch();
        String otherEpoch = epoch.equals("zz") ? "yy" : "zz";
        LogRead otherLog = result(backend.broker().read(a, new EventOffset(otherEpoch, 1), 10));
        assertFalse(otherLog.continuous());
        assertEquals(3, otherLog.events().size(), "what the log holds, oldest first");
        assertFalse(result(backend.broker().read(a, new EventOffset(epoch, 4), 10)).continuous());
        assertTrue(result(backend.broker().read(a, new EventOffset(epoch, 0), 10)).continuous(), "0 is before the first event");
    }

    @Test
    void theLogKeepsItsNewestEventsOnly() {
        AuctionId a = auction();
        int size = EventLogSettings.DEFAULT.size();
        List<ViewerEvent> published = publishBids(a, size + 5);
        LogRead fromTheStart = result(backend.broker().read(a, published.get(0).offset(), 10));
        assertFalse(fromTheStart.continuous(), "the events after the first are no longer all there");
        LogRead fromTheOldestKept = result(backend.broker().read(a, published.get(4).offset(), 100_000));
        assertTrue(fromTheOldestKept.continuous());
        assertEquals(size, fromTheOldestKept.events().size());
        assertEquals(published.get(size + 4).offset(), fromTheOldestKept.events().get(size - 1).offset());
    }

    private Recorder subscribe(AuctionId auction) {
        Recorder recorder = new Recorder();
        recorder.subscription = result(backend.broker().subscribe(auction, recorder));
        return recorder;
    }

    private static final class Recorder implements EventBroker.AuctionListener {
        final List<ViewerEvent> events = new CopyOnWriteArrayList<>();
        final List<ViewerCount> counts = new CopyOnWriteArrayList<>();
        EventBroker.Subscription subscription;

        @Override
        public void onEvent(ViewerEvent event) {
            events.add(event);
        }

        @Override
        public void onCount(ViewerCount count) {
            counts.add(count);
        }

        @Override
        public void onResubscribed() {
        }
    }
}
