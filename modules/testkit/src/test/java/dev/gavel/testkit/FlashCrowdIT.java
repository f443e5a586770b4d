package dev.gavel.testkit;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The configuration as shipped, as an operator runs it: {@code deploy/local/cluster.sh up} starts a redis-server, three
 * replicas and Debian's nginx with {@code deploy/nginx/gavel.conf.template} (the file compose uses), with the
 * settings cluster.sh gives them (TRUSTED_PROXIES naming nginx, a management port per replica). New connections per
 * address are limited to {@value #NEW_PER_ADDRESS_PER_SECOND} a second, a fifth of the default: 600 upgrades take a few
 * seconds to be answered on a busy 2-core machine, over which one address would stay within the default's 100 per
 * second on each of three replicas; at this limit it cannot, while the crowd's 3 per address stay far below it.
 *
 * <ul>
 *   <li>A flash crowd: 600 WebSocket viewers from 200 loopback addresses (127.0.1.1 to 127.0.2.100, three each,
 *       bound by the client), all opened at once through nginx: none is refused, and every one sees 600. Without the
 *       replicas trusting nginx to name the client, all 600 would be nginx's one address, over its 100 per second.</li>
 *   <li>The same crowd from one address is still limited: 429s appear, and the viewers let in see their own
 *       number.</li>
 *   <li>/metrics through nginx is not served; on each replica's management port it is, and both ports answer the
 *       probes.</li>
 * </ul>
 *
 * Everything it starts, cluster.sh stops by the process ids it wrote ({@code cluster.sh down}).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class FlashCrowdIT {

    private static final Path CLUSTER = Path.of("../../deploy/local/cluster.sh").toAbsolutePath().normalize();
    private static final Path JAR = Path.of("../server/target/gavel.jar").toAbsolutePath().normalize();
    private static final int REPLICAS = 3;
    private static final int ADDRESSES = 200;
    private static final int VIEWERS = 600;
    private static final Duration SEEN = Duration.ofSeconds(30);
    private static final int NEW_PER_ADDRESS_PER_SECOND = 20;

    private static Path state;
    private static Map<String, String> env;
    private static int lbPort;
    private static int basePort;
    private static int managementBasePort;
    private static final Vertx VERTX = Vertx.vertx();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final Map<String, WebSocketClient> CLIENTS = new HashMap<>();
    private final List<Viewer> viewers = new ArrayList<>();

    @BeforeAll
    static void up() throws IOException {
        assertTrue(Files.isRegularFile(JAR), "build the jar first: " + JAR);
        state = Files.createTempDirectory("gavel-flash-crowd");
        lbPort = Ports.free();
        basePort = Ports.freeRange(REPLICAS);
        managementBasePort = Ports.freeRange(REPLICAS);
        env = new HashMap<>();
        env.put("GAVEL_STATE_DIR", state.toString());
        env.put("GAVEL_LB_PORT", String.valueOf(lbPort));
        env.put("GAVEL_BASE_PORT", String.valueOf(basePort));
        env.put("GAVEL_MANAGEMENT_BASE_PORT", String.valueOf(managementBasePort));
        env.put("GAVEL_REDIS_PORT", String.valueOf(Ports.free()));
        env.put("GAVEL_REPLICAS", String.valueOf(REPLICAS));
        env.put("GAVEL_JAR", JAR.toString());
        env.put("GAVEL_JAVA_OPTS", "-Xmx160m");
        env.put("ADMIN_TOKEN", ApiClient.ADMIN_TOKEN);
        env.put("MAX_NEW_CONNECTIONS_PER_ADDRESS_PER_SECOND", String.valueOf(NEW_PER_ADDRESS_PER_SECOND));
        cluster("up");
    }

    @AfterAll
    static void down() {
        try {
            cluster("down");
        } finally {
            VERTX.close();
        }
    }

    @AfterEach
    void closeViewers() {
        viewers.forEach(Viewer::close);
        viewers.clear();
    }

    @Test
    void aFlashCrowdFromTwoHundredAddressesThroughNginxIsLetInWhole() throws Exception {
        Crowd crowd = open("flash", i -> address(i % ADDRESSES));
        System.out.println("[FlashCrowdIT] " + VIEWERS + " viewers from " + ADDRESSES + " addresses: " + crowd);
        assertEquals(Map.of(101, VIEWERS), crowd.statuses, "answers to the upgrades, by status: " + crowd);
        assertTrue(crowd.issuedMillis < 1000, "the crowd's connections were all started within a second: " + crowd);
        everyViewerSees(VIEWERS);
    }

    @Test
    void theSameCrowdFromOneAddressIsStillLimited() throws Exception {
        Crowd crowd = open("one-address", i -> "127.0.9.9");
        System.out.println("[FlashCrowdIT] " + VIEWERS + " viewers from one address: " + crowd);
        int accepted = crowd.statuses.getOrDefault(101, 0);
        int limited = crowd.statuses.getOrDefault(429, 0);
        assertTrue(limited > 0, "the per-address limit refused some with 429: " + crowd);
        assertEquals(VIEWERS, accepted + limited, "every upgrade was let in or limited, nothing else: " + crowd);
        viewers.removeIf(v -> v.status != 101);
        everyViewerSees(accepted);
    }

    @Test
    void metricsAreServedOnTheManagementPortsAndNeverThroughNginx() throws Exception {
        assertNotEquals(200, get(lbPort, "/metrics").statusCode(), "/metrics through nginx");
        assertEquals(200, get(lbPort, "/health/ready").statusCode(), "the probes are for anyone");
        for (int i = 0; i < REPLICAS; i++) {
            assertNotEquals(200, get(basePort + i, "/metrics").statusCode(), "/metrics on gavel-" + i + "'s public port");
            HttpResponse<String> scrape = get(managementBasePort + i, "/metrics");
            assertEquals(200, scrape.statusCode(), "gavel-" + i + "'s management port");
            assertTrue(scrape.body().contains("\ngavel_build_info{"), scrape.body());
            assertEquals(200, get(managementBasePort + i, "/health/ready").statusCode());
            assertEquals(200, get(managementBasePort + i, "/health/live").statusCode());
        }
    }

    // ---- the crowd

    /** 127.0.1.1 to 127.0.1.100, then 127.0.2.1 to 127.0.2.100: all on loopback, none of them nginx's 127.0.0.1. */
    private static String address(int index) {
        return "127.0." + (1 + index / 100) + "." + (1 + index % 100);
    }

    /** How a crowd's upgrades were answered: count by HTTP status, and how long issuing and answering took. */
    private record Crowd(Map<Integer, Integer> statuses, long issuedMillis, long answeredMillis) {
    }

    /** Starts all {@link #VIEWERS} connections at once (each from {@code from.apply(i)}), then waits for every answer. */
    private Crowd open(String auction, IntFunction<String> from) throws Exception {
        long start = System.nanoTime();
        List<Future<?>> answers = new ArrayList<>();
        for (int i = 0; i < VIEWERS; i++) {
            Viewer viewer = new Viewer(client(from.apply(i)));
            viewers.add(viewer);
            answers.add(viewer.connect(lbPort, auction));
        }
        long issued = System.nanoTime();
        Future.join(answers).await(60, TimeUnit.SECONDS);
        long answered = System.nanoTime();
        Map<Integer, Integer> statuses = new TreeMap<>();
        viewers.forEach(v -> statuses.merge(v.status, 1, Integer::sum));
        return new Crowd(statuses, (issued - start) / 1_000_000, (answered - start) / 1_000_000);
    }

    private void everyViewerSees(int current) {
        await().atMost(SEEN).untilAsserted(() -> {
            Map<Long, Integer> seen = new TreeMap<>();
            viewers.forEach(v -> seen.merge(v.current.get(), 1, Integer::sum));
            assertEquals(Map.of((long) current, viewers.size()), seen, "viewers by the count they see last");
        });
    }

    private static synchronized WebSocketClient client(String localAddress) {
        return CLIENTS.computeIfAbsent(localAddress, address -> VERTX.createWebSocketClient(
                new WebSocketClientOptions().setLocalAddress(address).setMaxConnections(VIEWERS)));
    }

    /** One WebSocket viewer: its upgrade's status (0 until answered, -1 for no HTTP answer) and the last count it got. */
    private static final class Viewer {

        private final ClientWebSocket ws;
        private final AtomicLong current = new AtomicLong(-1);
        private volatile int status;

        Viewer(WebSocketClient client) {
            ws = client.webSocket();
            // before the upgrade: a count that comes with the upgrade's answer is not missed
            ws.textMessageHandler(text -> {
                JsonObject frame = new JsonObject(text);
                if ("viewerCountUpdate".equals(frame.getString("event"))) {
                    current.set(frame.getJsonObject("data").getLong("current"));
                }
            });
        }

        Future<Void> connect(int port, String auction) {
            return ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
                            .setURI("/ws?slug=auction-" + auction))
                    .<Void>transform(result -> {
                        if (result.succeeded()) {
                            status = 101;
                        } else {
                            status = result.cause() instanceof UpgradeRejectedException rejected ? rejected.getStatus() : -1;
                        }
                        return Future.succeededFuture();
                    });
        }

        void close() {
            if (status == 101) {
                ws.close();
            }
        }
    }

    // ---- the cluster

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void cluster(String command) {
        try {
            // its output goes to a file: a process it started that kept a pipe open would block a reader forever
            Path output = state.resolve("cluster-" + command + ".out");
            ProcessBuilder builder = new ProcessBuilder("bash", CLUSTER.toString(), command)
                    .redirectErrorStream(true).redirectOutput(output.toFile());
            builder.environment().putAll(env);
            Process process = builder.start();
            boolean finished = process.waitFor(120, TimeUnit.SECONDS);
            if (!finished) {
                process.destroyForcibly();
            }
            assertTrue(finished, "cluster.sh " + command + " did not finish in 120 s: " + Files.readString(output));
            assertEquals(0, process.exitValue(), "cluster.sh " + command + ": " + Files.readString(output));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
