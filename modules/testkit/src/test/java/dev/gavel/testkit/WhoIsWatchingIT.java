package dev.gavel.testkit;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Who is watching and from where, across two replicas on one Redis: {@code GET .../viewers} pages through every
 * viewer of every transport, with its country from the shipped country database ({@code GEOIP_DB}, through the test
 * as a trusted proxy) or a trusted proxy's header ({@code COUNTRY_HEADER}); {@code GET .../countries} adds them up;
 * a replica that cannot answer is named, and the totals stay right.
 */
class WhoIsWatchingIT {

    static final Path DATABASE = Path.of("../server/target/geoip/geo-whois-asn-country.mmdb").toAbsolutePath().normalize();

    @RegisterExtension
    static final ClusterExtension gavel = new ClusterExtension(2, Map.of(
            "TRUSTED_PROXIES", "127.0.0.1",
            "GEOIP_DB", DATABASE.toString(),
            "COUNTRY_HEADER", "X-Country",
            // a crashed replica's entry stays counted for 3/5 of this, long enough to ask while it does
            "NODE_TTL_MS", "20000"));

    private final List<AutoCloseable> viewers = new ArrayList<>();

    @AfterEach
    void closeViewers() throws Exception {
        for (AutoCloseable viewer : viewers) {
            viewer.close();
        }
    }

    private TestViewer ws(int node, String auction, String viewerId, Map<String, String> headers) {
        String uri = "/ws?slug=auction-" + auction + (viewerId == null ? "" : "&viewerId=" + viewerId);
        TestViewer viewer = TestViewer.connectWithHeaders(gavel.cluster().port(node), uri, headers);
        viewers.add(viewer);
        return viewer;
    }

    /** Five viewers on two replicas and three transports: GB, BR and NL from the database, IN from the header, one unknown. */
    private void fiveViewers(String auction) {
        ws(0, auction, "alice", Map.of("X-Forwarded-For", "81.2.69.142"));
        JsViewer bob = JsViewer.socketIo(gavel.cluster().port(0), JsViewer.teamOptions("auction-" + auction)
                .put("query", new JsonObject().put("slug", "auction-" + auction).put("viewerId", "bob"))
                .put("extraHeaders", new JsonObject().put("X-Country", "IN")));
        viewers.add(bob);
        ws(1, auction, "alice", Map.of("X-Forwarded-For", "200.160.0.8"));
        ws(1, auction, null, Map.of("X-Forwarded-For", "193.0.14.129"));
        JsViewer sockJs = JsViewer.sockJs(gavel.cluster().port(1), "auction-" + auction, "xhr-streaming");
        viewers.add(sockJs);
        bob.awaitCurrent(5);
    }

    @Test
    void theListPagesThroughEveryViewerOfEveryReplicaWithTheTotalsOnEveryPage() {
        fiveViewers("list");
        List<JsonObject> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            JsonObject page = ApiClient.adminGet(gavel.cluster().port(1),
                    "/api/v1/auctions/list/viewers?limit=2" + (cursor == null ? "" : "&cursor=" + cursor)).json();
            assertEquals(5, page.getLong("connections"), page.encode());
            // alice in two tabs on two replicas is one person
            assertEquals(4, page.getLong("people"), page.encode());
            assertEquals(new JsonArray(), page.getJsonArray("missing"));
            page.getJsonArray("viewers").forEach(v -> seen.add((JsonObject) v));
            cursor = page.getString("next");
            pages++;
        } while (cursor != null && pages < 10);
        assertEquals(3, pages, "2 + 2 + 1");
        assertEquals(5, seen.size(), seen.toString());
        assertEquals(5, new HashSet<>(seen).size(), "no viewer twice");
        List<String> times = seen.stream().map(v -> v.getString("connectedAt")).toList();
        assertEquals(times.stream().sorted().toList(), times, "oldest first");

