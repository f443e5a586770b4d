package dev.gavel.testkit;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Redis that misbehaves while viewers watch: memory full, stalled, restarted empty, its pub/sub clients
 * killed. Viewers stay connected, publishes answer 202 only when Redis took the event, no fault becomes a count
 * that viewers are shown, and everything is exact again on its own.
 */
class RedisFaultsIT {

    @RegisterExtension
    static final ClusterExtension gavel = new ClusterExtension(2, Map.of());




    private static List<Long> last(List<Long> seen) {
        return seen.isEmpty() ? List.of() : List.of(seen.get(seen.size() - 1));
    }

    private static List<Long> peaks(TestViewer viewer) {
        return viewer.events("viewerCountUpdate").stream().map(c -> ((JsonObject) c).getLong("peak")).toList();
    }

    /** Lets a replica's flush interval (50 ms) pass, so that what changed so far goes out in a report of its own. */
    private static void sleepPastAFlush() {
        try {
            Thread.sleep(300);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static List<TestViewer> watch(int node, String auction, int count) {
        List<TestViewer> viewers = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            viewers.add(gavel.watch(node, auction));
        }
        return viewers;
    }

    @Test
    void aFullRedisNeverBecomesAZeroCountAndTheNodesSayTheStoreIsDownWhileStayingReady() {
        gavel.start(2, Map.of("NODE_TTL_MS", "2000"));
        List<TestViewer> viewers = new ArrayList<>(watch(0, "oom", 2));
        viewers.add(gavel.watch(1, "oom"));
        viewers.forEach(v -> v.awaitCount(3, 3));
        // each viewer's own: how many counts a viewer was sent on its way to 3 depends on when it joined
        List<Integer> seenBefore = viewers.stream().map(v -> v.events("viewerCountUpdate").size()).toList();

        gavel.redis().command("CONFIG SET maxmemory 1");
        try {
            for (int node = 0; node < 2; node++) {
                int port = gavel.cluster().port(node);
                await().atMost(TestViewer.PATIENCE).until(() -> !ApiClient.storeUp(port));
                JsonObject why = ApiClient.readiness(port);
                assertEquals(200, why.getInteger("httpStatus"), why.encode());
                assertEquals("DOWN", why.getString("store"), why.encode());
                assertTrue(why.getString("storeFailure").contains("OOM"), why.encode());
            }
            // Several leases (1.2 s each) run out unrenewed; all along, the API reads and lists: without the fix
            // such a read swept the expired entries and announced 0 to everyone.
            int port = gavel.cluster().port(1);
            await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                ApiClient.Answer count = ApiClient.adminGet(port, "/api/v1/auctions/oom/viewer-count");
                assertTrue(count.status() == 503 || count.json().getLong("current") == 3, "viewer-count: " + count);
                ApiClient.Answer list = ApiClient.adminGet(port, "/api/v1/auctions");
                assertTrue(list.status() == 503 || list.body().contains("\"current\":3"), "auctions: " + list);
                for (TestViewer viewer : viewers) {
                    assertEquals(3, viewer.lastCount().getLong("current"), "counts seen: " + viewer.currents());
                }
                assertFalse(ApiClient.storeUp(gavel.cluster().port(0)));
            });
            ApiClient.Answer count = ApiClient.adminGet(port, "/api/v1/auctions/oom/viewer-count");
            assertEquals(503, count.status(), count.toString());
            assertTrue(count.error().contains("OOM"), count.toString());

            // Publishing writes the event into the auction's log: a full Redis refuses it whole, so it is answered 503
            // and nothing is handed on (never a 202 for an event that is not in the log).
            ApiClient.Answer published = ApiClient.adminPost(port, "/api/v1/auctions/oom/sold", "{\"message\":\"while full\"}");
            assertEquals(503, published.status(), published.toString());
            assertTrue(published.error().contains("OOM"), published.toString());
        } finally {
            gavel.redis().command("CONFIG SET maxmemory 0");
        }
        ApiClient.Answer published = ApiClient.adminPost(gavel.cluster().port(1), "/api/v1/auctions/oom/sold",
                "{\"message\":\"once there is room\"}");
        assertEquals(202, published.status(), published.toString());
        viewers.forEach(v -> assertEquals(List.of("once there is room"), v.awaitEvents("playerSoldUpdate", 1)));

