package dev.gavel.testkit;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code /metrics} of a real node on a real Redis, with viewers on every transport: what each Gavel family says is
 * what happened, the JVM, process and Vert.x families are there, no series names an auction, a path or an address,
 * and every metric the alert rules and the dashboard use is one the node serves.
 */
class MetricsIT {

    /** One event loop, so that each event is handed over once per node and the lag is sampled once per event. */
    @RegisterExtension
    static final ClusterExtension gavel = new ClusterExtension(2, Map.of("EVENT_LOOPS", "1", "NODE_TTL_MS", "2000"));

    @Test
    void aScrapeOfANodeWithViewersOnEveryTransportSaysWhatHappened() throws Exception {
        int port = gavel.cluster().port(0);
        int publisher = gavel.cluster().port(1);
        TestViewer ws1 = gavel.track(TestViewer.watch(port, "metrics-a"));
        TestViewer ws2 = gavel.track(TestViewer.watch(port, "metrics-a"));
        JsViewer sockJs = gavel.track(JsViewer.sockJs(port, "auction-metrics-a", "websocket"));
        JsViewer socketIo = gavel.track(JsViewer.socketIo(port, JsViewer.teamOptions("auction-metrics-b")));
        TestViewer tooBig = gavel.track(TestViewer.watch(port, "metrics-b"));
        sockJs.awaitCount(3, 3);
        socketIo.awaitCount(2, 2);

        tooBig.send("x".repeat(5000));
        assertEquals(1009, tooBig.awaitClosed());
        try (RawWebSocket invalid = RawWebSocket.open(port, "/ws?slug=auction-metrics-x", null, 65536)) {
            assertEquals(101, invalid.status());
            invalid.sendText(new byte[] {(byte) 0xC3, (byte) 0x28});
            assertEquals(1007, invalid.readUntilClose(new int[1]));
        }
        assertEquals(400, TestViewer.refusalStatus(port, "/ws?slug=123", null));
        assertEquals(400, TestViewer.refusalStatus(port, "/ws?slug=auction-a%20b", null));
        socketIo.awaitCount(1, 2);

        for (int i = 0; i < 3; i++) {
            assertEquals(202, ApiClient.adminPost(publisher, "/api/v1/auctions/metrics-a/sold", "{\"message\":\"lot " + i + "\"}").status());
        }
        ws1.awaitEvents("playerSoldUpdate", 3);
        ws2.awaitEvents("playerSoldUpdate", 3);
        sockJs.awaitEvents("playerSoldUpdate", 3);

        // the heartbeat (every 400 ms) and the subscriber's PING (every second) have run at least once, and the viewers
        // closed for what they sent have left
        await().atMost(TestViewer.PATIENCE).until(() -> {
            Scrape now = Scrape.of(port);
            return now.value("gavel_redis_command_seconds_count{operation=\"ping\"}") > 0
                    && now.value("gavel_store_heartbeat_age_seconds") < 2 && now.value("gavel_viewers") == 4;
        });
        Scrape scrape = Scrape.of(port);

        // viewers: by transport, as connected; the total is the number the API and the audience report
        assertEquals(2, scrape.value("gavel_transport_viewers{transport=\"ws\"}"));
        assertEquals(1, scrape.value("gavel_transport_viewers{transport=\"sockjs\"}"));
        assertEquals(1, scrape.value("gavel_transport_viewers{transport=\"socketio\"}"));
        assertEquals(4, scrape.value("gavel_viewers"));
        assertEquals(gavel.cluster().node(0).audience().localViewers(), scrape.value("gavel_viewers"));
        JsonArray auctions = ApiClient.adminGet(port, "/api/v1/auctions").jsonArray();
        assertEquals(scrape.value("gavel_viewers"), auctions.stream().mapToLong(a -> ((JsonObject) a).getLong("current")).sum(),
                auctions::encode);
        assertEquals(2, scrape.value("gavel_auctions"));
        assertEquals(6, scrape.value("gavel_joins_total"));
        assertEquals(2, scrape.value("gavel_leaves_total"));

        // refusals by reason, counted where each is decided
        assertEquals(2, scrape.value("gavel_refusals_total{reason=\"bad_request\"}"));
        assertEquals(1, scrape.value("gavel_refusals_total{reason=\"frame_too_big\"}"));
        assertEquals(1, scrape.value("gavel_refusals_total{reason=\"invalid_frame\"}"));
        assertEquals(0, scrape.value("gavel_refusals_total{reason=\"origin\"}"));

        // events: published by the other node, delivered here to each of the 3 viewers of the auction, lag measured
        assertEquals(3, Scrape.of(publisher).value("gavel_events_published_total"));
        assertEquals(0, scrape.value("gavel_events_published_total"));
        assertEquals(9, scrape.value("gavel_events_delivered_total"));
        assertEquals(3, scrape.value("gavel_event_lag_seconds_count"));
        assertEquals(3, scrape.value("gavel_event_lag_seconds_bucket{le=\"+Inf\"}"));
        assertTrue(scrape.value("gavel_count_broadcasts_total") > 0, scrape::text);
        assertTrue(scrape.value("gavel_count_frames_total") >= 4, scrape::text);
        assertEquals(0, scrape.value("gavel_slow_viewer_closes_total"));

        // Redis and the store, healthy
        for (String operation : List.of("report", "subscribe", "ping")) {
            assertTrue(scrape.value("gavel_redis_command_seconds_count{operation=\"" + operation + "\"}") > 0, operation);
            assertEquals(0, scrape.value("gavel_redis_command_errors_total{operation=\"" + operation + "\"}"), operation);
        }
        assertTrue(Scrape.of(publisher).value("gavel_redis_command_seconds_count{operation=\"publish\"}") >= 3);
        assertEquals(0, scrape.value("gavel_redis_reconnects_total"));
        assertEquals(0, scrape.value("gavel_store_failing"));
        assertEquals(1, scrape.value("gavel_ready"));

        // the JVM, the process and Vert.x's HTTP server and pools
        Set<String> names = scrape.names();
        for (String family : List.of("jvm_memory_used_bytes", "jvm_memory_max_bytes", "jvm_threads_live_threads",
                "jvm_classes_loaded_classes", "jvm_gc_memory_allocated_bytes_total", "process_cpu_usage",
                "process_cpu_seconds_total", "jvm_compilation_seconds_total",
                "system_cpus", "process_files_open_files", "process_files_max_files", "process_uptime_seconds",
                "vertx_http_server_requests_total", "vertx_http_server_response_time_seconds_count",
                "vertx_pool_in_use")) {
            assertTrue(names.contains(family), () -> family + " missing from " + names);
        }

        // no series names an auction, a viewer, a path or an address
        for (String series : scrape.series().keySet()) {
            String labels = series.contains("{") ? series.substring(series.indexOf('{')) : "";
            assertFalse(labels.contains("metrics-") || labels.contains("slug") || labels.contains("auction=")
                    || labels.contains("auctionId")
                    || labels.contains("path=") || labels.contains("remote=") || labels.contains("127.0.0.1"), series);
        }

        // which build runs; and the whole scrape passes Prometheus's own lint
        assertTrue(scrape.text().matches("(?s).*\ngavel_build_info\\{commit=\"[^\"]+\",version=\"[^\"]+\"} 1(\\.0)?\n.*"),
                scrape::text);
        assertEquals("", promtoolCheckMetrics(scrape.text()), "promtool check metrics");

        // every metric the alert rules and the dashboard use is served
        Set<String> used = new TreeSet<>(MonitoringFiles.metricNames(MonitoringFiles.rules()));
        used.addAll(MonitoringFiles.metricNames(MonitoringFiles.dashboard()));
        assertFalse(used.isEmpty());
        Set<String> unknown = new TreeSet<>(used);
        unknown.removeAll(names);
        assertEquals(Set.of(), unknown, "used by the rules or the dashboard but not served");
    }

