package dev.gavel.testkit;

import dev.gavel.core.AuctionId;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code AUCTIONS=registered} on two nodes and a real Redis: viewers only of auctions an admin opened, refused with
 * 404 before the upgrade on every transport otherwise; opening on one node lets viewers in on the other, closing on
 * one sends every viewer away with 1000 on both; the registry outlives a Redis that restarted empty. And
 * {@code AUCTIONS=open} refuses nothing.
 */
class AuctionRegistryIT {

    private static final Map<String, String> REGISTERED = Map.of("AUCTIONS", "registered");
    private static final AtomicInteger AUCTIONS = new AtomicInteger();

    @RegisterExtension
    static final ClusterExtension gavel = new ClusterExtension(2, REGISTERED);

    private static String newAuction() {
        return "reg-" + AUCTIONS.incrementAndGet();
    }

    private static ApiClient.Answer admin(HttpMethod method, int node, String auction) {
        return ApiClient.send(method, gavel.cluster().port(node), "/api/v1/auctions/" + auction,
                Map.of("Authorization", "Bearer " + ApiClient.ADMIN_TOKEN), null);
    }

    private static ApiClient.Answer publishSold(int node, String auction) {
        return ApiClient.adminPost(gavel.cluster().port(node), "/api/v1/auctions/" + auction + "/sold", "{\"message\":\"sold\"}");
    }

    private static JsonObject viewerCount(int node, String auction) {
        return ApiClient.get(gavel.cluster().port(node), "/api/v1/auctions/" + auction + "/viewer-count").json();
    }

    /** Waits until node {@code node}'s copy of the registry shows the auction open or not. */
    private static void awaitOpen(int node, String auction, boolean open) {
        await().atMost(TestViewer.PATIENCE)
                .until(() -> gavel.cluster().node(node).backend().auctions().isOpen(AuctionId.of(auction)) == open);
    }

    private JsViewer socketIo(int node, String auction, String onlyTransport) {
        JsonObject options = JsViewer.teamOptions("auction-" + auction).put("reconnection", false);
        if (onlyTransport != null) {
            options.put("transports", new JsonArray().add(onlyTransport));
        }
        return gavel.track(JsViewer.socketIo(gavel.cluster().port(node), options));
    }

    private JsViewer sockJs(int node, String auction, String transport) {
        return gavel.track(JsViewer.sockJs(gavel.cluster().port(node), "auction-" + auction, transport));
    }

    private static void assertNotOpen(ApiClient.Answer answer) {
        assertEquals(404, answer.status(), answer.toString());
        assertTrue(answer.error().contains("is not open"), answer.toString());
    }

    @Test
    void viewersOfAnAuctionThatIsNotOpenAreRefusedWith404OnEveryTransportAndNothingIsCounted() {
        String auction = newAuction();
        String slug = "slug=auction-" + auction;
        for (int node = 0; node < 2; node++) {
            int port = gavel.cluster().port(node);
            assertEquals(404, TestViewer.refusalStatus(port, "/ws?" + slug, null));
            assertNotOpen(ApiClient.get(port, "/auction/?EIO=4&transport=polling&" + slug));
            assertEquals(404, TestViewer.refusalStatus(port, "/auction/?EIO=4&transport=websocket&" + slug, null));
            assertNotOpen(ApiClient.get(port, "/sockjs/info?" + slug));
            assertNotOpen(ApiClient.send(HttpMethod.POST, port, "/sockjs/000/refused/xhr_streaming?" + slug, Map.of(), null));
            assertNotOpen(ApiClient.send(HttpMethod.POST, port, "/sockjs/000/refused/xhr?" + slug, Map.of(), null));
            assertEquals(404, TestViewer.refusalStatus(port, "/sockjs/000/refused/websocket?" + slug, null));
            assertEquals(404, TestViewer.refusalStatus(port, "/sockjs/websocket?" + slug, null));
        }
        // the official clients are refused too, and say so
        JsViewer polling = socketIo(0, auction, null);
        JsonObject error = polling.awaitRecord("connect_error");
        assertEquals(404, error.getInteger("description"), error::encode);
        assertTrue(new JsonObject(error.getString("body")).getString("error").contains("is not open"), error::encode);
        JsViewer webSocket = socketIo(1, auction, "websocket");
        assertTrue(String.valueOf(webSocket.awaitRecord("connect_error").getValue("description")).contains("404"),
                webSocket::toString);
        JsViewer sockJs = sockJs(1, auction, "xhr-streaming");
        sockJs.awaitRecord("close");
        assertTrue(sockJs.records().stream().noneMatch(r -> "open".equals(r.getString("type"))), sockJs::toString);

        assertEquals(0, gavel.cluster().node(0).audience().localViewers());
        assertEquals(0, gavel.cluster().node(1).audience().localViewers());
        assertEquals(0L, viewerCount(0, auction).getLong("peak"));
        // opened now, the first viewer is the first ever counted
        assertEquals(201, admin(HttpMethod.PUT, 0, auction).status());
        awaitOpen(1, auction, true);
        gavel.watch(1, auction).awaitCount(1, 1);
    }

