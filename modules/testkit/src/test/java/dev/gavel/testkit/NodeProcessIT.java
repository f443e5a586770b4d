package dev.gavel.testkit;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Nodes as real processes: SIGTERM, bad configuration, and a plain start with nothing configured. */
class NodeProcessIT {

    @Test
    void sigtermRemovesTheReplicaAtOnceClosesViewersWith1012AndExitsWithin10Seconds() {
        try (RedisFixture redis = RedisFixture.start();
             Cluster other = Cluster.start(redis, 1, Map.of("NODE_TTL_MS", "60000"));
             NodeProcess node = NodeProcess.start(Map.of("REDIS_URL", redis.url(), "NODE_ID", "proc", "NODE_TTL_MS", "60000"))) {
            TestViewer onProcess = TestViewer.watch(node.port(), "sigterm");
            TestViewer onOther = TestViewer.watch(other.port(0), "sigterm");
            onOther.awaitCount(2, 2);

            node.terminate();

            assertEquals(1012, onProcess.awaitClosed());
            Integer exit = node.awaitExit(Duration.ofSeconds(10));
            assertNotNull(exit, "exited within 10 s");
            // The lease is 60 s: only the stopping replica's own cleanup can have dropped the count this soon.
            await().atMost(Duration.ofSeconds(5)).until(() -> onOther.lastCount().getLong("current") == 1);
            onOther.close();
        }
    }

    @Test
    void afterSigkillTheReplicasViewersStopCountingWithinTheTtl() {
        long ttl = 3000;
        try (RedisFixture redis = RedisFixture.start();
             Cluster other = Cluster.start(redis, 1, Map.of("NODE_TTL_MS", String.valueOf(ttl)));
             NodeProcess node = NodeProcess.start(Map.of("REDIS_URL", redis.url(), "NODE_ID", "doomed",
                     "NODE_TTL_MS", String.valueOf(ttl)))) {
            TestViewer onProcess = TestViewer.watch(node.port(), "sigkill");
            TestViewer alsoOnProcess = TestViewer.watch(node.port(), "sigkill");
            TestViewer onOther = TestViewer.watch(other.port(0), "sigkill");
            onOther.awaitCount(3, 3);

            long killedAt = System.nanoTime();
            node.kill();
            onProcess.awaitClosed();
            alsoOnProcess.awaitClosed();

            await().atMost(Duration.ofMillis(ttl + 1000)).until(() -> onOther.lastCount().getLong("current") == 1);
            System.out.printf("a SIGKILLed replica stopped counting after %d ms (NODE_TTL_MS=%d)%n",
                    (System.nanoTime() - killedAt) / 1_000_000, ttl);
            onOther.close();
        }
    }

    @Test
    void aBadValueStopsTheNodeWithOneLineNamingTheVariable() {
        for (Map.Entry<String, String> bad : Map.of(
                "PORT", "eighty",
                "REDIS_URL", "http://localhost:6379",
                "NODE_TTL_MS", "0",
                "ADMIN_TOKEN", "",
                "DRAIN_MS", "-1",
                "GEOIP_DB", "/no/such/country.mmdb").entrySet()) {
            try (NodeProcess node = NodeProcess.launch(Map.of(bad.getKey(), bad.getValue()), Ports.free())) {
                Integer exit = node.awaitExit(Duration.ofSeconds(30));
                assertNotNull(exit, "exited");
                assertNotEquals(0, exit);
                String output = node.output().strip();
                assertEquals(1, output.lines().count(), output);
                assertTrue(output.contains(bad.getKey()), output);
            }
        }
    }

    @Test
    void withNothingConfiguredANodeRunsOnTheInMemoryBackend() {
        try (NodeProcess node = NodeProcess.start(Map.of())) {
            assertEquals(200, node.status("/health/live"));
            assertEquals(200, node.status("/health/ready"));
            TestViewer first = TestViewer.watch(node.port(), "solo");
            TestViewer second = TestViewer.watch(node.port(), "solo");
            first.awaitCount(2, 2);
            second.close();
            first.awaitCount(1, 2);
            first.close();
            assertTrue(node.output().contains("in-memory"), node.output());
        }
    }
}