        for (int node = 0; node < 2; node++) {
            int port = gavel.cluster().port(node);
            await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.storeUp(port));
        }
        assertEquals(3, ApiClient.adminGet(gavel.cluster().port(0), "/api/v1/auctions/oom/viewer-count").json().getLong("current"));
        TestViewer late = gavel.watch(1, "oom");
        viewers.add(late);
        viewers.forEach(v -> v.awaitCount(4, 4));
        for (int i = 0; i < 3; i++) {
            TestViewer viewer = viewers.get(i);
            List<Long> since = viewer.currents().subList(seenBefore.get(i), viewer.currents().size());
            assertTrue(since.stream().allMatch(c -> c == 4), "after the fault only the new viewer changed the count: " + since);
            assertFalse(viewer.isClosed());
        }
    }

    @Test
    void afterAStallViewersStayPublishesAreTruthfulCountsAreExactAndThePeakNeverExceedsTheViewersConnectedAtOnce() {
        // Lease 3 s: node 0's entry from before the stall is still live next to reports stamped early in the stall.
        gavel.start(2, Map.of("NODE_TTL_MS", "5000", "HISTORY_INTERVAL_MS", "3600000"));
        List<TestViewer> onZero = watch(0, "moving", 19);
        List<TestViewer> onOne = new ArrayList<>(watch(1, "moving", 1));
        gavel.watch(0, "elsewhere").awaitCount(1, 1);
        onZero.forEach(v -> v.awaitCount(20, 20));

        // While Redis sleeps, node 0 writes first (one more viewer of another auction): until Redis answers that,
        // its next report waits in its client. Then 10 viewers move from node 0 to node 1, never more than 20 at
        // once. Node 1's report of the arrivals is on the wire; node 0's report of the departures is not. When
        // Redis wakes, the arrivals land next to node 0's entry from before the stall: 30 viewers that never were.
        CompletableFuture<String> sleeping = gavel.redis().commandInBackground("DEBUG SLEEP 5", Duration.ofSeconds(15));
        gavel.watch(0, "elsewhere");
        sleepPastAFlush();
        TestViewer.closeAll(onZero.subList(0, 10));
        onOne.addAll(watch(1, "moving", 10));
        ApiClient.Answer published = ApiClient.adminPost(gavel.cluster().port(0), "/api/v1/auctions/moving/sold", "{\"message\":\"asleep\"}");
        assertEquals(503, published.status(), "Redis did not take it in time: " + published);
        sleeping.join();

        List<TestViewer> watching = Stream.concat(onZero.subList(10, 19).stream(), onOne.stream()).toList();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            for (TestViewer viewer : watching) {
                assertEquals(List.of(20L), last(viewer.currents()), "counts seen: " + viewer.currents());
            }
        });
        // the subscriber reconnected after 4 s without an answer: publishing waits until the replicas subscribed again
        await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.adminPost(gavel.cluster().port(1), "/api/v1/auctions/moving/sold",
                "{\"message\":\"awake\"}").status() == 202);
        for (TestViewer viewer : watching) {
            assertFalse(viewer.isClosed());
            await().atMost(TestViewer.PATIENCE).until(() -> viewer.events("playerSoldUpdate").contains("awake"));
            assertTrue(peaks(viewer).stream().allMatch(p -> p <= 20), "peaks seen: " + peaks(viewer));
            assertTrue(viewer.currents().stream().allMatch(c -> c <= 20), "counts seen: " + viewer.currents());
        }
        JsonObject count = ApiClient.adminGet(gavel.cluster().port(0), "/api/v1/auctions/moving/viewer-count").json();
        assertEquals(20, count.getLong("peak"), count.encode());
    }

    @Test
    void aRedisRestartedEmptyGetsThePeakBackFromTheReplicasThatKnowIt() {
        gavel.start(2, Map.of("NODE_TTL_MS", "2000"));
        List<TestViewer> onZero = watch(0, "amnesia", 10);
        List<TestViewer> onOne = watch(1, "amnesia", 10);
        onOne.forEach(v -> v.awaitCount(20, 20));
        TestViewer.closeAll(onZero.subList(0, 6));
        onOne.forEach(v -> v.awaitCount(14, 20));

        gavel.redis().restartEmpty();

        List<TestViewer> watching = Stream.concat(onZero.subList(6, 10).stream(), onOne.stream()).toList();
        for (int node = 0; node < 2; node++) {
            int port = gavel.cluster().port(node);
            await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.storeUp(port));
        }
        await().atMost(TestViewer.PATIENCE).untilAsserted(() -> assertEquals(new JsonObject().put("auctionId", "amnesia")
                        .put("current", 14).put("peak", 20),
                ApiClient.adminGet(gavel.cluster().port(0), "/api/v1/auctions/amnesia/viewer-count").json()));
        TestViewer late = gavel.watch(0, "amnesia");
        late.awaitCount(15, 20);
        watching.forEach(v -> v.awaitCount(15, 20));
    }

    @Test
    void killedPubSubClientsComeBackAndNoEventAfterThatIsLost() {
        gavel.start(2, Map.of("NODE_TTL_MS", "2000"));
        TestViewer a = gavel.watch(0, "killed");
        TestViewer b = gavel.watch(1, "killed");
        b.awaitCount(2, 2);

        assertTrue(gavel.redis().command("CLIENT KILL TYPE pubsub").startsWith(":"), "killed the subscribers");
        // Each replica notices and subscribes again by itself; until then a publish reaches nobody and is not
        // promised to: once both answer ready again, every event accepted reaches every viewer, in order.
        for (int node = 0; node < 2; node++) {
            int port = gavel.cluster().port(node);
            await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.storeUp(port));
        }
        await().atMost(TestViewer.PATIENCE).until(() -> gavel.redis().command("PUBSUB NUMSUB gavel:{a:killed}:events")
                .contains(":2\r\n"));
        // and each publishes again once the replicas had time to subscribe again (1.5 s after its own reconnect)
        for (int node = 0; node < 2; node++) {
            int port = gavel.cluster().port(node);
            await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.adminPost(port, "/api/v1/auctions/killed/sold",
                    "{\"message\":\"probe\"}").status() == 202);
        }
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            ApiClient.Answer answer = ApiClient.adminPost(gavel.cluster().port(i % 2), "/api/v1/auctions/killed/sold",
                    "{\"message\":\"after-" + i + "\"}");
            assertEquals(202, answer.status(), answer.toString());
            sent.add("after-" + i);
        }
        for (TestViewer viewer : List.of(a, b)) {
            await().atMost(TestViewer.PATIENCE).until(() -> afterProbes(viewer).size() >= sent.size());
            assertEquals(sent, afterProbes(viewer));
        }
        TestViewer c = gavel.watch(1, "killed");
        List.of(a, b, c).forEach(v -> v.awaitCount(3, 3));
    }

    private static List<Object> afterProbes(TestViewer viewer) {
        return viewer.events("playerSoldUpdate").stream().filter(event -> !"probe".equals(event)).toList();
    }

    @Test
    void aRedisThatStallsForThreeSecondsIsNotTakenForDead() {
        gavel.start(2, Map.of("NODE_TTL_MS", "10000"));
        List<TestViewer> viewers = new ArrayList<>(watch(0, "slow", 2));
        viewers.add(gavel.watch(1, "slow"));
        viewers.forEach(v -> v.awaitCount(3, 3));
        String subscribers = pubSubClientIds();

        gavel.redis().commandInBackground("DEBUG SLEEP 3", Duration.ofSeconds(10)).join();

        // The same subscriber connections as before the stall: neither replica dropped its connection and
        // reconnected, which a PING timeout shorter than the stall would have made it do.
        assertEquals(subscribers, pubSubClientIds());
        viewers.add(gavel.watch(1, "slow"));
        viewers.forEach(v -> v.awaitCount(4, 4));
        assertEquals(202, ApiClient.adminPost(gavel.cluster().port(0), "/api/v1/auctions/slow/sold", "{\"message\":\"awake\"}").status());
        for (TestViewer viewer : viewers) {
            await().atMost(TestViewer.PATIENCE).until(() -> viewer.events("playerSoldUpdate").contains("awake"));
            assertFalse(viewer.isClosed());
        }
    }

    /** The ids of the clients connected to Redis in pub/sub mode: one subscriber connection per replica. */
    private static String pubSubClientIds() {
        return gavel.redis().command("CLIENT LIST TYPE pubsub").lines().filter(line -> line.contains("id="))
                .map(line -> line.replaceAll("^.*?id=(\\d+) .*$", "$1")).sorted().toList().toString();
    }
}
