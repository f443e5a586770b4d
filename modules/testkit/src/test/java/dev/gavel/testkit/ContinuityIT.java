package dev.gavel.testkit;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A viewer never misses the bid on screen: a late joiner gets the current bid (never a past sold), a viewer that comes
 * back to any replica gets what it missed once and in order (Socket.IO's connection state recovery with the unchanged
 * {@code socket.io-client}; {@code offset=} on WebSocket and SockJS), and a replica whose link to Redis drops or stalls
 * fills the gap from the auction's log.
 */
class ContinuityIT {

    private static final Map<String, String> SHARED = Map.of("ADMIN_TOKEN", ApiClient.ADMIN_TOKEN, "DRAIN_MS", "0");

    private static void bid(int port, String auction, int i) {
        ApiClient.Answer answer = ApiClient.adminPost(port, "/api/v1/auctions/" + auction + "/bidding",
                new JsonObject().put("player", "p" + i).put("bid", i).encode());
        assertEquals(202, answer.status(), answer.toString());
    }

    private static void sold(int port, String auction, String message) {
        ApiClient.Answer answer = ApiClient.adminPost(port, "/api/v1/auctions/" + auction + "/sold",
                new JsonObject().put("message", message).encode());
        assertEquals(202, answer.status(), answer.toString());
    }

    private static List<Integer> bids(List<Object> events) {
        return events.stream().map(data -> ((JsonObject) data).getInteger("bid")).toList();
    }

    private static List<Integer> range(int from, int to) {
        return IntStream.rangeClosed(from, to).boxed().toList();
    }

    /** The frames of a WebSocket viewer but its counts, as {@code "name data"}. */
    private static List<String> nonCountFrames(TestViewer viewer) {
        return viewer.frames().stream().filter(frame -> !"viewerCountUpdate".equals(frame.getString("event")))
                .map(frame -> frame.getString("event") + " " + frame.getValue("data")).toList();
    }

    @Test
    void aLateJoinerGetsTheCurrentBidOnEveryTransportAndReplicaButNeverAPastSold() {
        try (RedisFixture redis = RedisFixture.start(); Cluster cluster = Cluster.start(redis, 2, Map.of())) {
            String auction = "late";
            bid(cluster.port(0), auction, 1);
            sold(cluster.port(0), auction, "p1 sold");
            bid(cluster.port(0), auction, 2);

            List<TestViewer> plain = List.of(TestViewer.watch(cluster.port(1), auction), TestViewer.watch(cluster.port(1), auction),
                    TestViewer.watch(cluster.port(0), auction));
            List<JsViewer> clients = List.of(
                    JsViewer.socketIo(cluster.port(1), JsViewer.teamOptions("auction-" + auction)),
                    JsViewer.socketIo(cluster.port(0), JsViewer.teamOptions("auction-" + auction)
                            .put("transports", new JsonArray().add("websocket"))),
                    JsViewer.sockJs(cluster.port(1), "auction-" + auction, "websocket"),
                    JsViewer.sockJs(cluster.port(1), "auction-" + auction, "xhr-streaming"));
            try {
                for (TestViewer viewer : plain) {
                    assertEquals(List.of(2), bids(viewer.awaitEvents("playerBiddingUpdate", 1)));
                    assertEquals("playerBiddingUpdate {\"player\":\"p2\",\"bid\":2}", nonCountFrames(viewer).get(0));
                    assertTrue(viewer.frames().stream().filter(f -> "playerBiddingUpdate".equals(f.getString("event")))
                            .allMatch(f -> f.getString("offset") != null), "bids carry their offset");
                }
                for (JsViewer client : clients) {
                    assertEquals(List.of(2), bids(client.awaitEvents("playerBiddingUpdate", 1)), client.toString());
                }
                sold(cluster.port(1), auction, "p2 sold");
                for (TestViewer viewer : plain) {
                    assertEquals(List.of("p2 sold"), viewer.awaitEvents("playerSoldUpdate", 1), "the past sold was not replayed");
                    assertEquals(List.of(2), bids(viewer.events("playerBiddingUpdate")));
                }
                for (JsViewer client : clients) {
                    assertEquals(List.of("p2 sold"), client.awaitEvents("playerSoldUpdate", 1), client.toString());
                    assertEquals(List.of(2), bids(client.events("playerBiddingUpdate")), client.toString());
                }
            } finally {
                TestViewer.closeAll(plain);
                clients.forEach(JsViewer::close);
            }
        }
    }