        Set<String> described = new HashSet<>();
        for (JsonObject viewer : seen) {
            described.add(viewer.getString("viewerId", "-") + " " + viewer.getString("country") + " "
                    + viewer.getString("transport") + " " + viewer.getString("node"));
            assertNull(viewer.getString("userId"), "nobody signed in");
            assertTrue(viewer.fieldNames().containsAll(List.of("viewerId", "userId", "name", "country", "transport", "node",
                    "connectedAt")), viewer.encode());
            assertTrue(viewer.fieldNames().stream().noneMatch(f -> f.toLowerCase().contains("address")), viewer.encode());
        }
        assertTrue(described.contains("alice GB websocket node-0"), described.toString());
        assertTrue(described.contains("bob IN socket.io node-0"), described.toString());
        assertTrue(described.contains("alice BR websocket node-1"), described.toString());
        assertTrue(described.stream().anyMatch(d -> d.endsWith(" NL websocket node-1")), described.toString());
        assertTrue(described.stream().anyMatch(d -> d.endsWith(" null sockjs node-1")), described.toString());
    }

    @Test
    void countriesAddUpOverTheReplicasLargestFirst() {
        fiveViewers("where");
        ws(0, "where", "carol", Map.of("X-Forwarded-For", "81.2.69.142"));
        JsonObject countries = await().atMost(TestViewer.PATIENCE).until(
                () -> ApiClient.adminGet(gavel.cluster().port(0), "/api/v1/auctions/where/countries").json(),
                answer -> answer.getLong("current") == 6);
        assertEquals(new JsonObject().put("auctionId", "where").put("current", 6)
                .put("countries", new JsonArray()
                        .add(new JsonObject().put("country", "GB").put("current", 2))
                        .add(new JsonObject().put("country", "BR").put("current", 1))
                        .add(new JsonObject().put("country", "IN").put("current", 1))
                        .add(new JsonObject().put("country", "NL").put("current", 1)))
                .put("unknown", 1).put("missing", new JsonArray()), countries);
    }

    @Test
    void aReplicaThatCannotAnswerIsNamedAndItsShareStillCounts() {
        fiveViewers("silent");
        gavel.cluster().crash(1);
        JsonObject page = ApiClient.adminGet(gavel.cluster().port(0), "/api/v1/auctions/silent/viewers").json();
        assertEquals(new JsonArray().add("node-1"), page.getJsonArray("missing"), page.encode());
        assertEquals(5, page.getLong("connections"), "node-1's entry still counts its three: " + page.encode());
        assertEquals(2, page.getJsonArray("viewers").size(), page.encode());
        JsonObject countries = ApiClient.adminGet(gavel.cluster().port(0), "/api/v1/auctions/silent/countries").json();
        assertEquals(new JsonArray().add("node-1"), countries.getJsonArray("missing"), countries.encode());
        assertEquals(2, countries.getLong("current"), countries.encode());
    }

    @Test
    void badPagesAreRefusedAndNothingElseChanges() {
        int port = gavel.cluster().port(0);
        assertEquals(400, ApiClient.adminGet(port, "/api/v1/auctions/x/viewers?limit=0").status());
        assertEquals(400, ApiClient.adminGet(port, "/api/v1/auctions/x/viewers?limit=1001").status());
        ApiClient.Answer cursor = ApiClient.adminGet(port, "/api/v1/auctions/x/viewers?cursor=not-one");
        assertEquals(400, cursor.status());
        assertTrue(cursor.error().startsWith("cursor"), cursor.toString());
        assertEquals(401, ApiClient.get(port, "/api/v1/auctions/x/viewers").status());
        assertEquals(401, ApiClient.get(port, "/api/v1/auctions/x/countries").status());
        JsonObject empty = ApiClient.adminGet(port, "/api/v1/auctions/x/viewers?limit=1000").json();
        assertEquals(0, empty.getLong("connections"));
        assertNull(empty.getString("next"));
        assertNotNull(empty.getJsonArray("viewers"));
    }
}
