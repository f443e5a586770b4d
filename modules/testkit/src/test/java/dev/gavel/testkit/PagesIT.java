package dev.gavel.testkit;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The live view ({@code /auctions/<id>}) and the admin dashboard ({@code /admin}) in a real browser: Debian's
 * chromium driven by Playwright, on three nodes sharing one Redis, with the tabs of one auction spread over the nodes.
 * Each test is an item of the auction team's checklist. Screenshots of the run go to {@code target/pages/}.
 */
class PagesIT {

    @RegisterExtension
    static final ClusterExtension gavel = new ClusterExtension(3, Map.of("HISTORY_INTERVAL_MS", "500"));

    static final Path SCREENSHOTS = Path.of("target", "pages");
    private static final String COUNT = "#count-badge";
    private static final String CONNECTION = "#connection";

    private static Browser browser;
    private final List<String> tabs = new ArrayList<>();

    @BeforeAll
    static void launch() throws IOException {
        Files.createDirectories(SCREENSHOTS);
        browser = Browser.launch();
    }

    @AfterAll
    static void quit() {
        if (browser != null) {
            browser.close();
        }
    }

    @AfterEach
    void closeTabs() {
        new ArrayList<>(tabs).forEach(this::closeTab);
        // a failed test's problems are in its report, not the next test's
        browser.problems();
    }

    @Test
    void oneTabShowsOneASecondTabShowsTwoInBothAndClosingOneLeavesOne() {
        openLiveView("a", 0, "one");
        awaitText("a", COUNT, "● 1 watching");
        awaitText("a", CONNECTION, "live");
        openLiveView("b", 1, "one");
        awaitText("a", COUNT, "● 2 watching");
        awaitText("b", COUNT, "● 2 watching");
        closeTab("b");
        awaitText("a", COUNT, "● 1 watching");
        assertEquals("2", browser.visibleText("a", "#peak"), "the peak stays");
        assertNoProblems();
    }

    @Test
    void fiveTabsShowFiveInEveryTab() {
        for (int i = 0; i < 5; i++) {
            openLiveView("tab" + i, i % 3, "five");
        }
        for (int i = 0; i < 5; i++) {
            awaitText("tab" + i, COUNT, "● 5 watching");
            awaitText("tab" + i, "#peak", "5");
        }
        // one browser keeps one viewerId per origin (localStorage), and each node here is an origin of its own
        ApiClient.Answer stats = ApiClient.adminGet(gavel.cluster().port(0), "/api/v1/auctions/five/viewer-stats");
        assertEquals(3, stats.json().getInteger("uniqueViewers"), stats.toString());
        assertNoProblems();
    }

    @Test
    void twoAuctionsOpenAtOnceCountIndependently() {
        openLiveView("x0", 0, "x");
        openLiveView("x1", 1, "x");
        openLiveView("x2", 2, "x");
        openLiveView("y0", 2, "y");
        for (String tab : List.of("x0", "x1", "x2")) {
            awaitText(tab, COUNT, "● 3 watching");
        }
        awaitText("y0", COUNT, "● 1 watching");
        closeTab("x1");
        awaitText("x0", COUNT, "● 2 watching");
        awaitText("y0", COUNT, "● 1 watching");
        assertNoProblems();
    }

