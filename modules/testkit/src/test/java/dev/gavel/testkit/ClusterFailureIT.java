package dev.gavel.testkit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Replicas that die, stop, restart, and a Redis that goes away and comes back. */
class ClusterFailureIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
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
    void cleanRedis() {
        redis.bringBack();
        redis.command("FLUSHALL");
    }

    @AfterEach
    void stopCluster() {
        TestViewer.closeAll(viewers);
        if (cluster != null) {
            cluster.close();
        }
    }

    private void startCluster(long nodeTtlMillis) {
        cluster = Cluster.start(redis, 3, Map.of("NODE_TTL_MS", String.valueOf(nodeTtlMillis)));
    }

    private TestViewer watch(int node, String auction) {
        TestViewer viewer = TestViewer.watch(cluster.port(node), auction);
        viewers.add(viewer);
        return viewer;
    }

    private static int readiness(int port) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void aKilledReplicaStopsCountingWithinTheTtlAndEveryoneIsTold() {
        long ttl = 2000;
        startCluster(ttl);
        TestViewer onDead = watch(0, "crash");
        watch(0, "crash");
        TestViewer onOne = watch(1, "crash");
        TestViewer onTwo = watch(2, "crash");
        onOne.awaitCount(4, 4);
        onTwo.awaitCount(4, 4);

        cluster.crash(0);
        onDead.awaitClosed();

        // Nobody on nodes 1 and 2 changed: the sweep of their heartbeats must find the dead entry.
        Duration deadline = Duration.ofMillis(ttl + 1000);
        await().atMost(deadline).until(() -> onOne.lastCount().getLong("current") == 2);
        await().atMost(deadline).until(() -> onTwo.lastCount().getLong("current") == 2);
        assertEquals(4, onOne.lastCount().getLong("peak"));
    }

    @Test
    void aStoppedReplicaIsRemovedAtOnceAndItsViewersAreClosedWith1012() {
        startCluster(60_000);
        TestViewer leaving = watch(0, "graceful");
        TestViewer staying = watch(1, "graceful");
        staying.awaitCount(2, 2);

        cluster.stop(0);

        assertEquals(1012, leaving.awaitClosed());
        // Far sooner than the 60 s lease: the stopping replica removed its entries itself.
        await().atMost(Duration.ofSeconds(5)).until(() -> staying.lastCount().getLong("current") == 1);
    }

    @Test
    void aReplicaRestartedUnderTheSameIdDoesNotCountTwice() {
        startCluster(60_000);
        watch(0, "restart");
        watch(0, "restart");
        TestViewer staying = watch(1, "restart");
        staying.awaitCount(3, 3);

        cluster.crash(0);
        int restarted = cluster.add("node-0");

        // The restarted node clears what its earlier run left, long before the lease would have run out.
        await().atMost(Duration.ofSeconds(5)).until(() -> staying.lastCount().getLong("current") == 1);
        TestViewer back = watch(restarted, "restart");
        back.awaitCount(2, 3);
        staying.awaitCount(2, 3);
    }

    @Test
    void whileRedisIsAwayViewersStayAndReadinessFailsThenCountsAreExactAgain() throws Exception {
        startCluster(2000);
        TestViewer a = watch(0, "outage");
        TestViewer b = watch(1, "outage");
        TestViewer c = watch(2, "outage");
        TestViewer leaver = watch(2, "outage");
        a.awaitCount(4, 4);
        assertEquals(200, readiness(cluster.port(0)));

        redis.takeDown();
        for (int i = 0; i < 3; i++) {
            int port = cluster.port(i);
            await().atMost(TestViewer.PATIENCE).until(() -> readiness(port) == 503);
        }
        leaver.close();

        redis.bringBack();
        for (int i = 0; i < 3; i++) {
            int port = cluster.port(i);
            await().atMost(TestViewer.PATIENCE).until(() -> readiness(port) == 200);
        }
        assertFalse(a.isClosed() || b.isClosed() || c.isClosed(), "viewers stayed connected");
        // Each replica rewrote its entries: the count is exact again, and new changes flow as before.
        a.awaitCurrent(3);
        TestViewer late = watch(1, "outage");
        for (TestViewer viewer : List.of(a, b, c, late)) {
            viewer.awaitCurrent(4);
        }
    }

    @Test
    void aRedisThatStopsAnsweringIsNoticedAndTheNodeRecoversWhenItAnswersAgain() throws Exception {
        startCluster(2000);
        TestViewer a = watch(0, "paused");
        TestViewer b = watch(1, "paused");
        a.awaitCount(2, 2);

        // The socket stays open but nothing is answered: only the PING watchdog can tell.
        redis.command("CLIENT PAUSE 5000 ALL");
        int port = cluster.port(0);
        await().atMost(TestViewer.PATIENCE).until(() -> readiness(port) == 503);
        await().atMost(TestViewer.PATIENCE).until(() -> readiness(port) == 200);

        assertFalse(a.isClosed() || b.isClosed(), "viewers stayed connected");
        TestViewer c = watch(2, "paused");
        a.awaitCount(3, 3);
        c.awaitCount(3, 3);
    }
}
