package dev.gavel.testkit;

import dev.gavel.core.AuctionId;
import dev.gavel.core.Backend;
import dev.gavel.core.CountBy;
import dev.gavel.core.EventBroker;
import dev.gavel.core.EventLogSettings;
import dev.gavel.core.EventOffset;
import dev.gavel.core.LogRead;
import dev.gavel.core.PresenceStore;
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

    /** This test's node ids: the backend may be shared with other tests (one Redis), its nodes are not. */
    private final String nodes = UUID.randomUUID().toString().substring(0, 8);
    private final List<Backend> byPerson = new CopyOnWriteArrayList<>();

    /** Creates the backend under test, connected and ready, counting connections or persons. */
    protected abstract Backend createBackend(Vertx vertx, Clock clock, long leaseMillis, CountBy countBy);

    @BeforeEach
    void createBackend() {
        vertx = Vertx.vertx();
        backend = createBackend(vertx, clock, LEASE_MILLIS, CountBy.CONNECTION);
    }

    @AfterEach
    void closeEngine() throws Exception {
        for (Backend other : byPerson) {
            other.close().await(10, TimeUnit.SECONDS);
        }
        backend.close().await(10, TimeUnit.SECONDS);
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private String node(String name) {
        return name + "-" + nodes;
    }

    /** A second backend on the same store, counting persons. */
    private Backend personBackend() {
        Backend persons = createBackend(vertx, clock, LEASE_MILLIS, CountBy.PERSON);
        byPerson.add(persons);
        return persons;
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

    /** A report of a node that heartbeats first (as a replica does before it writes). */
    private ViewerCount report(String node, AuctionId auction, long viewers) {
        result(backend.presence().heartbeat(node));
        return result(backend.presence().report(node, Map.of(auction, new LocalCount(viewers, 0)))).get(auction);
    }

    private Map<AuctionId, ViewerCount> report(String node, Map<AuctionId, LocalCount> shares) {
        result(backend.presence().heartbeat(node));
        return result(backend.presence().report(node, shares));
    }

    private ViewerCount read(AuctionId auction) {
        return result(backend.presence().read(auction));
    }

    private static void assertCount(long current, long peak, ViewerCount count) {
        assertCount(current, peak, count, "");
    }

    private static void assertCount(long current, long peak, ViewerCount count, String why) {
        assertEquals(current, count.current(), "current of " + count + " " + why);
        assertEquals(peak, count.peak(), "peak of " + count + " " + why);
    }

    /**
     * Whether two backends made by {@link #createBackend} share their store, as replicas on one Redis do; the in-memory
     * backend is one replica, with nobody else to ask.
     */
    protected boolean backendsAreReplicasOfOneStore() {
        return true;
    }

    @Test
    void theReplicasOfAnAuctionAreThoseWhoseEntryIsAlive() {
        AuctionId a = auction();
        assertEquals(Map.of(), result(backend.presence().replicas(a)));
        report("n1", a, 2);
        report("n2", a, 3);
        assertEquals(Map.of("n1", 2L, "n2", 3L), result(backend.presence().replicas(a)));
        report("n1", a, 0);
        assertEquals(Map.of("n2", 3L), result(backend.presence().replicas(a)));
        clock.advance(Duration.ofMillis(LEASE_MILLIS + 1));
        assertEquals(Map.of(), result(backend.presence().replicas(a)), "n2's lease ran out");
    }

    @Test
    void aReplicaAnswersWhatItIsAskedAndOneThatDoesNotIsLeftOut() throws Exception {
        Backend other = createBackend(vertx, clock, LEASE_MILLIS, CountBy.CONNECTION);
        try {
            String asker = "ask-" + UUID.randomUUID();
            String answerer = "answer-" + UUID.randomUUID();
            result(backend.queries().answer(asker, question -> Future.failedFuture("not asked")));
            result(other.queries().answer(answerer, question -> Future.succeededFuture(answerer + " heard " + question)));
            Map<String, String> answers = result(backend.queries().ask(java.util.Set.of(answerer, "gone"), "who is there", 1000));
            if (backendsAreReplicasOfOneStore()) {
                assertEquals(Map.of(answerer, answerer + " heard who is there"), answers);
            } else {
                assertEquals(Map.of(), answers, "nobody else to ask");
            }
            assertEquals(Map.of(), result(backend.queries().ask(java.util.Set.of(), "anyone?", 1000)));
        } finally {
            other.close().await(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void anAuctionNeverSeenCountsZero() {
        assertCount(0, 0, read(auction()));
    }

    @Test
    void entriesOfAllNodesAreSummed() {
        AuctionId a = auction();
        assertCount(2, 2, report(node("n1"), a, 2));
        assertCount(5, 5, report(node("n2"), a, 3));
        assertCount(5, 5, read(a));
    }

    @Test
    void aNodeReportingAgainReplacesItsEntry() {
        AuctionId a = auction();
        report(node("n1"), a, 2);
        assertCount(4, 4, report(node("n1"), a, 4));
        assertCount(1, 4, report(node("n1"), a, 1));
    }

    @Test
    void zeroRemovesTheEntryAndThePeakHolds() {
        AuctionId a = auction();
        report(node("n1"), a, 2);
        report(node("n2"), a, 1);
        assertCount(1, 3, report(node("n1"), a, 0));
        assertCount(0, 3, report(node("n2"), a, 0));
        assertCount(0, 3, read(a));
    }

    @Test
    void aPeakAReplicaKnowsRaisesThePeakAndNotTheCurrent() {
        AuctionId a = auction();
        ViewerCount count = report(node("n1"), Map.of(a, new LocalCount(3, 20))).get(a);
        assertCount(3, 20, count);
        assertCount(3, 20, read(a));
        assertCount(4, 20, report(node("n2"), a, 1));
    }

    @Test
    void auctionsCountIndependently() {
        AuctionId a = auction();
        AuctionId b = auction();
        Map<AuctionId, ViewerCount> counts = report(node("n1"), Map.of(a, new LocalCount(3, 0), b, new LocalCount(7, 0)));
        assertCount(3, 3, counts.get(a));
        assertCount(7, 7, counts.get(b));
        report(node("n2"), a, 1);
        assertCount(7, 7, read(b));
    }

    @Test
    void anEntryCountsWhileItsNodeHeartbeatsAndStopsWithinTheLeaseAfter() {
        AuctionId a = auction();
        report(node("alive"), a, 3);
        report(node("dead"), a, 2);
        clock.advance(Duration.ofMillis(LEASE_MILLIS - 1));
        assertFalse(result(backend.presence().heartbeat(node("alive"))), "alive all along");
        assertCount(5, 5, read(a));
        clock.advance(Duration.ofMillis(2));
        assertCount(3, 5, read(a));
        clock.advance(Duration.ofMillis(LEASE_MILLIS - 10));
        assertCount(3, 5, read(a), "a heartbeat, not a report, kept it counted");
    }

    @Test
    void aReportOfANodeFoundDeadIsRefusedAndItsNextHeartbeatSaysSo() {
        AuctionId a = auction();
        AuctionId b = auction();
        report(node("n1"), Map.of(a, new LocalCount(2, 0), b, new LocalCount(3, 0)));
        clock.advance(Duration.ofMillis(LEASE_MILLIS + 1));
        assertCount(0, 2, read(a));
        Future<Map<AuctionId, ViewerCount>> refused = backend.presence().report(node("n1"), Map.of(a, new LocalCount(4, 0)));
        Exception failure = assertThrows(Exception.class, () -> refused.await(10, TimeUnit.SECONDS));
        assertTrue(failure instanceof PresenceStore.NotAliveException, failure.toString());
        assertCount(0, 2, read(a));
        assertTrue(result(backend.presence().heartbeat(node("n1"))), "found dead: it writes everything again");
        assertFalse(result(backend.presence().heartbeat(node("n1"))));
        report(node("n1"), Map.of(a, new LocalCount(2, 0), b, new LocalCount(3, 0)));
        assertCount(2, 2, read(a));
        assertCount(3, 3, read(b));
    }

    @Test
    void aNodesFirstHeartbeatSaysItHadNothingThere() {
        assertTrue(result(backend.presence().heartbeat(node("new"))));
        assertFalse(result(backend.presence().heartbeat(node("new"))));
    }

    @Test
    void removingANodeRemovesAllItsEntries() {
        AuctionId a = auction();
        AuctionId b = auction();
        report(node("leaving"), Map.of(a, new LocalCount(2, 0), b, new LocalCount(4, 0)));
        report(node("staying"), a, 1);
        result(backend.presence().removeNode(node("leaving")));
        assertCount(1, 3, read(a));
        assertCount(0, 4, read(b));
    }

    @Test
    void aNegativeCountIsRefusedAndNothingIsWritten() {
        AuctionId a = auction();
        AuctionId b = auction();
        report(node("n1"), a, 2);
        Future<Map<AuctionId, ViewerCount>> bad = backend.presence().report(node("n1"), Map.of(a, new LocalCount(5, 0), b, new LocalCount(-1, 0)));
        assertThrows(Exception.class, () -> bad.await(10, TimeUnit.SECONDS));
        assertCount(2, 2, read(a));
        assertCount(0, 0, read(b));
    }

    @Test
    void changesAreAnnouncedInOrderWithGrowingVersions() {
        AuctionId a = auction();
        Recorder recorder = subscribe(a);
        report(node("n1"), a, 1);
        report(node("n2"), a, 2);
        report(node("n1"), a, 0);
        await().atMost(TestViewer.PATIENCE).until(() -> recorder.counts.size() >= 3);
        List<ViewerCount> counts = recorder.counts;
        assertEquals(List.of(1L, 3L, 2L), counts.stream().map(ViewerCount::current).toList().subList(counts.size() - 3, counts.size()));
        for (int i = 1; i < counts.size(); i++) {
            assertTrue(counts.get(i).isNewerThan(counts.get(i - 1)), "versions grow: " + counts);
        }
        assertEquals(3, counts.get(counts.size() - 1).peak());
    }

    /**
     * Nobody writes the auction: the heartbeat of a survivor finds the dead node and removes its entries, and the
     * corrected count reaches the auction's subscribers (the viewers on other replicas).
     */
    @Test
    void aSurvivorsHeartbeatRemovesADeadNodesEntriesAndTheCorrectedCountIsAnnounced() {
        AuctionId a = auction();
        AuctionId b = auction();
        report(node("alive"), a, 1);
        report(node("dead"), Map.of(a, new LocalCount(4, 0), b, new LocalCount(2, 0)));
        Recorder onA = subscribe(a);
        Recorder onB = subscribe(b);
        clock.advance(Duration.ofMillis(LEASE_MILLIS + 1));
        result(backend.presence().heartbeat(node("alive")));
        await().atMost(TestViewer.PATIENCE).until(() -> !onA.counts.isEmpty()
                && onA.counts.get(onA.counts.size() - 1).current() == 1);
        await().atMost(TestViewer.PATIENCE).until(() -> !onB.counts.isEmpty()
                && onB.counts.get(onB.counts.size() - 1).current() == 0);
        assertCount(1, 5, read(a));
        assertCount(0, 2, read(b));
    }

    // Persons (COUNT_BY=person; connections and people are kept whatever it says)

    private static LocalCount share(long connections, long anonymous, Map<String, Boolean> persons, boolean complete) {
        return new LocalCount(connections, anonymous, persons, complete, 0);
    }

    private PresenceStore.Reading reading(Backend on, AuctionId auction) {
        return result(on.presence().read(auction, node("reader"), new LocalCount(0, 0)));
    }

    private ViewerCount report(Backend on, String node, AuctionId auction, LocalCount share) {
        result(on.presence().heartbeat(node));
        return result(on.presence().report(node, Map.of(auction, share))).get(auction);
    }

    @Test
    void onePersonInFiveTabsOnThreeNodesCountsOnceAndNoneWhenTheLastTabCloses() {
        Backend persons = personBackend();
        AuctionId a = auction();
        assertCount(1, 1, report(persons, node("n1"), a, share(2, 0, Map.of("u:ann", true), false)));
        assertCount(1, 1, report(persons, node("n2"), a, share(2, 0, Map.of("u:ann", true), false)));
        assertCount(1, 1, report(persons, node("n3"), a, share(1, 0, Map.of("u:ann", true), false)));
        PresenceStore.Reading read = reading(persons, a);
        assertEquals(5, read.connections());
        assertEquals(1, read.people());
        assertEquals(1, read.count().current());

        assertCount(1, 1, report(persons, node("n1"), a, share(0, 0, Map.of("u:ann", false), false)));
        assertCount(1, 1, report(persons, node("n2"), a, share(0, 0, Map.of(), false)));
        assertCount(0, 1, report(persons, node("n3"), a, share(0, 0, Map.of("u:ann", false), false)));
        assertEquals(0, reading(persons, a).people());
        assertEquals(0, reading(persons, a).connections());
    }

    @Test
    void anonymousConnectionsAreEachAPersonAndAPersonLeavesOnlyWhereItLeft() {
        Backend persons = personBackend();
        AuctionId a = auction();
        assertCount(4, 4, report(persons, node("n1"), a, share(5, 2, Map.of("u:ann", true, "v:bob", true), false)));
        assertCount(5, 5, report(persons, node("n2"), a, share(2, 1, Map.of("v:bob", true), false)));
        assertCount(5, 5, report(persons, node("n1"), a, share(4, 2, Map.of("v:bob", false), false)));
        assertCount(4, 5, report(persons, node("n2"), a, share(1, 0, Map.of("v:bob", true), false)));
        PresenceStore.Reading read = reading(persons, a);
        assertEquals(5, read.connections());
        assertEquals(4, read.people(), "ann, bob, two anonymous");
    }

    @Test
    void aCompleteShareReplacesTheNodesPersonsAndReportingIsIdempotent() {
        Backend persons = personBackend();
        AuctionId a = auction();
        report(persons, node("n1"), a, share(3, 0, Map.of("u:a", true, "u:b", true, "u:c", true), true));
        report(persons, node("n1"), a, share(3, 0, Map.of("u:a", true, "u:b", true, "u:c", true), false));
        assertCount(3, 3, report(persons, node("n2"), a, share(1, 0, Map.of("u:c", true), false)));
        assertCount(2, 3, report(persons, node("n1"), a, share(2, 0, Map.of("u:b", false), false)));
        assertCount(2, 3, report(persons, node("n1"), a, share(2, 0, Map.of("u:b", false), false)));
        assertCount(2, 3, report(persons, node("n1"), a, share(2, 0, Map.of("u:d", true), true)));
        assertEquals(2, reading(persons, a).people(), "n1 holds d only, n2 holds c");
    }

    @Test
    void aDeadNodesPersonsStopCountingUnlessAnotherNodeHoldsThem() {
        Backend persons = personBackend();
        AuctionId a = auction();
        report(persons, node("alive"), a, share(1, 0, Map.of("u:ann", true), false));
        assertCount(3, 3, report(persons, node("dead"), a, share(4, 1, Map.of("u:ann", true, "u:bob", true), false)));
        Recorder recorder = subscribe(persons, a);
        clock.advance(Duration.ofMillis(LEASE_MILLIS - 1));
        result(persons.presence().heartbeat(node("alive")));
        clock.advance(Duration.ofMillis(2));
        PresenceStore.Reading exact = reading(persons, a);
        assertEquals(1, exact.people(), "a read without any heartbeat is exact already");
        assertEquals(1, exact.connections());
        result(persons.presence().heartbeat(node("alive")));
        await().atMost(TestViewer.PATIENCE).until(() -> !recorder.counts.isEmpty()
                && recorder.counts.get(recorder.counts.size() - 1).current() == 1);
        assertCount(1, 3, result(persons.presence().read(a)));
        assertCount(1, 3, report(persons, node("alive"), a, share(1, 0, Map.of(), false)));
    }

    @Test
    void countingConnectionsStillKeepsThePeople() {
        AuctionId a = auction();
        report(node("n1"), Map.of(a, share(3, 1, Map.of("u:ann", true), false)));
        assertCount(5, 5, report(node("n2"), Map.of(a, share(2, 0, Map.of("u:ann", true), false))).get(a));
        PresenceStore.Reading read = reading(backend, a);
        assertEquals(5, read.connections());
        assertEquals(2, read.people(), "ann and one anonymous");
        PresenceStore.Reading mine = result(backend.presence().read(a, node("n1"), share(4, 2, Map.of(), false)));
        assertEquals(6, mine.connections(), "n1's own connections as it holds them now");
        assertEquals(3, mine.people(), "and its own anonymous ones");
        assertEquals(6, mine.count().current());
    }

    @Test
    void aPersonsPeakIsRaisedToPersonsNotTabs() {
        Backend persons = personBackend();
        AuctionId a = auction();
        report(persons, node("n1"), a, share(10, 0, Map.of("u:ann", true), false));
        report(persons, node("n2"), a, share(10, 0, Map.of("u:ann", true, "u:bob", true), false));
        assertCount(2, 2, result(persons.presence().read(a)));
        assertEquals(20, reading(persons, a).connections());
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
        return subscribe(backend, auction);
    }

    private Recorder subscribe(Backend on, AuctionId auction) {
        Recorder recorder = new Recorder();
        recorder.subscription = result(on.broker().subscribe(auction, recorder));
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
