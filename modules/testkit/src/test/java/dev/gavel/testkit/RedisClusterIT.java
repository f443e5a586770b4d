package dev.gavel.testkit;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three Gavel replicas on a Redis Cluster (three masters, one replica each). Auctions fall on every shard: their
 * viewers count exactly and get their events, over sharded pub/sub (shown by {@code PUBSUB SHARDNUMSUB} and
 * {@code INFO commandstats} of each master, which the test prints). Then one master is killed ({@code kill -9}): its
 * replica takes over, its auctions count exactly again within the bound, and the auctions of the other shards never
 * stop.
 */
class RedisClusterIT {

    /** From the kill to exact counts everywhere (the cluster's node timeout is 1 s). */
    private static final Duration EXACT_WITHIN = Duration.ofSeconds(10);
    private static final int AUCTIONS = 12;

    private static ClusterFixture redis;

    @BeforeAll
    static void startRedis() {
        redis = ClusterFixture.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    private static String counts(String auction) {
        return "gavel:{a:" + auction + "}";
    }

    private static String channel(String auction) {
        return "gavel:{a:" + auction + "}:events";
    }

    /** Auction ids, with the master that serves each, covering every master. */
    private static Map<String, RedisProcess> auctionsOverEveryShard(String prefix) {
        Map<String, RedisProcess> auctions = new LinkedHashMap<>();
        for (int i = 0; i < AUCTIONS; i++) {
            String auction = prefix + "-" + i;
            auctions.put(auction, redis.masterOf(counts(auction)));
        }
        assertEquals(3, Set.copyOf(auctions.values()).size(), "the auctions fall on every shard: " + auctions);
        return auctions;
    }

    /**
     * The subscriber links to the master of an auction's shard are cut twice (CLIENT KILL TYPE pubsub on that master)
     * while 150 events are published at 50 a second: the viewers still get every one, once, in order, read from the
     * auction's log on the shard once the links are back.
     */
    @Test
    void viewersMissNothingWhileTheShardsSubscriberLinksAreCut() throws Exception {
        try (Cluster gavel = Cluster.start(null, 2, Map.of("REDIS_CLUSTER", redis.seedAddresses(), "NODE_TTL_MS", "5000"))) {
            String auction = "cut-shard";
            RedisProcess master = redis.masterOf(counts(auction));
            List<TestViewer> viewers = IntStream.range(0, 5).mapToObj(i -> TestViewer.watch(gavel.port(0), auction)).toList();
            try {
                viewers.forEach(viewer -> viewer.awaitCurrent(5));
                CompletableFuture<Void> publishing = CompletableFuture.runAsync(() -> {
                    for (int i = 1; i <= 150; i++) {
                        long next = System.nanoTime() + 20_000_000;
                        ApiClient.Answer answer = ApiClient.adminPost(gavel.port(1), "/api/v1/auctions/" + auction + "/bidding",
                                new JsonObject().put("bid", i).encode());
                        assertEquals(202, answer.status(), answer.toString());
                        while (System.nanoTime() < next) {
                            Thread.onSpinWait();
                        }
                    }
                });
                for (int atLeast : new int[] {40, 90}) {
                    await().atMost(TestViewer.PATIENCE).until(() -> viewers.get(0).events("playerBiddingUpdate").size() >= atLeast);
                    assertTrue((Long) redis.command(master, "CLIENT", "KILL", "TYPE", "pubsub") >= 1, "killed the shard's subscribers");
                }
                publishing.get(60, TimeUnit.SECONDS);
                List<Integer> expected = IntStream.rangeClosed(1, 150).boxed().toList();
                for (TestViewer viewer : viewers) {
                    await().atMost(TestViewer.PATIENCE).until(() -> viewer.events("playerBiddingUpdate").size() >= 150);
                    assertEquals(expected, viewer.events("playerBiddingUpdate").stream()
                            .map(data -> ((JsonObject) data).getInteger("bid")).toList(), "each once, in order");
                }
            } finally {
                TestViewer.closeAll(viewers);
            }
        }
    }

    @Test
    void viewersOfAuctionsOnEveryShardCountExactlyAndGetTheirEventsOverShardedPubSub() {
        Map<String, RedisProcess> auctions = auctionsOverEveryShard("lot");
        Map<RedisProcess, Map<String, Long>> before = new LinkedHashMap<>();
        redis.masters().keySet().forEach(master -> before.put(master, commandStats(master)));
        try (Cluster gavel = Cluster.start(null, 3, Map.of("REDIS_CLUSTER", redis.seedAddresses(), "NODE_TTL_MS", "5000"))) {
            Map<String, List<TestViewer>> viewers = new LinkedHashMap<>();
            int index = 0;
            for (String auction : auctions.keySet()) {
                // 3 to 6 viewers, on every replica
                int count = 3 + index++ % 4;
                List<TestViewer> ofAuction = new ArrayList<>();
                for (int v = 0; v < count; v++) {
                    ofAuction.add(TestViewer.watch(gavel.port(v % 3), auction));
                }
                viewers.put(auction, ofAuction);
            }
            try {
                viewers.forEach((auction, ofAuction) -> ofAuction.forEach(v -> v.awaitCount(ofAuction.size(), ofAuction.size())));

                int node = 0;
                for (String auction : auctions.keySet()) {
                    assertEquals(202, ApiClient.adminPost(gavel.port(node++ % 3), "/api/v1/auctions/" + auction + "/sold",
                            "{\"message\":\"sold-" + auction + "\"}").status());
                }
                viewers.forEach((auction, ofAuction) -> ofAuction.forEach(v -> await().atMost(TestViewer.PATIENCE)
                        .until(() -> v.events("playerSoldUpdate").contains("sold-" + auction))));
                viewers.forEach((auction, ofAuction) -> ofAuction.forEach(v -> assertEquals(List.of("sold-" + auction),
                        v.events("playerSoldUpdate"), "only its own auction's event")));
                for (int n = 0; n < 3; n++) {
                    JsonObject count = new JsonObject(ApiClient.get(gavel.port(n), "/api/v1/auctions/lot-5/viewer-count").body());
                    assertEquals(viewers.get("lot-5").size(), count.getLong("current"), "viewer-count through node " + n);
                }

                // Sharded pub/sub: each auction's channel has one subscriber per replica on the master of its slot, and
                // none on the classic channels; counts and events are published with SPUBLISH, never PUBLISH.
                Map<RedisProcess, Map<String, Long>> stats = new LinkedHashMap<>();
                for (Map.Entry<String, RedisProcess> auction : auctions.entrySet()) {
                    List<?> shardSubscribers = (List<?>) auction.getValue().command("PUBSUB", "SHARDNUMSUB", channel(auction.getKey()));
                    assertEquals(3L, shardSubscribers.get(1), "replicas subscribed to " + auction.getKey() + " on its shard");
                    List<?> classic = (List<?>) auction.getValue().command("PUBSUB", "NUMSUB", channel(auction.getKey()));
                    assertEquals(0L, classic.get(1), "no classic subscription to " + auction.getKey());
                }
                System.out.println("Redis Cluster: commands per shard while 12 auctions on 3 shards were joined by 54 viewers "
                        + "and got one event each (calls since the replicas started):");
                for (RedisProcess master : redis.masters().keySet()) {
                    Map<String, Long> delta = delta(before.get(master), commandStats(master));
                    stats.put(master, delta);
                    long auctionsHere = auctions.values().stream().filter(master::equals).count();
                    System.out.printf("  shard %s (%d auctions): %s%n", master.name(), auctionsHere, delta);
                }
                for (Map.Entry<RedisProcess, Map<String, Long>> shard : stats.entrySet()) {
                    Map<String, Long> delta = shard.getValue();
                    assertTrue(delta.getOrDefault("spublish", 0L) > 0, shard.getKey().name() + " got SPUBLISH: " + delta);
                    assertTrue(delta.getOrDefault("ssubscribe", 0L) > 0, shard.getKey().name() + " got SSUBSCRIBE: " + delta);
                    assertEquals(0L, delta.getOrDefault("publish", 0L), shard.getKey().name() + " got no PUBLISH: " + delta);
                    assertEquals(0L, delta.getOrDefault("subscribe", 0L), shard.getKey().name() + " got no SUBSCRIBE: " + delta);
                }
            } finally {
                viewers.values().forEach(TestViewer::closeAll);
            }
        }
    }

    @Test
    void viewersFollowTheirAuctionWhenItsSlotMovesToAnotherShard() {
        String auction = "moving";
        try (Cluster gavel = Cluster.start(null, 3, Map.of("REDIS_CLUSTER", redis.seedAddresses(), "NODE_TTL_MS", "5000"))) {
            List<TestViewer> viewers = new ArrayList<>();
            for (int v = 0; v < 3; v++) {
                viewers.add(TestViewer.watch(gavel.port(v), auction));
            }
            try {
                viewers.forEach(v -> v.awaitCount(3, 3));
                assertEquals(202, ApiClient.adminPost(gavel.port(0), "/api/v1/auctions/" + auction + "/sold",
                        "{\"message\":\"before\"}").status());
                viewers.forEach(v -> await().atMost(TestViewer.PATIENCE).until(() -> v.events("playerSoldUpdate").contains("before")));
                RedisProcess from = redis.masterOf(counts(auction));

                // Midway through the migration the keys are on the new master while the old one still serves the slot
                // and answers ASK for them: a viewer joining then is counted there (its replica follows the ASK). Its
                // count reaches the API at once; the live count follows once the slot has moved, since the count is
                // announced on the node that holds the keys and the subscribers are still on the old one.
                TestViewer[] midway = new TestViewer[1];
                RedisProcess to = redis.moveSlotOf(counts(auction), () -> {
                    midway[0] = TestViewer.watch(gavel.port(2), auction);
                    viewers.add(midway[0]);
                    await().atMost(TestViewer.PATIENCE).pollInterval(Duration.ofMillis(100)).until(() -> ApiClient.get(gavel.port(0),
                            "/api/v1/auctions/" + auction + "/viewer-count").body(), body -> body.contains("\"current\":4"));
                });
                viewers.forEach(v -> v.awaitCount(4, 4));

                // Redis told the old master's subscribers (sunsubscribe): the replicas subscribe where the slot is now
                await().atMost(TestViewer.PATIENCE).pollInterval(Duration.ofMillis(100)).until(() ->
                        ((List<?>) to.command("PUBSUB", "SHARDNUMSUB", channel(auction))).get(1).equals(3L));
                assertEquals(0L, ((List<?>) from.command("PUBSUB", "SHARDNUMSUB", channel(auction))).get(1), "none left on the old shard");
                for (int n = 0; n < 3; n++) {
                    int node = n;
                    // a replica whose slot map is older is answered MOVED, reads the map again and publishes where the slot is
                    await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.adminPost(gavel.port(node), "/api/v1/auctions/"
                            + auction + "/sold", "{\"message\":\"after-" + node + "\"}").status() == 202);
                    viewers.forEach(v -> await().atMost(TestViewer.PATIENCE).until(() -> v.events("playerSoldUpdate")
                            .contains("after-" + node)));
                }
                viewers.add(TestViewer.watch(gavel.port(1), auction));
                viewers.forEach(v -> v.awaitCount(5, 5));
                assertTrue(((Long) to.command("EXISTS", counts(auction))) == 1L, "the counts live on the new shard");
                viewers.forEach(v -> assertFalse(v.isClosed(), "viewers stay connected"));
            } finally {
                TestViewer.closeAll(viewers);
            }
        }
    }

