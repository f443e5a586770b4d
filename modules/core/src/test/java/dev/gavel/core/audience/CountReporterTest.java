package dev.gavel.core.audience;

import dev.gavel.core.AuctionId;
import dev.gavel.core.AuctionRegistry;
import dev.gavel.core.Backend;
import dev.gavel.core.EventBroker;
import dev.gavel.core.PresenceStore;
import dev.gavel.core.ViewerCount;
import dev.gavel.core.ViewerStats;
import dev.gavel.core.memory.InMemoryBackend;
import dev.gavel.core.testing.ManualTime;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static dev.gavel.core.audience.OnContexts.get;
import static dev.gavel.core.audience.OnContexts.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reporter wired as {@link Audience} wires it, without the rest: two loops' rooms on one Vert.x context, the
 * auctions' feeds, and the in-memory backend, with a manual clock and timers. Everything runs on that context (the
 * broker delivers there), and time moves only when the test says so.
 */
class CountReporterTest {

    private static final AuctionId A = AuctionId.of("a");
    private static final AuctionId B = AuctionId.of("b");
    private static final AudienceSettings SETTINGS = new AudienceSettings(10_000, 6000, 2000, 50, 200, 1000);
    private static final String REFUSED = "store refuses writes";

    private final ManualTime timers = new ManualTime();
    private final RecordingMetrics metrics = new RecordingMetrics();
    /** Every batch this replica wrote, or tried to. */
    private final List<Map<AuctionId, PresenceStore.LocalCount>> reports = new CopyOnWriteArrayList<>();
    /** Every heartbeat this replica sent, by when. */
    private final List<Long> heartbeats = new CopyOnWriteArrayList<>();
    /** When true, this replica's writes are refused, as a Redis with its memory full refuses them. */
    private volatile boolean refusing;
    /** Auctions whose key is broken (a string where the hash should be): left out of every answer, as Redis's store does. */
    private final java.util.Set<AuctionId> broken = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** While set, a report waits for it before it is written (a slow store). */
    private volatile io.vertx.core.Promise<Void> stall;
    private Vertx vertx;
    private Context context;
    private OnContexts contexts;
    private InMemoryBackend backend;
    private AuctionFeeds feeds;
    private CountReporter reporter;
    private LocalRooms loop0;
    private LocalRooms loop1;
    private int viewers;

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        context = vertx.getOrCreateContext();
        contexts = new OnContexts(context);
        backend = new InMemoryBackend(vertx, timers, 6000);
        feeds = new AuctionFeeds(context, backend.broker(), SETTINGS, timers, timers, metrics,
                now -> reporter.countsHeldFor(now), auction -> reporter.localViewers(auction),
                auction -> backend.presence().read(auction));
        reporter = new CountReporter(new Refusing(backend), "node-1", SETTINGS, timers, timers, feeds);
        loop0 = new LocalRooms(context, (deltas, persons, ids) -> reporter.changed(deltas, persons, ids), metrics, feeds);
        loop1 = new LocalRooms(context, (deltas, persons, ids) -> reporter.changed(deltas, persons, ids), metrics, feeds);
        await(get(context, reporter::start));
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    @Test
    void twoLoopsAreReportedAsOneEntryOfTheirSum() throws Exception {
        List<RecordingViewer> all = new ArrayList<>(join(loop0, A, 3));
        all.addAll(join(loop1, A, 2));
        flushAndDeliver();

        assertEquals(List.of(Map.of(A, new PresenceStore.LocalCount(5, 0))), reports, "one entry, once");
        assertEquals(5, backend.presence().read(A).await(1, TimeUnit.SECONDS).current());
        assertEquals(Map.of(A, 5), get(context, reporter::localRooms));
        assertEquals(1, reporter.auctionsWithViewers());
        for (RecordingViewer viewer : all) {
            assertEquals(List.of("5/5"), viewer.counts(), viewer.name);
        }
        // the unique viewers went to the stats in one batch a flush interval after they joined
        assertEquals(5, backend.stats().uniqueViewers(A).await(1, TimeUnit.SECONDS));
    }

