package dev.gavel.testkit;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Engine.IO rules that the official client never breaks, checked with a plain HTTP client against a real
 * node: errors, overlapping polls, bad packets, oversized bodies, and a long-polling client that stops polling.
 * The Socket.IO project's own protocol suite runs in {@link SocketIoProtocolSuiteIT}.
 */
class SocketIoProtocolIT {

    private static final String BASE = "/auction/?EIO=4&transport=polling";
    private static Cluster cluster;
    private static Vertx vertx;
    private static WebClient http;

    @BeforeAll
    static void startNode() {
        cluster = Cluster.start(null, 1, Map.of("SOCKETIO_PING_INTERVAL_MS", "300", "SOCKETIO_PING_TIMEOUT_MS", "300"));
        vertx = Vertx.vertx();
        http = WebClient.create(vertx);
    }

    @AfterAll
    static void stopNode() throws Exception {
        cluster.close();
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private static HttpRequest<Buffer> get(String uri) {
        return http.get(cluster.port(0), "127.0.0.1", uri);
    }

    private static HttpRequest<Buffer> post(String uri) {
        return http.post(cluster.port(0), "127.0.0.1", uri);
    }

    private static HttpResponse<Buffer> await(Future<HttpResponse<Buffer>> response) throws Exception {
        return response.await(TestViewer.PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }

    /** Opens a long-polling session and returns its id. */
    private static String handshake(String auction) throws Exception {
        HttpResponse<Buffer> open = await(get(BASE + "&slug=auction-" + auction).send());
        assertEquals(200, open.statusCode(), open::bodyAsString);
        assertTrue(open.bodyAsString().startsWith("0{"), open::bodyAsString);
        return new JsonObject(open.bodyAsString().substring(1)).getString("sid");
    }

    @Test
    void theHandshakeAnnouncesTheConfiguredHeartbeatAndSetsTheStickyCookie() throws Exception {
        HttpResponse<Buffer> open = await(get(BASE + "&slug=auction-handshake").putHeader("Origin", "http://localhost:3000").send());
        JsonObject handshake = new JsonObject(open.bodyAsString().substring(1));
        assertEquals(List.of("websocket"), handshake.getJsonArray("upgrades").getList());
        assertEquals(300, handshake.getInteger("pingInterval"));
        assertEquals(300, handshake.getInteger("pingTimeout"));
        assertEquals(4096, handshake.getInteger("maxPayload"));
        String cookie = open.cookies().get(0);
        assertTrue(cookie.startsWith("GAVEL_NODE=node-0;") && cookie.contains("Path=/") && cookie.contains("SameSite=Lax"), cookie);
        assertEquals("http://localhost:3000", open.getHeader("Access-Control-Allow-Origin"));
        assertEquals("true", open.getHeader("Access-Control-Allow-Credentials"));
    }

    /**
     * A pong makes the next ping due an interval later, which is sooner than the pong's own deadline was when the
     * timeout is longer than the interval: the node's ticker must learn that from the pong, not from its last tick.
     */
    @Test
    void eachPingFollowsThePongByTheIntervalWhenTheTimeoutIsLonger() throws Exception {
        try (Cluster node = Cluster.start(null, 1, Map.of("SOCKETIO_PING_INTERVAL_MS", "500", "SOCKETIO_PING_TIMEOUT_MS", "10000"));
             RawWebSocket ws = RawWebSocket.open(node.port(0), "/auction/?EIO=4&transport=websocket&slug=auction-pings", null, 1 << 16)) {
            assertEquals(101, ws.status());
            assertTrue(ws.readText().startsWith("0{"));
            ws.sendText("40".getBytes(StandardCharsets.US_ASCII));
            long lastPong = 0;
            for (int pings = 0; pings < 4; ) {
                if (!ws.readText().equals("2")) {
                    continue;
                }
                long now = System.nanoTime();
                if (pings > 0) {
                    long afterPongMs = (now - lastPong) / 1_000_000;
                    assertTrue(afterPongMs < 3_000, "ping " + pings + " came " + afterPongMs + " ms after the pong (interval 500 ms)");
                }
                ws.sendText("3".getBytes(StandardCharsets.US_ASCII));
                lastPong = System.nanoTime();
                pings++;
            }
        }
    }

    @Test
    void engineIoErrorsAreAnsweredAsEngineIoAnswersThem() throws Exception {
        HttpResponse<Buffer> unknown = await(get(BASE + "&sid=nosuchsession").send());
        assertEquals(400, unknown.statusCode());
        assertEquals(new JsonObject().put("code", 1).put("message", "Session ID unknown"), unknown.bodyAsJsonObject());

        HttpResponse<Buffer> oldProtocol = await(get("/auction/?EIO=3&transport=polling&slug=auction-x").send());
        assertEquals(400, oldProtocol.statusCode());
        assertEquals(5, oldProtocol.bodyAsJsonObject().getInteger("code"));

        HttpResponse<Buffer> noTransport = await(get("/auction/?EIO=4&transport=flash&slug=auction-x").send());
        assertEquals(0, noTransport.bodyAsJsonObject().getInteger("code"));

        HttpResponse<Buffer> badSlug = await(get(BASE + "&slug=auction-").send());
        assertEquals(400, badSlug.statusCode());
        assertTrue(badSlug.bodyAsJsonObject().getString("error").startsWith("slug must be"));

        HttpResponse<Buffer> badOrigin = await(get(BASE + "&slug=auction-x").putHeader("Origin", "http://evil.example").send());
        assertEquals(403, badOrigin.statusCode());
        assertTrue(badOrigin.bodyAsJsonObject().containsKey("error"));
    }

    @Test
    void aSecondConcurrentPollIsRefusedAndClosesTheSession() throws Exception {
        String sid = handshake("overlap");
        Future<HttpResponse<Buffer>> first = get(BASE + "&sid=" + sid).send();
        Future<HttpResponse<Buffer>> second = get(BASE + "&sid=" + sid).send();
        List<HttpResponse<Buffer>> both = List.of(await(first), await(second));
        assertTrue(both.stream().anyMatch(r -> r.statusCode() == 400), "one poll is refused");
        assertTrue(both.stream().anyMatch(r -> r.statusCode() == 200 && r.bodyAsString().equals("1")),
                "the held poll is told the session is closed");
        assertEquals(400, await(get(BASE + "&sid=" + sid).send()).statusCode());
    }

    @Test
    void aPollThatArrivesAfterTheClientsCloseIsAnsweredWithANoop() throws Exception {
        // the client sends CLOSE without waiting for its poll, which may reach the node after it (on another
        // connection, or through another event loop)
        String sid = handshake("closelate");
        assertEquals("ok", await(post(BASE + "&sid=" + sid).sendBuffer(Buffer.buffer("1"))).bodyAsString());
        HttpResponse<Buffer> late = await(get(BASE + "&sid=" + sid).send());
        assertEquals(200, late.statusCode());
        assertEquals("6", late.bodyAsString());
        assertEquals(400, await(get(BASE + "&sid=" + sid).send()).statusCode(), "then the sid is gone");
    }

    @Test
    void aBadPacketClosesTheSession() throws Exception {
        String sid = handshake("badpacket");
        assertEquals(400, await(post(BASE + "&sid=" + sid).sendBuffer(Buffer.buffer("abc"))).statusCode());
        HttpResponse<Buffer> after = await(get(BASE + "&sid=" + sid).send());
        assertEquals(1, after.bodyAsJsonObject().getInteger("code"));
    }

    @Test
    void aBodyOverMaxPayloadIsRefusedAndClosesTheSession() throws Exception {
        String sid = handshake("toolarge");
        String huge = "42[\"heartbeat\",\"" + "x".repeat(5000) + "\"]";
        assertEquals(413, await(post(BASE + "&sid=" + sid).sendBuffer(Buffer.buffer(huge))).statusCode());
        assertEquals(400, await(get(BASE + "&sid=" + sid).send()).statusCode());
    }

    @Test
    void aLongPollingClientThatStopsPollingIsRemovedFromTheCount() throws Exception {
        try (TestViewer plain = TestViewer.watch(cluster.port(0), "stops")) {
            PlainCounts.await(plain, 1, 1);
            String sid = handshake("stops");
            assertEquals("ok", await(post(BASE + "&sid=" + sid).sendBuffer(Buffer.buffer("40"))).bodyAsString());
            String polled = await(get(BASE + "&sid=" + sid).send()).bodyAsString();
            assertTrue(polled.startsWith("40{\"sid\":"), polled);
            PlainCounts.await(plain, 2, 2);
            // no more polls and no pong: gone after pingInterval + pingTimeout
            PlainCounts.await(plain, 1, 2);
            assertEquals(1, await(get(BASE + "&sid=" + sid).send()).bodyAsJsonObject().getInteger("code"));
        }
    }
}
