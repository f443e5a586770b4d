package dev.gavel.testkit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.EOFException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A viewer that stops answering is dropped and uncounted within about two {@code WS_PING_INTERVAL_MS}, on every
 * transport that has no heartbeat of its own: {@code /ws} and SockJS's WebSocket pinged by the server, SockJS's
 * HTTP streaming by its heartbeat and the kernel's {@code TCP_USER_TIMEOUT}. Viewers that answer stay, counted
 * exactly. Real clients whose link is really cut: each runs in a network namespace of its own behind a veth pair,
 * and the test takes the namespace's end down (root only; skipped elsewhere with the reason).
 */
class DeadViewerIT {

    private static final long PING_MILLIS = 1000;
    /** Two intervals, as the contract allows, and room for a busy machine. */
    private static final Duration DEADLINE = Duration.ofMillis(2 * PING_MILLIS + 2000);
    private static final AtomicInteger AUCTIONS = new AtomicInteger();
    private static Cluster cluster;
    private final List<AutoCloseable> clients = new ArrayList<>();
    private NetworkNamespace namespace;

    @BeforeAll
    static void startNode() {
        // the node listens on every address, the host's end of each veth pair included
        cluster = Cluster.start(null, 1, Map.of("WS_PING_INTERVAL_MS", String.valueOf(PING_MILLIS)));
    }

    @AfterAll
    static void stopNode() {
        cluster.close();
    }

    @AfterEach
    void cleanUp() throws Exception {
        try {
            for (AutoCloseable client : clients) {
                client.close();
            }
        } finally {
            if (namespace != null) {
                namespace.close();
            }
        }
    }

    private <T extends AutoCloseable> T track(T client) {
        clients.add(client);
        return client;
    }

    private static long counted(String auction) {
        return ApiClient.get(cluster.port(0), "/api/v1/auctions/" + auction + "/viewer-count").json().getLong("current");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ws", "websocket", "xhr-streaming"})
    void aViewerWhoseLinkIsCutIsUncountedWhileAHealthyOneStays(String transport) {
        namespace = NetworkNamespace.create();
        String auction = "dead-" + transport + "-" + AUCTIONS.incrementAndGet();
        TestViewer healthy = track(TestViewer.watch(cluster.port(0), auction));
        PlainCounts.await(healthy, 1, 1);
        JsViewer cut = track(JsViewer.inNamespace(namespace.name(), namespace.hostAddress(), cluster.port(0),
                "auction-" + auction, transport));
        cut.awaitRecord("open");
        PlainCounts.await(healthy, 2, 2, cut);
        assertEquals(2, counted(auction));

        namespace.cut();
        long cutAt = System.nanoTime();
        await("the viewer whose link was cut (" + transport + ") leaves the count").atMost(DEADLINE)
                .until(() -> counted(auction) == 1);
        long tookMillis = (System.nanoTime() - cutAt) / 1_000_000;
        PlainCounts.await(healthy, 1, 2, cut);
        System.out.printf("DeadViewerIT: %s viewer uncounted %d ms after its link was cut (ping interval %d ms)%n",
                transport, tookMillis, PING_MILLIS);

        await("the healthy viewer stays, counted exactly").during(Duration.ofMillis(4 * PING_MILLIS))
                .atMost(Duration.ofMillis(8 * PING_MILLIS))
                .until(() -> !healthy.isClosed() && counted(auction) == 1 && healthy.lastCount().getLong("current") == 1);
    }

    @Test
    void aWebSocketThatNeverAnswersAPingIsDroppedAndOneThatAnswersIsKept() throws IOException {
        String auction = "silent-" + AUCTIONS.incrementAndGet();
        TestViewer answering = track(TestViewer.watch(cluster.port(0), auction));
        PlainCounts.await(answering, 1, 1);
        // reads what comes (pings included) but never answers: a client whose answers never arrive
        RawWebSocket silent = track(RawWebSocket.open(cluster.port(0), "/ws?slug=auction-" + auction, null, 65536));
        assertEquals(101, silent.status());
        PlainCounts.await(answering, 2, 2);

        long openedAt = System.nanoTime();
        assertThrows(EOFException.class, () -> silent.readUntilClose(new int[1]),
                "dropped without a close frame it could not have heard");
        long tookMillis = (System.nanoTime() - openedAt) / 1_000_000;
        await().atMost(DEADLINE).until(() -> counted(auction) == 1);
        PlainCounts.await(answering, 1, 2);
        System.out.printf("DeadViewerIT: a silent WebSocket was dropped %d ms after it connected (ping interval %d ms)%n",
                tookMillis, PING_MILLIS);

        await("the answering viewer stays, counted exactly").during(Duration.ofMillis(4 * PING_MILLIS))
                .atMost(Duration.ofMillis(8 * PING_MILLIS))
                .until(() -> !answering.isClosed() && counted(auction) == 1);
    }
}
