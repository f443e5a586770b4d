package dev.gavel.testkit;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A plain WebSocket viewer for tests, with a real Vert.x WebSocket client: it records every frame it gets
 * and waits (with a deadline, never a bare sleep) for what a test expects.
 */
public final class TestViewer implements AutoCloseable {

    /** How long a test waits for something that should happen. */
    public static final Duration PATIENCE = Duration.ofSeconds(15);

    private static final Vertx VERTX = Vertx.vertx();
    private static final WebSocketClient CLIENT = client(null);
    /** Clients bound to other loopback addresses (127.0.0.2, ...), for viewers that come from another address. */
    private static final Map<String, WebSocketClient> FROM = new ConcurrentHashMap<>();

    private final ClientWebSocket ws;
    private final List<JsonObject> frames = new CopyOnWriteArrayList<>();
    private volatile Short closeStatus;
    private volatile long closedAtNanos;

    /** Handlers are set before the connection is made: a frame that comes with the upgrade's answer is not missed. */
    private TestViewer(ClientWebSocket ws) {
        this.ws = ws;
        ws.textMessageHandler(text -> frames.add(new JsonObject(text)));
        ws.closeHandler(v -> {
            closedAtNanos = System.nanoTime();
            closeStatus = ws.closeStatusCode() == null ? -1 : ws.closeStatusCode();
        });
    }

    /** Connects to {@code /ws?slug=auction-<auctionId>} on a node. */
    public static TestViewer watch(int port, String auctionId) {
        return connect(port, "/ws?slug=auction-" + auctionId, null);
    }

    public static TestViewer connect(int port, String uri, String origin) {
        return open(CLIENT, port, uri, origin);
    }

    /**
     * Connects with headers on the upgrade request, as a proxy in front would add them (e.g. {@code X-Forwarded-For},
     * a country header).
     */
    public static TestViewer connectWithHeaders(int port, String uri, Map<String, String> headers) {
        TestViewer viewer = new TestViewer(CLIENT.webSocket());
        WebSocketConnectOptions options = options(port, uri, null);
        headers.forEach(options::addHeader);
        result(viewer.ws.connect(options));
        return viewer;
    }

    /** Connects to {@code /ws?slug=auction-<auctionId>} from another local address, e.g. {@code 127.0.0.2}. */
    public static TestViewer watchFrom(String localAddress, int port, String auctionId) {
        WebSocketClient client = FROM.computeIfAbsent(localAddress, TestViewer::client);
        return open(client, port, "/ws?slug=auction-" + auctionId, null);
    }

    private static WebSocketClient client(String localAddress) {
        WebSocketClientOptions options = new WebSocketClientOptions()
                .setMaxConnections(20_000).setMaxFrameSize(128 * 1024).setMaxMessageSize(128 * 1024);
        if (localAddress != null) {
            options.setLocalAddress(localAddress);
        }
        return VERTX.createWebSocketClient(options);
    }

    /** The HTTP status of a refused upgrade; fails if the upgrade was accepted. */
    public static int refusalStatus(int port, String uri, String origin) {
        try {
            WebSocket ws = CLIENT.connect(options(port, uri, origin)).await(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            ws.close();
            throw new AssertionError("the upgrade of " + uri + " was accepted");
        } catch (UpgradeRejectedException e) {
            return e.getStatus();
        } catch (AssertionError e) {
            throw e;
        } catch (Exception e) {
            if (e.getCause() instanceof UpgradeRejectedException rejected) {
                return rejected.getStatus();
            }
            throw new IllegalStateException(e);
        }
    }

    /**
     * Connects a viewer whose handlers were set before the upgrade: with {@code WebSocketClient.connect} they could
     * only be set once its future completed, and Vert.x resumes the socket before that (on the caller's context,
     * which need not be the connection's loop), so a count sent right after the upgrade could be lost.
     */
    private static TestViewer open(WebSocketClient client, int port, String uri, String origin) {
        TestViewer viewer = new TestViewer(client.webSocket());
        result(viewer.ws.connect(options(port, uri, origin)));
        return viewer;
    }

    private static WebSocketConnectOptions options(int port, String uri, String origin) {
        WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(uri);
        if (origin != null) {
            options.addHeader("Origin", origin);
        }
        return options;
    }

    public void send(String text) {
        result(ws.writeTextMessage(text));
    }

    public List<JsonObject> frames() {
        return frames;
    }

    /** Payloads of the frames of one event, in arrival order. */
    public List<Object> events(String name) {
        return frames.stream().filter(f -> name.equals(f.getString("event"))).map(f -> f.getValue("data")).toList();
    }

    /** The latest {@code viewerCountUpdate} payload, or null before the first. */
    /** The {@code current} of every count it was sent, in order. */
    public List<Long> currents() {
        return events("viewerCountUpdate").stream().map(count -> ((JsonObject) count).getLong("current")).toList();
    }

    public JsonObject lastCount() {
        List<Object> counts = events("viewerCountUpdate");
        return counts.isEmpty() ? null : (JsonObject) counts.get(counts.size() - 1);
    }

    /** Waits until the latest count shows {@code current} viewers. */
    public TestViewer awaitCurrent(long current) {
        await().atMost(PATIENCE).untilAsserted(() -> assertEquals(current, lastCurrent(), "current; counts seen: " + events("viewerCountUpdate")));
        return this;
    }

    private Long lastCurrent() {
        JsonObject count = lastCount();
        return count == null ? null : count.getLong("current");
    }

    /** Waits until the latest count shows {@code current} and {@code peak}. */
    public TestViewer awaitCount(long current, long peak) {
        await().atMost(PATIENCE).untilAsserted(() -> assertEquals(new JsonObject().put("current", current).put("peak", peak),
                lastCount() == null ? null : new JsonObject().put("current", lastCount().getLong("current")).put("peak", lastCount().getLong("peak")),
                "counts seen: " + events("viewerCountUpdate")));
        return this;
    }

    /** Waits until an event arrives and returns its payloads. */
    public List<Object> awaitEvents(String name, int atLeast) {
        await().atMost(PATIENCE).until(() -> events(name).size() >= atLeast);
        return events(name);
    }

    /** Waits for the connection to be closed and returns its close code (-1 when none was sent). */
    public short awaitClosed() {
        await().atMost(PATIENCE).until(() -> closeStatus != null);
        return closeStatus;
    }

    /** When the connection closed, by {@link System#nanoTime()}; 0 while it is open. */
    public long closedAtNanos() {
        return closeStatus == null ? 0 : closedAtNanos;
    }

    public boolean isClosed() {
        return closeStatus != null;
    }

    /** Closes the connection, waiting a little for the close handshake; cleanup never fails a test. */
    @Override
    public void close() {
        closeAll(List.of(this));
    }

    /** Closes many viewers at once, then waits (boundedly) for all of them. */
    public static void closeAll(List<TestViewer> viewers) {
        List<Future<Void>> closing = viewers.stream().filter(v -> v.closeStatus == null).map(v -> v.ws.close()).toList();
        try {
            Future.join(closing).await(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // already gone, or the peer did not answer: nothing left to clean up on this side
        }
    }

    private static <T> T result(Future<T> future) {
        try {
            return future.await(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
