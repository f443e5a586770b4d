package dev.gavel.testkit;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Audience figures of the API on three nodes over one real Redis. */
class ViewerStatsIT {

    private static final long INTERVAL_MILLIS = 200;

    @RegisterExtension
    static final ClusterExtension gavel = new ClusterExtension(3, Map.of("NODE_TTL_MS", "2000", "HISTORY_INTERVAL_MS", String.valueOf(INTERVAL_MILLIS)));

    private TestViewer connect(int node, String uri) {
        return gavel.track(TestViewer.connect(gavel.cluster().port(node), uri, null));
    }

    private JsonObject stats(String auction, String query) {
        ApiClient.Answer answer = ApiClient.adminGet(gavel.cluster().port(0), "/api/v1/auctions/" + auction + "/viewer-stats" + query);
        assertEquals(200, answer.status(), answer.toString());
        return answer.json();
    }

    private JsonArray history(String auction) {
        return stats(auction, "").getJsonArray("history");
    }

    @Test
    void theHistoryHasOneSamplePerIntervalWhateverTheNumberOfNodes() {
        List<TestViewer> watching = List.of(gavel.watch(0, "hist"), gavel.watch(1, "hist"), gavel.watch(2, "hist"));
        watching.forEach(v -> v.awaitCurrent(3));

        await().atMost(TestViewer.PATIENCE).until(() -> history("hist").size() >= 10);
        JsonArray history = history("hist");

        Set<Long> timestamps = new HashSet<>();
        long previous = Long.MIN_VALUE;
        for (int i = 0; i < history.size(); i++) {
            JsonObject sample = history.getJsonObject(i);
            long timestamp = Instant.parse(sample.getString("timestamp")).toEpochMilli();
            assertEquals(0, timestamp % INTERVAL_MILLIS, "a sample stands for the start of its interval: " + sample);
            assertTrue(timestamps.add(timestamp), "two samples for one interval: " + history);
            assertTrue(timestamp > previous, "oldest first: " + history);
            previous = timestamp;
        }
        // Three nodes hold viewers; still one sample per interval, and they cover the time.
        long first = Instant.parse(history.getJsonObject(0).getString("timestamp")).toEpochMilli();
        long intervals = (previous - first) / INTERVAL_MILLIS + 1;
        assertTrue(history.size() <= intervals);
        assertTrue(history.size() >= intervals * 3 / 4, "intervals without a sample: " + history);
        assertEquals(3, history.getJsonObject(history.size() - 1).getLong("count"), history + " " + gavel.redis().command("HGETALL gavel:{a:hist}"));
        // Stored are the intervals in which the count changed (three joins), not one per interval: nothing is written at rest.
        long steps = Integer.parseInt(gavel.redis().command("ZCARD gavel:{a:hist}:history").trim().substring(1));
        assertTrue(steps >= 1 && steps <= 3, steps + " steps for " + history);
    }