    /**
     * Counts go out through the auction's feed, to every loop with viewers of it, at most once per broadcast interval:
     * what arrived meanwhile is folded into one broadcast of the latest.
     */
    @Test
    void countsAreCoalescedPerBroadcastIntervalThroughTheFeeds() {
        RecordingViewer first = join(loop0, A, 1).get(0);
        RecordingViewer second = join(loop1, A, 1).get(0);
        RecordingViewer elsewhere = join(loop1, B, 1).get(0);
        flushAndDeliver();
        assertEquals(List.of("2/2"), first.counts());
        assertEquals(List.of("2/2"), second.counts());
        assertEquals(2, metrics.broadcasts.get(), "a and b, once each");

        // loop 1's viewer of a leaves, then three more join on loop 0, over two flushes: one broadcast, the latest
        leave(loop1, A, second);
        flushAndDeliver();
        List<RecordingViewer> joiners = join(loop0, A, 3);
        flushAndDeliver();
        assertEquals(List.of("2/2"), first.counts(), "nothing before the broadcast interval is over");
        for (RecordingViewer joiner : joiners) {
            assertEquals(List.of("2/2"), joiner.counts(), "the count the others were shown, at once");
        }

        run(context, () -> timers.advance(Duration.ofMillis(200)));
        contexts.drain();
        assertEquals(List.of("2/2", "4/4"), first.counts());
        for (RecordingViewer joiner : joiners) {
            assertEquals(List.of("2/2", "4/4"), joiner.counts());
        }
        assertEquals(List.of("2/2"), second.counts(), "it left");
        assertEquals(List.of("1/1"), elsewhere.counts(), "another auction's count");
        assertEquals(3, metrics.broadcasts.get(), "one more broadcast, however many counts and loops");
    }

    @Test
    void anAuctionWithoutViewersIsWrittenAsZeroThenForgotten() throws Exception {
        List<RecordingViewer> onLoop0 = join(loop0, A, 2);
        RecordingViewer onLoop1 = join(loop1, A, 1).get(0);
        RecordingViewer ofB = join(loop1, B, 1).get(0);
        flushAndDeliver();
        assertEquals(2, reporter.auctionsWithViewers());

        onLoop0.forEach(viewer -> leave(loop0, A, viewer));
        assertEquals(2, reporter.auctionsWithViewers(), "a viewer of a is left on loop 1");
        leave(loop1, A, onLoop1);
        leave(loop1, B, ofB);
        assertEquals(0, reporter.auctionsWithViewers());
        reports.clear();
        flushAndDeliver();

        assertEquals(List.of(Map.of(A, new PresenceStore.LocalCount(0, 0), B, new PresenceStore.LocalCount(0, 0))), reports);
        assertEquals(0, backend.presence().read(A).await(1, TimeUnit.SECONDS).current());
        assertEquals(3, backend.presence().read(A).await(1, TimeUnit.SECONDS).peak());
        assertEquals(Map.of(), get(context, reporter::localRooms));
        assertNull(feeds.known(A), "the feed ended with its last viewer");

        // forgotten: the next heartbeats write nothing
        for (int i = 0; i < 3; i++) {
            run(context, () -> timers.advance(Duration.ofMillis(SETTINGS.heartbeatMillis())));
            contexts.drain();
        }
        assertEquals(1, reports.size(), reports::toString);
    }

