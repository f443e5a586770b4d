package dev.gavel.testkit;

import dev.gavel.core.audience.Viewer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

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
import java.util.Set;
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
 *       bound by the client), all started within a second through nginx: none is refused for its address (no 429,
 *       ever), all 600 are let in, and every one sees 600. Without the replicas trusting nginx to name the client, all
 *       600 would be nginx's one address, and about half would get 429. A replica whose event loops stall for 2 s
 *       (a machine shared with other builds) refuses new viewers as overloaded with 503; those viewers try again, as
 *       clients do, and the first answers are printed beside the final ones.</li>
 *   <li>The same crowd from one address is still limited: 429s appear, and the viewers let in see their own
 *       number.</li>
 *   <li>/metrics through nginx is not served; on each replica's management port it is, and both ports answer the
 *       probes.</li>
 * </ul>
 *
 * Everything it starts, cluster.sh stops by the process ids it wrote ({@code cluster.sh down}).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FlashCrowdIT {

    private static final Path CLUSTER = Path.of("../../deploy/local/cluster.sh").toAbsolutePath().normalize();
    private static final Path JAR = Path.of("../server/target/gavel.jar").toAbsolutePath().normalize();
    private static final int REPLICAS = 3;
    private static final int ADDRESSES = 200;
    private static final int VIEWERS = 600;
    private static final Duration SEEN = Duration.ofSeconds(60);
    private static final int NEW_PER_ADDRESS_PER_SECOND = 20;
    /**
     * How long a viewer refused by an overloaded replica (503, or nginx's 502 while it skips such replicas) keeps
     * trying again, with a growing pause as a client's backoff; a 429 is never tried again.
     */
    private static final Duration OVERLOAD_RETRIES = Duration.ofSeconds(60);

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
    static void up() throws Exception {
        assertTrue(Files.isRegularFile(JAR), "build the jar first: " + JAR);
        state = Files.createTempDirectory("gavel-flash-crowd");
        env = ClusterScript.environment(state, REPLICAS, JAR, "-Xmx160m");
        lbPort = Integer.parseInt(env.get("GAVEL_LB_PORT"));
        basePort = Integer.parseInt(env.get("GAVEL_BASE_PORT"));
        managementBasePort = Integer.parseInt(env.get("GAVEL_MANAGEMENT_BASE_PORT"));
        env.put("ADMIN_TOKEN", ApiClient.ADMIN_TOKEN);
        env.put("MAX_NEW_CONNECTIONS_PER_ADDRESS_PER_SECOND", String.valueOf(NEW_PER_ADDRESS_PER_SECOND));
        cluster("up");
        warmUp();
    }

    /**
     * Fresh JVMs compile the join path while the first hundreds of viewers arrive, and an event loop that stalls for
     * 2 s makes its replica refuse viewers as overloaded (503): 60 viewers from 60 addresses, a few at a time, come
     * and go first, as a real cluster has served viewers before its crowd.
     */
    private static void warmUp() throws Exception {
        List<Viewer> warm = new ArrayList<>();
        for (int batch = 0; batch < 6; batch++) {
            List<Future<?>> answers = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                Viewer viewer = new Viewer(client("127.0.3." + (1 + batch * 10 + i)));
                warm.add(viewer);
                answers.add(viewer.connect(lbPort, "warm-up", System.nanoTime() + OVERLOAD_RETRIES.toNanos()));
            }
            Future.join(answers).await(30, TimeUnit.SECONDS);
        }
        await().atMost(SEEN).until(() -> warm.stream().allMatch(v -> v.current.get() == warm.size()));
        warm.forEach(Viewer::close);
    }

    /**
     * Before each crowd: every replica ready (not overloaded or full from the crowd before), as nginx sees it too.
     */
    @BeforeEach
    void settle() {
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            for (int i = 0; i < REPLICAS; i++) {
                if (get(managementBasePort + i, "/health/ready").statusCode() != 200) {
                    return false;
                }
            }
            for (int i = 0; i < 2 * REPLICAS; i++) {
                if (get(lbPort, "/health/ready").statusCode() != 200) {
                    return false;
                }
            }
            return true;
        });
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
    @Order(1)
    void aFlashCrowdFromTwoHundredAddressesThroughNginxIsLetInWhole() throws Exception {
        Crowd crowd = open("flash", i -> address(i % ADDRESSES), OVERLOAD_RETRIES);
        System.out.println("[FlashCrowdIT] " + VIEWERS + " viewers from " + ADDRESSES + " addresses: " + crowd);
        assertEquals(0, crowd.everLimited, "no viewer was ever refused for its address (429): " + crowd);
        assertEquals(Map.of(101, VIEWERS), crowd.answers, "every viewer is let in: " + crowd);
        assertTrue(crowd.issuedMillis < 1000, "the crowd's connections were all started within a second: " + crowd);
        everyViewerSees(VIEWERS);
    }

    @Test
    @Order(2)
    void theSameCrowdFromOneAddressIsStillLimited() throws Exception {
        Crowd crowd = open("one-address", i -> "127.0.9.9", Duration.ZERO);
        System.out.println("[FlashCrowdIT] " + VIEWERS + " viewers from one address: " + crowd);
        int limited = crowd.answers.getOrDefault(429, 0);
        assertTrue(limited > 0, "the per-address limit refused some with 429: " + crowd);
        assertTrue(Set.of(101, 429, 502, 503).containsAll(crowd.answers.keySet()),
                "let in, limited, or refused by a replica too busy to take them: " + crowd);
        viewers.removeIf(v -> v.status != 101);
        everyViewerSees(viewers.size());
    }

    @Test
    @Order(3)
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

    /**
     * How a crowd's upgrades were answered: count by HTTP status at each viewer's first attempt and in the end, and
     * how long issuing and answering took (retries included).
     */
    private record Crowd(Map<Integer, Integer> firstAnswers, Map<Integer, Integer> answers, long everLimited,
                         long issuedMillis, long answeredMillis) {
    }

    /**
     * Starts all {@link #VIEWERS} connections at once (each from {@code from.apply(i)}), then waits for every answer.
     * A viewer refused because its replica is overloaded (503: an event loop stalled for 2 s; or nginx's 502 once it
     * skips replicas that answered 503) tries again after a pause for up to {@code retries}, as a client does after a
     * 503; one refused for its address (429) never does.
     */
    private Crowd open(String auction, IntFunction<String> from, Duration retries) throws Exception {
        long start = System.nanoTime();
        long retryUntil = start + retries.toNanos();
        List<Future<?>> answers = new ArrayList<>();
        for (int i = 0; i < VIEWERS; i++) {
            Viewer viewer = new Viewer(client(from.apply(i)));
            viewers.add(viewer);
            answers.add(viewer.connect(lbPort, auction, retryUntil));
        }
        long issued = System.nanoTime();
        Future.join(answers).await(retries.toSeconds() + 60, TimeUnit.SECONDS);
        long answered = System.nanoTime();
        Map<Integer, Integer> first = new TreeMap<>();
        Map<Integer, Integer> last = new TreeMap<>();
        viewers.forEach(v -> {
            first.merge(v.firstStatus, 1, Integer::sum);
            last.merge(v.status, 1, Integer::sum);
        });
        long everLimited = viewers.stream().filter(v -> v.limited).count();
        return new Crowd(first, last, everLimited, (issued - start) / 1_000_000, (answered - start) / 1_000_000);
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

    /**
     * One WebSocket viewer: its upgrade's status at the first attempt and the last (0 until answered, -1 for no HTTP
     * answer), and the last count it got.
     */
    private static final class Viewer {

        private final WebSocketClient client;
        private final AtomicLong current = new AtomicLong(-1);
        private volatile ClientWebSocket ws;
        private volatile int attempts;
        private volatile int firstStatus;
        private volatile int status;
        private volatile boolean limited;

        Viewer(WebSocketClient client) {
            this.client = client;
        }

        /** Connects; on a 502 or 503 tries again after a pause (0.5 s more each time, at most 3 s) until {@code retryUntil}. */
        Future<Void> connect(int port, String auction, long retryUntil) {
            ClientWebSocket socket = client.webSocket();
            // before the upgrade: a count that comes with the upgrade's answer is not missed
            socket.textMessageHandler(text -> {
                JsonObject frame = new JsonObject(text);
                if ("viewerCountUpdate".equals(frame.getString("event"))) {
                    current.set(frame.getJsonObject("data").getLong("current"));
                }
            });
            ws = socket;
            int attempt = ++attempts;
            return socket.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
                            .setURI("/ws?slug=auction-" + auction))
                    .<Void>transform(result -> {
                        int answer = result.succeeded() ? 101
                                : result.cause() instanceof UpgradeRejectedException rejected ? rejected.getStatus() : -1;
                        if (attempt == 1) {
                            firstStatus = answer;
                        }
                        status = answer;
                        limited |= answer == 429;
                        if ((answer == 502 || answer == 503) && System.nanoTime() < retryUntil) {
                            Promise<Void> again = Promise.promise();
                            VERTX.setTimer(Math.min(500L * attempt, 3000), t -> connect(port, auction, retryUntil).onComplete(again));
                            return again.future();
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
        ClusterScript.run(CLUSTER, state, env, command);
    }
}
