package dev.gavel.testkit;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a node writes to its log, as a process: JSON lines that parse one by one, text lines with timestamps, no
 * secret and no viewer's query in any line, floods of refusals summed up instead of logged one by one, and the
 * requests that used to log stack traces (malformed percent-encoding, viewers gone with data unsent) logging none.
 */
class LogsIT {

    private static final String VIEWER_ID = "viewer-secret-4711";
    private static final String WRONG_TOKEN = "not-the-admin-token-0815";
    private static final String TIMESTAMP = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
    /** A malformed percent-encoding in the path or the query of every route. */
    private static final List<String> MALFORMED = List.of(
            "/ws?slug=auction-a%zz", "/ws%zz?slug=auction-a", "/ws?slug=auction-a&viewerId=%",
            "/auction/?EIO=4&transport=polling&slug=auction-%zz", "/auction/%zz?EIO=4&transport=polling",
            "/auction/?EIO=4&transport=polling&sid=%", "/sockjs/info?slug=%zz", "/sockjs/%zz/info",
            "/sockjs/000/abc/xhr?slug=auction-a%g", "/api/v1/auctions/%zz/viewer-count",
            "/api/v1/auctions/a/viewer-count?x=%zz", "/api/v1/auctions/a/bidding%", "/api/v1/openapi.yaml?%",
            "/health/live?x=%zz", "/health/ready%", "/health/%zz", "/metrics?%4", "/%zz");

    @Test
    void jsonLogsParseLineByLineNameTheNodeAndKeepSecretsAndFloodsOut() throws Exception {
        long started = System.nanoTime();
        try (NodeProcess node = NodeProcess.start(Map.of("LOG_FORMAT", "json", "NODE_ID", "json-node",
                "ADMIN_TOKEN", ApiClient.ADMIN_TOKEN, "ALLOWED_ORIGIN", "http://auctions.example"))) {
            int port = node.port();
            for (int i = 0; i < 1000; i++) {
                assertEquals(403, ApiClient.send(HttpMethod.GET, port, "/ws?slug=auction-logs&viewerId=" + VIEWER_ID,
                        Map.of("Origin", "http://evil.example"), null).status());
            }
            assertEquals(403, ApiClient.send(HttpMethod.GET, port, "/auction/?EIO=4&transport=polling&slug=auction-logs&viewerId="
                    + VIEWER_ID, Map.of("Origin", "http://evil.example"), null).status());
            assertEquals(403, ApiClient.send(HttpMethod.GET, port, "/sockjs/info?slug=auction-logs&viewerId=" + VIEWER_ID,
                    Map.of("Origin", "http://evil.example"), null).status());
            assertEquals(401, ApiClient.send(HttpMethod.GET, port, "/api/v1/auctions",
                    Map.of("Authorization", "Bearer " + WRONG_TOKEN), null).status());
            for (String uri : MALFORMED) {
                assertEquals(400, exchange(port, get(uri)).status(), uri);
            }
            assertEquals(400, exchange(port, bothLengths()).status());
            // a body the OpenAPI validator refuses: its message reads "The value of the request body is invalid. Reason: ..."
            assertEquals(400, ApiClient.adminPost(port, "/api/v1/auctions/logs/bidding", "[1]").status());
            disconnectViewersWhileEventsArePublished(port);
            TestViewer last = TestViewer.watch(port, "logs-last");
            last.awaitCurrent(1);
            // the viewers closed above have all left: the stop drains exactly one
            await().atMost(TestViewer.PATIENCE).until(() -> Scrape.of(port).value("gavel_viewers") == 1);

            node.terminate();
            assertNotNull(node.awaitExit(Duration.ofSeconds(10)), "exited");
            long elapsedSeconds = (System.nanoTime() - started) / 1_000_000_000;
            String output = node.output();

            List<JsonObject> lines = new ArrayList<>();
            for (String line : output.split("\n")) {
                lines.add(parse(line, output));
            }
            for (JsonObject line : lines) {
                assertTrue(line.getString("timestamp", "").matches(TIMESTAMP), line.encode());
                assertTrue(List.of("INFO", "WARN", "ERROR").contains(line.getString("level")), line.encode());
                assertNotNull(line.getString("logger"), line.encode());
                assertNotNull(line.getString("message"), line.encode());
                assertEquals("json-node", line.getString("node"), line.encode());
                assertFalse(line.containsKey("stackTrace"), "no stack trace: " + line.encode());
            }
            assertFalse(output.contains(ApiClient.ADMIN_TOKEN), output);
            assertFalse(output.contains(WRONG_TOKEN), output);
            assertFalse(output.contains(VIEWER_ID), output);
            assertFalse(output.contains("viewerId="), output);
            assertTrue(lines.stream().anyMatch(l -> l.getString("message").contains("listening on port")), output);
            assertTrue(lines.stream().anyMatch(l -> l.getString("message").contains("stopping: draining 1 viewer over")), output);
            // one line at the first refusal of a class, then at most one per 10 s while they go on
            long bound = 2 + elapsedSeconds / 10;
            assertBetween(1, bound, count(lines, "origin not allowed (403)"), output);
            assertBetween(1, bound, count(lines, "missing or wrong admin token (401)"), output);
            assertBetween(1, bound, count(lines, "malformed percent-encoding in the request URI (400)"), output);
            assertBetween(1, bound, count(lines, "both Content-Length and Transfer-Encoding (400)"), output);
            // the validator's refusals are logged by what kind of mismatch they are, not by its sentence
            assertBetween(1, bound, count(lines, "request does not match the API (invalid value) (400)"), output);
            assertFalse(output.contains("Reason (400)"), output);
            assertTrue(lines.size() <= 2 + 5 * bound, lines.size() + " lines for 1000 refused viewers and more:\n" + output);
        }
    }

