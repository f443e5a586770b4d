package dev.gavel.testkit;

import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One viewer is one viewer, whatever its transport and replica: three nodes on one real Redis, a
 * {@code socket.io-client} with default options on the first, a {@code sockjs-client} on XHR on the second, a plain
 * WebSocket on the third.
 */
class MixedTransportsIT {

    private static RedisFixture redis;
    private Cluster cluster;
    private final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeAll
    static void startRedis() {
        redis = RedisFixture.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable client : clients) {
            client.close();
        }
        cluster.close();
    }

    private <T extends AutoCloseable> T track(T client) {
        clients.add(client);
        return client;
    }

    @Test
    void socketIoSockJsAndWebSocketViewersOnThreeNodesAllSeeThree() {
        redis.command("FLUSHALL");
        cluster = Cluster.start(redis, 3, Map.of());
        JsViewer socketIo = track(JsViewer.socketIo(cluster.port(0), JsViewer.teamOptions("auction-mixed")));
        JsViewer sockJs = track(JsViewer.sockJs(cluster.port(1), "auction-mixed", "xhr-streaming"));
        TestViewer plain = track(TestViewer.watch(cluster.port(2), "mixed"));

        socketIo.awaitCount(3, 3);
        sockJs.awaitCount(3, 3);
        PlainCounts.await(plain, 3, 3);

        socketIo.close();
        sockJs.awaitCount(2, 3);
        PlainCounts.await(plain, 2, 3);

        sockJs.close();
        PlainCounts.await(plain, 1, 3);
    }

    @Test
    void socketIoBehindTwoReplicasSeesTheSameCountAsAWebSocketViewer() {
        redis.command("FLUSHALL");
        cluster = Cluster.start(redis, 2, Map.of());
        JsViewer socketIo = track(JsViewer.socketIo(cluster.port(0), JsViewer.teamOptions("auction-pair")));
        socketIo.awaitRecord("upgrade");
        TestViewer plain = track(TestViewer.watch(cluster.port(1), "pair"));
        socketIo.awaitCount(2, 2);
        PlainCounts.await(plain, 2, 2);
    }

    @Test
    void aStoppingReplicaTakesItsSocketIoViewersOutAndClosesThem() {
        redis.command("FLUSHALL");
        cluster = Cluster.start(redis, 2, Map.of());
        JsViewer upgraded = track(JsViewer.socketIo(cluster.port(0), JsViewer.teamOptions("auction-stop")));
        JsViewer polling = track(JsViewer.socketIo(cluster.port(0),
                JsViewer.teamOptions("auction-stop").put("transports", new JsonArray().add("polling"))));
        upgraded.awaitRecord("upgrade");
        TestViewer plain = track(TestViewer.watch(cluster.port(1), "stop"));
        PlainCounts.await(plain, 3, 3);

        cluster.stop(0);

        PlainCounts.await(plain, 1, 3);
        assertEquals("transport close", upgraded.awaitRecord("disconnect").getString("reason"));
        // told by its held poll, or by its next one; a poll that finds the replica already gone ends in an error
        assertTrue(List.of("transport close", "transport error").contains(polling.awaitRecord("disconnect").getString("reason")),
                polling::toString);
    }
}
