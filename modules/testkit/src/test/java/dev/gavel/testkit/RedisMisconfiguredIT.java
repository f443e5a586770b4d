package dev.gavel.testkit;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Redis set up wrong by an unlucky operator (or an attacker with write access): an ACL that refuses
 * {@code SUBSCRIBE}, keys of the wrong type at an auction's keys, a restart that lost everything. Each fault is
 * told the truth about, and stays with what it broke.
 */
class RedisMisconfiguredIT {

    @RegisterExtension
    static final ClusterExtension gavel = new ClusterExtension(2, Map.of());




    private static ApiClient.Answer sold(int port, String auction, String message) {
        return ApiClient.adminPost(port, "/api/v1/auctions/" + auction + "/sold", "{\"message\":\"" + message + "\"}");
    }

    /**
     * Item 4 of issue 18. The ACL of Gavel's user (here the default user, which the replicas log in as) loses
     * {@code SUBSCRIBE}, and the replicas' subscriber connections are cut, so that they subscribe again: Redis answers
     * NOPERM. Before, each replica logged "resubscribed", its store stayed UP and every publish was answered 202 for
     * events no viewer got. Now: store DOWN with the reason, gavel_store_failing 1, refusals counted and retried, every
     * publish 503; and once the ACL allows it again, each replica subscribes by itself and events flow.
     */
    @Test
    void aSubscribeRedisRefusesIsAFailureShownRetriedAndNoPublishIsAnswered202() {
        gavel.start(2, Map.of("NODE_TTL_MS", "2000"));
        TestViewer a = gavel.watch(0, "deaf");
        TestViewer b = gavel.watch(1, "deaf");
        List.of(a, b).forEach(v -> v.awaitCount(2, 2));
        try {
            gavel.redis().command("ACL SETUSER default -subscribe");
            gavel.redis().command("CLIENT KILL TYPE pubsub");
            for (int node = 0; node < 2; node++) {
                int port = gavel.cluster().port(node);
                await().atMost(TestViewer.PATIENCE).until(() -> !ApiClient.storeUp(port));
                JsonObject why = ApiClient.readiness(port);
                assertEquals(200, why.getInteger("httpStatus"), "readiness does not depend on Redis: " + why.encode());
                assertEquals("DOWN", why.getString("engine"), why.encode());
                assertTrue(why.getString("storeFailure").contains("NOPERM"), why.encode());
                // retried: refused again and again, with backoff
                await().atMost(TestViewer.PATIENCE).until(() -> Scrape.of(port).value("gavel_redis_subscriptions_refused_total") >= 3);
                assertEquals(1, Scrape.of(port).value("gavel_store_failing"));
            }
            // Every publish, on either replica, for as long as the refusal lasts: 503, never 202.
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                for (int node = 0; node < 2; node++) {
                    ApiClient.Answer published = sold(gavel.cluster().port(node), "deaf", "nobody hears this");
                    assertEquals(503, published.status(), published.toString());
                }
            });
            String channels = gavel.redis().command("PUBSUB CHANNELS *");
            assertTrue(channels.startsWith("*0"), "no replica is subscribed: " + channels);
        } finally {
            gavel.redis().command("ACL SETUSER default +subscribe");
        }
        for (int node = 0; node < 2; node++) {
            int port = gavel.cluster().port(node);
            await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.storeUp(port));
            assertEquals(0, Scrape.of(port).value("gavel_store_failing"));
        }
        assertEquals(202, sold(gavel.cluster().port(0), "deaf", "heard").status());
        for (TestViewer viewer : List.of(a, b)) {
            assertEquals(List.of("heard"), viewer.awaitEvents("playerSoldUpdate", 1));
            assertFalse(viewer.isClosed());
        }
    }

    /**
     * Item 6 of issue 18. A string at one auction's count hash ({@code gavel:{a:evil1}}) and at another's event log head
     * ({@code gavel:{a:evil2}:head}). Before, the string made the whole pipelined report fail: the replica's store
     * went DOWN and no auction's viewers got counts any more. Now only that auction's count is not written (counted,
     * logged once a minute at most), its publishes are 503 while the others' are 202, and every other auction's
     * viewers go on getting counts and events, and their unique viewers and audience history are still kept (a
     * string at {@code gavel:{a:evil1}:viewers} too).
     */
    @Test
    void aKeyOfTheWrongTypeBreaksOnlyItsOwnAuction() {
        try (NodeProcess node = NodeProcess.start(Map.of("REDIS_URL", gavel.redis().url(), "NODE_ID", "wrongtype",
                "NODE_TTL_MS", "2000", "HISTORY_INTERVAL_MS", "200", "ADMIN_TOKEN", ApiClient.ADMIN_TOKEN))) {
            int port = node.port();
            gavel.redis().command("SET gavel:{a:evil1} planted");
            gavel.redis().command("SET gavel:{a:evil2}:head planted");
            gavel.redis().command("SET gavel:{a:evil1}:viewers planted");
            TestViewer good = gavel.track(TestViewer.watch(port, "good"));
            good.awaitCount(1, 1);
            // evil1's viewer and good's second in one batch of new viewer ids, whose PFADD into evil1's key fails
            TestViewer evil1 = gavel.track(TestViewer.watch(port, "evil1"));
            TestViewer good2 = gavel.track(TestViewer.watch(port, "good"));
            TestViewer evil2 = gavel.track(TestViewer.watch(port, "evil2"));
            // evil1's count cannot be written; every report (50 ms apart) tries it again
            await().atMost(TestViewer.PATIENCE).until(() -> Scrape.of(port).value("gavel_store_auction_failures_total") >= 20);
            List.of(good, good2).forEach(v -> v.awaitCount(2, 2));
            // good's unique viewers and audience history go on (evil1's count hash breaks its sample, not good's)
            await().atMost(TestViewer.PATIENCE).untilAsserted(() -> {
                JsonObject stats = ApiClient.adminGet(port, "/api/v1/auctions/good/viewer-stats").json();
                assertEquals(2, stats.getLong("uniqueViewers"), stats.encode());
                assertTrue(stats.getJsonArray("history").stream().anyMatch(sample -> ((JsonObject) sample).getLong("count") == 2),
                        stats.encode());
            });
            evil2.awaitCount(1, 1);
            assertTrue(ApiClient.storeUp(port), "one auction's key is not the store failing");
            assertEquals(0, Scrape.of(port).value("gavel_store_failing"));

            assertEquals(202, sold(port, "good", "fine").status());
            ApiClient.Answer refused = sold(port, "evil2", "cannot log");
            assertEquals(503, refused.status(), refused.toString());
            assertTrue(refused.error().contains("WRONGTYPE"), refused.toString());
            List.of(good, good2).forEach(v -> assertEquals(List.of("fine"), v.awaitEvents("playerSoldUpdate", 1)));
            ApiClient.Answer evilCount = ApiClient.adminGet(port, "/api/v1/auctions/evil1/viewer-count");
            assertEquals(503, evilCount.status(), evilCount.toString());
            ApiClient.Answer list = ApiClient.adminGet(port, "/api/v1/auctions");
            assertEquals(200, list.status(), list.toString());
            assertTrue(list.body().contains("\"auctionId\":\"good\""), list.toString());

            // the key removed: evil1 counts again, on its own
            gavel.redis().command("DEL gavel:{a:evil1}");
            gavel.redis().command("DEL gavel:{a:evil1}:viewers");
            evil1.awaitCount(1, 1);
            gavel.redis().command("DEL gavel:{a:evil2}:head");
            assertEquals(202, sold(port, "evil2", "logged").status());
            assertEquals(List.of("logged"), evil2.awaitEvents("playerSoldUpdate", 1));
            List.of(good, good2, evil1, evil2).forEach(v -> assertFalse(v.isClosed()));
            long lines = node.output().lines().filter(line -> line.contains("is not a hash")).count();
            assertEquals(1, lines, "one line for hundreds of failed writes:\n" + node.output());
        }
    }

    /**
     * Item 9 of issue 18. Redis restarts empty while two replicas hold 5 viewers each. Before, the API answered
     * 0 of 0 (a read of the empty hash) until the replicas had written their entries again. Now a replica tells no
     * count below its own viewers, and while its counts are held the count its viewers were shown: from the
     * restart on, neither the API nor any viewer is ever told anything but 10 of 10.
     */
    @Test
    void afterRedisRestartsEmptyNoReplicaTellsFewerViewersThanItHolds() throws Exception {
        gavel.start(2, Map.of("NODE_TTL_MS", "2000"));
        List<TestViewer> viewers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            viewers.add(gavel.watch(0, "amnesia"));
            viewers.add(gavel.watch(1, "amnesia"));
        }
        viewers.forEach(v -> v.awaitCount(10, 10));
        List<Integer> seenBefore = viewers.stream().map(v -> v.currents().size()).toList();
        for (int node = 0; node < 2; node++) {
            int port = gavel.cluster().port(node);
            await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.adminGet(port, "/api/v1/auctions/amnesia/viewer-count")
                    .json().getLong("current") == 10);
        }

        // both replicas' API is read all along, from before the restart until well after
        List<String> told = new CopyOnWriteArrayList<>();
        AtomicBoolean reading = new AtomicBoolean(true);
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            while (reading.get()) {
                for (int node = 0; node < 2; node++) {
                    ApiClient.Answer count = ApiClient.adminGet(gavel.cluster().port(node), "/api/v1/auctions/amnesia/viewer-count");
                    if (count.status() == 200) {
                        JsonObject json = count.json();
                        told.add(json.getLong("current") + " of " + json.getLong("peak"));
                    }
                }
            }
        });
        try {
            gavel.redis().restartEmpty();
            for (int node = 0; node < 2; node++) {
                int port = gavel.cluster().port(node);
                await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.storeUp(port));
            }
            await().atMost(TestViewer.PATIENCE).until(() -> gavel.redis().command("HGET gavel:{a:amnesia} cur").contains("10"));
            int readsAfter = told.size();
            await().atMost(TestViewer.PATIENCE).until(() -> told.size() > readsAfter + 40);
        } finally {
            reading.set(false);
            reader.join();
        }
        assertTrue(told.stream().allMatch("10 of 10"::equals), "the API told: " + told.stream().distinct().toList());
        for (int i = 0; i < viewers.size(); i++) {
            List<Long> all = viewers.get(i).currents();
            List<Long> since = all.subList(seenBefore.get(i), all.size());
            assertTrue(since.stream().allMatch(c -> c == 10), "a viewer was shown after the restart: " + since);
        }
        TestViewer late = gavel.watch(0, "amnesia");
        Stream.concat(viewers.stream(), Stream.of(late)).forEach(v -> v.awaitCount(11, 11));
    }
}