    @Test
    void heartbeatsKeepTheEntryAliveAndAHaltedReplicaLapses() throws Exception {
        join(loop0, A, 4);
        flushAndDeliver();

        // ten heartbeats later the lease (6 s) would long have run out without them
        for (int i = 0; i < 10; i++) {
            long before = reporter.lastGoodHeartbeatMillis();
            run(context, () -> timers.advance(Duration.ofMillis(2000)));
            contexts.drain();
            assertTrue(reporter.lastGoodHeartbeatMillis() > before);
            assertTrue(timers.millis() - reporter.lastGoodHeartbeatMillis() < SETTINGS.heartbeatMillis());
        }
        assertEquals(4, backend.presence().read(A).await(1, TimeUnit.SECONDS).current());
        assertNull(reporter.storeFailure());

        reporter.halt();
        long lastHeartbeat = reporter.lastGoodHeartbeatMillis();
        int written = reports.size();
        run(context, () -> timers.advance(Duration.ofMillis(7000)));
        contexts.drain();
        assertEquals(0, backend.presence().read(A).await(1, TimeUnit.SECONDS).current());
        assertEquals(lastHeartbeat, reporter.lastGoodHeartbeatMillis());
        assertEquals(written, reports.size(), "a halted replica writes nothing");
    }

    @Test
    void whileWritesAreRefusedViewersKeepTheLastGoodCountAndTheReplicaSaysSo() throws Exception {
        List<RecordingViewer> three = join(loop0, A, 3);
        flushAndDeliver();
        RecordingViewer stays = three.get(0);
        assertEquals(List.of("3/3"), stays.counts());
        assertNull(reporter.storeFailure());
        long goodHeartbeat = reporter.lastGoodHeartbeatMillis();

        refusing = true;
        leave(loop0, A, three.get(1));
        leave(loop0, A, three.get(2));
        flushAndDeliver();
        assertEquals(REFUSED, reporter.storeFailure());
        assertEquals(SETTINGS.flushMillis(), reporter.countsHeldFor(timers.millis()));
        // Another replica's count arrives meanwhile (a sum with this replica's old share): taken in, not shown.
        backend.presence().heartbeat("node-2").await(1, TimeUnit.SECONDS);
        backend.presence().report("node-2", Map.of(A, new PresenceStore.LocalCount(2, 0))).await(1, TimeUnit.SECONDS);
        run(context, () -> timers.advance(Duration.ofMillis(2000)));
        contexts.drain();
        assertEquals(5, feeds.known(A).current());
        assertEquals(List.of("3/3"), stays.counts());
        assertEquals(goodHeartbeat, reporter.lastGoodHeartbeatMillis(), "no heartbeat got through");
        RecordingViewer joiner = join(loop0, A, 1).get(0);
        assertEquals(List.of("3/3"), joiner.counts(), "a viewer joining now is shown what the others see");

        refusing = false;
        flushAndDeliver();
        assertNull(reporter.storeFailure());
        assertEquals(4, backend.presence().read(A).await(1, TimeUnit.SECONDS).current());
        assertTrue(reporter.lastGoodHeartbeatMillis() > goodHeartbeat);
        run(context, () -> timers.advance(Duration.ofMillis(SETTINGS.heartbeatMillis() - 50)));
        contexts.drain();
        assertEquals(List.of("3/3"), stays.counts(), "held for a heartbeat while the replicas write again");
        run(context, () -> timers.advance(Duration.ofMillis(50)));
        contexts.drain();
        assertEquals(List.of("3/3", "4/5"), stays.counts());
        assertEquals(List.of("3/3", "4/5"), joiner.counts());
    }

