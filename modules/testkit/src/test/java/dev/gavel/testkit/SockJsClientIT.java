package dev.gavel.testkit;

import dev.gavel.core.AuctionId;
import dev.gavel.core.Json;
import dev.gavel.core.ViewerEvent;
import dev.gavel.server.http.StickyCookie;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The official {@code sockjs-client} 1.6 against a real node, forced onto each of its transports. */
class SockJsClientIT {

    private static final AtomicInteger AUCTIONS = new AtomicInteger();
    private static Cluster cluster;
    private static Vertx vertx;
    private static WebClient http;
    private final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeAll
    static void startNode() {
        cluster = Cluster.start(null, 1, Map.of());
        vertx = Vertx.vertx();
        http = WebClient.create(vertx);
    }

    @AfterAll
    static void stopNode() throws Exception {
        cluster.close();
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void closeClients() throws Exception {
        for (AutoCloseable client : clients) {
            client.close();
        }
    }

    private static String newAuction(String transport) {
        return "sockjs-" + transport + "-" + AUCTIONS.incrementAndGet();
    }

    private JsViewer connect(String transport, String slug) {
        JsViewer viewer = JsViewer.sockJs(cluster.port(0), slug, transport);
        clients.add(viewer);
        return viewer;
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "xhr-streaming", "xhr-polling"})
    void countsOnJoinAndOnLeave(String transport) {
        String auction = newAuction(transport);
        JsViewer viewer = connect(transport, "auction-" + auction);
        assertEquals(transport, viewer.awaitRecord("open").getString("transport"));
        viewer.awaitCount(1, 1);
        TestViewer plain = TestViewer.watch(cluster.port(0), auction);
        clients.add(plain);
        PlainCounts.await(plain, 2, 2);
        viewer.awaitCount(2, 2);
        viewer.close();
        PlainCounts.await(plain, 1, 2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "xhr-streaming", "xhr-polling"})
    void biddingAndSoldEventsArriveWithTheirPayloads(String transport) throws Exception {
        String auction = newAuction(transport);
        JsViewer viewer = connect(transport, "auction-" + auction);
        viewer.awaitCount(1, 1);
        AuctionId id = AuctionId.of(auction);
        cluster.node(0).backend().broker()
                .publish(id, ViewerEvent.of(ViewerEvent.PLAYER_BIDDING_UPDATE, "{\"name\":\"Virat\",\"basePrice\":200}"))
                .await(10, TimeUnit.SECONDS);
        cluster.node(0).backend().broker()
                .publish(id, ViewerEvent.of(ViewerEvent.PLAYER_SOLD_UPDATE, Json.quote("Virat sold to Mumbai")))
                .await(10, TimeUnit.SECONDS);
        assertEquals(List.of(new JsonObject().put("name", "Virat").put("basePrice", 200)),
                viewer.awaitEvents(ViewerEvent.PLAYER_BIDDING_UPDATE, 1));
        assertEquals(List.of("Virat sold to Mumbai"), viewer.awaitEvents(ViewerEvent.PLAYER_SOLD_UPDATE, 1));
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "xhr-streaming", "xhr-polling"})
    void heartbeatIsAcknowledgedAndABadFrameIsAnsweredWithAnError(String transport) {
        JsViewer viewer = connect(transport, "auction-" + newAuction(transport));
        viewer.awaitCount(1, 1);
        viewer.send("{\"event\":\"heartbeat\"}");
        assertEquals(1, viewer.awaitEvents(ViewerEvent.HEARTBEAT_ACK, 1).size());
        viewer.send("not json");
        JsonObject error = (JsonObject) viewer.awaitEvents(ViewerEvent.ERROR, 1).get(0);
        assertEquals("bad_frame", error.getString("code"));
        viewer.send("{\"event\":\"heartbeat\"}");
        assertTrue(viewer.awaitEvents(ViewerEvent.HEARTBEAT_ACK, 2).stream().allMatch(data -> data == null));
    }

    /**
     * vertx-web's SockJS sessions close with SockJS's own {@code 3000 "Go away!"} whatever code is asked for, and on
     * the SockJS WebSocket transport the node's 4 KiB frame limit closes the WebSocket itself (the client reports
     * 1006); either way the sender is closed and no longer counted.
     */
    @ParameterizedTest
    @ValueSource(strings = {"websocket", "xhr-streaming", "xhr-polling"})
    void aFrameOver4KiBClosesTheConnection(String transport) {
        String auction = newAuction(transport);
        JsViewer viewer = connect(transport, "auction-" + auction);
        viewer.awaitCount(1, 1);
        viewer.send("{\"event\":\"heartbeat\",\"padding\":\"" + "x".repeat(5000) + "\"}");
        int code = viewer.awaitRecord("close").getInteger("code");
        assertTrue(code == 3000 || code == 1006, viewer::toString);
        assertTrue(viewer.events(ViewerEvent.HEARTBEAT_ACK).isEmpty(), viewer::toString);
        AuctionId id = AuctionId.of(auction);
        await().atMost(TestViewer.PATIENCE).until(() ->
                cluster.node(0).audience().localRooms().await(10, TimeUnit.SECONDS).getOrDefault(id, 0) == 0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "xhr-streaming", "xhr-polling"})
    void aBadSlugIsRefusedAndNothingIsCounted(String transport) {
        JsViewer viewer = connect(transport, "auction-");
        JsonObject close = viewer.awaitRecord("close");
        assertEquals(1002, close.getInteger("code"), close::encode);
        assertTrue(viewer.records().stream().noneMatch(r -> "open".equals(r.getString("type"))), viewer::toString);
        assertEquals(0, cluster.node(0).audience().localViewers());
    }

    @Test
    void everySockJsRequestIsAdmittedFirstAndCarriesTheStickyCookie() throws Exception {
        int port = cluster.port(0);
        HttpResponse<Buffer> info = http.get(port, "127.0.0.1", "/sockjs/info?slug=auction-cookie").send()
                .await(10, TimeUnit.SECONDS);
        assertEquals(200, info.statusCode());
        assertTrue(info.cookies().stream().anyMatch(c -> c.startsWith(StickyCookie.NAME + "=node-0")), info.cookies()::toString);

        HttpResponse<Buffer> badSlug = http.post(port, "127.0.0.1", "/sockjs/000/abcdefgh/xhr?slug=auction-").send()
                .await(10, TimeUnit.SECONDS);
        assertEquals(400, badSlug.statusCode());
        assertTrue(badSlug.bodyAsJsonObject().getString("error").startsWith("slug must be"));

        HttpResponse<Buffer> badOrigin = http.get(port, "127.0.0.1", "/sockjs/info?slug=auction-cookie")
                .putHeader("Origin", "http://evil.example").send().await(10, TimeUnit.SECONDS);
        assertEquals(403, badOrigin.statusCode());
        assertTrue(badOrigin.bodyAsJsonObject().containsKey("error"));
        assertEquals(0, cluster.node(0).audience().localViewers());
    }

    @Test
    void theIframePageLoadsSockJsFromTheNodeNotACdn() throws Exception {
        int port = cluster.port(0);
        HttpResponse<Buffer> iframe = http.get(port, "127.0.0.1", "/sockjs/iframe.html?slug=auction-iframe").send()
                .await(10, TimeUnit.SECONDS);
        assertEquals(200, iframe.statusCode());
        String page = iframe.bodyAsString();
        Matcher script = Pattern.compile("<script src=\"([^\"]+)\"").matcher(page);
        assertTrue(script.find(), page);
        String library = script.group(1);
        assertTrue(library.startsWith("/") && !library.startsWith("//"), "not served by the node: " + library);

        HttpResponse<Buffer> served = http.get(port, "127.0.0.1", library).send().await(10, TimeUnit.SECONDS);
        assertEquals(200, served.statusCode());
        assertTrue(served.getHeader("Content-Type").startsWith("application/javascript"), served.headers()::toString);
        assertTrue(served.bodyAsString().startsWith("/* sockjs-client v1.6.1 "), () -> served.bodyAsString().substring(0, 80));
    }
}