    @Test
    void aWebSocketViewerDrainedFromOneReplicaResumesOnAnotherWithExactlyWhatItMissed() {
        try (RedisFixture redis = RedisFixture.start();
             Cluster other = Cluster.start(redis, 1, Map.of());
             NodeProcess draining = NodeProcess.start(withRedis(redis, "draining"))) {
            String auction = "resume";
            TestViewer viewer = TestViewer.watch(draining.port(), auction);
            viewer.awaitCurrent(1);
            for (int i = 1; i <= 3; i++) {
                bid(other.port(0), auction, i);
            }
            viewer.awaitEvents("playerBiddingUpdate", 3);
            String last = lastOffset(viewer);

            draining.terminate();
            assertEquals(1012, viewer.awaitClosed());
            for (int i = 4; i <= 7; i++) {
                bid(other.port(0), auction, i);
            }

            TestViewer back = TestViewer.connect(other.port(0), "/ws?slug=auction-" + auction + "&offset=" + last, null);
            TestViewer lost = TestViewer.connect(other.port(0), "/ws?slug=auction-" + auction + "&offset=zzz-3", null);
            try {
                back.awaitEvents("playerBiddingUpdate", 4);
                bid(other.port(0), auction, 8);
                back.awaitEvents("playerBiddingUpdate", 5);
                List<String> expected = new ArrayList<>();
                expected.add("recovery {\"recovered\":true,\"missed\":4}");
                range(4, 8).forEach(i -> expected.add("playerBiddingUpdate {\"player\":\"p" + i + "\",\"bid\":" + i + "}"));
                assertEquals(expected, nonCountFrames(back));

                lost.awaitEvents("playerBiddingUpdate", 2);
                assertEquals(List.of("recovery {\"recovered\":false}", "playerBiddingUpdate {\"player\":\"p7\",\"bid\":7}",
                        "playerBiddingUpdate {\"player\":\"p8\",\"bid\":8}"), nonCountFrames(lost).subList(0, 3),
                        "an unknown offset: told so, then what a new viewer gets");
            } finally {
                back.close();
                lost.close();
            }
        }
    }

    @Test
    void aSockJsViewerResumesWithItsOffset() {
        try (RedisFixture redis = RedisFixture.start(); Cluster cluster = Cluster.start(redis, 2, Map.of())) {
            String auction = "resume-sockjs";
            bid(cluster.port(0), auction, 1);
            String offset = ApiClient.get(cluster.port(0), "/api/v1/auctions/" + auction + "/events").jsonArray()
                    .getJsonObject(0).getString("offset");
            bid(cluster.port(0), auction, 2);
            bid(cluster.port(0), auction, 3);
            try (JsViewer viewer = JsViewer.sockJsWithQuery(cluster.port(1), "slug=auction-" + auction + "&offset=" + offset,
                    "xhr-polling")) {
                assertEquals(List.of(2, 3), bids(viewer.awaitEvents("playerBiddingUpdate", 2)));
                assertEquals(List.of(new JsonObject().put("recovered", true).put("missed", 2)), viewer.events("recovery"));
            }
        }
    }

    /**
     * The official {@code socket.io-client}, unchanged, reaches replica A through a proxy; A dies (killed, or drained)
     * while events are published through B; the client reconnects through the proxy, now to B, and is recovered: the
     * same pid, {@code socket.recovered === true}, every event once and in order.
     */
    @Test
    void aSocketIoClientIsRecoveredByAnotherReplicaWhenItsOwnIsKilled() {
        socketIoRecovery(true, true);
    }

    @Test
    void aSocketIoClientOnLongPollingFirstIsRecoveredByAnotherReplica() {
        socketIoRecovery(true, false);
    }

    @Test
    void aSocketIoClientIsRecoveredByAnotherReplicaAcrossADrain() {
        socketIoRecovery(false, true);
    }