    @Test
    void theDashboardListsAndChartsTheAuctionsAndPublishesToEveryTabOfOneAuctionOnly() throws IOException {
        List<String> lots = List.of("lot0", "lot1", "lot2");
        for (int i = 0; i < lots.size(); i++) {
            openLiveView(lots.get(i), i, "lot");
        }
        openLiveView("other0", 0, "other");
        openLiveView("other1", 2, "other");
        lots.forEach(tab -> awaitText(tab, COUNT, "● 3 watching"));

        String admin = "admin";
        open(admin, "http://127.0.0.1:" + gavel.cluster().port(1) + "/admin", "admin", 1100, 900);
        browser.fill(admin, "#token", "not-the-admin-token");
        browser.click(admin, "#token-form button");
        awaitText(admin, "#token-message", "The admin token was not accepted. Sign in again with the node's ADMIN_TOKEN.");
        assertTrue(browser.problems().stream().allMatch(p -> p.contains("401")), "only the refused token went wrong");
        browser.fill(admin, "#token", ApiClient.ADMIN_TOKEN);
        browser.click(admin, "#token-form button");
        // unique viewers: one browser profile, one viewerId per origin, and the tabs are on three nodes (origins)
        awaitText(admin, "#auctions tr[data-auction='lot']", "lot 3 3 3 Chart");
        awaitText(admin, "#auctions tr[data-auction='other']", "other 2 2 2 Chart");
        // the most watched first, and charted first: uPlot draws a canvas and a legend with the latest sample
        awaitText(admin, "#chart-auction", "lot");
        awaitTrue(admin, "#chart-message", text -> text.endsWith("latest 3 watching."));
        awaitTrue(admin, "#chart .u-legend", text -> text.contains("watching"));
        assertTrue(browser.visible(admin, "#chart canvas"), "the chart is drawn");

        browser.fill(admin, "#publish-auction", "lot");
        browser.fill(admin, "#player", "{\"name\": \"Virat\", \"basePrice\": 200, \"currentBid\": 450, \"team\": \"Mumbai\"}");
        browser.click(admin, "#bidding-form button");
        awaitText(admin, "#publish-message", "Bid sent to every viewer of auction lot.");
        for (String tab : lots) {
            awaitText(tab, "#player-name", "Virat");
            awaitText(tab, "#player-details", "basePrice 200 currentBid 450 team Mumbai");
        }
        browser.fill(admin, "#sold-message", "Virat sold to Mumbai for 450");
        browser.click(admin, "#sold-form button");
        awaitText(admin, "#publish-message", "Sold message sent to every viewer of auction lot.");
        for (String tab : lots) {
            awaitText(tab, "#toast", "Virat sold to Mumbai for 450");
        }
        browser.screenshot("lot0", SCREENSHOTS.resolve("live-view.png"));
        for (String tab : List.of("other0", "other1")) {
            assertEquals("Waiting for the first bid…", browser.visibleText(tab, "#player-empty"), tab);
            assertEquals("", browser.visibleText(tab, "#player-name"), tab);
            assertEquals("", browser.visibleText(tab, "#toast"), tab);
        }

        // the same page on a phone
        open("phone", "http://127.0.0.1:" + gavel.cluster().port(2) + "/auctions/lot", "phone", 390, 780);
        awaitText("phone", COUNT, "● 4 watching");
        // a page opened late shows the bid everybody else sees at once, and not the sold that came before it
        awaitText("phone", "#player-name", "Virat");
        assertEquals("", browser.visibleText("phone", "#toast"), "the past sold is not replayed");
        browser.screenshot("phone", SCREENSHOTS.resolve("live-view-phone.png"));

        // bad input is said in words: a player that is not an object never leaves the page, an id the node refuses
        browser.fill(admin, "#player", "[1, 2]");
        browser.click(admin, "#bidding-form button");
        awaitText(admin, "#publish-message", "The player must be a JSON object, such as {\"name\": \"Virat\"}.");
        awaitText(admin, "#auctions tr[data-auction='lot']", "lot 4 4 4 Chart");
        browser.screenshot(admin, SCREENSHOTS.resolve("dashboard.png"));
        assertNoProblems();
    }