    @Test
    void anAuctionOpenedOnOneNodeTakesViewersOnTheOtherOnEveryTransport() {
        String auction = newAuction();
        ApiClient.Answer opened = admin(HttpMethod.PUT, 0, auction);
        assertEquals(201, opened.status(), opened.toString());
        assertEquals(new JsonObject().put("auctionId", auction).put("open", true), opened.json());
        ApiClient.Answer again = admin(HttpMethod.PUT, 1, auction);
        assertEquals(200, again.status(), "opening again is no error: " + again);
        assertEquals(new JsonObject().put("auctionId", auction).put("open", true), again.json());

        awaitOpen(1, auction, true);
        TestViewer plain = gavel.watch(1, auction);
        JsViewer socketIo = socketIo(1, auction, null);
        JsViewer sockJs = sockJs(1, auction, "websocket");
        socketIo.awaitRecord("connect");
        sockJs.awaitRecord("open");
        PlainCounts.await(plain, 3, 3, socketIo, sockJs);
        assertEquals(202, publishSold(0, auction).status());
        assertEquals(List.of("sold"), socketIo.awaitEvents("playerSoldUpdate", 1));
        assertEquals(List.of("sold"), sockJs.awaitEvents("playerSoldUpdate", 1));
    }

    @Test
    void closingOnOneNodeSendsEveryViewerOnBothNodesAwayWith1000AndRefusesNewOnes() {
        String auction = newAuction();
        String other = newAuction();
        admin(HttpMethod.PUT, 0, auction);
        admin(HttpMethod.PUT, 0, other);
        awaitOpen(1, auction, true);
        awaitOpen(1, other, true);
        TestViewer plain0 = gavel.watch(0, auction);
        TestViewer plain1 = gavel.watch(1, auction);
        JsViewer socketIoPolling = socketIo(0, auction, "polling");
        JsViewer socketIoWebSocket = socketIo(1, auction, "websocket");
        JsViewer sockJsWebSocket = sockJs(0, auction, "websocket");
        JsViewer sockJsStreaming = sockJs(1, auction, "xhr-streaming");
        TestViewer elsewhere = gavel.watch(1, other);
        PlainCounts.await(plain0, 6, 6, socketIoPolling, socketIoWebSocket, sockJsWebSocket, sockJsStreaming);
        elsewhere.awaitCount(1, 1);

        ApiClient.Answer closed = admin(HttpMethod.DELETE, 1, auction);
        assertEquals(200, closed.status(), closed.toString());
        assertEquals(new JsonObject().put("auctionId", auction).put("open", false), closed.json());

        assertEquals(1000, plain0.awaitClosed());
        assertEquals(1000, plain1.awaitClosed());
        assertEquals("io server disconnect", socketIoPolling.awaitRecord("disconnect").getString("reason"));
        assertEquals("io server disconnect", socketIoWebSocket.awaitRecord("disconnect").getString("reason"));
        // vertx-web's SockJS server closes a session with SockJS's own code, whatever code is asked for
        assertEquals(3000, sockJsWebSocket.awaitRecord("close").getInteger("code"));
        assertEquals(3000, sockJsStreaming.awaitRecord("close").getInteger("code"));
        await().atMost(TestViewer.PATIENCE).until(() -> viewerCount(0, auction).getLong("current") == 0
                && gavel.cluster().node(0).audience().localViewers() == 0
                && gavel.cluster().node(1).audience().localViewers() == 1);
        assertEquals(0L, viewerCount(1, auction).getLong("current"));

        // the other auction's viewer stays; the closed auction takes no one, publishing to it is refused
        assertFalse(elsewhere.isClosed());
        assertEquals(202, publishSold(0, other).status());
        assertEquals(List.of("sold"), elsewhere.awaitEvents("playerSoldUpdate", 1));
        awaitOpen(0, auction, false);
        for (int node = 0; node < 2; node++) {
            assertEquals(404, TestViewer.refusalStatus(gavel.cluster().port(node), "/ws?slug=auction-" + auction, null));
            assertNotOpen(publishSold(node, auction));
        }
        assertEquals(200, admin(HttpMethod.DELETE, 0, auction).status(), "closing again is no error");
    }