    private static void socketIoRecovery(boolean kill, boolean webSocketOnly) {
        try (RedisFixture redis = RedisFixture.start();
             Cluster b = Cluster.start(redis, 1, Map.of());
             NodeProcess a = NodeProcess.start(withRedis(redis, "replica-a"));
             SwitchableProxy proxy = SwitchableProxy.to(a.port())) {
            String auction = "recover-" + kill + "-" + webSocketOnly;
            JsonObject options = JsViewer.teamOptions("auction-" + auction);
            if (webSocketOnly) {
                options.put("transports", new JsonArray().add("websocket"));
            }
            try (JsViewer client = JsViewer.socketIo(proxy.port(), options)) {
                assertFalse(client.awaitRecord("connect").getBoolean("recovered"));
                for (int i = 1; i <= 6; i++) {
                    bid(b.port(0), auction, i);
                }
                assertEquals(range(1, 6), bids(client.awaitEvents("playerBiddingUpdate", 6)));

                proxy.switchTo(b.port(0));
                if (kill) {
                    a.kill();
                } else {
                    a.terminate();
                }
                for (int i = 7; i <= 15; i++) {
                    bid(b.port(0), auction, i);
                }
                await().atMost(TestViewer.PATIENCE).until(() -> connects(client).size() == 2);
                assertTrue(connects(client).get(1).getBoolean("recovered"), "socket.recovered after " + client.records());
                bid(b.port(0), auction, 16);
                assertEquals(range(1, 16), bids(client.awaitEvents("playerBiddingUpdate", 16)));
                assertEquals(range(1, 16), bids(client.events("playerBiddingUpdate")), "each once");
            }
        }
    }

    private static List<JsonObject> connects(JsViewer client) {
        return client.records().stream().filter(record -> "connect".equals(record.getString("type"))).toList();
    }

    /**
     * A replica whose subscriber connections are cut (CLIENT KILL, twice) while another publishes 150 events at 50 a
     * second still hands its viewers every one, once, in order: it reads what it missed from the log.
     */
    @Test
    void viewersMissNothingWhileTheirReplicasSubscriberLinkIsCut() throws Exception {
        try (RedisFixture redis = RedisFixture.start(); Cluster cluster = Cluster.start(redis, 2, Map.of())) {
            String auction = "cut";
            List<TestViewer> viewers = IntStream.range(0, 5).mapToObj(i -> TestViewer.watch(cluster.port(0), auction)).toList();
            try {
                viewers.forEach(viewer -> viewer.awaitCurrent(5));
                CompletableFuture<Void> publishing = CompletableFuture.runAsync(() -> {
                    for (int i = 1; i <= 150; i++) {
                        long next = System.nanoTime() + 20_000_000;
                        bid(cluster.port(1), auction, i);
                        while (System.nanoTime() < next) {
                            Thread.onSpinWait();
                        }
                    }
                });
                await().atMost(TestViewer.PATIENCE).until(() -> viewers.get(0).events("playerBiddingUpdate").size() >= 40);
                killSubscriberOfViewers(redis);
                await().atMost(TestViewer.PATIENCE).until(() -> viewers.get(0).events("playerBiddingUpdate").size() >= 90);
                killSubscriberOfViewers(redis);
                publishing.get(60, TimeUnit.SECONDS);
                for (TestViewer viewer : viewers) {
                    assertEquals(range(1, 150), bids(viewer.awaitEvents("playerBiddingUpdate", 150)));
                }
                bid(cluster.port(1), auction, 151);
                for (TestViewer viewer : viewers) {
                    assertEquals(range(1, 151), bids(viewer.awaitEvents("playerBiddingUpdate", 151)), "each once, in order");
                }
            } finally {
                TestViewer.closeAll(viewers);
            }
        }
    }

    /**
     * Kills the subscriber connection of the replica that holds the viewers: the one subscribed to one channel more
     * (the auction's) than the other replica (both hear the registry's and their own questions' channels).
     */
    private static void killSubscriberOfViewers(RedisFixture redis) {
        List<String> clients = redis.command("CLIENT LIST TYPE pubsub").lines().filter(line -> line.contains(" sub=")).toList();
        int most = clients.stream().mapToInt(ContinuityIT::channels).max().orElse(0);
        int fewest = clients.stream().mapToInt(ContinuityIT::channels).min().orElse(0);
        List<String> ids = clients.stream()
                .filter(line -> most > fewest && channels(line) == most)
                .map(line -> line.replaceAll(".*\\bid=(\\d+).*", "$1")).toList();
        assertEquals(1, ids.size(), "one subscriber with the auction: " + redis.command("CLIENT LIST TYPE pubsub"));
        assertTrue(redis.command("CLIENT KILL ID " + ids.get(0)).startsWith(":1"), "killed " + ids);
    }

    private static int channels(String clientLine) {
        return Integer.parseInt(clientLine.replaceAll(".*\\bsub=(\\d+).*", "$1"));
    }

