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
 * the same. The audience history is on, with an interval of one second (the default is ten): it is written when a count
 * changes, never at rest, so it adds nothing either. Prints what it measured (docs/benchmarks.md, "Redis at rest, flat in
 * auctions").
 */
class RedisAtRestIT {

    /**
     * The measurement's size: small in the build (CI), where it checks that the two are the same; docs/benchmarks.md's
     * figures come from {@code -Dgavel.atRest.few=100 -Dgavel.atRest.many=1000 -Dgavel.atRest.seconds=20}.
     */
    private static final int REST_SECONDS = Integer.getInteger("gavel.atRest.seconds", 6);
    private static final int FEW = Integer.getInteger("gavel.atRest.few", 10);
    private static final int MANY = Integer.getInteger("gavel.atRest.many", 100);
    /** Auctions of the join storm, each with 5 persons in 3 tabs. */
    private static final int STORM_AUCTIONS = Integer.getInteger("gavel.atRest.stormAuctions", 20);

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
             Cluster cluster = Cluster.start(redis, 2, Map.of("HISTORY_INTERVAL_MS", "1000"))) {
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

    /**
     * A join storm of 1,500 viewers on two replicas: 100 auctions, 5 persons each in 3 tabs (two tabs on one replica, the
     * third on the other), with and without their {@code viewerId}s, counted by connection and by person. Returns the
     * calls per command during the storm; prints them, and the commands per second at rest after it.
     */
    private static Map<String, Long> storm(String countBy, boolean withIds) throws InterruptedException {
        try (RedisFixture redis = RedisFixture.start();
             Cluster cluster = Cluster.start(redis, 2, Map.of("HISTORY_INTERVAL_MS", "3600000", "COUNT_BY", countBy))) {
            List<TestViewer> viewers = new ArrayList<>();
            try {
                redis.command("CONFIG RESETSTAT");
                long started = System.nanoTime();
                for (int tab = 0; tab < 3; tab++) {
                    for (int person = 0; person < 5; person++) {
                        for (int auction = 0; auction < STORM_AUCTIONS; auction++) {
                            int replica = (person + (tab == 2 ? 1 : 0)) % 2;
                            viewers.add(TestViewer.connect(cluster.port(replica), "/ws?slug=auction-storm-" + auction
                                    + (withIds ? "&viewerId=p" + person : ""), null));
                        }
                    }
                }
                long expected = countBy.equals("person") && withIds ? 5 : 15;
                viewers.forEach(viewer -> viewer.awaitCurrent(expected));
                double seconds = (System.nanoTime() - started) / 1e9;
                Map<String, Long> calls = new TreeMap<>();
                Matcher m = Pattern.compile("cmdstat_([a-z|]+):calls=(\\d+)").matcher(redis.command("INFO commandstats"));
                while (m.find()) {
                    if (!m.group(1).equals("info") && !m.group(1).startsWith("config") && !m.group(1).equals("ping")) {
                        calls.put(m.group(1), Long.parseLong(m.group(2)));
                    }
                }
                long total = calls.values().stream().mapToLong(Long::longValue).sum();
                System.out.printf("join storm, COUNT_BY=%s, %s: %d viewers (%d auctions x 5 persons x 3 tabs) over %.1f s: "
                                + "%d commands (%d script calls, %d hincrby): %s%n", countBy, withIds ? "with viewerIds" : "no viewerId",
                        viewers.size(), STORM_AUCTIONS, seconds, total, calls.getOrDefault("evalsha", 0L), calls.getOrDefault("hincrby", 0L), calls);
                Thread.sleep(4000);
                Map<String, Long> rest = callsAtRest(redis);
                System.out.printf("at rest after it, COUNT_BY=%s, %s: %.1f commands/s (%.1f script calls/s)%n", countBy,
                        withIds ? "with viewerIds" : "no viewerId", perSecond(rest, null), perSecond(rest, "evalsha"));
                return calls;
            } finally {
                TestViewer.closeAll(viewers);
            }
        }
    }

    @Test
    void aJoinStormOfPersonsCostsOneChangePerPersonAndReplicaNotPerTab() throws Exception {
        Map<String, Long> anonymous = storm("connection", false);
        Map<String, Long> byConnection = storm("connection", true);
        Map<String, Long> byPerson = storm("person", true);
        assertEquals(0, anonymous.getOrDefault("hincrby", 0L), "no person key, no person: " + anonymous);
        // each person arrives once on each of the two replicas: 10 arrivals per auction for its 15 tabs
        for (Map<String, Long> calls : List.of(byConnection, byPerson)) {
            assertEquals(STORM_AUCTIONS * 10L, calls.getOrDefault("hincrby", 0L), "one change per person and replica: " + calls);
        }
    }

    @Test
    void commandsPerSecondAtRestAreTheSameWithFewAndTenTimesMoreAuctions() throws Exception {
        Map<String, Long> hundred = measure(FEW);
        Map<String, Long> thousand = measure(MANY);
        // two replicas, a heartbeat every 2 s: about one script call a second, give or take a timer's tick at the edges;
        // no history sample, whatever the auctions (before, two per auction per replica per interval: 4,000/s here)
        assertEquals(perSecond(hundred, "evalsha"), perSecond(thousand, "evalsha"), 0.5,
                "script calls at rest: " + hundred + " vs " + thousand);
        assertEquals(perSecond(hundred, null), perSecond(thousand, null), 3.0,
                "commands at rest: " + hundred + " vs " + thousand);
    }
}
