package dev.gavel.testkit;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Events published through the API on one node reach every viewer of the auction on every node, in order. */
class AuctionEventsIT {

    @RegisterExtension
    static final ClusterExtension gavel = new ClusterExtension(3, Map.of("NODE_TTL_MS", "2000"));

    /** Every viewer has joined and is subscribed once it sees the count of all of them. */
    private static void awaitJoined(long count, TestViewer... watching) {
        for (TestViewer viewer : watching) {
            viewer.awaitCurrent(count);
        }
    }

    @Test
    void aBidPostedToOneNodeReachesViewersOnTheOthersAndNotViewersOfAnotherAuction() {
        TestViewer onB = gavel.watch(1, "lot-1");
        TestViewer onC = gavel.watch(2, "lot-1");
        TestViewer otherOnA = gavel.watch(0, "lot-2");
        TestViewer otherOnB = gavel.watch(1, "lot-2");
        awaitJoined(2, onB, onC, otherOnA, otherOnB);

        JsonObject player = new JsonObject().put("name", "Virat").put("basePrice", 200).put("currentBid", 450);
        ApiClient.Answer answer = ApiClient.adminPost(gavel.cluster().port(0), "/api/v1/auctions/lot-1/bidding", player.encode());

        assertEquals(202, answer.status(), answer.toString());
        assertEquals(new JsonObject().put("auctionId", "lot-1").put("event", "playerBiddingUpdate"), answer.json());
        assertEquals(List.of(player), onB.awaitEvents("playerBiddingUpdate", 1));
        assertEquals(List.of(player), onC.awaitEvents("playerBiddingUpdate", 1));

        // A later event to lot-2 arrives after any stray lot-1 event would have, on the same connections.
        ApiClient.adminPost(gavel.cluster().port(0), "/api/v1/auctions/lot-2/sold", "{\"message\":\"marker\"}");
        otherOnA.awaitEvents("playerSoldUpdate", 1);
        otherOnB.awaitEvents("playerSoldUpdate", 1);
        assertEquals(List.of(), otherOnA.events("playerBiddingUpdate"));
        assertEquals(List.of(), otherOnB.events("playerBiddingUpdate"));
    }

    @Test
    void aSoldMessageReachesEveryViewerAsAString() {
        TestViewer onA = gavel.watch(0, "lot-3");
        TestViewer onB = gavel.watch(1, "lot-3");
        TestViewer onC = gavel.watch(2, "lot-3");
        awaitJoined(3, onA, onB, onC);

        String message = "Sold to \"Mumbai\" for ₹ 4.5 Cr\n";
        ApiClient.Answer answer = ApiClient.adminPost(gavel.cluster().port(1), "/api/v1/auctions/lot-3/sold",
                new JsonObject().put("message", message).encode());

        assertEquals(202, answer.status(), answer.toString());
        assertEquals(new JsonObject().put("auctionId", "lot-3").put("event", "playerSoldUpdate"), answer.json());
        for (TestViewer viewer : List.of(onA, onB, onC)) {
            assertEquals(List.of(message), viewer.awaitEvents("playerSoldUpdate", 1));
        }
    }

    @Test
    void aThousandEventsPostedInSequenceArriveInOrderAtEveryViewer() {
        List<TestViewer> watching = List.of(gavel.watch(0, "lot-4"), gavel.watch(1, "lot-4"), gavel.watch(2, "lot-4"), gavel.watch(2, "lot-4"));
        awaitJoined(4, watching.toArray(TestViewer[]::new));

        int events = 1000;
        for (int i = 0; i < events; i++) {
            ApiClient.Answer answer = ApiClient.adminPost(gavel.cluster().port(i % 3), "/api/v1/auctions/lot-4/bidding",
                    new JsonObject().put("seq", i).encode());
            assertEquals(202, answer.status(), answer.toString());
        }

        List<Object> expected = IntStream.range(0, events).mapToObj(i -> (Object) new JsonObject().put("seq", i)).toList();
        for (TestViewer viewer : watching) {
            assertEquals(expected, viewer.awaitEvents("playerBiddingUpdate", events));
        }
    }

