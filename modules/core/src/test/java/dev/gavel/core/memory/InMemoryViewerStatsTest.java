package dev.gavel.core.memory;

import dev.gavel.core.AuctionId;
import dev.gavel.core.EventLogSettings;
import dev.gavel.core.HistorySample;
import dev.gavel.core.PresenceStore;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The single node's stats, with a clock the test moves. */
class InMemoryViewerStatsTest {

    private static final long INTERVAL = 1000;
    private static final long RETENTION = 10_000;
    private static final AuctionId LOT = AuctionId.of("lot");
    private static final AuctionId OTHER = AuctionId.of("other");

    private final MovableClock clock = new MovableClock();
    private final InMemoryPresenceStore presence = new InMemoryPresenceStore(clock, 60_000, new InMemoryEventBroker(null, clock, EventLogSettings.DEFAULT));
    private final InMemoryViewerStats stats = new InMemoryViewerStats(INTERVAL, RETENTION);

    {
        presence.onCountChange(stats::changed);
    }

    private static <T> T result(Future<T> future) throws Exception {
        return future.await(5, TimeUnit.SECONDS);
    }

    private void viewers(AuctionId auction, long count) throws Exception {
        result(presence.heartbeat("node"));
        result(presence.report("node", Map.of(auction, new PresenceStore.LocalCount(count, 0))));
    }

    @Test
    void aSampleIsTheHighestCountOfItsIntervalAndTheIntervalsAfterKeepItsLastCount() throws Exception {
        clock.set(5_100);
        viewers(LOT, 3);
        clock.set(5_500);
        viewers(LOT, 7);
        clock.set(5_900);
        viewers(LOT, 4);
        clock.set(8_000);

        assertEquals(List.of(new HistorySample(5_000, 7), new HistorySample(6_000, 4), new HistorySample(7_000, 4),
                new HistorySample(8_000, 4)), result(stats.history(LOT, 0, Long.MAX_VALUE, 8_000)));
    }

    @Test
    void historyIsNarrowedByFromAndToAndTrimmedToTheRetention() throws Exception {
        viewers(LOT, 1);
        clock.set(15_000);
        List<HistorySample> all = result(stats.history(LOT, Long.MIN_VALUE, Long.MAX_VALUE, 15_000));
        assertEquals(5_000, all.get(0).timestampMillis());
        assertEquals(11, all.size());
        assertEquals(List.of(new HistorySample(7_000, 1), new HistorySample(8_000, 1)), result(stats.history(LOT, 7_000, 8_000, 15_000)));
        assertEquals(List.of(), result(stats.history(LOT, 8_000, 7_000, 15_000)));
        assertEquals(List.of(), result(stats.history(OTHER, 0, Long.MAX_VALUE, 15_000)));
    }

    @Test
    void uniqueViewersCountEachIdOnceAndAreKeptForTheRetention() throws Exception {
        result(stats.addViewers(Map.of(LOT, Set.of("alice", "bob")), 0));
        result(stats.addViewers(Map.of(LOT, Set.of("alice", "carol")), 100));
        result(stats.addViewers(Map.of(OTHER, Set.of("alice")), 5_000));
        assertEquals(3, result(stats.uniqueViewers(LOT)));
        assertEquals(1, result(stats.uniqueViewers(OTHER)));
        assertEquals(0, result(stats.uniqueViewers(AuctionId.of("never"))));

        result(stats.addViewers(Map.of(OTHER, Set.of("dave")), RETENTION + 101));
        assertEquals(0, result(stats.uniqueViewers(LOT)));
        assertEquals(2, result(stats.uniqueViewers(OTHER)));
    }

    @Test
    void auctionsAreActiveWhileTheyHaveViewers() throws Exception {
        result(stats.addViewers(Map.of(LOT, Set.of("alice")), 0));
        viewers(OTHER, 1);
        assertEquals(Set.of(OTHER), result(stats.activeAuctions(0)));
        viewers(OTHER, 0);
        assertEquals(Set.of(), result(stats.activeAuctions(0)));
    }

    @Test
    void aTallyOfOneViewerIsSmall() throws Exception {
        long empty = stats.retainedBytes();
        result(stats.addViewers(Map.of(LOT, Set.of("alice")), 0));
        assertTrue(stats.retainedBytes() - empty < 500, (stats.retainedBytes() - empty) + " bytes");
    }

    @Test
    void pastTheBoundTheLeastRecentlyWatchedIdleAuctionsAreForgottenAndWatchedOnesKept() throws Exception {
        long bound = 400_000;
        // retention far beyond the test's time: only the bound forgets anything
        InMemoryViewerStats bounded = new InMemoryViewerStats(INTERVAL, 1_000 * RETENTION, bound);
        presence.onCountChange(bounded::changed);
        viewers(LOT, 1);
        result(bounded.addViewers(Map.of(LOT, Set.of("alice")), 0));
        for (int i = 0; i < 5_000; i++) {
            // each id is watched once, then never again; LOT keeps its viewer all along
            long now = i * 3 * INTERVAL;
            result(bounded.addViewers(Map.of(AuctionId.of("random-" + i), Set.of("v" + i)), now));
            assertTrue(bounded.retainedBytes() <= bound, bounded.retainedBytes() + " bytes after " + i);
        }
        assertTrue(bounded.trackedAuctions() < 5_000, bounded.trackedAuctions() + " auctions");
        assertEquals(1, result(bounded.uniqueViewers(LOT)), "the watched auction keeps its tally");
        assertEquals(1, result(bounded.uniqueViewers(AuctionId.of("random-4999"))), "the newest is kept");
        assertEquals(0, result(bounded.uniqueViewers(AuctionId.of("random-0"))), "the oldest idle one is forgotten");
    }

    private static final class MovableClock extends Clock {
        private volatile long now;

        void set(long millis) {
            now = millis;
        }

        @Override
        public long millis() {
            return now;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(now);
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }
}
