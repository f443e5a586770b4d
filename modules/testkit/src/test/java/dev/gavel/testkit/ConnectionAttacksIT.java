package dev.gavel.testkit;

import dev.gavel.core.ViewerEvent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The classic connection attacks, made from 127.0.0.1 against a node process with a 64 MB heap, while viewers on
 * 127.0.0.2 watch: slowloris, connections that never send a byte, more sockets than an address may hold, and
 * pipelined requests whose answers are never read. Each time the node stays ready, its viewers keep their counts and
 * get the bids published meanwhile, and the attacker's address is served again once it leaves.
 */
class ConnectionAttacksIT {

    private static final String VIEWERS = "127.0.0.2";
    private static final List<String> SMALL_HEAP = List.of("-Xmx64m");

    private NodeProcess node;
    private final List<AutoCloseable> clients = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable client : clients) {
            client.close();
        }
        if (node != null) {
            node.close();
        }
    }

    private int start(Map<String, String> env) {
        Map<String, String> all = new HashMap<>(env);
        all.put("ADMIN_TOKEN", ApiClient.ADMIN_TOKEN);
        node = NodeProcess.startWithJvmOptions(all, SMALL_HEAP);
        return node.port();
    }

    private <T extends AutoCloseable> T track(T client) {
        clients.add(client);
        return client;
    }

    /** Three viewers of {@code auction} from the viewers' address, counted. */
    private List<TestViewer> viewers(int port, String auction) {
        List<TestViewer> viewers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            viewers.add(track(TestViewer.watchFrom(VIEWERS, port, auction)));
        }
        viewers.forEach(viewer -> viewer.awaitCount(3, 3));
        return viewers;
    }

    /** A bid published now (by the back end, on the viewers' address) reaches every viewer, whose count has not moved. */
    private void bidReachesEveryViewer(int port, String auction, List<TestViewer> viewers, int bids) {
        assertEquals(202, ApiClient.sendFrom(VIEWERS, HttpMethod.POST, port, "/api/v1/auctions/" + auction + "/bidding",
                Map.of("Authorization", "Bearer " + ApiClient.ADMIN_TOKEN, "Content-Type", "application/json"),
                "{\"bid\":" + bids + "}").status());
        for (TestViewer viewer : viewers) {
            viewer.awaitEvents(ViewerEvent.PLAYER_BIDDING_UPDATE, bids);
            assertEquals(new JsonObject().put("auctionId", auction).put("current", 3).put("peak", 3), viewer.lastCount());
        }
    }

    private void attackerIsServedAgain(int port, String auction, List<TestViewer> viewers) {
        await().atMost(TestViewer.PATIENCE).until(() -> ApiClient.get(port, "/health/ready").status() == 200);
        TestViewer late = track(TestViewer.watch(port, auction));
        late.awaitCount(4, 4);
        viewers.forEach(viewer -> viewer.awaitCount(4, 4));
    }

    private void noOutOfMemoryAndNoStack() {
        String output = node.output();
        assertFalse(output.contains("OutOfMemoryError"), output);
        assertFalse(output.contains("\tat "), "no stack trace in the log:\n" + output);
    }

    @Test
    void slowlorisConnectionsAreClosedAtTheHeaderTimeoutWhileViewersKeepTheirCountsAndBids() throws Exception {
        int port = start(Map.of("HTTP_HEADER_TIMEOUT_MS", "3000"));
        List<TestViewer> viewers = viewers(port, "siege");

        long started = System.nanoTime();
        Crowd slowloris = track(Crowd.open(port, 2_000, "GET /health/live HTTP/1.1\r\nHost: gavel\r\n"));
        Thread trickle = slowloris.trickle("X".getBytes(StandardCharsets.US_ASCII), Duration.ofMillis(500));
        assertEquals(2_000, slowloris.open(), "every attacker connected");

        bidReachesEveryViewer(port, "siege", viewers, 1);
        // the node is ready on every look while the attackers hold their sockets, and closes every one of them
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).until(() -> {
            assertEquals(200, node.readiness());
            return slowloris.open() == 0;
        });
        long seconds = (System.nanoTime() - started) / 1_000_000_000;
        System.out.printf("2000 slowloris connections closed by the node within %d s%n", seconds);
        trickle.interrupt();
        bidReachesEveryViewer(port, "siege", viewers, 2);

        Scrape scrape = Scrape.of(port);
        assertTrue(scrape.value("gavel_refusals_total{reason=\"header_timeout\"}") >= 2_000, scrape.toString());
        attackerIsServedAgain(port, "siege", viewers);
        noOutOfMemoryAndNoStack();
    }

    @Test
    void connectionsThatNeverSendAByteAreClosedAtTheSameTimeout() throws Exception {
        int port = start(Map.of("HTTP_HEADER_TIMEOUT_MS", "2000"));
        List<TestViewer> viewers = viewers(port, "idle");

        Crowd silent = track(Crowd.open(port, 1_000, ""));
        assertEquals(1_000, silent.open());
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).until(() -> {
            silent.poll();
            return silent.open() == 0;
        });
        // a keep-alive connection that has been answered waits its idle timeout, not the header timeout
        bidReachesEveryViewer(port, "idle", viewers, 1);
        attackerIsServedAgain(port, "idle", viewers);
        noOutOfMemoryAndNoStack();
    }

    @Test
    void anAddressHoldsAtMostItsSocketsOfAnyKindAndGetsThemBackWhenItLetsGo() throws Exception {
        int port = start(Map.of("MAX_SOCKETS_PER_ADDRESS", "200"));
        List<TestViewer> viewers = viewers(port, "sockets");

        Crowd crowd = track(Crowd.open(port, 500, ""));
        // those over the limit are answered 429 and closed at once; the ones it holds stay open (idle, not timed out
        // yet). The address may hold a socket or two of its own already (the test's HTTP clients keep theirs alive).
        await().atMost(TestViewer.PATIENCE).until(() -> {
            crowd.poll();
            return crowd.open() <= 200 && crowd.open() + crowd.refusedWith429() == 500 && crowd.closed() == crowd.refusedWith429();
        });
        assertTrue(crowd.refusedWith429() >= 300, crowd.refusedWith429() + " refused");
        assertTrue(crowd.open() >= 195, crowd.open() + " held");
        // while it holds them, its further connections are refused too, whatever they would ask
        Crowd more = track(Crowd.open(port, 50, "GET /health/live HTTP/1.1\r\nHost: gavel\r\n\r\n"));
        await().atMost(TestViewer.PATIENCE).until(() -> {
            more.poll();
            return more.closed() + more.open() == 50 && more.closed() == more.refusedWith429() && more.closed() >= 45;
        });
        assertEquals(200, ApiClient.sendFrom(VIEWERS, HttpMethod.GET, port, "/health/ready", Map.of(), null)
                .status());
        bidReachesEveryViewer(port, "sockets", viewers, 1);

        crowd.close();
        attackerIsServedAgain(port, "sockets", viewers);
        noOutOfMemoryAndNoStack();
    }

    @Test
    void clientsThatPipelineRequestsAndNeverReadTheAnswersAreReadNoFurtherAndTheReplicaKeepsItsViewers() throws Exception {
        int port = start(Map.of());
        List<TestViewer> viewers = viewers(port, "pipes");

        byte[] request = ("GET /api/v1/auctions/pipes/viewer-count HTTP/1.1\r\nHost: gavel\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        Crowd pipelining = track(Crowd.open(port, 100, ""));
        AtomicBoolean attacking = new AtomicBoolean(true);
        Thread flood = new Thread(() -> pipelining.flood(request, attacking), "pipelining-flood");
        flood.start();
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        int bids = 0;
        List<Integer> readiness = new ArrayList<>();
        while (System.nanoTime() < until) {
            // the viewers keep their counts and get every bid while the node answers the flood
            bidReachesEveryViewer(port, "pipes", viewers, ++bids);
            readiness.add(node.readiness());
        }
        // while the flood's connections are still open and still sending, the node has stopped reading them (their
        // answers wait unread) and is ready, with memory to spare
        await().atMost(TestViewer.PATIENCE).until(() -> node.readiness() == 200);
        bidReachesEveryViewer(port, "pipes", viewers, ++bids);
        attacking.set(false);
        flood.join(TestViewer.PATIENCE.toMillis());
        long sent = pipelining.bytesSent();
        System.out.printf("100 pipelining connections got %d bytes of requests (%d requests) into the kernel in 10 s, "
                + "%d bids delivered meanwhile; readiness samples: %s%n", sent, sent / request.length, bids, readiness);
        assertEquals(200, node.status("/health/live"));
        noOutOfMemoryAndNoStack();
        pipelining.close();

        // held, not lost: a client that pipelines without reading, then reads, gets every answer in order
        try (Socket socket = new Socket()) {
            socket.setReceiveBufferSize(4096);
            socket.connect(new InetSocketAddress("127.0.0.1", port));
            socket.setSoTimeout((int) TestViewer.PATIENCE.toMillis());
            int requests = 3_000;
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; i < requests; i++) {
                        socket.getOutputStream().write(request);
                    }
                    socket.getOutputStream().flush();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            writer.start();
            writer.join(2_000);
            assertEquals(requests, countAnswers(socket.getInputStream(), requests));
            writer.join();
        }
        attackerIsServedAgain(port, "pipes", viewers);
    }

    /** Reads {@code expected} HTTP answers with a body each (by their {@code content-length}). */
    private static int countAnswers(InputStream in, int expected) throws IOException {
        int answers = 0;
        StringBuilder head = new StringBuilder();
        while (answers < expected) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.append((char) b);
            if (head.length() >= 4 && head.lastIndexOf("\r\n\r\n") == head.length() - 4) {
                String text = head.toString().toLowerCase();
                int at = text.indexOf("content-length:");
                int length = Integer.parseInt(text.substring(at + 15, text.indexOf("\r\n", at)).trim());
                in.readNBytes(length);
                assertTrue(text.startsWith("http/1.1 200"), text);
                answers++;
                head.setLength(0);
            }
        }
        return answers;
    }

    /**
     * Many connections from 127.0.0.1, non-blocking: each sends its first bytes, then what {@link #trickle} or
     * {@link #flood} says, and never reads what it is answered, except to notice that the node closed it.
     */
    static final class Crowd implements AutoCloseable {

        private final List<SocketChannel> channels;
        private final boolean[] closed;
        private int refusedWith429;
        private volatile long bytesSent;

        private Crowd(List<SocketChannel> channels) {
            this.channels = channels;
            this.closed = new boolean[channels.size()];
        }

        static Crowd open(int port, int connections, String first) throws IOException {
            List<SocketChannel> channels = new ArrayList<>();
            byte[] bytes = first.getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < connections; i++) {
                SocketChannel channel = SocketChannel.open();
                channel.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
                channel.bind(new InetSocketAddress("127.0.0.1", 0));
                channel.connect(new InetSocketAddress("127.0.0.1", port));
                channel.configureBlocking(false);
                if (bytes.length > 0) {
                    channel.write(ByteBuffer.wrap(bytes));
                }
                channels.add(channel);
            }
            return new Crowd(channels);
        }

        /** Connections the node has not closed, as far as the last {@link #poll} saw. */
        synchronized int open() {
            int open = 0;
            for (boolean c : closed) {
                open += c ? 0 : 1;
            }
            return open;
        }

        synchronized int closed() {
            return closed.length - open();
        }

        synchronized int refusedWith429() {
            return refusedWith429;
        }

        long bytesSent() {
            return bytesSent;
        }

        /** Reads what each connection was sent, to see which ones the node closed. */
        synchronized void poll() {
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            for (int i = 0; i < channels.size(); i++) {
                if (closed[i]) {
                    continue;
                }
                try {
                    buffer.clear();
                    int read = channels.get(i).read(buffer);
                    if (read > 0 && new String(buffer.array(), 0, read, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 429")) {
                        refusedWith429++;
                    }
                    if (read < 0) {
                        closed[i] = true;
                    }
                } catch (IOException reset) {
                    closed[i] = true;
                }
            }
        }

        /** Sends {@code bytes} on every open connection every {@code interval}, noticing closes, until interrupted. */
        Thread trickle(byte[] bytes, Duration interval) {
            Thread thread = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    synchronized (this) {
                        for (int i = 0; i < channels.size(); i++) {
                            if (!closed[i]) {
                                try {
                                    channels.get(i).write(ByteBuffer.wrap(bytes));
                                } catch (IOException reset) {
                                    closed[i] = true;
                                }
                            }
                        }
                    }
                    poll();
                    try {
                        Thread.sleep(interval.toMillis());
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "slowloris");
            thread.setDaemon(true);
            thread.start();
            return thread;
        }

        /**
         * Writes {@code request} again and again on every connection, as fast as each takes it, while {@code going};
         * a batch a connection took in part is finished before the next, so every request is whole.
         */
        void flood(byte[] request, AtomicBoolean going) {
            byte[] batch = new byte[request.length * 64];
            for (int i = 0; i < 64; i++) {
                System.arraycopy(request, 0, batch, i * request.length, request.length);
            }
            List<ByteBuffer> pending = new ArrayList<>();
            channels.forEach(channel -> pending.add(ByteBuffer.wrap(batch)));
            while (going.get()) {
                boolean wrote = false;
                for (int i = 0; i < channels.size(); i++) {
                    ByteBuffer buffer = pending.get(i);
                    if (!buffer.hasRemaining()) {
                        buffer.rewind();
                    }
                    try {
                        int n = channels.get(i).write(buffer);
                        bytesSent += n;
                        wrote |= n > 0;
                    } catch (IOException closedByNode) {
                        buffer.position(buffer.limit());
                    }
                }
                if (!wrote) {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                }
            }
        }

        @Override
        public synchronized void close() throws IOException {
            for (SocketChannel channel : channels) {
                channel.close();
            }
        }
    }
}