    /**
     * Redis stalls for 5 s ({@code DEBUG SLEEP 5}): the replicas' subscriber links time out and reconnect, and every bid
     * answered 202 meanwhile reaches every viewer, in order.
     */
    @Test
    void aBidAnsweredWhileRedisStallsReachesEveryViewer() throws Exception {
        try (RedisFixture redis = RedisFixture.start(); Cluster cluster = Cluster.start(redis, 2, Map.of())) {
            String auction = "stall";
            List<TestViewer> viewers = List.of(TestViewer.watch(cluster.port(0), auction), TestViewer.watch(cluster.port(1), auction));
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                viewers.forEach(viewer -> viewer.awaitCurrent(2));
                bid(cluster.port(1), auction, 0);
                viewers.forEach(viewer -> viewer.awaitEvents("playerBiddingUpdate", 1));
                CompletableFuture<String> stall = redis.commandInBackground("DEBUG SLEEP 5", Duration.ofSeconds(15));
                List<Future<Integer>> publishes = new ArrayList<>();
                for (int i = 1; i <= 24; i++) {
                    int n = i;
                    publishes.add(pool.submit(() -> ApiClient.adminPost(cluster.port(n % 2), "/api/v1/auctions/" + auction + "/bidding",
                            new JsonObject().put("player", "p" + n).put("bid", n).encode()).status() == 202 ? n : -n));
                    Thread.sleep(250);
                }
                stall.get(15, TimeUnit.SECONDS);
                List<Integer> accepted = new ArrayList<>();
                for (Future<Integer> publish : publishes) {
                    int n = publish.get(15, TimeUnit.SECONDS);
                    if (n > 0) {
                        accepted.add(n);
                    }
                }
                assertFalse(accepted.isEmpty(), "some bids were answered 202 while Redis stalled or right after");
                bid(cluster.port(1), auction, 100);
                for (TestViewer viewer : viewers) {
                    await().atMost(TestViewer.PATIENCE).until(() -> bids(viewer.events("playerBiddingUpdate")).contains(100));
                    List<Integer> got = bids(viewer.events("playerBiddingUpdate"));
                    assertTrue(got.containsAll(accepted), "every bid answered 202 " + accepted + " reached the viewer: " + got);
                    assertEquals(got.stream().distinct().toList(), got, "none twice");
                }
            } finally {
                pool.shutdownNow();
                TestViewer.closeAll(viewers);
            }
        }
    }

    @Test
    void theEventsApiReadsTheLogAfterAnOffsetAndSays410PastIt() {
        try (RedisFixture redis = RedisFixture.start(); Cluster cluster = Cluster.start(redis, 1, Map.of("EVENT_LOG_SIZE", "3"))) {
            String auction = "api";
            assertEquals(new JsonArray(), ApiClient.get(cluster.port(0), "/api/v1/auctions/" + auction + "/events").jsonArray());
            bid(cluster.port(0), auction, 1);
            JsonArray first = ApiClient.get(cluster.port(0), "/api/v1/auctions/" + auction + "/events").jsonArray();
            String offset1 = first.getJsonObject(0).getString("offset");
            assertEquals(new JsonObject().put("player", "p1").put("bid", 1), first.getJsonObject(0).getJsonObject("data"));
            assertEquals("playerBiddingUpdate", first.getJsonObject(0).getString("event"));
            sold(cluster.port(0), auction, "p1 sold");
            JsonArray after = ApiClient.get(cluster.port(0), "/api/v1/auctions/" + auction + "/events?after=" + offset1).jsonArray();
            assertEquals(1, after.size());
            assertEquals("p1 sold", after.getJsonObject(0).getString("data"));
            for (int i = 2; i <= 4; i++) {
                bid(cluster.port(0), auction, i);
            }
            ApiClient.Answer gone = ApiClient.get(cluster.port(0), "/api/v1/auctions/" + auction + "/events?after=" + offset1);
            assertEquals(410, gone.status(), gone.toString());
            assertEquals(400, ApiClient.get(cluster.port(0), "/api/v1/auctions/" + auction + "/events?after=nope").status());
            assertEquals(2, ApiClient.get(cluster.port(0), "/api/v1/auctions/" + auction + "/events?limit=2").jsonArray().size());
        }
    }

    private static String lastOffset(TestViewer viewer) {
        List<JsonObject> frames = viewer.frames();
        for (int i = frames.size() - 1; i >= 0; i--) {
            String offset = frames.get(i).getString("offset");
            if (offset != null) {
                return offset;
            }
        }
        throw new AssertionError("no frame with an offset: " + frames);
    }

    private static Map<String, String> withRedis(RedisFixture redis, String nodeId) {
        Map<String, String> env = new java.util.HashMap<>(SHARED);
        env.put("REDIS_URL", redis.url());
        env.put("NODE_ID", nodeId);
        return env;
    }
}
