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

    @Test
    void aSampleIsTheCurrentCountOfAllReplicas() {
        report("a", lot, 2);
        report("b", lot, 3);
        long start = Math.floorDiv(now(), INTERVAL) * INTERVAL;
        result(backend.stats().sample(List.of(lot), start + 10));
        assertEquals(List.of(new HistorySample(start, 5)), result(backend.stats().history(lot, Long.MIN_VALUE, Long.MAX_VALUE)));
    }

    @Test
    void theFirstSampleOfAnIntervalWinsWhoeverOffersTheOthers() {
        long start = Math.floorDiv(now(), INTERVAL) * INTERVAL;
        report("a", lot, 1);
        result(backend.stats().sample(List.of(lot), start + 100));
        report("b", lot, 4);
        result(backend.stats().sample(List.of(lot), start + 900));
        result(backend.stats().sample(List.of(lot), start + INTERVAL - 1));
        result(backend.stats().sample(List.of(lot), start + INTERVAL));
        result(backend.stats().sample(List.of(lot), start + 500));

        assertEquals(List.of(new HistorySample(start, 1), new HistorySample(start + INTERVAL, 5)),
                result(backend.stats().history(lot, Long.MIN_VALUE, Long.MAX_VALUE)));
    }

    @Test
    void historyIsOldestFirstNarrowedByFromAndToAndTrimmedToTheRetention() {
        report("a", lot, 1);
        long start = Math.floorDiv(now(), INTERVAL) * INTERVAL;
        for (int i = 0; i <= 15; i++) {
            result(backend.stats().sample(List.of(lot), start + i * INTERVAL));
        }
        List<HistorySample> all = result(backend.stats().history(lot, Long.MIN_VALUE, Long.MAX_VALUE));
        assertEquals(11, all.size(), all.toString());
        assertEquals(start + 5 * INTERVAL, all.get(0).timestampMillis());
        assertEquals(start + 15 * INTERVAL, all.get(10).timestampMillis());
        assertEquals(List.of(new HistorySample(start + 7 * INTERVAL, 1), new HistorySample(start + 8 * INTERVAL, 1)),
                result(backend.stats().history(lot, start + 7 * INTERVAL, start + 8 * INTERVAL)));
        assertEquals(List.of(), result(backend.stats().history(lot, start + 8 * INTERVAL, start + 7 * INTERVAL)));
        assertEquals(List.of(), result(backend.stats().history(other, Long.MIN_VALUE, Long.MAX_VALUE)));
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
    void anAuctionIsWatchedForThreeIntervalsAfterItsLastMark() {
        long t = now();
        result(backend.stats().addViewers(Map.of(lot, Set.of("alice")), t));
        report("a", other, 1);
        result(backend.stats().sample(List.of(other), t + 2 * INTERVAL));

        assertTrue(result(backend.stats().activeAuctions(t + 3 * INTERVAL - 1)).containsAll(Set.of(lot, other)));
        Set<AuctionId> later = result(backend.stats().activeAuctions(t + 3 * INTERVAL));
        assertTrue(later.contains(other) && !later.contains(lot), later.toString());
        Set<AuctionId> muchLater = result(backend.stats().activeAuctions(t + 5 * INTERVAL));
        assertTrue(!muchLater.contains(other) && !muchLater.contains(lot), muchLater.toString());
    }
}