    @Test
    void theHistoryStopsGrowingWhenTheAuctionHasNoViewers() {
        TestViewer viewer = gavel.watch(1, "brief");
        viewer.awaitCurrent(1);
        await().atMost(TestViewer.PATIENCE).until(() -> history("brief").size() >= 3);
        viewer.close();
        await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.get(gavel.cluster().port(2),
                "/api/v1/auctions/brief/viewer-count").json().getLong("current") == 0);
        int[] size = {history("brief").size()};
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50)).until(() -> {
            int now = history("brief").size();
            boolean settled = now == size[0];
            size[0] = now;
            return settled;
        });
        await().during(Duration.ofMillis(INTERVAL_MILLIS * 5)).atMost(Duration.ofSeconds(5))
                .until(() -> history("brief").size() == size[0]);
    }

    @Test
    void fromAndToNarrowTheHistory() {
        gavel.watch(0, "range").awaitCurrent(1);
        await().atMost(TestViewer.PATIENCE).until(() -> history("range").size() >= 5);
        JsonArray all = history("range");
        String second = all.getJsonObject(1).getString("timestamp");
        String fourth = all.getJsonObject(3).getString("timestamp");

        JsonArray middle = stats("range", "?from=" + second + "&to=" + fourth).getJsonArray("history");
        assertEquals(new JsonArray(List.of(all.getJsonObject(1), all.getJsonObject(2), all.getJsonObject(3))), middle);
        assertEquals(all.getJsonObject(0), stats("range", "?to=" + all.getJsonObject(0).getString("timestamp"))
                .getJsonArray("history").getJsonObject(0));
        assertEquals(1, stats("range", "?to=" + all.getJsonObject(0).getString("timestamp")).getJsonArray("history").size());
        assertEquals(0, stats("range", "?from=" + fourth + "&to=" + second).getJsonArray("history").size());
        String offset = Instant.parse(second).atOffset(java.time.ZoneOffset.ofHours(2)).toString();
        assertEquals(all.getJsonObject(1), stats("range", "?from=" + offset.replace("+", "%2B")).getJsonArray("history").getJsonObject(0));
    }

    @Test
    void uniqueViewersCountAViewerIdOnceOnEveryNode() {
        List<TestViewer> viewers = List.of(
                connect(0, "/ws?slug=auction-uniq&viewerId=alice"),
                connect(0, "/ws?slug=auction-uniq&viewerId=alice"),
                connect(1, "/ws?slug=auction-uniq&viewerId=alice"),
                connect(2, "/ws?slug=auction-uniq&viewerId=bob_2"),
                connect(1, "/ws?slug=auction-uniq"),
                connect(2, "/ws?slug=auction-uniq"));
        viewers.forEach(v -> v.awaitCurrent(6));

        await().atMost(TestViewer.PATIENCE).until(() -> stats("uniq", "").getLong("uniqueViewers") == 4);

        // Alice comes back in a fourth tab on the third node: still four people.
        connect(2, "/ws?slug=auction-uniq&viewerId=alice").awaitCurrent(7);
        connect(0, "/ws?slug=auction-uniq&viewerId=carol").awaitCurrent(8);
        await().atMost(TestViewer.PATIENCE).until(() -> stats("uniq", "").getLong("uniqueViewers") == 5);
        JsonObject stats = stats("uniq", "");
        assertEquals(Set.of("auctionId", "current", "peak", "connections", "people", "uniqueViewers", "history"),
                stats.fieldNames());
        assertEquals(8, stats.getLong("current"));
        assertEquals(8, stats.getLong("peak"));
        // watching now: alice (four tabs), bob, carol and two connections without an id
        assertEquals(8, stats.getLong("connections"));
        assertEquals(5, stats.getLong("people"));
    }

    @Test
    void aViewerIdCountsOnceWhateverTheTransportAndNode() {
        JsonObject aliceOnSocketIo = JsViewer.teamOptions("auction-tabs");
        aliceOnSocketIo.getJsonObject("query").put("viewerId", "alice");
        JsonObject bobOnSocketIo = JsViewer.teamOptions("auction-tabs").put("transports", List.of("websocket"));
        bobOnSocketIo.getJsonObject("query").put("viewerId", "bob");
        try (JsViewer alice1 = JsViewer.socketIo(gavel.cluster().port(0), aliceOnSocketIo);
             JsViewer alice2 = JsViewer.sockJs(gavel.cluster().port(1), "auction-tabs", "alice", "xhr-polling");
             JsViewer bob = JsViewer.socketIo(gavel.cluster().port(1), bobOnSocketIo)) {
            connect(2, "/ws?slug=auction-tabs&viewerId=alice").awaitCurrent(4);
            alice1.awaitCurrent(4);
            alice2.awaitCurrent(4);
            bob.awaitCurrent(4);
            await().atMost(TestViewer.PATIENCE).until(() -> stats("tabs", "").getLong("uniqueViewers") == 2);
        }
    }

    @Test
    void aBadViewerIdIsRefusedBeforeTheUpgradeAndNotCounted() {
        TestViewer counted = gavel.watch(0, "strict");
        counted.awaitCurrent(1);
        assertEquals(400, TestViewer.refusalStatus(gavel.cluster().port(1), "/ws?slug=auction-strict&viewerId=bad.id", null));
        assertEquals(400, TestViewer.refusalStatus(gavel.cluster().port(1), "/ws?slug=auction-strict&viewerId=", null));
        assertEquals(400, TestViewer.refusalStatus(gavel.cluster().port(2), "/ws?slug=auction-strict&viewerId=" + "a".repeat(65), null));
        connect(2, "/ws?slug=auction-strict&viewerId=" + "a".repeat(64)).awaitCurrent(2);
        counted.awaitCount(2, 2);
        await().atMost(TestViewer.PATIENCE).until(() -> stats("strict", "").getLong("uniqueViewers") == 2);
    }

    @Test
    void theViewerCountIsPublic() {
        gavel.watch(0, "open").awaitCurrent(1);
        gavel.watch(1, "open").awaitCurrent(2);
        ApiClient.Answer answer = ApiClient.get(gavel.cluster().port(2), "/api/v1/auctions/open/viewer-count");
        assertEquals(200, answer.status());
        assertEquals(new JsonObject().put("auctionId", "open").put("current", 2).put("peak", 2), answer.json());
        assertEquals(new JsonObject().put("auctionId", "never").put("current", 0).put("peak", 0),
                ApiClient.get(gavel.cluster().port(2), "/api/v1/auctions/never/viewer-count").json());
    }

    @Test
    void theWatchedAuctionsAreListedMostWatchedFirst() {
        gavel.watch(0, "big");
        gavel.watch(1, "big");
        gavel.watch(2, "big");
        TestViewer small = gavel.watch(1, "small");
        gavel.watch(0, "middle");
        gavel.watch(2, "middle");

        JsonArray expected = new JsonArray()
                .add(new JsonObject().put("auctionId", "big").put("current", 3).put("peak", 3))
                .add(new JsonObject().put("auctionId", "middle").put("current", 2).put("peak", 2))
                .add(new JsonObject().put("auctionId", "small").put("current", 1).put("peak", 1));
        await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.adminGet(gavel.cluster().port(1), "/api/v1/auctions").jsonArray().equals(expected));

        small.close();
        expected.remove(2);
        await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.adminGet(gavel.cluster().port(2), "/api/v1/auctions").jsonArray().equals(expected));
    }
}
