package dev.gavel.testkit;

import dev.gavel.core.AuctionId;
import dev.gavel.core.ViewerEvent;
import dev.gavel.core.Json;
import dev.gavel.server.GavelNode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official {@code socket.io-client} 4.8 against a real node, as the auction team's front end connects
 * ({@code path: "/auction/"}, {@code query: {slug}}), with its default options and forced onto each transport.
 * The node pings every 300 ms, so every test also runs through several Engine.IO heartbeats.
 */
class SocketIoClientIT {

    /** The client configurations of the contract. */
    enum Client {
        /** Default options: long-polling first, then the upgrade to WebSocket. */
        DEFAULT(null, "polling"),
        WEBSOCKET("websocket", "websocket"),
        POLLING("polling", "polling");

        final String only;
        final String firstTransport;

        Client(String only, String firstTransport) {
            this.only = only;
            this.firstTransport = firstTransport;
        }

        JsonObject options(String slug) {
            JsonObject options = JsViewer.teamOptions(slug);
            if (only != null) {
                options.put("transports", new JsonArray().add(only));
            }
            return options;
        }
    }

    private static final AtomicInteger AUCTIONS = new AtomicInteger();
    private static Cluster cluster;
    private final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeAll
    static void startNode() {
        cluster = Cluster.start(null, 1, Map.of("SOCKETIO_PING_INTERVAL_MS", "300", "SOCKETIO_PING_TIMEOUT_MS", "2000"));
    }

    @AfterAll
    static void stopNode() {
        cluster.close();
    }

    @AfterEach
    void closeClients() throws Exception {
        for (AutoCloseable client : clients) {
            client.close();
        }
    }

    private static String newAuction(Client client) {
        return "sio-" + client.name().toLowerCase() + "-" + AUCTIONS.incrementAndGet();
    }

    private JsViewer connect(Client client, String auction) {
        return track(JsViewer.socketIo(cluster.port(0), client.options("auction-" + auction)));
    }

    private <T extends AutoCloseable> T track(T client) {
        clients.add(client);
        return client;
    }

    @ParameterizedTest
    @EnumSource(Client.class)
    void countsOnJoinAndOnLeave(Client client) {
        String auction = newAuction(client);
        JsViewer viewer = connect(client, auction);
        assertEquals(client.firstTransport, viewer.awaitRecord("open").getString("transport"));
        viewer.awaitRecord("connect");
        viewer.awaitCount(1, 1);
        if (client == Client.DEFAULT) {
            assertEquals("websocket", viewer.awaitRecord("upgrade").getString("transport"));
        }
        TestViewer plain = track(TestViewer.watch(cluster.port(0), auction));
        PlainCounts.await(plain, 2, 2);
        viewer.awaitCount(2, 2);
        viewer.close();
        PlainCounts.await(plain, 1, 2);
    }

    @ParameterizedTest
    @EnumSource(Client.class)
    void biddingAndSoldEventsArriveWithTheirPayloads(Client client) throws Exception {
        String auction = newAuction(client);
        JsViewer viewer = connect(client, auction);
        viewer.awaitCount(1, 1);
        if (client == Client.DEFAULT) {
            viewer.awaitRecord("upgrade");
        }
        publish(auction, ViewerEvent.of(ViewerEvent.PLAYER_BIDDING_UPDATE, "{\"name\":\"Virat\",\"basePrice\":200}"));
        publish(auction, ViewerEvent.of(ViewerEvent.PLAYER_SOLD_UPDATE, Json.quote("Virat sold to \"Mumbai\" for 15 crore")));
        assertEquals(List.of(new JsonObject().put("name", "Virat").put("basePrice", 200)),
                viewer.awaitEvents(ViewerEvent.PLAYER_BIDDING_UPDATE, 1));
        assertEquals(List.of("Virat sold to \"Mumbai\" for 15 crore"), viewer.awaitEvents(ViewerEvent.PLAYER_SOLD_UPDATE, 1));
    }

    @ParameterizedTest
    @EnumSource(Client.class)
    void heartbeatIsAcknowledgedAndUnknownEventsAreAnsweredWithAnError(Client client) {
        String auction = newAuction(client);
        JsViewer viewer = connect(client, auction);
        viewer.awaitCount(1, 1);
        viewer.emit("heartbeat");
        assertEquals(1, viewer.awaitEvents(ViewerEvent.HEARTBEAT_ACK, 1).size());
        viewer.emit("makeMeRich");
        JsonObject error = (JsonObject) viewer.awaitEvents(ViewerEvent.ERROR, 1).get(0);
        assertEquals("bad_frame", error.getString("code"));
        viewer.emit("heartbeat");
        viewer.awaitEvents(ViewerEvent.HEARTBEAT_ACK, 2);
        assertTrue(viewer.events(ViewerEvent.HEARTBEAT_ACK).stream().allMatch(data -> data == null));
    }

    @ParameterizedTest
    @EnumSource(Client.class)
    void aBadSlugIsRefusedAndNothingIsCounted(Client client) {
        org.awaitility.Awaitility.await().atMost(TestViewer.PATIENCE)
                .until(() -> cluster.node(0).audience().localViewers() == 0);
        JsonObject options = client.options("auction-no spaces allowed").put("reconnection", false);
        JsViewer viewer = track(JsViewer.socketIo(cluster.port(0), options));
        JsonObject error = viewer.awaitRecord("connect_error");
        if (client.firstTransport.equals("polling")) {
            assertEquals(400, error.getInteger("description"));
            assertTrue(new JsonObject(error.getString("body")).getString("error").startsWith("slug must be"), error::encode);
        } else {
            assertTrue(error.getString("description").contains("400"), error::encode);
        }
        // A real viewer after it is the only one on the node: joins are taken in order, so the refused one
        // would have been counted before it.
        try (TestViewer after = TestViewer.watch(cluster.port(0), newAuction(client))) {
            after.awaitCount(1, 1);
            assertEquals(1, cluster.node(0).audience().localViewers());
        }
    }

    @ParameterizedTest
    @EnumSource(Client.class)
    void aDisallowedOriginIsRefusedAndNothingIsCounted(Client client) {
        String auction = newAuction(client);
        JsonObject options = client.options("auction-" + auction).put("reconnection", false)
                .put("extraHeaders", new JsonObject().put("Origin", "http://evil.example"));
        JsViewer viewer = track(JsViewer.socketIo(cluster.port(0), options));
        JsonObject error = viewer.awaitRecord("connect_error");
        assertTrue(String.valueOf(error.getValue("description")).contains("403"), error::encode);
        TestViewer plain = track(TestViewer.watch(cluster.port(0), auction));
        PlainCounts.await(plain, 1, 1, viewer);
    }

    private static void publish(String auction, ViewerEvent event) throws Exception {
        GavelNode node = cluster.node(0);
        node.backend().broker().publish(AuctionId.of(auction), event).await(10, TimeUnit.SECONDS);
    }
}
