package dev.gavel.testkit;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Redis commands per second at rest (nobody joins or leaves) with two replicas and one viewer in each of 100, then
 * 1,000 auctions: a replica proves it is alive once per heartbeat, whatever the number of its auctions, so the two are
 * the same. Audience history is sampled once an hour here (its own per-auction cost is stated in docs/redis.md). Prints
 * what it measured (docs/benchmarks.md, "Redis at rest, flat in auctions").
 */
class RedisAtRestIT {

    private static final int REST_SECONDS = 20;

    /** Calls per command over the window, without INFO and CONFIG (the test's own) and PING (the subscriber's check). */
    private static Map<String, Long> callsAtRest(RedisFixture redis) throws InterruptedException {
        redis.command("CONFIG RESETSTAT");
        Thread.sleep(REST_SECONDS * 1000L);
        Map<String, Long> calls = new TreeMap<>();
        Matcher m = Pattern.compile("cmdstat_([a-z|]+):calls=(\\d+)").matcher(redis.command("INFO commandstats"));
        while (m.find()) {
            String command = m.group(1);
            if (!command.equals("info") && !command.startsWith("config") && !command.equals("ping")) {
                calls.put(command, Long.parseLong(m.group(2)));
            }
        }
        return calls;
    }

    private static double perSecond(Map<String, Long> calls, String command) {
        long n = command == null ? calls.values().stream().mapToLong(Long::longValue).sum() : calls.getOrDefault(command, 0L);
        return Math.round(n * 10.0 / REST_SECONDS) / 10.0;
    }

    private static Map<String, Long> measure(int auctions) throws InterruptedException {
        try (RedisFixture redis = RedisFixture.start();
             Cluster cluster = Cluster.start(redis, 2, Map.of("HISTORY_INTERVAL_MS", "3600000"))) {
            List<TestViewer> viewers = new ArrayList<>();
            try {
                for (int i = 0; i < auctions; i++) {
                    viewers.add(TestViewer.watch(cluster.port(i % 2), "rest-" + i));
                }
                viewers.forEach(viewer -> viewer.awaitCount(1, 1));
                // two heartbeats (NODE_TTL_MS / 5) for the joins' flushes to be over
                Thread.sleep(4000);
                Map<String, Long> calls = callsAtRest(redis);
                System.out.printf("at rest, 2 replicas, %d auctions: %.1f commands/s (%.1f script calls/s): %s%n", auctions,
                        perSecond(calls, null), perSecond(calls, "evalsha"), calls);
                return calls;
            } finally {
                TestViewer.closeAll(viewers);
            }
        }
    }

    @Test
    void commandsPerSecondAtRestAreTheSameWithAHundredAndAThousandAuctions() throws Exception {
        Map<String, Long> hundred = measure(100);
        Map<String, Long> thousand = measure(1000);
        // two replicas, a heartbeat every 2 s: about one script call a second, give or take a timer's tick at the edges
        assertEquals(perSecond(hundred, "evalsha"), perSecond(thousand, "evalsha"), 0.3,
                "script calls at rest: " + hundred + " vs " + thousand);
    }
}
