package dev.gavel.testkit;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The API of a single node on the in-memory backend: the same behaviour with nothing external. */
class InMemoryNodeApiIT {

    private Cluster node;
    private final List<TestViewer> viewers = new ArrayList<>();

    @BeforeEach
    void start() {
        node = Cluster.start(null, 1, Map.of("HISTORY_INTERVAL_MS", "200"));
    }

    @AfterEach
    void stop() {
        viewers.forEach(TestViewer::close);
        node.close();
    }

    private TestViewer connect(String uri) {
        TestViewer viewer = TestViewer.connect(node.port(0), uri, null);
        viewers.add(viewer);
        return viewer;
    }

    @Test
    void eventsReachTheLocalViewersInOrder() {
        TestViewer a = connect("/ws?slug=auction-mem");
        TestViewer b = connect("/ws?slug=auction-mem");
        TestViewer elsewhere = connect("/ws?slug=auction-elsewhere");
        a.awaitCurrent(2);
        b.awaitCurrent(2);
        elsewhere.awaitCurrent(1);

        for (int i = 0; i < 100; i++) {
            assertEquals(202, ApiClient.adminPost(node.port(0), "/api/v1/auctions/mem/bidding", new JsonObject().put("seq", i).encode()).status());
        }
        assertEquals(202, ApiClient.adminPost(node.port(0), "/api/v1/auctions/mem/sold", "{\"message\":\"gone\"}").status());
        assertEquals(202, ApiClient.adminPost(node.port(0), "/api/v1/auctions/elsewhere/sold", "{\"message\":\"marker\"}").status());

        List<Object> expected = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            expected.add(new JsonObject().put("seq", i));
        }
        for (TestViewer viewer : List.of(a, b)) {
            assertEquals(expected, viewer.awaitEvents("playerBiddingUpdate", 100));
            assertEquals(List.of("gone"), viewer.awaitEvents("playerSoldUpdate", 1));
        }
        assertEquals(List.of("marker"), elsewhere.awaitEvents("playerSoldUpdate", 1));
        assertEquals(List.of(), elsewhere.events("playerBiddingUpdate"));
    }

    @Test
    void statsCountUniqueViewersSampleHistoryAndListWatchedAuctions() {
        connect("/ws?slug=auction-mem&viewerId=alice");
        connect("/ws?slug=auction-mem&viewerId=alice");
        connect("/ws?slug=auction-mem");
        connect("/ws?slug=auction-small&viewerId=alice");
        viewers.get(2).awaitCurrent(3);
        viewers.get(3).awaitCurrent(1);

        await().atMost(TestViewer.PATIENCE).until(() -> {
            JsonObject stats = ApiClient.adminGet(node.port(0), "/api/v1/auctions/mem/viewer-stats").json();
            return stats.getLong("uniqueViewers") == 2 && stats.getJsonArray("history").size() >= 3;
        });
        JsonArray history = ApiClient.adminGet(node.port(0), "/api/v1/auctions/mem/viewer-stats").json().getJsonArray("history");
        assertEquals(3, history.getJsonObject(history.size() - 1).getLong("count"));

        JsonArray expected = new JsonArray()
                .add(new JsonObject().put("auctionId", "mem").put("current", 3).put("peak", 3))
                .add(new JsonObject().put("auctionId", "small").put("current", 1).put("peak", 1));
        assertEquals(expected, ApiClient.adminGet(node.port(0), "/api/v1/auctions").jsonArray());
    }
}
