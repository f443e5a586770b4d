package dev.gavel.testkit;

import dev.gavel.core.ViewerEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The viewer plane under the conditions of real load, on one in-memory node: browsers' compression offer, several
 * event loops, a viewer that stops reading, a full replica.
 */
class ViewerPlaneIT {

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
    void compressionThatBrowsersOfferIsRefusedByDefault() throws Exception {
        int port = start(Map.of());
        RawWebSocket ws = track(RawWebSocket.open(port, "/ws?slug=auction-deflate", RawWebSocket.BROWSER_EXTENSIONS, 65536));
        assertEquals(101, ws.status());
        assertNull(ws.header("sec-websocket-extensions"), "no extension accepted");
    }

    @Test
    void compressionIsAcceptedWhenTurnedOn() throws Exception {
        int port = start(Map.of("WS_COMPRESSION", "on"));
        RawWebSocket ws = track(RawWebSocket.open(port, "/ws?slug=auction-deflate", RawWebSocket.BROWSER_EXTENSIONS, 65536));
        assertEquals(101, ws.status());
        assertTrue(ws.header("sec-websocket-extensions").startsWith("permessage-deflate"), ws.header("sec-websocket-extensions"));
    }

    @Test
    void aTextFrameThatIsNotUtf8IsClosedWith1007AndOthersStay() throws Exception {
        int port = start(Map.of());
        TestViewer other = track(TestViewer.watch(port, "utf8"));
        RawWebSocket ws = track(RawWebSocket.open(port, "/ws?slug=auction-utf8", null, 65536));
        other.awaitCount(2, 2);
        ws.sendText(new byte[] {'{', '"', (byte) 0xc3, (byte) 0x28, '"', '}'});
        assertEquals(1007, ws.readUntilClose(new int[1]));
        other.awaitCount(1, 2);
        other.send("{\"event\":\"heartbeat\"}");
        other.awaitEvents(ViewerEvent.HEARTBEAT_ACK, 1);
    }

    @Test
    void viewersOnEveryEventLoopCountOnceAndGetEachEventOnce() {
        int port = start(Map.of("EVENT_LOOPS", "4"));
        List<TestViewer> viewers = IntStream.range(0, 12).mapToObj(i -> track(TestViewer.watch(port, "loops"))).toList();
        viewers.forEach(viewer -> viewer.awaitCount(12, 12));

        assertEquals(202, ApiClient.adminPost(port, "/api/v1/auctions/loops/bidding", "{\"player\":\"Kohli\"}").status());
        for (TestViewer viewer : viewers) {
            assertEquals(List.of(new JsonObject().put("player", "Kohli")), viewer.awaitEvents(ViewerEvent.PLAYER_BIDDING_UPDATE, 1));
        }
        viewers.subList(0, 5).forEach(TestViewer::close);
        viewers.subList(5, 12).forEach(viewer -> viewer.awaitCount(7, 12));
        assertEquals(new JsonObject().put("auctionId", "loops").put("current", 7).put("peak", 12),
                ApiClient.get(port, "/api/v1/auctions/loops/viewer-count").json());
        assertTrue(viewers.subList(5, 12).stream().allMatch(v -> v.events(ViewerEvent.PLAYER_BIDDING_UPDATE).size() == 1));
    }

    @Test
    void socketIoPollingSessionsWorkWhenTheirRequestsLandOnOtherEventLoops() {
        int port = start(Map.of("EVENT_LOOPS", "4", "SOCKETIO_PING_INTERVAL_MS", "300", "SOCKETIO_PING_TIMEOUT_MS", "2000"));
        List<JsViewer> viewers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            JsonObject options = JsViewer.teamOptions("auction-polling");
            if (i % 2 == 0) {
                options.put("transports", new JsonArray().add("polling"));
            }
            viewers.add(track(JsViewer.socketIo(port, options)));
        }
        viewers.forEach(viewer -> viewer.awaitCount(6, 6));

