package dev.gavel.testkit;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGTERM drains a replica without a stampede: it turns unready and refuses new viewers at once, closes its viewers
 * with 1012 in batches spread over {@code DRAIN_MS}, keeps its share of the count equal to the viewers it still
 * holds while it does, and exits within {@code DRAIN_MS} + 5 s.
 */
class DrainIT {

    private static final int VIEWERS = 40;
    private static final long DRAIN_MS = 2000;

    @Test
    void sigtermClosesViewersInBatchesOverTheDrainWindowWhileTheCountFollows() {
        try (RedisFixture redis = RedisFixture.start();
             Cluster other = Cluster.start(redis, 1, Map.of("NODE_TTL_MS", "60000"));
             NodeProcess node = NodeProcess.start(Map.of("REDIS_URL", redis.url(), "NODE_ID", "draining",
                     "NODE_TTL_MS", "60000", "DRAIN_MS", String.valueOf(DRAIN_MS)))) {
            List<TestViewer> draining = new ArrayList<>();
            for (int i = 0; i < VIEWERS; i++) {
                draining.add(TestViewer.watch(node.port(), "drain"));
            }
            TestViewer observer = TestViewer.watch(other.port(0), "drain").awaitCurrent(VIEWERS + 1);
            int countsBefore = observer.events("viewerCountUpdate").size();

            long terminatedAt = System.nanoTime();
            node.terminate();

            await().atMost(Duration.ofSeconds(1)).until(() -> node.readiness() == 503);
            assertEquals(503, TestViewer.refusalStatus(node.port(), "/ws?slug=auction-drain", null));
            for (TestViewer viewer : draining) {
                assertEquals(1012, viewer.awaitClosed());
            }
            Integer exit = node.awaitExit(Duration.ofMillis(DRAIN_MS + 5000));
            assertNotNull(exit, "exited within DRAIN_MS + 5 s");

            List<Long> closedAfterMillis = draining.stream()
                    .map(v -> (v.closedAtNanos() - terminatedAt) / 1_000_000).sorted().toList();
            long spread = closedAfterMillis.get(VIEWERS - 1) - closedAfterMillis.get(0);
            assertTrue(spread >= DRAIN_MS / 2, "closes spread over " + spread + " ms: " + closedAfterMillis);
            int mostInAWindow = 0;
            for (int i = 0; i < VIEWERS; i++) {
                int j = i;
                while (j < VIEWERS && closedAfterMillis.get(j) - closedAfterMillis.get(i) < 200) {
                    j++;
                }
                mostInAWindow = Math.max(mostInAWindow, j - i);
            }
            assertTrue(mostInAWindow <= VIEWERS / 4, "closed in one 200 ms window: " + mostInAWindow + " of " + closedAfterMillis);

            // The replica kept reporting what it still held: the other replica's viewer saw the count come down in
            // steps, never up, to itself alone.
            observer.awaitCurrent(1);
            List<Long> during = observer.events("viewerCountUpdate").stream().skip(countsBefore)
                    .map(c -> ((io.vertx.core.json.JsonObject) c).getLong("current")).toList();
            for (int i = 1; i < during.size(); i++) {
                assertTrue(during.get(i) <= during.get(i - 1), "the count went up during the drain: " + during);
            }
            assertTrue(during.stream().filter(c -> c > 1 && c < VIEWERS + 1).count() >= 3,
                    "the count came down in steps: " + during);
            observer.close();
        }
    }
}