    /**
     * The store came back after it was lost: every entry is written again at the next flush, and for a heartbeat
     * interval counts are only taken in, so that viewers never see a sum of the entries written again so far.
     */
    @Test
    void afterTheStoreCameBackEveryEntryIsWrittenAgainAndCountsAreHeldForAHeartbeat() throws Exception {
        RecordingViewer viewer = join(loop0, A, 3).get(0);
        join(loop1, B, 1);
        flushAndDeliver();
        assertEquals(List.of("3/3"), viewer.counts());
        flushAndDeliver();
        reports.clear();

        run(context, reporter::rewriteAll);
        contexts.drain();
        assertEquals(List.of(Map.of(A, new PresenceStore.LocalCount(3, 3), B, new PresenceStore.LocalCount(1, 1))), reports,
                "every entry, changed or not");
        assertEquals(SETTINGS.heartbeatMillis(), reporter.countsHeldFor(timers.millis()));

        backend.presence().heartbeat("node-2").await(1, TimeUnit.SECONDS);
        backend.presence().report("node-2", Map.of(A, new PresenceStore.LocalCount(2, 0))).await(1, TimeUnit.SECONDS);
        run(context, () -> timers.advance(Duration.ofMillis(SETTINGS.heartbeatMillis() - 1)));
        contexts.drain();
        assertEquals(List.of("3/3"), viewer.counts(), "taken in, not shown yet");
        assertEquals(5, feeds.known(A).current());
        run(context, () -> timers.advance(Duration.ofMillis(1)));
        contexts.drain();
        assertEquals(List.of("3/3", "5/5"), viewer.counts());
    }

    /**
     * Issue 18, item 6: one auction's count cannot be written (its key holds a string), the rest of the report can.
     * That auction's viewers keep their last count, the failure is counted, and the store is not failing: the other
     * auctions' viewers go on getting counts.
     */
    @Test
    void anAuctionWhoseCountCannotBeWrittenLeavesTheOthersAndTheStoreAlone() throws Exception {
        RecordingViewer ofA = join(loop0, A, 1).get(0);
        RecordingViewer ofB = join(loop1, B, 1).get(0);
        flushAndDeliver();
        assertEquals(List.of("1/1"), ofA.counts());

        broken.add(A);
        join(loop0, A, 1);
        join(loop1, B, 2);
        flushAndDeliver();
        run(context, () -> timers.advance(Duration.ofMillis(SETTINGS.broadcastMillis())));
        contexts.drain();
        assertNull(reporter.storeFailure(), "one auction's broken key is not the store failing");
        assertEquals(0, reporter.countsHeldFor(timers.millis()) > 0 ? 1 : 0, "counts are not held");
        assertEquals(List.of("1/1", "3/3"), ofB.counts(), "the other auction goes on");
        assertEquals(List.of("1/1", "2/2"), ofA.counts(), "its own viewers are shown, never fewer");
        int failures = metrics.auctionReportFailures.get();
        assertTrue(failures >= 1, "counted");
        flushAndDeliver();
        assertEquals(failures + 1, metrics.auctionReportFailures.get(), "tried again at the next flush");
        // a reconnect while the key is broken: the rewrite leaves that auction out, and the hold still ends
        run(context, reporter::rewriteAll);
        contexts.drain();
        run(context, () -> timers.advance(Duration.ofMillis(SETTINGS.heartbeatMillis() + SETTINGS.flushMillis())));
        contexts.drain();
        assertTrue(reporter.countsHeldFor(timers.millis()) <= 0, "one broken auction holds no count after a reconnect");

        broken.clear();
        flushAndDeliver();
        assertEquals(2, backend.presence().read(A).await(1, TimeUnit.SECONDS).current());
    }