    private record Publish(String auction, int seq, long sentNanos, int status) {
    }

    @Test
    void killingAMasterMovesItsAuctionsToItsReplicaWhileTheOtherShardsGoOn() throws Exception {
        Map<String, RedisProcess> auctions = auctionsOverEveryShard("fail");
        RedisProcess doomed = auctions.get("fail-0");
        String moved = "fail-0";
        String steady = auctions.entrySet().stream().filter(a -> !a.getValue().equals(doomed)).map(Map.Entry::getKey)
                .findFirst().orElseThrow();
        try (Cluster gavel = Cluster.start(null, 3, Map.of("REDIS_CLUSTER", redis.seedAddresses(), "NODE_TTL_MS", "5000"))) {
            Map<String, List<TestViewer>> viewers = new LinkedHashMap<>();
            for (String auction : auctions.keySet()) {
                List<TestViewer> ofAuction = new ArrayList<>();
                for (int v = 0; v < 3; v++) {
                    ofAuction.add(TestViewer.watch(gavel.port(v), auction));
                }
                viewers.put(auction, ofAuction);
            }
            List<Publish> publishes = new CopyOnWriteArrayList<>();
            AtomicBoolean publishing = new AtomicBoolean(true);
            Thread publisher = new Thread(() -> {
                for (int seq = 0; publishing.get(); seq++) {
                    for (String auction : List.of(moved, steady)) {
                        long sent = System.nanoTime();
                        int status = ApiClient.adminPost(gavel.port(seq % 3), "/api/v1/auctions/" + auction + "/sold",
                                "{\"message\":\"m" + seq + "\"}").status();
                        publishes.add(new Publish(auction, seq, sent, status));
                    }
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "publisher");
            try {
                viewers.values().forEach(ofAuction -> ofAuction.forEach(v -> v.awaitCount(3, 3)));
                publisher.start();
                await().atMost(TestViewer.PATIENCE).until(() -> publishes.stream().filter(p -> p.status == 202).count() >= 20);

                int oldPort = doomed.port();
                redis.kill(doomed);
                // from when the master is gone (kill waits for its process to exit): a publish sent while it was being
                // killed may still have been taken by it and lost with it, like the one in flight at the kill
                long killedAt = System.nanoTime();
                CompletableFuture<Long> promotedAfterMillis = CompletableFuture.supplyAsync(() -> {
                    redis.awaitFailoverFrom(oldPort, Duration.ofSeconds(30));
                    return (System.nanoTime() - killedAt) / 1_000_000;
                });
                // viewers keep joining through the gap, on every replica and every shard
                List<TestViewer> joined = new ArrayList<>();
                int node = 0;
                for (String auction : auctions.keySet()) {
                    TestViewer viewer = TestViewer.watch(gavel.port(node++ % 3), auction);
                    joined.add(viewer);
                    viewers.get(auction).add(viewer);
                    Thread.sleep(100);
                }
                await().atMost(EXACT_WITHIN.plusSeconds(5)).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                        viewers.forEach((auction, ofAuction) -> ofAuction.forEach(v -> assertTrue(
                                v.lastCount() != null && v.lastCount().getLong("current") == ofAuction.size(),
                                auction + " (" + (auction.equals(moved) ? "moved" : "steady") + ") has " + ofAuction.size()
                                        + " viewers; one saw " + v.currents()))));
                long exactAfterMillis = (System.nanoTime() - killedAt) / 1_000_000;
                long promoted = promotedAfterMillis.get(30, TimeUnit.SECONDS);
                // what a viewer of the moved shard sees once it settled: every replica answers for its auction again
                await().atMost(EXACT_WITHIN).until(() -> IntStream.range(0, 3).allMatch(n ->
                        ApiClient.adminPost(gavel.port(n), "/api/v1/auctions/" + moved + "/sold", "{\"message\":\"probe\"}").status() == 202));
                long movedPublishingAfterMillis = (System.nanoTime() - killedAt) / 1_000_000;
                int settled = publishes.size();
                await().atMost(TestViewer.PATIENCE).until(() -> publishes.size() >= settled + 40);
                publishing.set(false);
                publisher.join(10_000);

                List<TestViewer> steadyViewers = viewers.get(steady).subList(0, 3);
                List<TestViewer> movedViewers = viewers.get(moved).subList(0, 3);
                List<Publish> steadyPublishes = publishes.stream().filter(p -> p.auction.equals(steady)).toList();
                List<Publish> movedPublishes = publishes.stream().filter(p -> p.auction.equals(moved)).toList();
                Publish lastSteady = steadyPublishes.get(steadyPublishes.size() - 1);
                await().atMost(TestViewer.PATIENCE).until(() ->
                        steadyViewers.stream().allMatch(v -> v.events("playerSoldUpdate").contains("m" + lastSteady.seq)));
                List<Publish> steadyLost = steadyPublishes.stream().filter(p -> steadyViewers.stream()
                        .anyMatch(v -> !v.events("playerSoldUpdate").contains("m" + p.seq))).toList();
                List<Publish> movedAccepted = movedPublishes.stream().filter(p -> p.status == 202).toList();
                Publish lastMoved = movedAccepted.get(movedAccepted.size() - 1);
                await().atMost(TestViewer.PATIENCE).until(() ->
                        movedViewers.stream().allMatch(v -> v.events("playerSoldUpdate").contains("m" + lastMoved.seq)));
                List<Publish> movedLost = movedAccepted.stream().filter(p -> movedViewers.stream()
                        .anyMatch(v -> !v.events("playerSoldUpdate").contains("m" + p.seq))).toList();
                Map<Integer, Long> movedStatuses = movedPublishes.stream().collect(Collectors.groupingBy(Publish::status,
                        TreeMap::new, Collectors.counting()));
                long movedLostAfterRecovery = movedLost.stream()
                        .filter(p -> p.sentNanos > killedAt + movedPublishingAfterMillis * 1_000_000).count();
                System.out.printf("Redis Cluster failover: replica promoted %d ms after the kill; counts exact on every shard %d ms "
                                + "after the kill; every replica publishing to the moved shard again %d ms after it. Other shard: %d "
                                + "publishes, statuses %s, lost %d. Moved shard: %d publishes, statuses %s, answered 202 but not "
                                + "received by every viewer %d (of which after every replica published there again: %d)%n",
                        promoted, exactAfterMillis, movedPublishingAfterMillis, steadyPublishes.size(),
                        steadyPublishes.stream().collect(Collectors.groupingBy(Publish::status, TreeMap::new, Collectors.counting())),
                        steadyLost.size(), movedPublishes.size(), movedStatuses, movedLost.size(), movedLostAfterRecovery);

                assertTrue(exactAfterMillis <= EXACT_WITHIN.toMillis(), "exact after " + exactAfterMillis + " ms");
                assertTrue(steadyPublishes.stream().allMatch(p -> p.status == 202), "the other shard never stopped: " + steadyPublishes
                        .stream().filter(p -> p.status != 202).toList());
                assertEquals(List.of(), steadyLost, "every event of the other shard reached every viewer");
                assertTrue(movedStatuses.keySet().stream().allMatch(status -> status == 202 || status == 503), "only 202 and 503: "
                        + movedStatuses);
                assertEquals(0, movedLostAfterRecovery, "nothing answered 202 is lost once the moved shard is back");
                // a replica publishes to a shard only 1.5 s after its own subscriber reached that shard's new master
                assertEquals(List.of(), movedLost.stream().filter(p -> p.sentNanos > killedAt).toList(),
                        "answered 202 after the kill but not received by every viewer");
                viewers.values().forEach(ofAuction -> ofAuction.forEach(v -> assertFalse(v.isClosed(), "viewers stay connected")));
            } finally {
                publishing.set(false);
                publisher.join(10_000);
                viewers.values().forEach(TestViewer::closeAll);
            }
        }
    }

    /**
     * Issue 18, item 4, on a Redis Cluster: one master's ACL loses {@code SSUBSCRIBE} for the user the replica logs in
     * as, and its subscriber link is cut. Before, the replica logged "resubscribed", said its store was UP, and answered
     * 202 to every event of that shard's auctions, which no viewer got. Now the store is DOWN with Redis's NOPERM, the
     * refusals are counted and retried, that shard's auctions are answered 503, and the other shards' auctions go on
     * (202, delivered); once the ACL allows it again, the link subscribes by itself and the shard's viewers get events.
     */
    @Test
    void aShardThatRefusesSsubscribeIsAFailureAndItsAuctionsAreAnswered503() throws Exception {
        Map<String, RedisProcess> auctions = auctionsOverEveryShard("deaf");
        String refusedAuction = auctions.keySet().iterator().next();
        RedisProcess refusing = auctions.get(refusedAuction);
        String fineAuction = auctions.entrySet().stream().filter(e -> e.getValue() != refusing).findFirst().orElseThrow().getKey();
        try (Cluster gavel = Cluster.start(null, 1, Map.of("REDIS_CLUSTER", redis.seedAddresses(), "NODE_TTL_MS", "5000"))) {
            int port = gavel.port(0);
            TestViewer deaf = TestViewer.watch(port, refusedAuction);
            TestViewer fine = TestViewer.watch(port, fineAuction);
            try {
                List.of(deaf, fine).forEach(v -> v.awaitCount(1, 1));
                try {
                    redis.command(refusing, "ACL", "SETUSER", "default", "-ssubscribe");
                    assertTrue((Long) redis.command(refusing, "CLIENT", "KILL", "TYPE", "pubsub") >= 1, "cut the shard's subscriber");
                    await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.get(port, "/health/ready").json().getString("storeFailure") != null);
                    JsonObject ready = ApiClient.get(port, "/health/ready").json();
                    assertEquals("DOWN", ready.getString("store"), ready.encode());
                    assertEquals("UP", ready.getString("engine"), "the other shards work: " + ready.encode());
                    assertTrue(ready.getString("storeFailure").contains("NOPERM"), ready.encode());
                    await().atMost(TestViewer.PATIENCE).until(() -> Scrape.of(port).value("gavel_redis_subscriptions_refused_total") >= 3);
                    assertEquals(1, Scrape.of(port).value("gavel_store_failing"));
                    int[] sent = {0};
                    await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                        ApiClient.Answer refused = ApiClient.adminPost(port, "/api/v1/auctions/" + refusedAuction + "/sold",
                                "{\"message\":\"nobody hears this\"}");
                        assertEquals(503, refused.status(), refused.toString());
                        sent[0]++;
                        ApiClient.Answer published = ApiClient.adminPost(port, "/api/v1/auctions/" + fineAuction + "/sold",
                                "{\"message\":\"fine-" + sent[0] + "\"}");
                        assertEquals(202, published.status(), published.toString());
                    });
                    await().atMost(TestViewer.PATIENCE).until(() -> fine.events("playerSoldUpdate").contains("fine-" + sent[0]));
                } finally {
                    redis.command(refusing, "ACL", "SETUSER", "default", "+ssubscribe");
                }
                await().atMost(TestViewer.PATIENCE).until(() -> "UP".equals(ApiClient.get(port, "/health/ready").json().getString("store")));
                assertEquals(202, ApiClient.adminPost(port, "/api/v1/auctions/" + refusedAuction + "/sold",
                        "{\"message\":\"heard\"}").status());
                assertEquals(List.of("heard"), deaf.awaitEvents("playerSoldUpdate", 1));
            } finally {
                TestViewer.closeAll(List.of(deaf, fine));
            }
        }
    }

    /** {@code INFO commandstats}: calls by command name (lower case). */
    private static Map<String, Long> commandStats(RedisProcess node) {
        Map<String, Long> calls = new TreeMap<>();
        for (String line : String.valueOf(node.command("INFO", "commandstats")).split("\r?\n")) {
            if (line.startsWith("cmdstat_")) {
                String name = line.substring("cmdstat_".length(), line.indexOf(':'));
                String value = line.substring(line.indexOf("calls=") + "calls=".length());
                calls.put(name, Long.parseLong(value.substring(0, value.indexOf(','))));
            }
        }
        return calls;
    }

    private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> delta = new TreeMap<>();
        after.forEach((command, calls) -> {
            long more = calls - before.getOrDefault(command, 0L);
            if (more > 0) {
                delta.put(command, more);
            }
        });
        return delta;
    }
}
