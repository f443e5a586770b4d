package dev.gavel.testkit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Three nodes on one real Redis: viewers spread over them all see the same counts. */
class ClusterCountIT {

    private static RedisFixture redis;
    private Cluster cluster;
    private final List<TestViewer> viewers = new ArrayList<>();

    @BeforeAll
    static void startRedis() {
        redis = RedisFixture.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @BeforeEach
    void startCluster() {
        redis.command("FLUSHALL");
        cluster = Cluster.start(redis, 3, Map.of("NODE_TTL_MS", "2000"));
    }

    @AfterEach
    void stopCluster() {
        TestViewer.closeAll(viewers);
        cluster.close();
    }

    private TestViewer watch(int node, String auction) {
        TestViewer viewer = TestViewer.watch(cluster.port(node), auction);
        viewers.add(viewer);
        return viewer;
    }

    @Test
    void viewersSpreadOverNodesAllSeeTheSameCount() {
        for (int i = 0; i < 6; i++) {
            watch(i % 3, "spread");
        }
        viewers.forEach(v -> v.awaitCount(6, 6));
    }

    @Test
    void aViewerLeavingDropsTheCountEverywhereAndPeakHolds() {
        TestViewer a = watch(0, "leave");
        TestViewer b = watch(1, "leave");
        TestViewer c = watch(2, "leave");
        List.of(a, b, c).forEach(v -> v.awaitCount(3, 3));
        b.close();
        a.awaitCount(2, 3);
        c.awaitCount(2, 3);
    }

    @Test
    void aReplicaIsSubscribedToAnAuctionOnlyWhileItHasViewersThere() {
        String channel = "gavel:{a:subs}:events";
        TestViewer a = watch(0, "subs");
        TestViewer b = watch(1, "subs");
        a.awaitCount(2, 2);
        await().atMost(TestViewer.PATIENCE).until(() -> subscribers(channel) == 2);
        a.close();
        b.close();
        await().atMost(TestViewer.PATIENCE).until(() -> subscribers(channel) == 0);
    }

    private static long subscribers(String channel) {
        // The reply is a RESP array [channel, count]; the count is the last line, as ":<n>".
        String reply = redis.command("PUBSUB NUMSUB " + channel);
        String[] lines = reply.split("\r\n");
        return Long.parseLong(lines[lines.length - 1].substring(1));
    }

    @Test
    void twoAuctionsCountIndependently() {
        TestViewer x1 = watch(0, "x");
        TestViewer x2 = watch(1, "x");
        TestViewer y1 = watch(2, "y");
        x1.awaitCount(2, 2);
        x2.awaitCount(2, 2);
        y1.awaitCount(1, 1);
        assertEquals(1, y1.lastCount().getLong("current"));
    }
}