    /**
     * Issue 18, item 9: the store came back empty and, before this replica's entries are written back, a count made of
     * what is there so far arrives (here 0 of 0). It is never shown: not while the rewrite is on its way, however long
     * it takes, and never below this replica's own viewers.
     */
    @Test
    void afterTheStoreCameBackCountsAreHeldUntilTheEntriesAreWrittenBackAndNeverBelowTheViewersHere() {
        RecordingViewer viewer = join(loop0, A, 3).get(0);
        flushAndDeliver();
        run(context, () -> timers.advance(Duration.ofMillis(SETTINGS.broadcastMillis())));
        contexts.drain();
        assertEquals(List.of("3/3"), viewer.counts());

        stall = io.vertx.core.Promise.promise();
        run(context, reporter::rewriteAll);
        contexts.drain();
        // an empty store's count (a read, or another replica's report before ours was written back)
        run(context, () -> feeds.count(new ViewerCount(A, 0, 0, Long.MAX_VALUE / 2)));
        // (within the lease: a replica whose writes are stuck longer than that is found dead and writes all again)
        run(context, () -> timers.advance(Duration.ofMillis(2 * SETTINGS.heartbeatMillis())));
        contexts.drain();
        assertTrue(reporter.countsHeldFor(timers.millis()) > 0, "held while the rewrite is on its way");
        assertEquals(List.of("3/3"), viewer.counts());

        stall.complete();
        stall = null;
        contexts.drain();
        run(context, () -> timers.advance(Duration.ofMillis(SETTINGS.heartbeatMillis())));
        contexts.drain();
        assertTrue(reporter.countsHeldFor(timers.millis()) <= 0);
        run(context, () -> feeds.count(new ViewerCount(A, 1, 1, Long.MAX_VALUE - 1)));
        run(context, () -> timers.advance(Duration.ofMillis(SETTINGS.broadcastMillis())));
        contexts.drain();
        assertTrue(viewer.counts().stream().allMatch(count -> count.startsWith("3/")),
                "never fewer than the 3 viewers here: " + viewer.counts());
    }

    /**
     * The store came back while a flush that heartbeats was on its way (a Redis Cluster master failed over: the
     * flush was stuck on the dead master). That older flush ends after the rewrite was asked for; the rewrite is
     * still written and the counts shown again. (RedisClusterIT: before, the old flush's heartbeat made the rewrite
     * look done to nobody, and the replica held every count from then on.)
     */
    @Test
    void aRewriteAskedForWhileAFlushIsOnItsWayIsWrittenAndCountsAreShownAgain() {
        RecordingViewer viewer = join(loop0, A, 3).get(0);
        flushAndDeliver();
        run(context, () -> timers.advance(Duration.ofMillis(SETTINGS.broadcastMillis())));
        contexts.drain();
        assertEquals(List.of("3/3"), viewer.counts());

        // a change, written with the heartbeat that is due: stuck in the store
        long due = heartbeats.get(heartbeats.size() - 1) + SETTINGS.heartbeatMillis();
        run(context, () -> timers.advance(Duration.ofMillis(due - 1 - timers.millis())));
        contexts.drain();
        join(loop0, A, 1);
        stall = io.vertx.core.Promise.promise();
        int beats = heartbeats.size();
        run(context, () -> timers.advance(Duration.ofMillis(SETTINGS.flushMillis())));
        contexts.drain();
        assertEquals(beats, heartbeats.size(), "the heartbeat waits for the report");
        int sent = reports.size();
        run(context, reporter::rewriteAll);
        contexts.drain();
        assertEquals(sent, reports.size(), "one flush at a time");

        stall.complete();
        stall = null;
        contexts.drain();
        for (int i = 0; i < 3; i++) {
            run(context, () -> timers.advance(Duration.ofMillis(SETTINGS.heartbeatMillis())));
            contexts.drain();
        }
        assertTrue(reports.size() > sent, "written again");
        assertEquals(new PresenceStore.LocalCount(4, 4), reports.get(sent).get(A), "the rewrite: every entry, complete");
        assertTrue(reporter.countsHeldFor(timers.millis()) <= 0, "counts are shown again");
        assertEquals("4/4", viewer.counts().get(viewer.counts().size() - 1), viewer.counts().toString());
    }

    @Test
    void stopRemovesTheReplicasEntries() throws Exception {
        join(loop0, A, 4);
        join(loop1, B, 1);
        flushAndDeliver();
        assertEquals(4, backend.presence().read(A).await(1, TimeUnit.SECONDS).current());

        await(get(context, reporter::stop));

        assertEquals(0, backend.presence().read(A).await(1, TimeUnit.SECONDS).current());
        assertEquals(0, backend.presence().read(B).await(1, TimeUnit.SECONDS).current());
        int written = reports.size();
        join(loop0, A, 1);
        run(context, () -> timers.advance(Duration.ofMillis(SETTINGS.heartbeatMillis())));
        contexts.drain();
        assertEquals(written, reports.size(), "a stopped reporter writes nothing more");
    }

