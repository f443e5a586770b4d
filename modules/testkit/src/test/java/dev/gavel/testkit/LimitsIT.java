package dev.gavel.testkit;

import dev.gavel.core.ViewerEvent;
import dev.gavel.core.memory.InMemoryBackend;
import io.vertx.core.http.HttpMethod;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node's limits against one abusive address or viewer: each refusal, and that viewers from other addresses
 * (bound to 127.0.0.2) were not touched and every count stayed exact.
 */
class LimitsIT {

    private static final String OTHER_ADDRESS = "127.0.0.2";

    private Cluster cluster;
    private final List<AutoCloseable> clients = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable client : clients) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private int start(Map<String, String> env) {
        cluster = Cluster.start(null, 1, env);
        return cluster.port(0);
    }

    private <T extends AutoCloseable> T track(T client) {
        clients.add(client);
        return client;
    }

    @Test
    void anAddressHoldsAtMostItsConnectionsOnEveryTransportAndASessionCountsOnce() {
        int port = start(Map.of("MAX_CONNECTIONS_PER_ADDRESS", "3", "SOCKETIO_PING_INTERVAL_MS", "300"));
        // a SockJS session polls again and again, a Socket.IO session starts polling and upgrades: one connection each
        JsViewer sockJs = track(JsViewer.sockJs(port, "auction-lim", "xhr-polling")).awaitCount(1, 1);
        JsViewer socketIo = track(JsViewer.socketIo(port, JsViewer.teamOptions("auction-lim"))).awaitCount(2, 2);
        TestViewer ws = track(TestViewer.watch(port, "lim")).awaitCount(3, 3);

        assertEquals(429, TestViewer.refusalStatus(port, "/ws?slug=auction-lim", null));
        assertEquals(429, ApiClient.get(port, "/auction/?EIO=4&transport=polling&slug=auction-lim").status());
        assertEquals(429, ApiClient.get(port, "/sockjs/000/fresh/eventsource?slug=auction-lim").status());

        TestViewer other = track(TestViewer.watchFrom(OTHER_ADDRESS, port, "lim")).awaitCount(4, 4);
        sockJs.awaitCount(4, 4);
        socketIo.awaitCount(4, 4);
        ws.awaitCount(4, 4);
        assertEquals(4, ApiClient.get(port, "/api/v1/auctions/lim/viewer-count").json().getLong("current"));

        ws.close();
        other.awaitCount(3, 4);
        track(TestViewer.watch(port, "lim")).awaitCount(4, 4);
        sockJs.awaitCount(4, 4);
    }

    @Test
    void sessionsThatNeverConnectOrPollExpireOnTheirProtocolsTimeoutsAndGiveTheirPlaceBack() {
        int port = start(Map.of("MAX_CONNECTIONS_PER_ADDRESS", "1", "SOCKETIO_PING_INTERVAL_MS", "300",
                "SOCKETIO_PING_TIMEOUT_MS", "300"));
        String handshake = "/auction/?EIO=4&transport=polling&slug=auction-idle";
        assertEquals(200, ApiClient.get(port, handshake).status());
        assertEquals(429, ApiClient.get(port, handshake).status());
        // never polled: Engine.IO closes it after its ping interval and timeout
        await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.get(port, handshake).status() == 200);
        cluster.close();

        int sockJsPort = start(Map.of("MAX_CONNECTIONS_PER_ADDRESS", "1"));
        assertEquals(200, sockJsOpen(sockJsPort, "idle", "first"));
        assertEquals(429, sockJsOpen(sockJsPort, "idle", "second"));
        // never polled again: SockJS closes it after its session timeout (5 s)
        await().atMost(TestViewer.PATIENCE).until(() -> sockJsOpen(sockJsPort, "idle", UUID.randomUUID().toString()) == 200);
    }

    /**
     * SockJS sessions take their place at admission, before vertx-web writes their open frame: sessions an address
     * opens at the same instant never pass its limit, also while they wait together for their auction's
     * subscription. An open that fails gives its place back.
     */
    @Test
    void sockJsSessionsOpenedAtOnceNeverPassTheAddressLimitAndFailedOpensGiveTheirPlaceBack() throws Exception {
        int port = start(Map.of("MAX_CONNECTIONS_PER_ADDRESS", "3"));
        // a GET of the WebSocket endpoint that asks for no upgrade: admitted, then refused by SockJS
        for (int i = 0; i < 5; i++) {
            assertEquals(400, ApiClient.get(port, "/sockjs/websocket?slug=auction-failed").status());
        }

        // twelve connections, each with its request written at the same moment, for a fresh auction
        int opens = 12;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(opens);
        List<java.net.Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < opens; i++) {
                java.net.Socket socket = new java.net.Socket("127.0.0.1", port);
                socket.setSoTimeout(30_000);
                sockets.add(socket);
            }
            java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<String>> statuses = new ArrayList<>();
            for (java.net.Socket socket : sockets) {
                statuses.add(pool.submit(() -> {
                    byte[] request = ("POST /sockjs/000/" + UUID.randomUUID() + "/xhr?slug=auction-burst HTTP/1.1\r\n"
                            + "Host: 127.0.0.1\r\nContent-Length: 0\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                    start.await();
                    socket.getOutputStream().write(request);
                    return new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                            java.nio.charset.StandardCharsets.US_ASCII)).readLine();
                }));
            }
            start.countDown();
            List<String> answered = new ArrayList<>();
            for (java.util.concurrent.Future<String> status : statuses) {
                answered.add(status.get(30, java.util.concurrent.TimeUnit.SECONDS));
            }
            assertEquals(3, answered.stream().filter(line -> line.startsWith("HTTP/1.1 200")).count(), answered.toString());
            assertEquals(opens - 3, answered.stream().filter(line -> line.startsWith("HTTP/1.1 429")).count(), answered.toString());
        } finally {
            pool.shutdownNow();
            for (java.net.Socket socket : sockets) {
                socket.close();
            }
        }
        await().atMost(TestViewer.PATIENCE).until(() ->
                ApiClient.get(port, "/api/v1/auctions/burst/viewer-count").json().getLong("current") == 3);
    }

    private int sockJsOpen(int port, String auction, String session) {
        return ApiClient.send(HttpMethod.POST, port, "/sockjs/000/" + session + "/xhr?slug=auction-" + auction, Map.of(), "").status();
    }

    @Test
    void anAddressOpensAtMostItsRateAndIsToldWhenToRetry() throws IOException {
        int port = start(Map.of("MAX_NEW_CONNECTIONS_PER_ADDRESS_PER_SECOND", "5"));
        TestViewer other = track(TestViewer.watchFrom(OTHER_ADDRESS, port, "rate")).awaitCount(1, 1);

        int accepted = 0;
        RawWebSocket refused = null;
        for (int i = 0; i < 50 && refused == null; i++) {
            RawWebSocket attempt = track(RawWebSocket.open(port, "/ws?slug=auction-rate", null, 65536));
            if (attempt.status() == 101) {
                accepted++;
            } else {
                refused = attempt;
            }
        }
        assertTrue(refused != null, "never refused");
        assertEquals(429, refused.status());
        assertEquals("1", refused.header("retry-after"));
        assertTrue(accepted >= 5, "a burst of one second's worth: " + accepted);

        other.awaitCurrent(1 + accepted);
        track(TestViewer.watchFrom(OTHER_ADDRESS, port, "rate")).awaitCurrent(2 + accepted);
        // the bucket refills: the address may open again a moment later
        await().atMost(TestViewer.PATIENCE).until(() -> track(RawWebSocket.open(port, "/ws?slug=auction-rate", null, 65536))
                .status() == 101);
        other.awaitCurrent(3 + accepted);
    }

    @Test
    void behindATrustedProxyTheForwardedClientIsLimitedAndAnUntrustedPeerCannotPretend() throws IOException {
        int port = start(Map.of("TRUSTED_PROXIES", "127.0.0.1", "MAX_CONNECTIONS_PER_ADDRESS", "1"));
        assertEquals(101, upgradeFrom("127.0.0.1", port, "198.51.100.1"));
        assertEquals(429, upgradeFrom("127.0.0.1", port, "198.51.100.1"));
        assertEquals(101, upgradeFrom("127.0.0.1", port, "203.0.113.5, 198.51.100.2"));
        // 127.0.0.2 is no proxy of ours: what it forwards is not looked at
        assertEquals(101, upgradeFrom(OTHER_ADDRESS, port, "198.51.100.3"));
        assertEquals(429, upgradeFrom(OTHER_ADDRESS, port, "198.51.100.4"));
        await().atMost(TestViewer.PATIENCE).untilAsserted(() ->
                assertEquals(3, ApiClient.get(port, "/api/v1/auctions/proxy/viewer-count").json().getLong("current")));
    }

    private int upgradeFrom(String local, int port, String forwardedFor) throws IOException {
        return track(RawWebSocket.open(local, port, "/ws?slug=auction-proxy", Map.of("X-Forwarded-For", forwardedFor), 65536))
                .status();
    }

    @Test
    void aViewerThatFloodsHeartbeatsAndReadsTheAcksIsClosedWith1008AndTheOthersStay() {
        int port = start(Map.of());
        TestViewer flooder = track(TestViewer.watch(port, "beats"));
        TestViewer other = track(TestViewer.watchFrom(OTHER_ADDRESS, port, "beats")).awaitCount(2, 2);

        try {
            for (int i = 0; i < 2_000 && !flooder.isClosed(); i++) {
                flooder.send("{\"event\":\"heartbeat\"}");
            }
        } catch (IllegalStateException e) {
            // the node closed it while heartbeats were still going out
        }
        assertEquals(1008, flooder.awaitClosed());
        int acks = flooder.events(ViewerEvent.HEARTBEAT_ACK).size();
        assertTrue(acks <= 150, "acks answered at a bounded rate: " + acks);

        other.awaitCount(1, 2);
        other.send("{\"event\":\"heartbeat\"}");
        other.awaitEvents(ViewerEvent.HEARTBEAT_ACK, 1);
        assertEquals(1, ApiClient.get(port, "/api/v1/auctions/beats/viewer-count").json().getLong("current"));
    }

    @Test
    void anAddressOverItsApiRateIsRefusedBeforeItsTokenIsLookedAtAndOthersAreServed() {
        int port = start(Map.of("MAX_API_REQUESTS_PER_ADDRESS_PER_SECOND", "5"));
        TestViewer viewer = track(TestViewer.watchFrom(OTHER_ADDRESS, port, "api")).awaitCount(1, 1);

        ApiClient.Answer refused = null;
        for (int i = 0; i < 50 && refused == null; i++) {
            ApiClient.Answer answer = ApiClient.adminGet(port, "/api/v1/auctions/api/viewer-stats");
            if (answer.status() != 200) {
                refused = answer;
            }
        }
        assertTrue(refused != null, "never refused");
        assertEquals(429, refused.status(), refused.toString());
        assertEquals("1", refused.headers().get("Retry-After"));
        assertEquals(429, ApiClient.send(HttpMethod.POST, port, "/api/v1/auctions/api/sold",
                Map.of("Authorization", "Bearer wrong", "Content-Type", "application/json"), "{\"message\":\"x\"}").status());
        assertEquals(200, ApiClient.get(port, "/health/live").status());

        ApiClient.Answer served = ApiClient.sendFrom(OTHER_ADDRESS, HttpMethod.GET, port, "/api/v1/auctions/api/viewer-count",
                Map.of(), null);
        assertEquals(200, served.status());
        assertEquals(1, served.json().getLong("current"));
        assertEquals(202, ApiClient.sendFrom(OTHER_ADDRESS, HttpMethod.POST, port, "/api/v1/auctions/api/sold",
                Map.of("Authorization", "Bearer " + ApiClient.ADMIN_TOKEN, "Content-Type", "application/json"),
                "{\"message\":\"sold\"}").status());
        viewer.awaitEvents(ViewerEvent.PLAYER_SOLD_UPDATE, 1);
    }

    @Test
    void aFloodOfViewersFromOneAddressFillsTheReplicaNotItsOpenFiles() throws IOException {
        // 700 open files: MAX_VIEWERS defaults to 700 - 256, the rest is kept for the JVM, health and the API
        try (NodeProcess node = NodeProcess.startWithOpenFileLimit(Map.of("ADMIN_TOKEN", ApiClient.ADMIN_TOKEN), 700)) {
            int port = node.port();
            TestViewer other = track(TestViewer.watchFrom(OTHER_ADDRESS, port, "fill")).awaitCount(1, 1);

            int accepted = 0;
            int full = 0;
            for (int i = 0; i < 700; i++) {
                RawWebSocket viewer = track(RawWebSocket.open(port, "/ws?slug=auction-fill", null, 65536));
                if (viewer.status() == 101) {
                    accepted++;
                } else {
                    assertEquals(503, viewer.status());
                    full++;
                    viewer.close();
                }
            }
            assertEquals(700 - 256 - 1, accepted, "the replica takes MAX_VIEWERS, the other viewer included");
            assertEquals(700 - accepted, full);

            assertEquals(200, node.status("/health/live"));
            assertEquals(503, node.status("/health/ready"));
            other.awaitCurrent(1 + accepted);
            ApiClient.Answer count = ApiClient.sendFrom(OTHER_ADDRESS, HttpMethod.GET, port, "/api/v1/auctions/fill/viewer-count",
                    Map.of(), null);
            assertEquals(1 + accepted, count.json().getLong("current"));
            assertFalse(node.output().contains("Too many open files"), node.output());

            for (AutoCloseable client : clients) {
                if (client instanceof RawWebSocket raw) {
                    raw.close();
                }
            }
            other.awaitCurrent(1);
            await().atMost(TestViewer.PATIENCE).until(() -> node.readiness() == 200);
        }
    }

    @Test
    void viewersOnThousandsOfRandomAuctionIdsLeaveBoundedStateBehind() {
        int port = start(Map.of());
        int ids = 3_000;
        for (int batch = 0; batch < ids / 200; batch++) {
            List<TestViewer> viewers = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                viewers.add(TestViewer.watch(port, "r" + UUID.randomUUID().toString().replace("-", "")));
            }
            // counted: the node reported it and recorded its viewer
            await().atMost(TestViewer.PATIENCE).until(() -> viewers.stream()
                    .allMatch(viewer -> viewer.lastCount() != null && viewer.lastCount().getLong("current") == 1));
            TestViewer.closeAll(viewers);
        }
        InMemoryBackend backend = (InMemoryBackend) cluster.node(0).backend();
        await().atMost(TestViewer.PATIENCE).until(() -> cluster.node(0).audience().localViewers() == 0);

        InMemoryBackend.Retained retained = backend.retained();
        long perAuction = retained.statsBytes() / Math.max(1, retained.statsAuctions());
        System.out.printf("%d random auction ids: stats hold %d bytes for %d auctions (%d each), presence %d auctions%n",
                ids, retained.statsBytes(), retained.statsAuctions(), perAuction, retained.presenceAuctions());
        assertTrue(retained.statsAuctions() >= ids, "every id was recorded: " + retained.statsAuctions());
        assertTrue(perAuction < 1024, "a watched-once auction costs under 1 KiB, not a dense 16 KiB tally: " + perAuction);
        assertTrue(retained.statsBytes() <= InMemoryBackend.STATS_IDLE_BYTES_MAX, retained.statsBytes() + " bytes");
        assertTrue(retained.presenceAuctions() <= InMemoryBackend.PRESENCE_IDLE_AUCTIONS_MAX);
    }
}