    @Test
    void openingAndClosingWantTheAdminToken() {
        String auction = newAuction();
        int port = gavel.cluster().port(0);
        String path = "/api/v1/auctions/" + auction;
        for (HttpMethod method : List.of(HttpMethod.PUT, HttpMethod.DELETE)) {
            assertEquals(401, ApiClient.send(method, port, path, Map.of(), null).status());
            assertEquals(401, ApiClient.send(method, port, path, Map.of("Authorization", "Bearer wrong-token"), null).status());
        }
        assertFalse(gavel.cluster().node(0).backend().auctions().isOpen(AuctionId.of(auction)));
        assertEquals(404, TestViewer.refusalStatus(port, "/ws?slug=auction-" + auction, null));
        assertEquals(400, admin(HttpMethod.PUT, 0, "bad%20id").status());
    }

    @Test
    void theRegistryOutlivesARedisThatRestartedEmptyAndChangesFlowAfterIt() {
        String auction = newAuction();
        String later = newAuction();
        admin(HttpMethod.PUT, 0, auction);
        awaitOpen(1, auction, true);

        gavel.redis().takeDown();
        gavel.redis().bringBack();
        await().atMost(TestViewer.PATIENCE).until(() -> gavel.cluster().node(0).backend().isReady()
                && gavel.cluster().node(1).backend().isReady()
                && gavel.redis().command("SMEMBERS gavel:{auctions}:open").contains(auction));
        for (int node = 0; node < 2; node++) {
            assertTrue(gavel.cluster().node(node).backend().auctions().isOpen(AuctionId.of(auction)));
            assertEquals(404, TestViewer.refusalStatus(gavel.cluster().port(node), "/ws?slug=auction-" + later, null));
        }
        TestViewer viewer = gavel.watch(0, auction);
        gavel.watch(1, auction);
        viewer.awaitCount(2, 2);

        // every subscriber cut: the change published meanwhile still reaches both nodes once they are back
        gavel.redis().command("CLIENT KILL TYPE pubsub");
        assertEquals(201, admin(HttpMethod.PUT, 1, later).status());
        awaitOpen(0, later, true);
        gavel.watch(0, later).awaitCount(1, 1);
        gavel.redis().command("CLIENT KILL TYPE pubsub");
        assertEquals(200, admin(HttpMethod.DELETE, 1, auction).status());
        assertEquals(1000, viewer.awaitClosed());
        awaitOpen(0, auction, false);
    }

    @Test
    void openModeTakesViewersOfAnyAuctionAndClosingStillSendsThemAway() {
        gavel.start(2, Map.of());
        String auction = newAuction();
        TestViewer viewer0 = gavel.watch(0, auction);
        TestViewer viewer1 = gavel.watch(1, auction);
        JsViewer socketIo = socketIo(1, auction, null);
        socketIo.awaitRecord("connect");
        PlainCounts.await(viewer0, 3, 3, socketIo);
        assertEquals(202, publishSold(1, auction).status(), "an auction never opened takes events");

        assertEquals(200, admin(HttpMethod.DELETE, 0, auction).status());
        assertEquals(1000, viewer0.awaitClosed());
        assertEquals(1000, viewer1.awaitClosed());
        assertEquals("io server disconnect", socketIo.awaitRecord("disconnect").getString("reason"));
        await().atMost(TestViewer.PATIENCE).until(() -> viewerCount(1, auction).getLong("current") == 0);

        // nothing is refused: the closed auction's viewers may come back
        gavel.watch(1, auction).awaitCount(1, 3);
        assertEquals(201, admin(HttpMethod.PUT, 1, auction).status());
    }
}
