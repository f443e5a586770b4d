package dev.gavel.testkit;

import dev.gavel.core.AuctionId;
import dev.gavel.core.Backend;
import dev.gavel.core.HistorySample;
import dev.gavel.core.PresenceStore;
import dev.gavel.core.testing.ManualTime;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every backend's {@link dev.gavel.core.ViewerStats} must do, written once: each backend's test extends it.
 * Times are passed explicitly, so nothing here waits.
 */
public abstract class ViewerStatsContract {

    protected static final long INTERVAL = 1000;
    protected static final long RETENTION = 10_000;
    private static final long LEASE = 60_000;

    private Vertx vertx;
    private Backend backend;
    private final ManualTime clock = new ManualTime();
    private AuctionId lot;
    private AuctionId other;

    /** A backend on a fresh or emptied backend, with these stats settings. */
    protected abstract Backend createBackend(Vertx vertx, Clock clock, long leaseMillis, long intervalMillis, long retentionMillis);

    @BeforeEach
    void createBackend() {
        vertx = Vertx.vertx();
        backend = createBackend(vertx, clock, LEASE, INTERVAL, RETENTION);
        String run = UUID.randomUUID().toString().substring(0, 8);
        lot = AuctionId.of("lot-" + run);
        other = AuctionId.of("other-" + run);
    }