    /**
     * A viewer that is told it is connected gets every event published from then on, also as the first viewer of
     * its auction on its node, which subscribes to the auction as the viewer comes. 120 viewers of fresh auctions
     * open on one node, 8 at a time, and a bid is published through another node the moment each open returns:
     * over plain WebSocket, and over SockJS's raw WebSocket endpoint.
     */
    @Test
    void theFirstViewerOfAnAuctionOnANodeGetsTheEventPublishedAsItsConnectionOpens() throws Exception {
        firstViewersGetTheEventPublishedAsTheyOpen("first-ws-", auction -> "/ws?slug=auction-" + auction);
        firstViewersGetTheEventPublishedAsTheyOpen("first-sockjs-", auction -> "/sockjs/websocket?slug=auction-" + auction);

        // the official clients, told by the CONNECT's answer (Socket.IO) or the open frame (SockJS, each transport)
        for (int i = 0; i < 3; i++) {
            String auction = "first-io-" + i;
            try (JsViewer viewer = JsViewer.socketIo(gavel.cluster().port(2), JsViewer.teamOptions("auction-" + auction))) {
                viewer.awaitRecord("connect");
                publishSoldAtOnce(auction);
                assertEquals(List.of("at once"), viewer.awaitEvents("playerSoldUpdate", 1));
            }
        }
        for (String transport : List.of("websocket", "xhr-streaming", "xhr-polling")) {
            String auction = "first-" + transport;
            try (JsViewer viewer = JsViewer.sockJs(gavel.cluster().port(2), "auction-" + auction, transport)) {
                viewer.awaitRecord("open");
                publishSoldAtOnce(auction);
                assertEquals(List.of("at once"), viewer.awaitEvents("playerSoldUpdate", 1), transport);
            }
        }
    }

    private static void publishSoldAtOnce(String auction) {
        ApiClient.Answer answer = ApiClient.adminPost(gavel.cluster().port(0), "/api/v1/auctions/" + auction + "/sold",
                new JsonObject().put("message", "at once").encode());
        assertEquals(202, answer.status(), answer.toString());
    }

    private static void firstViewersGetTheEventPublishedAsTheyOpen(String prefix, java.util.function.Function<String, String> uriOf)
            throws Exception {
        int viewers = 120;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<TestViewer>> opened = IntStream.range(0, viewers).mapToObj(i -> pool.submit(() -> {
                TestViewer viewer = TestViewer.connect(gavel.cluster().port(2), uriOf.apply(prefix + i), null);
                ApiClient.Answer answer = ApiClient.adminPost(gavel.cluster().port(0), "/api/v1/auctions/" + prefix + i + "/sold",
                        new JsonObject().put("message", "at once " + i).encode());
                assertEquals(202, answer.status(), answer.toString());
                return viewer;
            })).toList();
            List<String> missed = new java.util.ArrayList<>();
            for (int i = 0; i < viewers; i++) {
                TestViewer viewer = opened.get(i).get(60, java.util.concurrent.TimeUnit.SECONDS);
                if (!awaitedOn(viewer, "at once " + i)) {
                    missed.add(prefix + i);
                }
            }
            assertEquals(List.of(), missed, missed.size() + " of " + viewers + " first viewers missed the event published as they opened");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void publishingWhileRedisIsDownAnswers503AndWorksAgainOnceItIsBack() {
        TestViewer onA = gavel.watch(0, "lot-5");
        TestViewer onB = gavel.watch(1, "lot-5");
        awaitJoined(2, onA, onB);

        gavel.redis().takeDown();
        try {
            ApiClient.Answer answer = ApiClient.adminPost(gavel.cluster().port(2), "/api/v1/auctions/lot-5/sold", "{\"message\":\"lost\"}");
            assertEquals(503, answer.status(), answer.toString());
            assertTrue(answer.error() != null && !answer.error().isEmpty(), answer.toString());
        } finally {
            gavel.redis().bringBack();
        }

        // Once every node has reconnected and resubscribed, an event published on any node reaches everyone.
        int[] attempt = {0};
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            String message = "back-" + attempt[0]++;
            ApiClient.Answer answer = ApiClient.adminPost(gavel.cluster().port(2), "/api/v1/auctions/lot-5/sold",
                    new JsonObject().put("message", message).encode());
            assertTrue(answer.status() == 202 || answer.status() == 503, answer.toString());
            return answer.status() == 202 && awaitedOn(onA, message) && awaitedOn(onB, message);
        });
        assertTrue(onA.events("playerSoldUpdate").stream().noneMatch("lost"::equals));
        assertTrue(onB.events("playerSoldUpdate").stream().noneMatch("lost"::equals));
    }

    private static boolean awaitedOn(TestViewer viewer, String message) {
        try {
            await().atMost(Duration.ofSeconds(2)).until(() -> viewer.events("playerSoldUpdate").contains(message));
            return true;
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            return false;
        }
    }
}