    @Test
    void aViewerThatLeavesIsNoLongerCountedOnItsTransport() {
        int port = gavel.cluster().port(0);
        JsViewer sockJs = gavel.track(JsViewer.sockJs(port, "auction-metrics-c", "xhr-streaming"));
        TestViewer ws = gavel.track(TestViewer.watch(port, "metrics-c"));
        ws.awaitCount(2, 2);
        sockJs.close();
        ws.awaitCount(1, 2);
        await().atMost(TestViewer.PATIENCE).untilAsserted(() -> {
            Scrape scrape = Scrape.of(port);
            assertEquals(0, scrape.value("gavel_transport_viewers{transport=\"sockjs\"}"));
            assertEquals(1, scrape.value("gavel_transport_viewers{transport=\"ws\"}"));
            assertEquals(1, scrape.value("gavel_viewers"));
            assertEquals(1, scrape.value("gavel_leaves_total"));
        });
    }

    /**
     * A node on the in-memory backend with a management port: /metrics is served there and not on the public port, it
     * has no Redis series (there is no Redis), and its scrape passes promtool too.
     */
    @Test
    void anInMemoryNodeServesMetricsOnlyOnItsManagementPortAndHasNoRedisSeries() throws Exception {
        try (Cluster node = Cluster.start(null, 1, Map.of("MANAGEMENT_PORT", "0"))) {
            int port = node.port(0);
            int management = node.node(0).managementPort();
            TestViewer viewer = TestViewer.watch(port, "metrics-memory");
            viewer.awaitCount(1, 1);
            assertEquals(404, ApiClient.get(port, "/metrics").status());
            assertEquals(200, ApiClient.get(port, "/health/ready").status());
            assertEquals(200, ApiClient.get(management, "/health/ready").status());
            assertEquals(200, ApiClient.get(management, "/health/live").status());
            Scrape scrape = Scrape.of(management);
            assertEquals(1, scrape.value("gavel_viewers"));
            assertFalse(scrape.text().contains("gavel_redis_"), scrape::text);
            assertFalse(scrape.text().contains("pool_type=\"redis\""), scrape::text);
            assertEquals("", promtoolCheckMetrics(scrape.text()), "promtool check metrics");
            viewer.close();
        }
    }

    /**
     * {@code promtool check metrics} on a scrape: its complaints, or "" when there are none. promtool is Debian's
     * {@code prometheus} package ({@code .ci/run} installs it); where it is missing the check is skipped, except on CI.
     */
    static String promtoolCheckMetrics(String scrape) throws IOException, InterruptedException {
        boolean installed = Files.isExecutable(Path.of("/usr/bin/promtool"));
        if (!installed && System.getenv("CI") == null) {
            assumeTrue(false, "promtool is not installed (apt-get install prometheus)");
        }
        assertTrue(installed, "promtool must be installed on CI (.ci/run installs Debian's prometheus package)");
        Process process = new ProcessBuilder("/usr/bin/promtool", "check", "metrics").redirectErrorStream(true).start();
        try (var in = process.getOutputStream()) {
            in.write(scrape.getBytes(StandardCharsets.UTF_8));
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
        return process.exitValue() == 0 && output.isBlank() ? "" : "exit " + process.exitValue() + ": " + output;
    }
}