    @Test
    void theDashboardShowsWhoIsWatchingAcrossReplicasAndWhereOnTheMap() throws Exception {
        // the test stands in for the proxy in front: its browser's requests carry the country header, and come from
        // 127.0.0.1, which the nodes trust; two viewers sign in with tokens made here, one stays anonymous
        String secret = "pages-it-viewer-token-secret-0123456789";
        Cluster cluster = gavel.start(2, Map.of("HISTORY_INTERVAL_MS", "500", "TRUSTED_PROXIES", "127.0.0.1",
                "COUNTRY_HEADER", "X-Country", "VIEWER_TOKEN_SECRET", secret));
        String[][] people = {{"asha", "IN", "0", "Asha"}, {"ben", "GB", "1", "Ben"}, {"carla", "BR", "1", null}};
        for (String[] person : people) {
            String url = "http://127.0.0.1:" + cluster.port(Integer.parseInt(person[2])) + "/auctions/final";
            Map<String, String> session = person[3] == null ? Map.of()
                    : Map.of("gavel.viewerToken", viewerToken(secret, "user-" + person[0], person[3]));
            tabs.add(person[0]);
            assertEquals(200, browser.open(person[0], url, person[0], 1100, 800, Map.of("X-Country", person[1]), session), url);
        }
        for (String[] person : people) {
            awaitText(person[0], COUNT, "● 3 watching");
        }

        String admin = "audience-admin";
        open(admin, "http://127.0.0.1:" + cluster.port(0) + "/admin", "audience-admin", 1100, 1400);
        browser.fill(admin, "#token", ApiClient.ADMIN_TOKEN);
        browser.click(admin, "#token-form button");
        awaitText(admin, "#audience-auction", "final");
        awaitText(admin, "#audience-summary", "3 connections · 3 people");
        awaitTrue(admin, "#viewers tbody", text -> text.contains("India (IN)") && text.contains("United Kingdom (GB)")
                && text.contains("Brazil (BR)"));
        // the signed-in ones by their token's name, the anonymous one by its viewerId
        assertTrue(browser.visibleText(admin, "#viewers tr[data-viewer='user-asha']").startsWith("Asha India (IN) socket.io node-0"),
                browser.visibleText(admin, "#viewers tbody"));
        assertTrue(browser.visibleText(admin, "#viewers tr[data-viewer='user-ben']").startsWith("Ben United Kingdom (GB) socket.io node-1"),
                browser.visibleText(admin, "#viewers tbody"));
        String list = browser.visibleText(admin, "#viewers tbody");
        assertTrue(list.contains("node-0") && list.contains("node-1"), "both replicas: " + list);
        assertTrue(list.contains("socket.io"), "the live view's transport: " + list);
        awaitText(admin, "#viewers-range", "1–3 of 3");
        // the map: one viewer in each of the three countries, the rest of the world at zero; and the same in the table
        for (String[] person : people) {
            String country = "#map path[data-country='" + person[1] + "']";
            await(country).atMost(TestViewer.PATIENCE).until(() -> browser.attribute(admin, country, "data-count"), "1"::equals);
            // each is the most watched country (one each): the darkest step
            assertEquals("#1e3a8a", browser.attribute(admin, country, "fill"), person[1]);
            assertEquals("1", browser.visibleText(admin, "#countries tr[data-country='" + person[1] + "'] td:nth-child(2)"));
        }
        assertEquals("0", browser.attribute(admin, "#map path[data-country='US']", "data-count"));
        assertEquals("#e5e7eb", browser.attribute(admin, "#map path[data-country='US']", "fill"));

        // a tab closes: the list, the summary and the map follow on the next refresh
        closeTab("carla");
        awaitText(admin, "#audience-summary", "2 connections · 2 people");
        await("BR back to zero").atMost(TestViewer.PATIENCE)
                .until(() -> browser.attribute(admin, "#map path[data-country='BR']", "data-count"), "0"::equals);
        tabs.add("carla");
        assertEquals(200, browser.open("carla", "http://127.0.0.1:" + cluster.port(1) + "/auctions/final", "carla", 1100, 800,
                Map.of("X-Country", "BR"), Map.of()));
        awaitText(admin, "#audience-summary", "3 connections · 3 people");
        await("BR again").atMost(TestViewer.PATIENCE)
                .until(() -> browser.attribute(admin, "#map path[data-country='BR']", "data-count"), "1"::equals);
        browser.screenshot(admin, SCREENSHOTS.resolve("dashboard-audience.png"));
        assertNoProblems();
    }