    @Test
    void textLogsHaveTimestampsAndMalformedPercentEncodingIsA400WithOneLinePerInterval() throws Exception {
        try (NodeProcess node = NodeProcess.start(Map.of("NODE_ID", "text-node", "ADMIN_TOKEN", ApiClient.ADMIN_TOKEN))) {
            int before = node.output().split("\n").length;
            long started = System.nanoTime();
            for (int round = 0; round < 10; round++) {
                for (String uri : MALFORMED) {
                    Answer answer = exchange(node.port(), get(uri));
                    assertEquals(400, answer.status(), uri);
                    assertEquals("malformed percent-encoding in the request URI",
                            new JsonObject(answer.body()).getString("error"), uri);
                }
            }
            long elapsedSeconds = (System.nanoTime() - started) / 1_000_000_000;
            assertEquals(200, node.status("/health/live"), "the node serves on");
            String output = node.output();
            String[] lines = output.split("\n");
            assertTrue(lines.length - before <= 1 + elapsedSeconds / 10 + 1,
                    (lines.length - before) + " lines for " + 10 * MALFORMED.size() + " bad requests:\n" + output);
            for (String line : lines) {
                assertTrue(line.matches(TIMESTAMP + " (INFO |WARN |ERROR) \\S+ \\[text-node\\] .+"), line);
            }
        }
    }

    @Test
    void aRequestWithBothContentLengthAndTransferEncodingIsA400AndItsConnectionIsClosed() throws Exception {
        try (NodeProcess node = NodeProcess.start(Map.of())) {
            for (String transferEncoding : List.of("chunked", "gzip, chunked", "identity")) {
                // a request pipelined behind it must not be served: its start depends on which length one believes
                String request = "POST /api/v1/auctions/a/bidding HTTP/1.1\r\nHost: gavel\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 5\r\nTransfer-Encoding: " + transferEncoding + "\r\n\r\n0\r\n\r\n"
                        + "GET /health/live HTTP/1.1\r\nHost: gavel\r\n\r\n";
                Answer answer = exchange(node.port(), request);
                assertEquals(400, answer.status(), transferEncoding);
                assertEquals("both Content-Length and Transfer-Encoding", new JsonObject(answer.body()).getString("error"));
                assertTrue(answer.closed(), "the node closed the connection");
                assertFalse(answer.raw().contains("UP"), "served what followed: " + answer.raw());
            }
            assertEquals(200, node.status("/health/live"));
        }
    }

