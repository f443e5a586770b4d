package dev.gavel.testkit;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kind of bad API request gets the contract's status and a JSON {@code {"error": ...}}, and none of them
 * changes a count or reaches a viewer.
 */
class ApiRefusalsIT {

    private static final String ALLOWED_ORIGIN = "http://admin.gavel.test:3000";
    private static final String AUCTION = "quiet";
    private static final Map<String, String> JSON = Map.of("Content-Type", "application/json");

    @RegisterExtension
    static final ClusterExtension gavel = new ClusterExtension(3, Map.of("NODE_TTL_MS", "2000", "ALLOWED_ORIGIN", ALLOWED_ORIGIN));

    private static Map<String, String> admin(Map<String, String> more) {
        Map<String, String> headers = new HashMap<>(more);
        headers.put("Authorization", "Bearer " + ApiClient.ADMIN_TOKEN);
        return headers;
    }

    private ApiClient.Answer send(HttpMethod method, String path, Map<String, String> headers, String body) {
        return ApiClient.send(method, gavel.cluster().port(0), path, headers, body);
    }

    private static void assertRefused(int status, ApiClient.Answer answer, String errorMentions) {
        assertEquals(status, answer.status(), answer.toString());
        assertTrue(answer.headers().get("Content-Type").startsWith("application/json"), answer.headers().toString());
        String error = answer.error();
        assertTrue(error != null && error.contains(errorMentions), "error should mention '" + errorMentions + "': " + answer);
    }

    @Test
    void adminCallsWithoutTheRightTokenAre401() {
        String sold = "/api/v1/auctions/" + AUCTION + "/sold";
        String body = "{\"message\":\"x\"}";
        assertRefused(401, send(HttpMethod.POST, sold, JSON, body), "token");
        Map<String, String> wrong = new HashMap<>(JSON);
        wrong.put("Authorization", "Bearer not-the-token");
        assertRefused(401, send(HttpMethod.POST, sold, wrong, body), "token");
        wrong.put("Authorization", "Bearer " + ApiClient.ADMIN_TOKEN + "x");
        assertRefused(401, send(HttpMethod.POST, sold, wrong, body), "token");
        wrong.put("Authorization", "Basic " + ApiClient.ADMIN_TOKEN);
        assertRefused(401, send(HttpMethod.POST, sold, wrong, body), "token");
        assertRefused(401, send(HttpMethod.POST, "/api/v1/auctions/" + AUCTION + "/bidding", JSON, "{}"), "token");
        assertRefused(401, send(HttpMethod.GET, "/api/v1/auctions/" + AUCTION + "/viewer-stats", Map.of(), null), "token");
        ApiClient.Answer list = send(HttpMethod.GET, "/api/v1/auctions", Map.of(), null);
        assertRefused(401, list, "token");
        assertEquals("Bearer", list.headers().get("WWW-Authenticate"));
    }

    @Test
    void theTokenIsCheckedBeforeTheBodyIsValidated() {
        assertRefused(401, send(HttpMethod.POST, "/api/v1/auctions/" + AUCTION + "/sold", JSON, "not json"), "token");
        assertRefused(401, send(HttpMethod.POST, "/api/v1/auctions/bad.id/sold", JSON, "{}"), "token");
    }

    @Test
    void aBadAuctionIdIs400NamingTheId() {
        String tooLong = "x".repeat(65);
        assertRefused(400, send(HttpMethod.POST, "/api/v1/auctions/" + tooLong + "/sold", admin(JSON), "{\"message\":\"x\"}"), "id");
        assertRefused(400, send(HttpMethod.POST, "/api/v1/auctions/bad.id/bidding", admin(JSON), "{}"), "id");
        assertRefused(400, send(HttpMethod.GET, "/api/v1/auctions/bad%20id/viewer-count", Map.of(), null), "id");
        assertRefused(400, send(HttpMethod.GET, "/api/v1/auctions/bad!/viewer-stats", admin(Map.of()), null), "id");
    }

