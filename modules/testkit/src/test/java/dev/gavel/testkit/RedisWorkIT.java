package dev.gavel.testkit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a replica sends to Redis grows with changes, never with viewers, and at rest not even with auctions: measured
 * with INFO commandstats on a real Redis, with 1 and with 1000 viewers on one replica, and with 1 and 100 auctions.
 */
class RedisWorkIT {

    private static final long NODE_TTL_MILLIS = 2000;
    private static final long HEARTBEAT_MILLIS = NODE_TTL_MILLIS / 5;
    private static final long FLUSH_MILLIS = 50;
    private static RedisFixture redis;
    private static Cluster cluster;

    @BeforeAll
    static void start() {
        redis = RedisFixture.start();
        // History sampling every half hour: it stays out of the measured windows.
        cluster = Cluster.start(redis, 1, Map.of("NODE_TTL_MS", String.valueOf(NODE_TTL_MILLIS),
                "HISTORY_INTERVAL_MS", "3600000"));
    }

    @AfterAll
    static void stop() {
        cluster.close();
        redis.close();
    }

    /** Calls per command since the last CONFIG RESETSTAT, without the test's own INFO and CONFIG. */
    private static Map<String, Long> commandCalls() {
        Map<String, Long> calls = new TreeMap<>();
        Matcher m = Pattern.compile("cmdstat_([a-z|]+):calls=(\\d+)").matcher(redis.command("INFO commandstats"));
        while (m.find()) {
            if (!m.group(1).equals("info") && !m.group(1).startsWith("config")) {
                calls.put(m.group(1), Long.parseLong(m.group(2)));
            }
        }
        return calls;
    }

    private static long total(Map<String, Long> calls) {
        return calls.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * Commands per heartbeat while the viewers sit still: what the window holds, divided by the heartbeats in it.
     * At rest a replica's only script call is its heartbeat (one per heartbeat interval, whatever its auctions), so the
     * EVALSHAs count them, whatever the timers did.
     */
    private static double commandsPerHeartbeat(int heartbeats) throws InterruptedException {
        redis.command("CONFIG RESETSTAT");
        Thread.sleep(heartbeats * HEARTBEAT_MILLIS);
        Map<String, Long> calls = commandCalls();
        calls.remove("ping"); // the subscriber's liveness check, once a second whatever the load
        System.out.printf("idle for %d heartbeats: %s%n", calls.getOrDefault("evalsha", 0L), calls);
        assertTrue(calls.getOrDefault("evalsha", 0L) > 0, "heartbeats in the window: " + calls);
        return (double) total(calls) / calls.get("evalsha");
    }

    @Test
    void atRestAReplicaWritesTheSameWithOneAuctionAndWithAHundred() throws Exception {
        List<TestViewer> viewers = new ArrayList<>();
        viewers.add(TestViewer.watch(cluster.port(0), "rest-0"));
        viewers.get(0).awaitCount(1, 1);
        Thread.sleep(2 * HEARTBEAT_MILLIS);
        double withOne = commandsPerHeartbeat(10);
        for (int i = 1; i < 100; i++) {
            viewers.add(TestViewer.watch(cluster.port(0), "rest-" + i));
        }
        viewers.get(99).awaitCount(1, 1);
        Thread.sleep(2 * HEARTBEAT_MILLIS);
        double withHundred = commandsPerHeartbeat(10);
        System.out.printf("commands per heartbeat at rest: %.2f with 1 auction, %.2f with 100%n", withOne, withHundred);
        assertEquals(withOne, withHundred, 0.01);
        TestViewer.closeAll(viewers);
    }

    @Test
    void heartbeatsAndJoinsCostTheSameWithOneAndWithAThousandViewers() throws Exception {
        TestViewer first = TestViewer.watch(cluster.port(0), "load");
        first.awaitCount(1, 1);
        double perHeartbeatWithOne = commandsPerHeartbeat(10);

        redis.command("CONFIG RESETSTAT");
        long started = System.nanoTime();
        List<TestViewer> crowd = new ArrayList<>();
        for (int i = 0; i < 999; i++) {
            crowd.add(TestViewer.watch(cluster.port(0), "load"));
        }
        first.awaitCurrent(1000);
        long joinMillis = (System.nanoTime() - started) / 1_000_000;
        Map<String, Long> joinCalls = commandCalls();
        System.out.printf("999 joins over %d ms: %s%n", joinMillis, joinCalls);
        long evals = joinCalls.getOrDefault("evalsha", 0L);
        // One report per flush at most (plus heartbeats in that time), however many viewers joined.
        assertTrue(evals <= joinMillis / FLUSH_MILLIS + joinMillis / HEARTBEAT_MILLIS + 3,
                "evalsha calls " + evals + " for 999 joins in " + joinMillis + " ms");
        assertEquals(0, joinCalls.getOrDefault("subscribe", 0L), "the auction's channel was already subscribed");
        // Count broadcasts to a viewer are coalesced: at most one per 200 ms while the crowd poured in.
        long updates = first.events("viewerCountUpdate").size();
        assertTrue(updates <= 2 + joinMillis / 200 + 2, updates + " count updates in " + joinMillis + " ms");

        double perHeartbeatWithThousand = commandsPerHeartbeat(10);
        System.out.printf("commands per heartbeat: %.2f with 1 viewer, %.2f with 1000 viewers%n",
                perHeartbeatWithOne, perHeartbeatWithThousand);
        assertEquals(perHeartbeatWithOne, perHeartbeatWithThousand, 0.01);

        TestViewer.closeAll(crowd);
        await().atMost(Duration.ofSeconds(15)).until(() -> first.lastCount().getLong("current") == 1);
        first.close();
    }

    /** {@code viewer-count} is public: reading made-up auction ids must leave nothing in Redis. */
    @Test
    void readingTheCountOfAnAuctionNeverWatchedWritesNothing() {
        for (int i = 0; i < 50; i++) {
            ApiClient.Answer answer = ApiClient.get(cluster.port(0), "/api/v1/auctions/never-" + i + "/viewer-count");
            assertEquals(200, answer.status(), answer.toString());
            assertEquals(0, answer.json().getLong("current"));
        }
        assertEquals(":0", redis.command("EXISTS gavel:{a:never-7}").strip());
        assertEquals("*0", redis.command("KEYS *never-*").strip(), "keys the reads left behind");
    }
}
