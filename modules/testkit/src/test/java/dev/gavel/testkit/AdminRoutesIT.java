package dev.gavel.testkit;

import io.vertx.core.Vertx;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Admin routes are matched exactly: no spelling of an admin path (trailing slash, doubled slash, dot segments,
 * percent-encoded letters, a query) reaches an admin operation without the token. The admin operations are
 * read from the node's own OpenAPI document, so an operation added later is walked too. Requests are written
 * on a raw socket, so that no client tidies the path up on the way.
 */
class AdminRoutesIT {

    private static final String AUCTION = "watched";
    private static Cluster node;
    private static TestViewer viewer;
    private static List<Operation> adminOperations;

    @BeforeAll
    static void start() throws Exception {
        node = Cluster.start(null, 1, Map.of());
        viewer = TestViewer.watch(node.port(0), AUCTION).awaitCurrent(1);
        Vertx vertx = Vertx.vertx();
        try {
            OpenAPIContract contract = OpenAPIContract.from(vertx, "dev/gavel/server/openapi.yaml")
                    .await(30, TimeUnit.SECONDS);
            adminOperations = contract.operations().stream().filter(op -> !op.getSecurityRequirements().isEmpty()).toList();
        } finally {
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stop() {
        viewer.close();
        node.close();
    }

    @Test
    void everySpellingOfAnAdminPathNeedsTheToken() throws IOException {
        assertTrue(adminOperations.size() >= 4, "admin operations in the document: " + adminOperations.size());
        List<String> failures = new ArrayList<>();
        int walked = 0;
        for (Operation operation : adminOperations) {
            String path = operation.getAbsoluteOpenAPIPath().replace("{id}", AUCTION);
            String method = operation.getHttpMethod().name();
            for (String spelling : spellings(path)) {
                walked++;
                String answer = request(method, spelling, null);
                int status = status(answer);
                if (status != 401 && status != 404) {
                    failures.add(method + " " + spelling + " -> " + status);
                } else if (answer.contains("\"current\"") || answer.contains("\"" + AUCTION + "\"")) {
                    failures.add(method + " " + spelling + " -> " + status + " leaked " + answer);
                }
            }
        }
        assertTrue(failures.isEmpty(), "reached without the token: " + failures);
        assertTrue(walked > 40, "walked " + walked);
    }

    @Test
    void withTheTokenOnlyTheExactPathAnswers() throws IOException {
        String token = "Bearer " + ApiClient.ADMIN_TOKEN;
        assertEquals(200, status(request("GET", "/api/v1/auctions", token)));
        assertEquals(404, status(request("GET", "/api/v1/auctions/", token)));
        assertEquals(404, status(request("GET", "/api/v1/auctions//", token)));
        assertEquals(404, status(request("GET", "/api/v1/auctions/" + AUCTION + "/viewer-stats/", token)));
    }

    @Test
    void publicRoutesAnswerWithoutTheTokenOnTheirExactPathOnly() throws IOException {
        assertEquals(200, status(request("GET", "/api/v1/auctions/" + AUCTION + "/viewer-count", null)));
        assertEquals(404, status(request("GET", "/api/v1/auctions/" + AUCTION + "/viewer-count/", null)));
        assertEquals(200, status(request("GET", "/api/v1/openapi.yaml", null)));
        String unknown = request("GET", "/api/v1/secrets", null);
        assertFalse(status(unknown) == 200, unknown);
    }

    /** Ways to write {@code path} that a lenient router might take for it. */
    private static Set<String> spellings(String path) {
        String tail = path.substring("/api/v1/".length());
        String firstLetterEncoded = "/api/v1/%" + Integer.toHexString(tail.charAt(0)) + tail.substring(1);
        return Set.of(
                path,
                path + "/",
                path + "//",
                path + "/.",
                path + "/./",
                path + "?x=1",
                path + "/?x=1",
                "/" + path,
                path.replace("/v1/", "//v1/"),
                path.replace("/v1/", "/v1/./"),
                path.replace("/v1/", "/v1/x/../"),
                path.replace("/api/", "/api/v1/../"),
                firstLetterEncoded,
                firstLetterEncoded + "/",
                path.replace("/api/", "/%61pi/"));
    }

    private static String request(String method, String target, String authorization) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", node.port(0))) {
            socket.setSoTimeout(10_000);
            boolean body = method.equals("POST") || method.equals("PUT");
            String payload = body ? "{\"message\":\"x\"}" : "";
            StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
            if (authorization != null) {
                head.append("Authorization: ").append(authorization).append("\r\n");
            }
            if (body) {
                head.append("Content-Type: application/json\r\nContent-Length: ").append(payload.length()).append("\r\n");
            }
            head.append("\r\n").append(payload);
            OutputStream out = socket.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static int status(String answer) {
        assertTrue(answer.startsWith("HTTP/1.1 "), "not an HTTP answer: " + answer);
        return Integer.parseInt(answer.substring(9, 12));
    }
}