    @Test
    void aBodyThatIsNotJsonOrNotTheShapeIs400SayingWhatIsWrong() {
        String bidding = "/api/v1/auctions/" + AUCTION + "/bidding";
        String sold = "/api/v1/auctions/" + AUCTION + "/sold";
        assertRefused(400, send(HttpMethod.POST, bidding, admin(JSON), "{\"name\": "), "body");
        assertRefused(400, send(HttpMethod.POST, bidding, admin(JSON), "[1, 2]"), "object");
        assertRefused(400, send(HttpMethod.POST, bidding, admin(JSON), "\"just a string\""), "object");
        assertRefused(400, send(HttpMethod.POST, bidding, admin(Map.of()), null), "body");
        assertRefused(400, send(HttpMethod.POST, sold, admin(JSON), "not json"), "body");
        assertRefused(400, send(HttpMethod.POST, sold, admin(JSON), "{\"msg\": \"x\"}"), "message");
        assertRefused(400, send(HttpMethod.POST, sold, admin(JSON), "{\"message\": 42}"), "message");
        assertRefused(400, send(HttpMethod.POST, sold, admin(JSON), "{\"message\": null}"), "message");
        assertRefused(400, send(HttpMethod.POST, sold, admin(Map.of("Content-Type", "text/html")), "{\"message\": \"x\"}"), "");
    }

    @Test
    void aBadTimeRangeIs400() {
        assertRefused(400, send(HttpMethod.GET, "/api/v1/auctions/" + AUCTION + "/viewer-stats?from=yesterday",
                admin(Map.of()), null), "from");
        assertRefused(400, send(HttpMethod.GET, "/api/v1/auctions/" + AUCTION + "/viewer-stats?to=2026-13-01T00:00:00Z",
                admin(Map.of()), null), "to");
    }

    @Test
    void aBodyOver64KiBIs413() {
        String big = new JsonObject().put("name", "x".repeat(64 * 1024)).encode();
        assertRefused(413, send(HttpMethod.POST, "/api/v1/auctions/" + AUCTION + "/bidding", admin(JSON), big), "64 KiB");
        String justUnder = new JsonObject().put("message", "x".repeat(60 * 1024)).encode();
        assertEquals(202, send(HttpMethod.POST, "/api/v1/auctions/" + AUCTION + "/sold", admin(JSON), justUnder).status());
    }

    @Test
    void anUnknownRouteIs404AndAWrongMethod405() {
        assertRefused(404, send(HttpMethod.GET, "/api/v1/nothing-here", admin(Map.of()), null), "no such route");
        assertRefused(404, send(HttpMethod.POST, "/api/v1/auctions/" + AUCTION + "/unsold", admin(JSON), "{}"), "no such route");
        assertRefused(404, send(HttpMethod.GET, "/api/v2/auctions", admin(Map.of()), null), "no such route");
        assertRefused(405, send(HttpMethod.GET, "/api/v1/auctions/" + AUCTION + "/bidding", admin(Map.of()), null), "not allowed");
        assertRefused(405, send(HttpMethod.DELETE, "/api/v1/auctions/" + AUCTION + "/viewer-count", admin(Map.of()), null), "not allowed");
        assertRefused(405, send(HttpMethod.PUT, "/api/v1/auctions", admin(JSON), "[]"), "not allowed");
    }

