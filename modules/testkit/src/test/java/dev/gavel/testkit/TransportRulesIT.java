package dev.gavel.testkit;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One rule for every transport, on a node process: a text frame that is not UTF-8 is closed with 1007 on every
 * WebSocket a viewer can open (plain, SockJS's framed and raw WebSocket, Socket.IO's), and the viewer leaves the
 * count; SockJS's JSONP and htmlfile transports answer a missing or unsafe callback with 400, before any session,
 * with no stack in the log.
 */
class TransportRulesIT {

    private static final byte[] INVALID_UTF8 = {'[', '"', (byte) 0xc3, (byte) 0x28, '"', ']'};

    private static NodeProcess node;

    @BeforeAll
    static void start() {
        node = NodeProcess.start(Map.of("ADMIN_TOKEN", ApiClient.ADMIN_TOKEN));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @Test
    void aTextFrameThatIsNotUtf8IsClosedWith1007OnEveryWebSocketTransport() throws IOException {
        int port = node.port();
        int i = 0;
        for (String uri : List.of("/sockjs/000/utf8session/websocket?slug=auction-utf8-" + i, "/sockjs/websocket?slug=auction-utf8-" + (i + 1),
                "/ws?slug=auction-utf8-" + (i + 2))) {
            String auction = uri.substring(uri.indexOf("auction-") + "auction-".length());
            try (TestViewer other = TestViewer.watch(port, auction);
                 RawWebSocket viewer = RawWebSocket.open(port, uri, null, 65536)) {
                assertEquals(101, viewer.status(), uri);
                other.awaitCount(2, 2);
                long sent = System.nanoTime();
                viewer.sendText(INVALID_UTF8);
                assertEquals(1007, viewer.readUntilClose(new int[1]), uri);
                other.awaitCount(1, 2);
                System.out.printf("%s: closed with 1007 and uncounted in %d ms%n", uri, (System.nanoTime() - sent) / 1_000_000);
            }
        }
        try (RawWebSocket socketIo = RawWebSocket.open(port, "/auction/?EIO=4&transport=websocket&slug=auction-utf8-io", null, 65536)) {
            assertEquals(101, socketIo.status());
            socketIo.sendText(INVALID_UTF8);
            assertEquals(1007, socketIo.readUntilClose(new int[1]));
        }
        assertTrue(Scrape.of(port).value("gavel_refusals_total{reason=\"invalid_frame\"}") >= 4);
        assertFalse(node.output().contains("\tat "), node.output());
    }

    @Test
    void aMissingOrUnsafeJsonpCallbackIs400BeforeAnySessionWithNoStackInTheLog() {
        int port = node.port();
        for (String path : List.of("/sockjs/000/cb1/jsonp?c=%3Cscript%3Ealert(1)%3C/script%3E", "/sockjs/000/cb2/jsonp?c=a%20b",
                "/sockjs/000/cb3/jsonp", "/sockjs/000/cb4/jsonp?c=", "/sockjs/000/cb5/htmlfile?c=x(", "/sockjs/000/cb6/htmlfile",
                "/sockjs/000/cb7/jsonp?callback=*")) {
            ApiClient.Answer answer = ApiClient.get(port, path + (path.contains("?") ? "&" : "?") + "slug=auction-jsonp");
            assertEquals(400, answer.status(), path + ": " + answer);
            assertTrue(answer.error().contains("callback"), answer.toString());
        }
        assertEquals(0, ApiClient.get(port, "/api/v1/auctions/jsonp/viewer-count").json().getLong("current"),
                "no session, no viewer");
        // a callback as sockjs-client makes it opens a session, which counts
        ApiClient.Answer good = ApiClient.get(port, "/sockjs/000/cb8/jsonp?c=_jp.a1b2c3&slug=auction-jsonp");
        assertEquals(200, good.status(), good.toString());
        assertTrue(good.body().startsWith("/**/_jp.a1b2c3(\"o\");"), good.body());
        await().atMost(TestViewer.PATIENCE).untilAsserted(() -> assertEquals(
                new JsonObject().put("auctionId", "jsonp").put("current", 1).put("peak", 1),
                ApiClient.get(port, "/api/v1/auctions/jsonp/viewer-count").json()));
        String output = node.output();
        assertFalse(output.contains("\tat "), output);
        assertFalse(output.contains(" ERROR "), output);
    }
}