    /**
     * 10,000 bad requests of every kind a client can send, as fast as the node takes them: each is answered (400, or
     * the status Vert.x gives a head it cannot read) and counted, and together they write a handful of lines, none of
     * them a warning, an error or a stack. (A request without {@code Host} used to write an error with a stack each.)
     */
    @Test
    void tenThousandBadRequestsAreCountedAndWriteAHandfulOfLines() throws Exception {
        try (NodeProcess node = NodeProcess.start(Map.of("NODE_ID", "flood-node", "ADMIN_TOKEN", ApiClient.ADMIN_TOKEN))) {
            int port = node.port();
            int before = node.output().split("\n").length;
            long started = System.nanoTime();
            // kept alive by the node: pipelined, 100 on a connection
            assertEquals(4_000, pipelined(port, "GET /health/live HTTP/1.1\r\n\r\n", 4_000, 400));
            assertEquals(2_000, pipelined(port, "GET /health/%zz HTTP/1.1\r\nHost: gavel\r\n\r\n", 2_000, 400));
            assertEquals(1_000, pipelined(port, "GET /sockjs/000/abc/jsonp?c=%3Cscript%3E&slug=auction-flood HTTP/1.1\r\n"
                    + "Host: gavel\r\n\r\n", 1_000, 400));
            // the node closes the connection after each: one connection each
            for (int i = 0; i < 1_000; i++) {
                assertEquals(400, exchange(port, "GARBAGE\r\n\r\n").status());
            }
            for (int i = 0; i < 500; i++) {
                assertEquals(431, exchange(port, "GET /health/live HTTP/1.1\r\nHost: gavel\r\nX-Pad: " + "x".repeat(10_000)
                        + "\r\n\r\n").status());
            }
            for (int i = 0; i < 500; i++) {
                assertEquals(400, exchange(port, bothLengths()).status());
            }
            for (int i = 0; i < 1_000; i++) {
                Answer answer = exchange(port, "POST /api/v1/auctions/flood/bidding HTTP/1.1\r\nHost: gavel\r\n"
                        + "Authorization: Bearer " + ApiClient.ADMIN_TOKEN + "\r\nContent-Type: application/json\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\nzz\r\n");
                assertTrue(answer.raw().isEmpty() || answer.status() == 400, answer.raw());
            }
            long elapsedSeconds = (System.nanoTime() - started) / 1_000_000_000;
            assertEquals(200, node.status("/health/live"), "the node serves on");

            Scrape scrape = Scrape.of(port);
            assertTrue(scrape.value("gavel_refusals_total{reason=\"malformed_http\"}") >= 4_000 + 2_000 + 1_000 + 500 + 500 + 1_000,
                    scrape.toString());
            assertTrue(scrape.value("gavel_refusals_total{reason=\"bad_request\"}") >= 1_000, scrape.toString());
            String output = node.output();
            String[] lines = output.split("\n");
            List<String> added = List.of(lines).subList(before, lines.length);
            System.out.printf("10000 bad requests in %d s wrote %d lines:%n%s%n", elapsedSeconds, added.size(),
                    String.join("\n", added));
            // seven kinds, each one line when it starts and at most one per 10 s while it goes on
            assertTrue(added.size() <= 7 * (2 + elapsedSeconds / 10), added.size() + " lines:\n" + output);
            assertFalse(output.contains("\tat "), "no stack trace:\n" + output);
            // Micrometer's warning about a gauge Vert.x registers twice (once per process, if at all) is allowed
            assertTrue(added.stream().allMatch(line -> line.contains(" INFO ") || line.contains(" WARN  MeterRegistry ")),
                    "no warning or error:\n" + output);
        }
    }