    @Test
    void noRefusedRequestChangesACountOrReachesAViewer() {
        TestViewer viewer = gavel.watch(1, AUCTION);
        viewer.awaitCount(1, 1);

        adminCallsWithoutTheRightTokenAre401();
        theTokenIsCheckedBeforeTheBodyIsValidated();
        aBodyThatIsNotJsonOrNotTheShapeIs400SayingWhatIsWrong();
        anUnknownRouteIs404AndAWrongMethod405();
        assertRefused(413, send(HttpMethod.POST, "/api/v1/auctions/" + AUCTION + "/bidding", admin(JSON),
                new JsonObject().put("name", "x".repeat(70_000)).encode()), "64 KiB");
        send(HttpMethod.POST, "/api/v1/auctions/" + AUCTION + "/sold", Map.of("Origin", "http://evil.test", "Content-Type",
                "application/json", "Authorization", "Bearer " + ApiClient.ADMIN_TOKEN), "{\"message\":\"evil\"}");

        // Events of one auction arrive in order: once the marker is in, anything refused before it would be too.
        assertEquals(202, ApiClient.adminPost(gavel.cluster().port(2), "/api/v1/auctions/" + AUCTION + "/sold", "{\"message\":\"marker\"}").status());
        viewer.awaitEvents("playerSoldUpdate", 1);
        List<String> seen = viewer.frames().stream().map(f -> f.getString("event")).filter(e -> !"viewerCountUpdate".equals(e)).toList();
        assertEquals(List.of("playerSoldUpdate"), seen);
        assertEquals(List.of("marker"), viewer.events("playerSoldUpdate"));
        JsonObject count = ApiClient.get(gavel.cluster().port(0), "/api/v1/auctions/" + AUCTION + "/viewer-count").json();
        assertEquals(new JsonObject().put("auctionId", AUCTION).put("current", 1).put("peak", 1), count);
        assertEquals(new JsonObject().put("auctionId", AUCTION).put("current", 1).put("peak", 1), viewer.lastCount());
    }

    @Test
    void browserCallsFromTheAllowedOriginGetCorsAnswersAndOthersGetNone() {
        String path = "/api/v1/auctions/" + AUCTION + "/sold";
        ApiClient.Answer preflight = send(HttpMethod.OPTIONS, path, Map.of("Origin", ALLOWED_ORIGIN,
                "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type"), null);
        assertEquals(204, preflight.status(), preflight.toString());
        assertEquals(ALLOWED_ORIGIN, preflight.headers().get("Access-Control-Allow-Origin"));
        assertTrue(preflight.headers().get("Access-Control-Allow-Methods").contains("POST"));
        assertTrue(preflight.headers().get("Access-Control-Allow-Headers").contains("Authorization"));
        assertTrue(preflight.headers().get("Access-Control-Allow-Headers").contains("Content-Type"));

        Map<String, String> fromPage = admin(Map.of("Origin", ALLOWED_ORIGIN, "Content-Type", "application/json"));
        ApiClient.Answer call = send(HttpMethod.POST, path, fromPage, "{\"message\":\"from the admin page\"}");
        assertEquals(202, call.status(), call.toString());
        assertEquals(ALLOWED_ORIGIN, call.headers().get("Access-Control-Allow-Origin"));
        ApiClient.Answer refused = send(HttpMethod.POST, path, Map.of("Origin", ALLOWED_ORIGIN), "{}");
        assertEquals(401, refused.status());
        assertEquals(ALLOWED_ORIGIN, refused.headers().get("Access-Control-Allow-Origin"), "errors are readable by the page too");

        ApiClient.Answer otherPreflight = send(HttpMethod.OPTIONS, path, Map.of("Origin", "http://evil.test",
                "Access-Control-Request-Method", "POST"), null);
        assertEquals(403, otherPreflight.status());
        assertNull(otherPreflight.headers().get("Access-Control-Allow-Origin"));
        ApiClient.Answer otherGet = send(HttpMethod.GET, "/api/v1/auctions/" + AUCTION + "/viewer-count", Map.of("Origin", "http://evil.test"), null);
        assertEquals(403, otherGet.status());
        assertNull(otherGet.headers().get("Access-Control-Allow-Origin"));

        ApiClient.Answer noBrowser = ApiClient.get(gavel.cluster().port(0), "/api/v1/auctions/" + AUCTION + "/viewer-count");
        assertEquals(200, noBrowser.status());
        assertNull(noBrowser.headers().get("Access-Control-Allow-Origin"));
    }
}