        assertEquals(202, ApiClient.adminPost(port, "/api/v1/auctions/polling/sold", "{\"message\":\"sold!\"}").status());
        for (JsViewer viewer : viewers) {
            assertEquals(List.of("sold!"), viewer.awaitEvents(ViewerEvent.PLAYER_SOLD_UPDATE, 1));
            viewer.emit("heartbeat");
            viewer.awaitEvents(ViewerEvent.HEARTBEAT_ACK, 1);
        }
        // several Engine.IO heartbeats later (300 ms each) every session is still there, on whatever loop it landed
        TestViewer plain = track(TestViewer.watch(port, "polling"));
        plain.awaitCount(7, 7);
        viewers.forEach(viewer -> viewer.awaitCount(7, 7));
        assertEquals(7, cluster.node(0).audience().localViewers());
    }

    @Test
    void sockJsSessionsWorkWhenTheirRequestsLandOnOtherEventLoops() {
        int port = start(Map.of("EVENT_LOOPS", "4"));
        List<JsViewer> viewers = new ArrayList<>();
        for (String transport : List.of("xhr-polling", "xhr-streaming", "xhr-polling", "websocket")) {
            viewers.add(track(JsViewer.sockJs(port, "auction-sockjs", transport)));
        }
        viewers.forEach(viewer -> viewer.awaitCount(4, 4));

        assertEquals(202, ApiClient.adminPost(port, "/api/v1/auctions/sockjs/sold", "{\"message\":\"gone\"}").status());
        for (JsViewer viewer : viewers) {
            assertEquals(List.of("gone"), viewer.awaitEvents(ViewerEvent.PLAYER_SOLD_UPDATE, 1));
        }
        viewers.get(0).close();
        viewers.subList(1, 4).forEach(viewer -> viewer.awaitCount(3, 4));
    }

    @Test
    void aViewerThatStopsReadingIsClosedWith1013WhileTheOthersGetEveryEvent() throws Exception {
        int port = start(Map.of("EVENT_LOOPS", "1"));
        // on one loop, in one room: the slow viewer leaves in the middle of a fan-out, before some of the others
        List<TestViewer> healthy = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            healthy.add(track(TestViewer.watch(port, "slow")));
        }
        RawWebSocket slow = track(RawWebSocket.open(port, "/ws?slug=auction-slow", null, 4096));
        for (int i = 0; i < 3; i++) {
            healthy.add(track(TestViewer.watch(port, "slow")));
        }
        assertEquals(101, slow.status());
        healthy.forEach(viewer -> viewer.awaitCount(7, 7));

        // 400 events of 30 KB: 12 MB, far more than socket buffers and the viewer's bound hold
        String pad = "x".repeat(30_000);
        int events = 400;
        for (int i = 0; i < events; i++) {
            assertEquals(202, ApiClient.adminPost(port, "/api/v1/auctions/slow/bidding",
                    "{\"seq\":" + i + ",\"pad\":\"" + pad + "\"}").status());
        }
        for (TestViewer viewer : healthy) {
            List<Object> received = viewer.awaitEvents(ViewerEvent.PLAYER_BIDDING_UPDATE, events);
            assertEquals(IntStream.range(0, events).boxed().toList(),
                    received.stream().map(data -> ((JsonObject) data).getInteger("seq")).toList(), "every event, in order");
        }
        await().atMost(TestViewer.PATIENCE).until(() -> cluster.node(0).audience().localViewers() == 6);
        healthy.forEach(viewer -> viewer.awaitCount(6, 7));

        int[] textFrames = {0};
        assertEquals(1013, slow.readUntilClose(textFrames));
        assertTrue(textFrames[0] < events, "closed before it got everything: " + textFrames[0]);
    }

    @Test
    void aClientThatFloodsFramesAndNeverReadsTheAnswersIsClosedWith1008ForItsFrameRate() throws Exception {
        int port = start(Map.of());
        TestViewer other = track(TestViewer.watch(port, "flood"));
        RawWebSocket flooder = track(RawWebSocket.open(port, "/ws?slug=auction-flood", null, 4096));
        other.awaitCount(2, 2);

        // each frame would be answered with an error event: the frame rate closes it long before its unread answers
        // could fill its buffers and the bound (1013)
        byte[] unknownEvent = "{\"event\":\"x\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Thread sender = new Thread(() -> {
            try {
                flooder.sendTexts(unknownEvent, 200_000);
            } catch (java.io.IOException e) {
                // the node closed the connection while frames were still going out
            }
        });
        sender.start();
        await().atMost(TestViewer.PATIENCE).until(() -> cluster.node(0).audience().localViewers() == 1);
        other.awaitCount(1, 2);
        other.send("{\"event\":\"heartbeat\"}");
        other.awaitEvents(ViewerEvent.HEARTBEAT_ACK, 1);

        int[] textFrames = {0};
        assertEquals(1008, flooder.readUntilClose(textFrames));
        sender.join(TestViewer.PATIENCE.toMillis());
    }

    @Test
    void aFullReplicaRefusesNewViewersWith503AndIsNotReady() {
        int port = start(Map.of("MAX_VIEWERS", "2"));
        TestViewer first = track(TestViewer.watch(port, "full"));
        track(TestViewer.watch(port, "full")).awaitCount(2, 2);
        assertEquals(200, ApiClient.get(port, "/health/live").status());

        assertEquals(503, TestViewer.refusalStatus(port, "/ws?slug=auction-full", null));
        assertEquals(503, ApiClient.get(port, "/auction/?EIO=4&transport=polling&slug=auction-full").status());
        assertEquals(503, ApiClient.get(port, "/health/ready").status());
        first.awaitCount(2, 2);

        first.close();
        await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.get(port, "/health/ready").status() == 200);
        track(TestViewer.watch(port, "full")).awaitCount(2, 2);
    }
}
