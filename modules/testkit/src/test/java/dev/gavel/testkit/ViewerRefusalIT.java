package dev.gavel.testkit;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every refusal of the viewer WebSocket, on a cluster, leaving counts exact and other viewers connected. */
class ViewerRefusalIT {

    private static RedisFixture redis;
    private static Cluster cluster;
    private final List<TestViewer> viewers = new ArrayList<>();

    @BeforeAll
    static void start() {
        redis = RedisFixture.start();
        cluster = Cluster.start(redis, 3, Map.of("ALLOWED_ORIGIN", "http://auctions.example"));
    }

    @AfterAll
    static void stop() {
        cluster.close();
        redis.close();
    }

    @AfterEach
    void closeViewers() {
        TestViewer.closeAll(viewers);
    }

    private TestViewer watch(int node, String auction) {
        TestViewer viewer = TestViewer.watch(cluster.port(node), auction);
        viewers.add(viewer);
        return viewer;
    }

    @Test
    void aMissingOrBadSlugIsRefusedWith400BeforeTheUpgrade() throws Exception {
        TestViewer a = watch(0, "slugs");
        TestViewer b = watch(1, "slugs");
        a.awaitCount(2, 2);
        int port = cluster.port(2);
        assertEquals(400, TestViewer.refusalStatus(port, "/ws", null));
        assertEquals(400, TestViewer.refusalStatus(port, "/ws?slug=", null));
        assertEquals(400, TestViewer.refusalStatus(port, "/ws?slug=123", null));
        assertEquals(400, TestViewer.refusalStatus(port, "/ws?slug=auction-", null));
        assertEquals(400, TestViewer.refusalStatus(port, "/ws?slug=auction-bad%20id", null));
        assertEquals(400, TestViewer.refusalStatus(port, "/ws?slug=auction-" + "x".repeat(65), null));

        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/ws?slug=nope")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(400, answer.statusCode());
        assertTrue(new JsonObject(answer.body()).getString("error").contains("auction-<id>"), answer.body());

        // Nothing was counted: a real viewer joining makes it 3, not more.
        TestViewer c = watch(2, "slugs");
        c.awaitCount(3, 3);
        a.awaitCount(3, 3);
    }

    @Test
    void aBrowserOriginNotAllowedIsRefusedWith403AndAllowedOnesAreTaken() {
        int port = cluster.port(0);
        assertEquals(403, TestViewer.refusalStatus(port, "/ws?slug=auction-origins", "http://evil.example"));
        TestViewer allowed = TestViewer.connect(port, "/ws?slug=auction-origins", "http://auctions.example");
        viewers.add(allowed);
        TestViewer ownPage = TestViewer.connect(port, "/ws?slug=auction-origins", "http://127.0.0.1:" + port);
        viewers.add(ownPage);
        allowed.awaitCount(2, 2);
        ownPage.awaitCount(2, 2);
    }

    @Test
    void aFrameOver4KiBClosesWith1009AndLeavesTheOthersCounted() {
        TestViewer big = watch(0, "frames");
        TestViewer other = watch(1, "frames");
        other.awaitCount(2, 2);
        big.send("{\"event\":\"heartbeat\",\"pad\":\"" + "x".repeat(4200) + "\"}");
        assertEquals(1009, big.awaitClosed());
        other.awaitCount(1, 2);
        assertFalse(other.isClosed());
    }

    @Test
    void badJsonAndUnknownEventsGetAnErrorAndTheConnectionStaysOpen() {
        TestViewer viewer = watch(2, "errors");
        viewer.awaitCount(1, 1);
        viewer.send("not json");
        viewer.send("{\"event\":\"bid\"}");
        viewer.send("[1,2]");
        List<Object> errors = viewer.awaitEvents("error", 3);
        assertEquals("bad_frame", ((JsonObject) errors.get(0)).getString("code"));
        assertTrue(((JsonObject) errors.get(1)).getString("message").contains("bid"), errors.toString());

        viewer.send("{\"event\":\"heartbeat\"}");
        assertEquals(1, viewer.awaitEvents("heartbeat-ack", 1).size());
        assertFalse(viewer.isClosed());
        TestViewer second = watch(0, "errors");
        second.awaitCount(2, 2);
        viewer.awaitCount(2, 2);
    }
}
