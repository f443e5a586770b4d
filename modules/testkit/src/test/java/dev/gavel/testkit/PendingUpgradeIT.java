package dev.gavel.testkit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The first viewer of an auction on a node waits, before its upgrade is answered, until the node receives the
 * auction's events (a Redis round trip). A client that goes away during that wait leaves nothing behind: not its
 * place in its address's connections, not a count.
 */
class PendingUpgradeIT {

    private static final int PER_ADDRESS = 5;

    @RegisterExtension
    static final ClusterExtension gavel = new ClusterExtension(1, Map.of("MAX_CONNECTIONS_PER_ADDRESS", String.valueOf(PER_ADDRESS)));

    @Test
    void upgradesAbandonedWhileTheirAuctionIsBeingSubscribedHoldNothing() throws IOException {
        int port = gavel.cluster().port(0);
        int abandoned = 200;
        for (int i = 0; i < abandoned; i++) {
            // a fresh auction each time, so each upgrade waits for a subscription; half end with a reset
            try (Socket socket = new Socket("127.0.0.1", port)) {
                OutputStream out = socket.getOutputStream();
                out.write(("GET /ws?slug=auction-abandoned-" + i + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                        + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                if (i % 2 == 0) {
                    socket.setSoLinger(true, 0);
                }
            }
        }

        // every place of the address comes back (each abandoned upgrade releases its own as it ends)
        List<TestViewer> viewers = new ArrayList<>();
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).until(() -> {
            try {
                viewers.add(TestViewer.watch(port, "after"));
            } catch (IllegalStateException refused) {
                // 429 while an abandoned upgrade still holds its place; asked again
            }
            return viewers.size() == PER_ADDRESS;
        });
        viewers.forEach(viewer -> viewer.awaitCount(PER_ADDRESS, PER_ADDRESS));
        assertEquals(429, TestViewer.refusalStatus(port, "/ws?slug=auction-after", null));
        for (int i = 0; i < abandoned; i += 37) {
            assertEquals(0, ApiClient.get(port, "/api/v1/auctions/abandoned-" + i + "/viewer-count").json().getLong("current"));
        }
    }
}
