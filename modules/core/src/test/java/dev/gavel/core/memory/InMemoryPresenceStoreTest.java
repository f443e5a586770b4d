package dev.gavel.core.memory;

import dev.gavel.core.AuctionId;
import dev.gavel.core.EventLogSettings;
import dev.gavel.core.PresenceStore;
import dev.gavel.core.ViewerCount;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the single node's presence store keeps of auctions that nobody watches any more. */
class InMemoryPresenceStoreTest {

    private static final Clock CLOCK = Clock.fixed(Instant.EPOCH, ZoneOffset.UTC);

    private static <T> T result(Future<T> future) throws Exception {
        return future.await(5, TimeUnit.SECONDS);
    }

    @Test
    void readingAnAuctionNeverSeenKeepsNothing() throws Exception {
        InMemoryPresenceStore store = new InMemoryPresenceStore(CLOCK, 60_000, new InMemoryEventBroker(null, CLOCK, EventLogSettings.DEFAULT));
        for (int i = 0; i < 1_000; i++) {
            ViewerCount count = result(store.read(AuctionId.of("never-" + i)));
            assertEquals(0, count.current());
            assertEquals(0, count.peak());
        }
        assertEquals(0, store.trackedAuctions());
    }

    @Test
    void pastTheBoundTheLeastRecentlyReportedAuctionsWithoutViewersAreForgotten() throws Exception {
        InMemoryPresenceStore store = new InMemoryPresenceStore(CLOCK, 60_000, new InMemoryEventBroker(null, CLOCK, EventLogSettings.DEFAULT), 100,
                dev.gavel.core.CountBy.CONNECTION);
        result(store.heartbeat("node"));
        AuctionId watched = AuctionId.of("watched");
        result(store.report("node", Map.of(watched, new PresenceStore.LocalCount(3, 0))));
        for (int i = 0; i < 1_000; i++) {
            AuctionId random = AuctionId.of("random-" + i);
            result(store.report("node", Map.of(random, new PresenceStore.LocalCount(1, 0))));
            result(store.report("node", Map.of(random, new PresenceStore.LocalCount(0, 0))));
        }
        assertEquals(101, store.trackedAuctions());
        assertEquals(3, result(store.read(watched)).current(), "an auction with viewers is never forgotten");
        assertEquals(1, result(store.read(AuctionId.of("random-999"))).peak(), "the newest idle ones keep their peak");
        assertEquals(0, result(store.read(AuctionId.of("random-0"))).peak(), "the oldest idle one is forgotten");
    }
}