    /**
     * A person's tabs are summed over the loops: the store hears of the person when its first tab here opens and when
     * its last closes, not of each tab; a report where the person set did not change names nobody.
     */
    @Test
    void personsAreReportedWhenTheirFirstTabArrivesAndTheirLastLeaves() {
        RecordingViewer first = joinAs(loop0, A, "u:ann");
        joinAs(loop1, A, "u:ann");
        joinAs(loop0, A, "v:bob");
        join(loop1, A, 1);
        flushAndDeliver();
        assertEquals(List.of(Map.of(A, new PresenceStore.LocalCount(4, 1, Map.of("u:ann", true, "v:bob", true), true, 0))),
                reports, "the first report of an auction lists every person here");
        PresenceStore.Reading read = await(backend.presence().read(A, "node-1", get(context, () -> reporter.localShare(A))));
        assertEquals(4, read.connections());
        assertEquals(3, read.people(), "ann's two tabs are one person");

        RecordingViewer third = joinAs(loop1, A, "u:ann");
        flushAndDeliver();
        assertEquals(new PresenceStore.LocalCount(5, 1, Map.of(), false, 4), reports.get(1).get(A), "a third tab: nobody new");

        leave(loop0, A, first);
        leave(loop1, A, third);
        flushAndDeliver();
        assertEquals(new PresenceStore.LocalCount(3, 1, Map.of(), false, 5), reports.get(2).get(A), "one of ann's tabs is left");
        assertEquals(3, await(backend.presence().read(A, "node-1", new PresenceStore.LocalCount(3, 1, Map.of(), false, 0))).people());

        run(context, () -> loop1.closeRoom(A, Viewer.NORMAL_CLOSURE, "closed"));
        contexts.drain();
        flushAndDeliver();
        assertEquals(Map.of("u:ann", false), reports.get(3).get(A).persons(), "her last tab closed: she left");
        assertEquals(1, await(backend.presence().read(A, "node-1", get(context, () -> reporter.localShare(A)))).people(), "bob");
    }

    /**
     * A survivor found this replica dead (a stall longer than the lease) and removed its entries: its next heartbeat
     * says so, and it writes every entry again, with every person it holds.
     */
    @Test
    void aReplicaFoundDeadWritesEverythingAgainWithItsPersons() {
        joinAs(loop0, A, "u:ann");
        joinAs(loop1, A, "u:ann");
        join(loop0, A, 1);
        join(loop1, B, 2);
        flushAndDeliver();
        await(backend.presence().removeNode("node-1"));
        assertEquals(0, await(backend.presence().read(A)).current());
        int written = reports.size();

        run(context, () -> timers.advance(Duration.ofMillis(SETTINGS.heartbeatMillis())));
        contexts.drain();
        flushAndDeliver();
        assertEquals(new PresenceStore.LocalCount(3, 1, Map.of("u:ann", true), true, 3),
                reports.get(reports.size() - 1).get(A), "complete: the store may have lost its persons");
        assertTrue(reports.size() > written);
        PresenceStore.Reading read = await(backend.presence().read(A, "node-0", new PresenceStore.LocalCount(0, 0)));
        assertEquals(3, read.connections());
        assertEquals(2, read.people());
        assertEquals(2, await(backend.presence().read(B)).current());
    }

    /** At rest a replica writes one heartbeat per heartbeat interval, whatever the number of its auctions. */
    @Test
    void atRestOnlyTheHeartbeatIsWrittenWhateverTheAuctions() {
        for (int i = 0; i < 50; i++) {
            join(i % 2 == 0 ? loop0 : loop1, AuctionId.of("quiet-" + i), 1);
        }
        flushAndDeliver();
        int written = reports.size();
        int beats = heartbeats.size();
        for (int i = 0; i < 10; i++) {
            run(context, () -> timers.advance(Duration.ofMillis(SETTINGS.heartbeatMillis())));
            contexts.drain();
        }
        assertEquals(written, reports.size(), "no auction is written again while nothing changes");
        assertEquals(beats + 10, heartbeats.size(), "one heartbeat per interval");
        assertEquals(1, await(backend.presence().read(AuctionId.of("quiet-7"))).current(), "and every entry still counts");
    }