    /**
     * Sends {@code request} {@code times} times, 100 pipelined on each connection (the last with
     * {@code Connection: close}), reads every answer, and returns how many had {@code status}.
     */
    private static int pipelined(int port, String request, int times, int status) throws IOException {
        int matching = 0;
        String close = request.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n");
        for (int sent = 0; sent < times; sent += 100) {
            String batch = request.repeat(99) + close;
            Answer answer = exchange(port, batch);
            assertTrue(answer.closed(), "closed after the last");
            String statusLine = "HTTP/1.1 " + status + " ";
            for (int at = answer.raw().indexOf(statusLine); at >= 0; at = answer.raw().indexOf(statusLine, at + 1)) {
                matching++;
            }
        }
        return matching;
    }

    /**
     * Viewers on every WebSocket transport that read nothing while bids are published to them, then go away with
     * frames still queued for them (or are closed as too slow by the node first).
     */
    private static void disconnectViewersWhileEventsArePublished(int port) throws IOException {
        List<RawWebSocket> viewers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            viewers.add(viewer(port, "/ws?slug=auction-logs&viewerId=" + VIEWER_ID));
            viewers.add(viewer(port, "/sockjs/000/s" + i + "/websocket?slug=auction-logs&viewerId=" + VIEWER_ID));
            viewers.add(viewer(port, "/auction/?EIO=4&transport=websocket&slug=auction-logs&viewerId=" + VIEWER_ID));
        }
        String bid = new JsonObject().put("amount", 1).put("note", "x".repeat(4000)).encode();
        for (int i = 0; i < 300; i++) {
            if (i == 150) {
                for (RawWebSocket viewer : viewers) {
                    viewer.close();
                }
            }
            assertEquals(202, ApiClient.adminPost(port, "/api/v1/auctions/logs/bidding", bid).status());
        }
    }

    /** A viewer that reads nothing; opened again while a busy node answers 503 (overloaded). */
    private static RawWebSocket viewer(int port, String uri) {
        RawWebSocket[] opened = {null};
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            RawWebSocket ws = RawWebSocket.open(port, uri, null, 4096);
            if (ws.status() == 101) {
                opened[0] = ws;
                return true;
            }
            assertEquals(503, ws.status(), uri);
            ws.close();
            return false;
        });
        return opened[0];
    }

    private static JsonObject parse(String line, String output) {
        try {
            return new JsonObject(line);
        } catch (RuntimeException e) {
            throw new AssertionError("not a JSON object: " + line + "\nin:\n" + output, e);
        }
    }

    private static long count(List<JsonObject> lines, String reason) {
        return lines.stream().filter(l -> l.getString("message").contains(reason)).count();
    }

    private static void assertBetween(long min, long max, long actual, String output) {
        assertTrue(actual >= min && actual <= max, actual + " not in [" + min + ", " + max + "]:\n" + output);
    }

    private static String get(String uri) {
        return "GET " + uri + " HTTP/1.1\r\nHost: gavel\r\nConnection: close\r\n\r\n";
    }

    private static String bothLengths() {
        return "POST /api/v1/auctions/a/bidding HTTP/1.1\r\nHost: gavel\r\nContent-Length: 5\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    }

    /** What the node answered to {@code raw}, and whether it closed the connection after. */
    private record Answer(String raw, boolean closed) {

        int status() {
            return Integer.parseInt(raw.split(" ", 3)[1]);
        }

        String body() {
            return raw.substring(raw.indexOf("\r\n\r\n") + 4);
        }
    }

    /** Sends {@code request} as it is on a connection of its own and reads until the node closes it or goes quiet. */
    private static Answer exchange(int port, String request) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port));
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            boolean closed;
            try {
                for (int n = in.read(buffer); ; n = in.read(buffer)) {
                    if (n < 0) {
                        closed = true;
                        break;
                    }
                    answer.write(buffer, 0, n);
                }
            } catch (SocketTimeoutException e) {
                closed = false;
            }
            return new Answer(answer.toString(StandardCharsets.UTF_8), closed);
        }
    }
}