    @Test
    void tabsOfAStoppedNodeShowReconnectingThenReconnectAndTheCountSettlesToTheOpenTabs() {
        Cluster cluster = gavel.cluster();
        for (int i = 0; i < 6; i++) {
            openLiveView("tab" + i, i % 3, "restart");
        }
        for (int i = 0; i < 6; i++) {
            awaitText("tab" + i, COUNT, "● 6 watching");
        }
        int port = cluster.port(2);
        cluster.stop(2);
        // tab2 and tab5 were on node 2: closed with 1012, their client retries the page's origin, which is down
        for (String tab : List.of("tab2", "tab5")) {
            awaitText(tab, CONNECTION, "reconnecting");
        }
        for (String tab : List.of("tab0", "tab1", "tab3", "tab4")) {
            awaitText(tab, COUNT, "● 4 watching");
            assertEquals("live", browser.visibleText(tab, CONNECTION), tab);
        }
        cluster.restart(2, port);
        for (int i = 0; i < 6; i++) {
            awaitText("tab" + i, CONNECTION, "live");
            awaitText("tab" + i, COUNT, "● 6 watching");
        }
        closeTab("tab5");
        for (int i = 0; i < 5; i++) {
            awaitText("tab" + i, COUNT, "● 5 watching");
        }
        // what went wrong is only the stopped node refusing its tabs' retries: 503 while it stops (it takes no new
        // viewers from the first moment), then its address refusing connections
        List<String> unexpected = browser.problems().stream()
                .filter(p -> !(p.startsWith("tab2:") || p.startsWith("tab5:"))
                        || !(p.contains("ERR_CONNECTION_REFUSED") || p.contains("503 (Service Unavailable)"))).toList();
        assertEquals(List.of(), unexpected);
    }

    @Test
    void pagesAreStaticFilesWithTheirTypesCachingAndPolicy() {
        int port = gavel.cluster().port(0);
        ApiClient.Answer live = ApiClient.get(port, "/auctions/123");
        assertEquals(200, live.status());
        assertEquals("text/html; charset=utf-8", live.headers().get("Content-Type"));
        assertEquals("no-cache", live.headers().get("Cache-Control"));
        assertTrue(live.headers().get("Content-Security-Policy").contains("script-src 'self';"), live.headers().toString());
        assertEquals("nosniff", live.headers().get("X-Content-Type-Options"));
        assertTrue(live.body().contains("aria-live=\"polite\""));
        assertEquals(200, ApiClient.get(port, "/admin").status());
        for (String library : List.of("/assets/socket.io-client/socket.io.min.js", "/assets/uplot/uPlot.iife.min.js")) {
            ApiClient.Answer answer = ApiClient.get(port, library);
            assertEquals(200, answer.status(), library);
            assertEquals("application/javascript; charset=utf-8", answer.headers().get("Content-Type"), library);
            assertEquals("public, max-age=86400", answer.headers().get("Cache-Control"), library);
        }
        assertEquals("text/css; charset=utf-8", ApiClient.get(port, "/assets/gavel/gavel.css").headers().get("Content-Type"));

        ApiClient.Answer bad = ApiClient.get(port, "/auctions/not%20an%20id");
        assertEquals(400, bad.status());
        assertTrue(bad.error().startsWith("not a valid auction id"), bad.toString());
        assertEquals(404, ApiClient.get(port, "/auctions/" + "x".repeat(65) + "/more").status());
        assertEquals(400, ApiClient.get(port, "/auctions/" + "x".repeat(65)).status());
        // the node still serves its pages after refusing
        assertEquals(200, ApiClient.get(port, "/auctions/123").status());
    }

    /** A viewer token as the team's back end signs one: HS256 with the nodes' secret, {@code sub}, {@code name}, 10 minutes. */
    private static String viewerToken(String secret, String sub, String name) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), new JWTClaimsSet.Builder().subject(sub).claim("name", name)
                .expirationTime(Date.from(Instant.now().plusSeconds(600))).build());
        jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }

    private void openLiveView(String tab, int node, String auction) {
        open(tab, "http://127.0.0.1:" + gavel.cluster().port(node) + "/auctions/" + auction, "viewer", 1100, 800);
    }

    private void open(String tab, String url, String context, int width, int height) {
        tabs.add(tab);
        assertEquals(200, browser.open(tab, url, context, width, height), url);
    }

    private void closeTab(String tab) {
        tabs.remove(tab);
        browser.close(tab);
    }

    private static void awaitText(String tab, String selector, String expected) {
        awaitTrue(tab, selector, expected::equals);
    }

    private static void awaitTrue(String tab, String selector, java.util.function.Predicate<String> condition) {
        await(tab + " " + selector).atMost(TestViewer.PATIENCE)
                .pollInterval(java.time.Duration.ofMillis(100))
                .until(() -> browser.visibleText(tab, selector), condition::test);
    }

    private static void assertNoProblems() {
        assertEquals(List.of(), browser.problems(), "console errors, page errors or failed requests");
    }
}