    @AfterEach
    void closeEngine() throws Exception {
        backend.close().await(10, TimeUnit.SECONDS);
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private static <T> T result(Future<T> future) {
        try {
            return future.await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void report(String node, AuctionId auction, long viewers) {
        result(backend.presence().heartbeat(node));
        result(backend.presence().report(node, Map.of(auction, new PresenceStore.LocalCount(viewers, 0))));
    }

    private long now() {
        return clock.millis();
    }

    private List<HistorySample> history(AuctionId auction) {
        return result(backend.stats().history(auction, Long.MIN_VALUE, Long.MAX_VALUE, now()));
    }

    /** Moves the clock to {@code millis}; nothing else happens meanwhile. */
    private void at(long millis) {
        clock.advance(millis - now());
    }

    private long intervalStart() {
        return Math.floorDiv(now(), INTERVAL) * INTERVAL;
    }

    @Test
    void aSampleIsTheCountOfAllReplicas() {
        at(intervalStart() + 10);
        report("a", lot, 2);
        report("b", lot, 3);
        assertEquals(List.of(new HistorySample(intervalStart(), 5)), history(lot));
    }

    @Test
    void aSampleIsTheHighestCountOfItsIntervalAndLaterIntervalsKeepItsLastCount() {
        long start = intervalStart();
        at(start + 100);
        report("a", lot, 1);
        report("b", lot, 4);
        at(start + 900);
        report("b", lot, 1);
        at(start + INTERVAL + 500);
        report("b", lot, 0);

        assertEquals(List.of(new HistorySample(start, 5), new HistorySample(start + INTERVAL, 2)), history(lot));
        at(start + 3 * INTERVAL);
        assertEquals(List.of(new HistorySample(start, 5), new HistorySample(start + INTERVAL, 2),
                new HistorySample(start + 2 * INTERVAL, 1), new HistorySample(start + 3 * INTERVAL, 1)), history(lot));
    }

    @Test
    void aCountThatDoesNotChangeHasOneSamplePerIntervalWithNothingWritten() {
        long start = intervalStart();
        at(start + 10);
        report("a", lot, 3);
        // nothing reports, samples or marks anything for seven intervals: the history is there all the same
        at(start + 7 * INTERVAL + 10);
        List<HistorySample> all = history(lot);
        assertEquals(8, all.size(), all.toString());
        for (int i = 0; i < 8; i++) {
            assertEquals(new HistorySample(start + i * INTERVAL, 3), all.get(i));
        }
        assertTrue(result(backend.stats().activeAuctions(now())).contains(lot));
    }

    @Test
    void samplesStopWhenTheLastViewerLeaves() {
        long start = intervalStart();
        at(start + 10);
        report("a", lot, 2);
        at(start + 2 * INTERVAL + 10);
        report("a", lot, 0);
        at(start + 6 * INTERVAL);
        assertEquals(List.of(new HistorySample(start, 2), new HistorySample(start + INTERVAL, 2), new HistorySample(start + 2 * INTERVAL, 2)),
                history(lot));
        result(backend.presence().read(lot));
        assertTrue(!result(backend.stats().activeAuctions(now())).contains(lot));
    }

    @Test
    void historyIsOldestFirstNarrowedByFromAndToAndTrimmedToTheRetention() {
        long start = intervalStart();
        at(start + 10);
        report("a", lot, 1);
        at(start + 6 * INTERVAL + 10);
        report("a", lot, 2);
        at(start + 15 * INTERVAL + 10);
        List<HistorySample> all = history(lot);
        assertEquals(11, all.size(), all.toString());
        assertEquals(new HistorySample(start + 5 * INTERVAL, 1), all.get(0));
        assertEquals(new HistorySample(start + 6 * INTERVAL, 2), all.get(1));
        assertEquals(new HistorySample(start + 15 * INTERVAL, 2), all.get(10));
        assertEquals(List.of(new HistorySample(start + 7 * INTERVAL, 2), new HistorySample(start + 8 * INTERVAL, 2)),
                result(backend.stats().history(lot, start + 7 * INTERVAL, start + 8 * INTERVAL, now())));
        assertEquals(List.of(), result(backend.stats().history(lot, start + 8 * INTERVAL, start + 7 * INTERVAL, now())));
        assertEquals(List.of(), history(other));

        // a change long after: the steps before the retention are gone, but for the one the window starts from
        at(start + 30 * INTERVAL + 10);
        report("a", lot, 3);
        all = history(lot);
        assertEquals(11, all.size(), all.toString());
        assertEquals(new HistorySample(start + 20 * INTERVAL, 2), all.get(0));
        assertEquals(new HistorySample(start + 30 * INTERVAL, 3), all.get(10));
    }

    @Test
    void aViewerIdCountsOnceHoweverOftenAndByWhicheverReplicaItIsAdded() {
        result(backend.stats().addViewers(Map.of(lot, Set.of("alice", "bob")), now()));
        result(backend.stats().addViewers(Map.of(lot, Set.of("alice", "carol"), other, Set.of("alice")), now()));
        result(backend.stats().addViewers(Map.of(lot, Set.of("bob")), now()));
        assertEquals(3, result(backend.stats().uniqueViewers(lot)));
        assertEquals(1, result(backend.stats().uniqueViewers(other)));
        assertEquals(0, result(backend.stats().uniqueViewers(AuctionId.of("never-" + lot.value()))));
    }

    @Test
    void manyViewerIdsAreEstimatedWithinTheStatedError() {
        int distinct = 20_000;
        for (int batch = 0; batch < 20; batch++) {
            Set<String> ids = new java.util.HashSet<>();
            for (int i = batch * 1000; i < (batch + 1) * 1000; i++) {
                ids.add("viewer-" + i);
            }
            result(backend.stats().addViewers(Map.of(lot, ids), now()));
        }
        long estimate = result(backend.stats().uniqueViewers(lot));
        assertTrue(Math.abs(estimate - distinct) < distinct * 4 * 0.0081, "estimate " + estimate);
    }

    @Test
    void anAuctionIsActiveWhileAReplicaHoldsViewersInIt() {
        report("a", lot, 1);
        report("b", other, 2);
        assertTrue(result(backend.stats().activeAuctions(now())).containsAll(Set.of(lot, other)));
        report("b", other, 0);
        result(backend.presence().read(other));
        Set<AuctionId> later = result(backend.stats().activeAuctions(now()));
        assertTrue(later.contains(lot) && !later.contains(other), later.toString());
    }
}
