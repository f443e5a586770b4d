package dev.gavel.testkit;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Replicas that die, stop, restart, and a Redis that goes away and comes back. */
class ClusterFailureIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @RegisterExtension
    static final ClusterExtension gavel = new ClusterExtension(3, Map.of());

    private static int readiness(int port) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /**
     * How the replica says its store is ("UP" or "DOWN"), asserting that it is ready all the same: readiness is about
     * the replica, never about Redis, which every replica shares (a probe that failed with it would take every replica
     * out of its Service at once).
     */
    private static String store(int port) throws Exception {
        HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, answer.statusCode(), answer.body());
        JsonObject body = new JsonObject(answer.body());
        if ("DOWN".equals(body.getString("store"))) {
            assertTrue(body.getString("storeFailure", "").length() > 0, "says why the store is down: " + body.encode());
        }
        return body.getString("store");
    }

    @Test
    void aKilledReplicaStopsCountingWithinTheTtlAndEveryoneIsTold() {
        long ttl = 2000;
        gavel.start(3, Map.of("NODE_TTL_MS", String.valueOf(ttl)));
        TestViewer onDead = gavel.watch(0, "crash");
        gavel.watch(0, "crash");
        TestViewer onOne = gavel.watch(1, "crash");
        TestViewer onTwo = gavel.watch(2, "crash");
        onOne.awaitCount(4, 4);
        onTwo.awaitCount(4, 4);

        gavel.cluster().crash(0);
        onDead.awaitClosed();

        // Nobody on nodes 1 and 2 changed: the sweep of their heartbeats must find the dead entry.
        Duration deadline = Duration.ofMillis(ttl + 1000);
        await().atMost(deadline).until(() -> onOne.lastCount().getLong("current") == 2);
        await().atMost(deadline).until(() -> onTwo.lastCount().getLong("current") == 2);
        assertEquals(4, onOne.lastCount().getLong("peak"));
    }

    @Test
    void aStoppedReplicaIsRemovedAtOnceAndItsViewersAreClosedWith1012() {
        gavel.start(3, Map.of("NODE_TTL_MS", "60000"));
        TestViewer leaving = gavel.watch(0, "graceful");
        TestViewer staying = gavel.watch(1, "graceful");
        staying.awaitCount(2, 2);

        gavel.cluster().stop(0);

        assertEquals(1012, leaving.awaitClosed());
        // Far sooner than the 60 s lease: the stopping replica removed its entries itself.
        await().atMost(Duration.ofSeconds(5)).until(() -> staying.lastCount().getLong("current") == 1);
    }

    @Test
    void aReplicaRestartedUnderTheSameIdDoesNotCountTwice() {
        gavel.start(3, Map.of("NODE_TTL_MS", "60000"));
        gavel.watch(0, "restart");
        gavel.watch(0, "restart");
        TestViewer staying = gavel.watch(1, "restart");
        staying.awaitCount(3, 3);

        gavel.cluster().crash(0);
        int restarted = gavel.cluster().add("node-0");

        // The restarted node clears what its earlier run left, long before the lease would have run out.
        await().atMost(Duration.ofSeconds(5)).until(() -> staying.lastCount().getLong("current") == 1);
        TestViewer back = gavel.watch(restarted, "restart");
        back.awaitCount(2, 3);
        staying.awaitCount(2, 3);
    }

    @Test
    void whileRedisIsAwayViewersStayAndReplicasStayReadySayingTheStoreIsDownThenCountsAreExactAgain() throws Exception {
        gavel.start(3, Map.of("NODE_TTL_MS", "2000"));
        TestViewer a = gavel.watch(0, "outage");
        TestViewer b = gavel.watch(1, "outage");
        TestViewer c = gavel.watch(2, "outage");
        TestViewer leaver = gavel.watch(2, "outage");
        a.awaitCount(4, 4);
        assertEquals(200, readiness(gavel.cluster().port(0)));

        gavel.redis().takeDown();
        for (int i = 0; i < 3; i++) {
            int port = gavel.cluster().port(i);
            await().atMost(TestViewer.PATIENCE).until(() -> "DOWN".equals(store(port)));
            assertEquals(1, Scrape.of(port).value("gavel_store_failing"));
            assertEquals(1, Scrape.of(port).value("gavel_ready"));
            assertEquals(200, readiness(port));
        }
        leaver.close();

        gavel.redis().bringBack();
        for (int i = 0; i < 3; i++) {
            int port = gavel.cluster().port(i);
            await().atMost(TestViewer.PATIENCE).until(() -> "UP".equals(store(port)));
        }
        assertFalse(a.isClosed() || b.isClosed() || c.isClosed(), "viewers stayed connected");
        // Each replica rewrote its entries: the count is exact again, and new changes flow as before.
        a.awaitCurrent(3);
        TestViewer late = gavel.watch(1, "outage");
        for (TestViewer viewer : List.of(a, b, c, late)) {
            viewer.awaitCurrent(4);
        }
    }

    @Test
    void aRedisThatStopsAnsweringIsNoticedAndTheNodeRecoversWhenItAnswersAgain() throws Exception {
        gavel.start(3, Map.of("NODE_TTL_MS", "2000"));
        TestViewer a = gavel.watch(0, "paused");
        TestViewer b = gavel.watch(1, "paused");
        a.awaitCount(2, 2);

        // The socket stays open but nothing is answered: only the PING watchdog can tell.
        gavel.redis().command("CLIENT PAUSE 5000 ALL");
        int port = gavel.cluster().port(0);
        await().atMost(TestViewer.PATIENCE).until(() -> "DOWN".equals(store(port)));
        await().atMost(TestViewer.PATIENCE).until(() -> "UP".equals(store(port)));

        assertFalse(a.isClosed() || b.isClosed(), "viewers stayed connected");
        TestViewer c = gavel.watch(2, "paused");
        a.awaitCount(3, 3);
        c.awaitCount(3, 3);
    }

    @Test
    void aNodeStartedWhileRedisIsDownIsReadyTakesViewersAndCountsThemOnceRedisIsUp() throws Exception {
        gavel.redis().takeDown();
        Cluster cluster = Cluster.start(gavel.redis(), 1, Map.of("NODE_TTL_MS", "2000"));
        try {
            // ready (the probe of every replica would fail at once otherwise), and saying why the store is not
            assertEquals("DOWN", store(cluster.port(0)));
            assertEquals(200, ApiClient.get(cluster.port(0), "/health/live").status());
            TestViewer early = gavel.track(TestViewer.watch(cluster.port(0), "late"));

            gavel.redis().bringBack();
            await().atMost(TestViewer.PATIENCE).until(() -> "UP".equals(store(cluster.port(0))));
            early.awaitCount(1, 1);
            gavel.track(TestViewer.watch(cluster.port(0), "late"));
            early.awaitCount(2, 2);
        } finally {
            cluster.close();
        }
    }
}
