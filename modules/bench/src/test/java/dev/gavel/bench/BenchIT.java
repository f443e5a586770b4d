package dev.gavel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gavel.testkit.RedisFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs every scenario of the bench jar at a small size against Gavel (and the Node.js peer where it can be
 * installed) and checks that the harness produced sane results: every viewer connected and got every event, the
 * JSON was written. It never asserts a timing: speed is the bench's to report, not a test's to judge.
 */
class BenchIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path jar;
    private static Path repo;
    private static Path results;

    @BeforeAll
    static void locate() throws IOException {
        jar = Path.of(System.getProperty("gavel.bench.jar", "target/gavel-bench.jar")).toAbsolutePath();
        repo = Path.of(System.getProperty("gavel.repo", "../..")).toAbsolutePath().normalize();
        if (!Files.exists(repo.resolve("modules/server/pom.xml"))) {
            repo = Path.of("../..").toAbsolutePath().normalize();
        }
        results = Path.of("target/it-results").toAbsolutePath();
        Files.createDirectories(results);
    }

    @Test
    void fanoutOnOneNodeDeliversEveryBidToEveryViewer() throws Exception {
        JsonNode m = run("fanout", "gavel", "--transport", "ws", "--viewers", "30", "--bids", "20", "--rate", "50",
                "--warmup-bids", "5");
        assertEquals(30, m.get("opened").asInt());
        assertEquals(20, m.get("bidsAccepted").asInt());
        assertEquals(30, m.get("viewersWithEveryBid").asInt());
        assertEquals(600, m.get("deliveries").asLong());
        assertEquals(600, m.get("latencyCount").asLong());
        assertTrue(m.get("serverCpuMs").asLong() >= 0);
        assertEquals(0, m.get("disconnects").asInt());
    }

    @Test
    void fanoutOverThreeReplicasOnRedisDeliversEveryBidToEveryViewer() throws Exception {
        try (RedisFixture redis = RedisFixture.start()) {
            JsonNode m = run("fanout", "gavel", "--transport", "sio-ws", "--replicas", "3", "--redis-url", redis.url(),
                    "--viewers", "30", "--bids", "20", "--rate", "50", "--warmup-bids", "5");
            assertEquals(3, m.get("replicas").asInt());
            assertEquals(30, m.get("viewersWithEveryBid").asInt());
            assertEquals(600, m.get("deliveries").asLong());
        }
    }

    @Test
    void holdKeepsEveryViewerAndMeasuresMemory() throws Exception {
        JsonNode m = run("hold", "gavel", "--transport", "sockjs", "--viewers", "30", "--minutes", "0.05", "--auctions", "3");
        assertEquals(30, m.get("opened").asInt());
        assertEquals(30, m.get("stillOpen").asInt());
        assertEquals(0, m.get("disconnects").asInt());
        assertTrue(m.get("heapKb").asLong() > 0, "live heap read with jcmd");
        assertTrue(m.get("rssKb").asLong() > 0, "RSS read from /proc");
    }

    @Test
    void connectOpensEveryViewerOverPollingThenUpgrade() throws Exception {
        JsonNode m = run("connect", "gavel", "--transport", "sio-polling", "--viewers", "30", "--auctions", "3");
        assertEquals(30, m.get("opened").asInt());
        assertEquals(0, m.get("failedToOpen").asInt());
        assertTrue(m.get("viewersPerSecond").asDouble() > 0);
    }

    @Test
    void joinstormConvergesOnTheFinalCount() throws Exception {
        JsonNode m = run("joinstorm", "gavel", "--viewers", "30");
        assertEquals(30, m.get("opened").asInt());
        assertTrue(m.get("converged").asBoolean());
        assertEquals(30, m.get("viewersWithFinalCount").asInt());
        assertTrue(m.get("countMessages").asLong() >= 30);
    }

    @Test
    void slowViewerDoesNotCostTheOthersAnEvent() throws Exception {
        JsonNode m = run("slow", "gavel", "--transport", "ws", "--viewers", "10", "--events", "200", "--rate", "200",
                "--warmup-events", "20", "--drain-s", "5");
        assertEquals(1, m.get("stalled").asInt());
        assertEquals(9, m.get("others").asInt());
        assertEquals(9, m.get("othersWithEveryEvent").asInt());
        assertTrue(m.has("stalledCloseCode"));
        assertTrue(m.has("heapWhileStalledKb"));
    }

    @Test
    void coresComparesOneAndTwoEventLoops() throws Exception {
        JsonNode one = run("cores", "gavel-el1", "--viewers", "20", "--bids", "10", "--rate", "50", "--warmup-bids", "5");
        JsonNode two = read("cores", "gavel-el2");
        assertEquals(20, one.get("viewersWithEveryBid").asInt());
        assertEquals(20, two.get("viewersWithEveryBid").asInt());
        assertTrue(Files.exists(results.resolve("cores-compare.json")));
    }

    @Test
    void shardsComparesOneRedisWithAClusterPerShard() throws Exception {
        JsonNode one = run("shards", "redis-1", "--transport", "ws", "--viewers", "60", "--auctions", "30", "--rest-s", "2",
                "--fanout-viewers", "20", "--bids", "10", "--rate", "50");
        JsonNode cluster = read("shards", "cluster-3");
        assertEquals(1, one.get("redisProcesses").asInt());
        assertEquals(3, cluster.get("redisProcesses").asInt());
        assertEquals(60, cluster.get("stormViewers").asInt());
        assertEquals(20, one.get("viewersWithEveryBid").asInt());
        assertEquals(20, cluster.get("viewersWithEveryBid").asInt());
        for (int shard = 0; shard < 3; shard++) {
            // 30 auctions spread over every shard: each one has work in the storm
            assertTrue(cluster.get("stormCmdsPerSecShard" + shard).asDouble() > 0, "shard " + shard + " worked: " + cluster);
        }
        assertTrue(Files.exists(results.resolve("shards-both.json")));
    }

    @Test
    void clusterKeepsEveryCountExactThroughJoinsAndChurn() throws Exception {
        JsonNode m = run("cluster", "redis-1", "--replicas", "2", "--viewers", "300", "--auctions", "20", "--join-rate", "300",
                "--rest-s", "1", "--bids-s", "2", "--hold-s", "6", "--churn", "20", "--churn-every-s", "2", "--bid-rate", "10",
                "--bid-ranks", "0,1,10", "--sample-ranks", "0,1,2,5,19");
        assertEquals(2, m.get("replicas").asInt());
        assertEquals(90, m.get("hotAuctionViewers").asInt(), "30% of 300 in the hot auction");
        assertEquals(300, m.get("opened").asInt());
        assertEquals(0, m.get("failedToOpen").asInt());
        // two churn rounds of 2 (20% a minute of 300, every 2 s, within 6 s): each replaced by a new viewer
        assertEquals(2, m.get("churnRounds").asInt());
        assertEquals(4, m.get("churnJoined").asInt());
        assertEquals(300, m.get("stillOpen").asInt());
        assertEquals(0, m.get("unexpectedDisconnects").asInt());
        // after the join and after each round: every replica's API and every viewer showed the generator's truth
        assertEquals(3, m.get("countChecks").asInt());
        assertEquals(3, m.get("countChecksExact").asInt(), "every sampled count became exact: " + m);
        assertTrue(m.get("bidsViewersExpectingBids").asInt() > 0);
        assertEquals(m.get("bidsViewersExpectingBids").asInt(), m.get("bidsViewersWithEveryBid").asInt());
        assertEquals(m.get("holdViewersExpectingBids").asInt(), m.get("holdViewersWithEveryBid").asInt());
        assertTrue(m.get("holdFanoutRank0Count").asLong() > 0, "fan-out measured for the hot auction");
        assertTrue(m.get("restRedisCmdsPerSec").asDouble() > 0, "Redis commands at rest read from INFO");
    }

    @Test
    void peerRunsSideBySideWhenItCanBeInstalled() throws Exception {
        Path peer = repo.resolve("../shared/peers/seed-socketio").normalize();
        Assumptions.assumeTrue(Files.isRegularFile(peer.resolve("server.js")),
                "skipping the peer: no " + peer + " (the team's Node.js peer is not on this machine)");
        Execution prepare = execute(List.of("prepare-peer"), 300);
        Assumptions.assumeTrue(prepare.exitCode == 0, "skipping the peer: npm ci failed:\n" + prepare.output);
        execute(List.of("fanout", "--target", "both", "--viewers", "20", "--bids", "10", "--rate", "50", "--warmup-bids", "5"), 90)
                .assertSucceeded();
        JsonNode peerResult = read("fanout", "peer");
        assertEquals(20, peerResult.get("viewersWithEveryBid").asInt());
        assertTrue(JSON.readTree(results.resolve("fanout-both.json").toFile()).has("ratio gavel/others"));
    }

    private JsonNode run(String scenario, String target, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(scenario));
        command.addAll(List.of(args));
        execute(command, 90).assertSucceeded();
        return read(scenario, target);
    }

    private JsonNode read(String scenario, String target) throws IOException {
        Path file = results.resolve(scenario + "-" + target + ".json");
        assertTrue(Files.exists(file), "the harness wrote " + file);
        JsonNode document = JSON.readTree(file.toFile());
        assertEquals(scenario, document.get("scenario").asText());
        return document.get("metrics");
    }

    private record Execution(int exitCode, String output) {
        void assertSucceeded() {
            assertEquals(0, exitCode, "the bench failed:\n" + output);
        }
    }

    /** Runs the bench jar as an operator does; a run over its time is ended, with everything it started. */
    private Execution execute(List<String> args, int seconds) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString()));
        command.addAll(args);
        command.addAll(List.of("--repo", repo.toString(), "--results", results.toString()));
        Path log = Files.createTempFile(results, "run-", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            List<ProcessHandle> children = process.descendants().toList();
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            children.forEach(ProcessHandle::destroyForcibly);
            return new Execution(-1, "timed out after " + seconds + " s:\n" + Files.readString(log, StandardCharsets.UTF_8));
        }
        return new Execution(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