    private RecordingViewer joinAs(LocalRooms loop, AuctionId auction, String personKey) {
        RecordingViewer viewer = new RecordingViewer("viewer-" + ++viewers);
        run(context, () -> assertTrue(loop.join(auction, viewer, viewer.name, personKey, null)));
        contexts.drain();
        return viewer;
    }

    private List<RecordingViewer> join(LocalRooms loop, AuctionId auction, int howMany) {
        List<RecordingViewer> joined = new ArrayList<>();
        run(context, () -> {
            for (int i = 0; i < howMany; i++) {
                RecordingViewer viewer = new RecordingViewer("viewer-" + ++viewers);
                assertTrue(loop.join(auction, viewer, viewer.name, null, null));
                joined.add(viewer);
            }
        });
        contexts.drain();
        return joined;
    }

    private void leave(LocalRooms loop, AuctionId auction, RecordingViewer viewer) {
        run(context, () -> assertTrue(loop.leave(auction, viewer)));
        contexts.drain();
    }

    /** One flush interval passes; what the broker then delivers on the context has arrived. */
    private void flushAndDeliver() {
        run(context, () -> timers.advance(Duration.ofMillis(SETTINGS.flushMillis())));
        contexts.drain();
    }

    private static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The backend with this test's switch and record in front of its store. */
    private final class Refusing implements Backend {
        private final Backend backend;
        private final PresenceStore store;

        Refusing(Backend backend) {
            this.backend = backend;
            PresenceStore real = backend.presence();
            this.store = new PresenceStore() {
                @Override
                public Future<Map<AuctionId, ViewerCount>> report(String nodeId, Map<AuctionId, LocalCount> local) {
                    reports.add(Map.copyOf(local));
                    if (refusing) {
                        return Future.failedFuture(REFUSED);
                    }
                    io.vertx.core.Promise<Void> waitFor = stall;
                    Future<Void> ready = waitFor == null ? Future.succeededFuture() : waitFor.future();
                    return ready.compose(x -> real.report(nodeId, local)).map(counts -> {
                        Map<AuctionId, ViewerCount> answered = new java.util.HashMap<>(counts);
                        answered.keySet().removeAll(broken);
                        return answered;
                    });
                }

                @Override
                public Future<ViewerCount> read(AuctionId auction) {
                    return real.read(auction);
                }

                @Override
                public Future<Reading> read(AuctionId auction, String nodeId, LocalCount local) {
                    return real.read(auction, nodeId, local);
                }

                @Override
                public dev.gavel.core.CountBy countBy() {
                    return real.countBy();
                }

                @Override
                public Future<Boolean> heartbeat(String nodeId) {
                    heartbeats.add(timers.millis());
                    if (refusing) {
                        return Future.failedFuture(REFUSED);
                    }
                    return real.heartbeat(nodeId);
                }

                @Override
                public Future<Map<String, Long>> replicas(AuctionId auction) {
                    return real.replicas(auction);
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
            return backend.broker();
        }

        @Override
        public ViewerStats stats() {
            return backend.stats();
        }

        @Override
        public AuctionRegistry auctions() {
            return backend.auctions();
        }

        @Override
        public dev.gavel.core.ReplicaQueries queries() {
            return backend.queries();
        }

        @Override
        public boolean isReady() {
            return backend.isReady();
        }

        @Override
        public void onReconnected(Runnable action) {
            backend.onReconnected(action);
        }

        @Override
        public Future<Void> close() {
            return backend.close();
        }
    }
}
