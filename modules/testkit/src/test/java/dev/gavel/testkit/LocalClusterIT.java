package dev.gavel.testkit;

import dev.gavel.core.audience.Viewer;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The docker-compose cluster, for real, on loopback: {@code deploy/local/cluster.sh up} starts a redis-server, three
 * replicas from the built jar and Debian's nginx with the same {@code deploy/nginx/gavel.conf.template} that
 * compose uses. 300 viewers come through nginx on all three transports (200 plain WebSocket, 50 socket.io-client
 * with the team's options: long-polling, then the upgrade, 50 sockjs-client), each coming back when its connection
 * ends, and the test kills and restarts replicas under them. SockJS runs on its WebSocket transport here: its HTTP
 * transports through the same template are {@link LoadBalancerIT}'s; from Node they send no cookie, and a
 * cookie-less SockJS HTTP session is re-routed when a replica comes and goes (docs/deploy.md, "Sticky sessions"),
 * which would count its viewer twice for SockJS's session timeout.
 */
class LocalClusterIT {

    private static final Path CLUSTER = Path.of("../../deploy/local/cluster.sh").toAbsolutePath().normalize();
    private static final Path JAR = Path.of("../server/target/gavel.jar").toAbsolutePath().normalize();
    private static final int REPLICAS = 3;
    private static final long NODE_TTL_MS = 3000;
    private static final int WS_VIEWERS = 200;
    private static final int SOCKETIO_VIEWERS = 50;
    private static final int SOCKJS_VIEWERS = 50;
    private static final int VIEWERS = WS_VIEWERS + SOCKETIO_VIEWERS + SOCKJS_VIEWERS;
    private static final String AUCTION = "e2e";
    private static final Duration SETTLE = Duration.ofSeconds(45);

    private static Path state;
    private static Map<String, String> env;
    private static int lbPort;
    private static int basePort;
    private static int managementBasePort;
    private static final List<Viewer> viewers = new CopyOnWriteArrayList<>();
    private static final List<Process> crowds = new ArrayList<>();
    private static final Vertx VERTX = Vertx.vertx();
    private static final WebSocketClient CLIENT = VERTX.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(1000));
    private static final AtomicInteger published = new AtomicInteger();

    @BeforeAll
    static void up() throws IOException {
        assertTrue(Files.isRegularFile(JAR), "build the jar first: " + JAR);
        state = Files.createTempDirectory("gavel-local-cluster");
        env = ClusterScript.environment(state, REPLICAS, JAR, "-Xmx160m");
        lbPort = Integer.parseInt(env.get("GAVEL_LB_PORT"));
        basePort = Integer.parseInt(env.get("GAVEL_BASE_PORT"));
        managementBasePort = Integer.parseInt(env.get("GAVEL_MANAGEMENT_BASE_PORT"));
        env.put("NODE_TTL_MS", String.valueOf(NODE_TTL_MS));
        env.put("ADMIN_TOKEN", ApiClient.ADMIN_TOKEN);
        // a Socket.IO session whose client gave up (a handshake answered too late on a busy machine) is
        // counted until its heartbeat times out: 10 s here rather than 45
        env.put("SOCKETIO_PING_INTERVAL_MS", "5000");
        env.put("SOCKETIO_PING_TIMEOUT_MS", "5000");
        cluster("up");
    }

    @AfterAll
    static void down() {
        crowds.forEach(Process::destroyForcibly);
        viewers.forEach(Viewer::stop);
        cluster("down");
        VERTX.close();
    }

    @Test
    void viewersThroughNginxSeeExactCountsWhileReplicasAreKilledAndRestarted() throws Exception {
        for (int i = 0; i < WS_VIEWERS; i++) {
            viewers.add(new WsViewer());
        }
        crowd("socketio", "http://127.0.0.1:" + lbPort, SOCKETIO_VIEWERS, JsViewer.teamOptions("auction-" + AUCTION));
        crowd("sockjs", "http://127.0.0.1:" + lbPort + "/sockjs?slug=auction-" + AUCTION, SOCKJS_VIEWERS,
                new JsonObject().put("transports", List.of("websocket")));

        settle("start");
        Map<Integer, Long> spread = new TreeMap<>();
        for (int i = 0; i < REPLICAS; i++) {
            spread.put(i, localViewers(basePort + i));
        }
        assertEquals(VIEWERS, spread.values().stream().mapToLong(Long::longValue).sum(), "viewers per replica " + spread);
        assertTrue(spread.values().stream().allMatch(n -> n > 0), "every replica has viewers: " + spread);
        System.out.println("[LocalClusterIT] viewers per replica after start: " + spread);
        everyViewerGetsAnEvent();

        // kill -9: the replica's entries stay until NODE_TTL_MS, then every viewer sees the exact number
        long onVictim = localViewers(basePort + 1);
        long killedAt = System.currentTimeMillis();
        long killed = System.nanoTime();
        ProcessHandle.of(pid("gavel-1")).orElseThrow().destroyForcibly();
        settleWithin("kill -9 gavel-1", Duration.ofMillis(NODE_TTL_MS + 1000), killed, onVictim, killedAt);
        everyViewerGetsAnEvent();
        cluster("up");

        // rolling restart with SIGTERM: counts stay within [0, viewers] all along, and settle after each step
        for (int i = 0; i < REPLICAS; i++) {
            String replica = "gavel-" + i;
            Sampler sampler = new Sampler();
            long before = System.currentTimeMillis();
            long held = localViewers(basePort + i);
            ProcessHandle handle = ProcessHandle.of(pid(replica)).orElseThrow();
            handle.destroy();
            handle.onExit().get(20, TimeUnit.SECONDS);
            settleWithin("SIGTERM " + replica, SETTLE, System.nanoTime(), held, before);
            sampler.stop();
            System.out.println("[LocalClusterIT] SIGTERM " + replica + ": peak reconnects per second at the survivors "
                    + peakReconnectsPerSecond(before) + " (held " + held + "; closes per second " + perSecond(before, true)
                    + ", opens per second " + perSecond(before, false) + "), counts seen between " + sampler.min + " and " + sampler.max);
            assertTrue(sampler.min >= 0 && sampler.max <= VIEWERS,
                    "during SIGTERM of " + replica + " counts went from " + sampler.min + " to " + sampler.max);
            sampler.assertEventsReachedConnectedViewers();
            cluster("up");
            settle("restart " + replica);
        }
        everyViewerGetsAnEvent();
    }

    // ---- the cluster

    private static void cluster(String command) {
        ClusterScript.run(CLUSTER, state, env, command);
    }

    private static long pid(String name) throws IOException {
        return Long.parseLong(Files.readString(state.resolve(name + ".pid")).trim());
    }

    /**
     * This replica's own viewers, from its {@code gavel_viewers} gauge (summed over labels, if any), on its management
     * port (the replica on public port {@code port}).
     */
    private static long localViewers(int port) throws Exception {
        int management = managementBasePort + (port - basePort);
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management + "/metrics"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher gauge = Pattern.compile("(?m)^gavel_viewers(?:\\{[^}]*})?\\s+([0-9.eE+]+)$").matcher(metrics);
        double sum = 0;
        boolean found = false;
        while (gauge.find()) {
            sum += Double.parseDouble(gauge.group(1));
            found = true;
        }
        assertTrue(found, "no gavel_viewers gauge on :" + port + ": " + metrics);
        return Math.round(sum);
    }

    // ---- checks

    private static void settle(String step) {
        settleWithin(step, SETTLE, System.nanoTime(), 0, 0);
    }

    /**
     * Every viewer connected, and every viewer's latest count exactly the number connected; after a replica went
     * away, only once at least {@code moved} viewers (the ones it held) opened a connection since {@code since}
     * (ms), so that viewers that have not yet noticed the loss do not pass for settled.
     */
    private static void settleWithin(String step, Duration limit, long from, long moved, long since) {
        Duration left = limit.minusNanos(System.nanoTime() - from);
        try {
            await().atMost(left.isNegative() ? Duration.ZERO : left).pollInterval(Duration.ofMillis(50)).until(() ->
                    viewers.size() == VIEWERS
                            && viewers.stream().filter(v -> v.opens.stream().anyMatch(t -> t >= since)).count() >= moved
                            && viewers.stream().allMatch(v -> v.connected() && v.current() == VIEWERS));
        } catch (ConditionTimeoutException e) {
            Map<String, Long> seen = new TreeMap<>();
            viewers.forEach(v -> seen.merge(v.kind() + (v.connected() ? " connected, sees " + v.current() : " not connected: " + v), 1L, Long::sum));
            Map<String, Object> perReplica = new TreeMap<>();
            for (int i = 0; i < REPLICAS; i++) {
                try {
                    perReplica.put("gavel-" + i, localViewers(basePort + i));
                } catch (Exception | AssertionError down) {
                    perReplica.put("gavel-" + i, "no answer");
                }
            }
            Map<String, Long> opens = new TreeMap<>();
            viewers.forEach(v -> opens.merge(v.kind() + " opens", (long) v.opens.size(), Long::sum));
            throw new AssertionError(step + ": after " + limit.toMillis() + " ms not every viewer was connected and saw "
                    + VIEWERS + ": " + seen + " (" + viewers.size() + " viewers); connections held per replica "
                    + perReplica + "; connections opened " + opens, e);
        }
        System.out.println("[LocalClusterIT] " + step + ": settled at " + VIEWERS + " after "
                + Duration.ofNanos(System.nanoTime() - from).toMillis() + " ms");
    }

    /** Publishes a bid through the balancer; every viewer gets it. */
    private static void everyViewerGetsAnEvent() {
        int seq = publish();
        await().atMost(TestViewer.PATIENCE).until(() -> viewers.stream().allMatch(v -> v.events.containsKey(seq)));
    }

    private static int publish() {
        int seq = published.incrementAndGet();
        ApiClient.Answer answer = ApiClient.adminPost(lbPort, "/api/v1/auctions/" + AUCTION + "/bidding",
                new JsonObject().put("seq", seq).encode());
        assertEquals(202, answer.status(), answer.toString());
        return seq;
    }

    /** Connections closed (or opened) in each second since {@code since} (ms), from the first second that had any. */
    private static List<Long> perSecond(long since, boolean closes) {
        Map<Long, Long> counts = new TreeMap<>();
        for (Viewer viewer : viewers) {
            for (long[] connection : viewer.connections) {
                long at = closes ? connection[1] : connection[0];
                if (at >= since && at != Long.MAX_VALUE) {
                    counts.merge((at - since) / 1000, 1L, Long::sum);
                }
            }
        }
        List<Long> list = new ArrayList<>();
        long last = counts.isEmpty() ? -1 : ((TreeMap<Long, Long>) counts).lastKey();
        for (long second = 0; second <= last; second++) {
            list.add(counts.getOrDefault(second, 0L));
        }
        return list;
    }

    /** The most viewer connections opened in one second since {@code since} (ms): all at the survivors. */
    private static long peakReconnectsPerSecond(long since) {
        Map<Long, Long> perSecond = new TreeMap<>();
        for (Viewer viewer : viewers) {
            for (long opened : viewer.opens) {
                if (opened >= since) {
                    perSecond.merge(opened / 1000, 1L, Long::sum);
                }
            }
        }
        return perSecond.values().stream().mapToLong(Long::longValue).max().orElse(0);
    }

    /**
     * Watches every viewer's count while a replica stops, and publishes a bid every 300 ms through the balancer:
     * a viewer whose connection had joined (see {@link Viewer#connectedThroughout}) before a publish and was open
     * until {@link #CLOSE_NOTICED_MS} after its 202 must have that bid. The slack is for the client to notice that the stopping replica closed it (a Node process
     * running 50 clients on a busy machine reports it late); until then it is reconnecting, not connected.
     */
    private static final class Sampler {
        static final long CLOSE_NOTICED_MS = 3000;

        volatile long min = Long.MAX_VALUE;
        volatile long max = Long.MIN_VALUE;
        private final List<long[]> publishes = new CopyOnWriteArrayList<>();
        private volatile boolean running = true;
        private final Thread thread = new Thread(this::run, "count-sampler");

        Sampler() {
            thread.start();
        }

        private void run() {
            long nextPublish = 0;
            while (running) {
                for (Viewer viewer : viewers) {
                    long current = viewer.current();
                    if (current != Long.MIN_VALUE) {
                        min = Math.min(min, current);
                        max = Math.max(max, current);
                    }
                }
                long now = System.currentTimeMillis();
                if (now >= nextPublish) {
                    int seq = published.incrementAndGet();
                    ApiClient.Answer answer = ApiClient.adminPost(lbPort, "/api/v1/auctions/" + AUCTION + "/bidding",
                            new JsonObject().put("seq", seq).encode());
                    if (answer.status() == 202) {
                        publishes.add(new long[] {seq, now, System.currentTimeMillis()});
                    }
                    nextPublish = now + 300;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join();
        }

        void assertEventsReachedConnectedViewers() {
            assertTrue(publishes.size() >= 3, "bids published during the step: " + publishes.size());
            List<String> missed = new ArrayList<>();
            for (long[] publish : publishes) {
                int seq = (int) publish[0];
                for (Viewer viewer : viewers) {
                    if (viewer.connectedThroughout(publish[1], publish[2] + CLOSE_NOTICED_MS) && !viewer.events.containsKey(seq)) {
                        missed.add(viewer + " missed bid " + seq + " (published " + (publish[2] - publish[1]) + " ms; the viewer's "
                                + "connections, ms from the publish: " + viewer.connections.stream()
                                .map(c -> "[" + (c[0] - publish[1]) + ", joined " + (c[2] == Long.MAX_VALUE ? "never" : c[2] - publish[1]) + ", "
                                        + (c[1] == Long.MAX_VALUE ? "open" : c[1] - publish[1]) + "]")
                                .toList() + "; bids it got: " + new java.util.TreeSet<>(viewer.events.keySet()) + ")");
                    }
                }
            }
            assertEquals(List.of(), missed.subList(0, Math.min(10, missed.size())), missed.size() + " misses");
        }
    }

    // ---- viewers

    /** One viewer: its latest count, the bids it got, and when each of its connections opened and closed. */
    private abstract static class Viewer {
        final Map<Integer, Boolean> events = new ConcurrentHashMap<>();
        final List<Long> opens = new CopyOnWriteArrayList<>();
        final List<long[]> connections = new CopyOnWriteArrayList<>();
        private volatile long current = Long.MIN_VALUE;
        private volatile boolean connected;

        long current() {
            return current;
        }

        String kind() {
            return toString().split(" ")[0];
        }

        boolean connected() {
            return connected;
        }

        void opened() {
            long now = System.currentTimeMillis();
            opens.add(now);
            connections.add(new long[] {now, Long.MAX_VALUE, Long.MAX_VALUE});
            connected = true;
        }

        void closed() {
            connected = false;
            if (!connections.isEmpty()) {
                connections.get(connections.size() - 1)[1] = System.currentTimeMillis();
            }
        }

        void event(String name, Object data) {
            if ("viewerCountUpdate".equals(name) && data instanceof JsonObject count) {
                current = count.getLong("current");
                if (!connections.isEmpty()) {
                    long[] connection = connections.get(connections.size() - 1);
                    connection[2] = Math.min(connection[2], System.currentTimeMillis());
                }
            } else if ("playerBiddingUpdate".equals(name) && data instanceof JsonObject bid && bid.containsKey("seq")) {
                events.put(bid.getInteger("seq"), true);
            }
        }

        /**
         * A connection that had joined by {@code from} and was open until {@code to}. Joined means its first count
         * arrived: a replica reports (and so counts to) an auction's viewers only once it is subscribed to the
         * auction's channel, so from then on every event reaches them. Viewers are also told they are connected
         * only once their replica is subscribed (docs/clients.md), so the open would do as well; the first count
         * is the stricter of the two.
         */
        boolean connectedThroughout(long from, long to) {
            return connections.stream().anyMatch(c -> c[2] <= from && c[1] >= to);
        }

        void stop() {
        }
    }

    /** A plain WebSocket viewer that reconnects 100 ms after its connection ends. */
    private static final class WsViewer extends Viewer {
        private volatile boolean stopped;
        private volatile ClientWebSocket ws;
        private volatile String failure = "";

        WsViewer() {
            connect();
        }

        private void connect() {
            if (stopped) {
                return;
            }
            // handlers set before the upgrade: a count sent with it is not missed; it marks the connection open
            ClientWebSocket socket = CLIENT.webSocket();
            AtomicBoolean open = new AtomicBoolean();
            Runnable opening = () -> {
                if (open.compareAndSet(false, true)) {
                    ws = socket;
                    opened();
                }
            };
            socket.textMessageHandler(text -> {
                opening.run();
                JsonObject frame = new JsonObject(text);
                event(frame.getString("event"), frame.getValue("data"));
            });
            socket.closeHandler(v -> {
                closed();
                VERTX.setTimer(100, t -> connect());
            });
            socket.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(lbPort).setURI("/ws?slug=auction-" + AUCTION))
                    .onSuccess(w -> opening.run())
                    .onFailure(e -> {
                        failure = e.toString();
                        VERTX.setTimer(100, t -> connect());
                    });
        }

        @Override
        void stop() {
            stopped = true;
            if (ws != null) {
                ws.close();
            }
        }

        @Override
        public String toString() {
            return "ws viewer" + (failure.isEmpty() ? "" : " (last failure: " + failure + ")");
        }
    }

    /** A viewer inside a {@code crowd.js} process, fed by its lines. */
    private static final class JsCrowdViewer extends Viewer {
        private final String name;
        private volatile String failure = "";

        JsCrowdViewer(String name) {
            this.name = name;
        }

        @Override
        public String toString() {
            return name + (failure.isEmpty() ? "" : " (last failure: " + failure + ")");
        }
    }

    private static void crowd(String kind, String url, int count, JsonObject options) throws IOException {
        List<JsCrowdViewer> members = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            members.add(new JsCrowdViewer(kind + " viewer " + i));
        }
        viewers.addAll(members);
        Process process = new ProcessBuilder("node", "crowd.js", kind, url, String.valueOf(count), options.encode())
                .directory(JsViewer.SCRIPTS.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        crowds.add(process);
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    JsonObject record = new JsonObject(line);
                    JsCrowdViewer viewer = members.get(record.getInteger("i"));
                    switch (record.getString("type")) {
                        case "open" -> viewer.opened();
                        case "close" -> viewer.closed();
                        case "event" -> viewer.event(record.getString("name"), record.getValue("data"));
                        case "error" -> viewer.failure = record.getString("message");
                        default -> { }
                    }
                }
            } catch (IOException | RuntimeException e) {
                // the process ended
            }
        }, kind + "-crowd-reader");
        reader.setDaemon(true);
        reader.start();
    }
}
