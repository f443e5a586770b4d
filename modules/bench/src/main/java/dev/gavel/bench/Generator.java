package dev.gavel.bench;


import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SelectStrategy;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.util.IntSupplier;
import org.HdrHistogram.Histogram;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The load generator: one JVM holding up to ~18,000 viewers on a single Netty event loop, driven by the
 * coordinator through one-line commands on stdin, each answered by one JSON line on stdout. All viewer state is
 * owned by the event loop; commands reach it with {@link #onLoop}. The worker ends when told to or when stdin
 * closes (its coordinator is gone).
 */
final class Generator {

    static final long LATENCY_MAX_MICROS = 600_000_000L;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long VIEWER_OPEN_TIMEOUT_MS = 120_000;

    private final Transport transport;
    final boolean deflate;
    private final List<InetSocketAddress> targets;
    private final List<InetAddress> sources;
    private final int indexOffset;
    private final int indexStride;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final List<Viewer> viewers = new ArrayList<>();
    private final Histogram latency = new Histogram(LATENCY_MAX_MICROS, 3);
    /** Publish-to-delivery latency per auction, for fan-out by auction size. */
    private final Map<String, Histogram> latencyByAuction = new TreeMap<>();
    /**
     * Per auction, per bid (its publish stamp) and per replica (its port): when the replica's last viewer here got the
     * bid, in microseconds after the publish. Merged over the generators, it tells whether a bid was late everywhere
     * (the machine) or at one replica.
     */
    private final Map<String, Map<Long, Map<Integer, Long>>> lastDeliveries = new TreeMap<>();
    /** From a viewer's first attempt to its admission, retries included. */
    private final Histogram connectTime = new Histogram(LATENCY_MAX_MICROS, 3);
    private final java.util.Random random;
    private final Map<String, Integer> failures = new TreeMap<>();
    private final Map<Integer, Integer> closeCodes = new TreeMap<>();

    private int created;
    private int failed;
    /** Attempts answered 503 (the replica's overload guard or its viewer limit), retried or not. */
    private int refused;
    private int retries;
    private int disconnects;
    private long deliveries;
    private long unstamped;
    long countUpdates;
    long frameErrors;
    long lastFrameNs = System.nanoTime();
    private OpenBatch batch;

    Generator(Transport transport, boolean deflate, List<InetSocketAddress> targets, List<InetAddress> sources,
              int indexOffset, int indexStride) {
        this.transport = transport;
        this.deflate = deflate;
        this.targets = targets;
        this.sources = sources;
        this.indexOffset = indexOffset;
        this.indexStride = indexStride;
        this.random = new java.util.Random(31L * indexOffset + 7);
        boolean epoll = Epoll.isAvailable();
        this.group = new MultiThreadIoEventLoopGroup(1, epoll ? EpollIoHandler.newFactory(0, PacedSelect::new) : NioIoHandler.newFactory());
        this.loop = group.next();
        this.bootstrap = new Bootstrap().group(loop)
                .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000);
    }

    /**
     * How the generator's loop waits for its sockets while frames keep coming: it takes what is ready, and when
     * nothing is, it sleeps {@link #PACE_NANOS} instead of blocking in {@code epoll_wait}; once nothing came for
     * {@link #QUIET_NANOS} it blocks as usual. On loopback the sender's {@code write} runs the receiver's side of TCP,
     * including waking a reader blocked in {@code epoll_wait}: with thousands of viewers per generator getting one
     * frame each, that is one wake-up of this thread per frame, paid partly by the replica's event loop. Browsers on
     * their own machines cost a server nothing of the kind; a paced generator reads ~1 ms of frames per wake-up, adding
     * at most that to what it measures (docs/benchmarks.md, "what sets the hot auction's p99, and the paced generator").
     */
    static final class PacedSelect implements SelectStrategy {
        static final long PACE_NANOS = 1_000_000;
        static final long QUIET_NANOS = 20_000_000;
        private long lastReadyNs;

        @Override
        public int calculateStrategy(IntSupplier selectNow, boolean hasTasks) throws Exception {
            int ready = selectNow.get();
            if (ready > 0) {
                lastReadyNs = System.nanoTime();
                return ready;
            }
            if (hasTasks) {
                return 0;
            }
            if (System.nanoTime() - lastReadyNs > QUIET_NANOS) {
                return SelectStrategy.SELECT;
            }
            LockSupport.parkNanos(PACE_NANOS);
            return SelectStrategy.CONTINUE;
        }
    }

    // ---- called on the event loop by viewers

    void connectWebSocket(Viewer viewer, ChannelHandler handler) {
        connect(viewer, new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 16));
                ch.pipeline().addLast(handler);
            }
        });
    }

    void connectHttp(Viewer viewer, ChannelHandler handler) {
        connect(viewer, new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20), handler);
            }
        });
    }

    private void connect(Viewer viewer, ChannelInitializer<SocketChannel> initializer) {
        ChannelFuture future = bootstrap.clone().handler(initializer).connect(viewer.remote, viewer.local);
        viewer.channel = future.channel();
        future.addListener(f -> {
            if (!f.isSuccess()) {
                viewer.fail("connect: " + f.cause().getClass().getSimpleName() + " " + f.cause().getMessage());
            }
        });
    }

    void settled(Viewer viewer, String failure) {
        if (failure != null && refusal(failure)) {
            refused++;
        }
        if (failure != null && batch != null && batch.retry(viewer, failure)) {
            return;
        }
        if (failure != null) {
            failed++;
            failures.merge(failure.length() > 80 ? failure.substring(0, 80) : failure, 1, Integer::sum);
        }
        if (batch != null) {
            batch.settled(viewer, failure == null);
        }
    }

    void ended(Viewer viewer) {
        closeCodes.merge(viewer.closeCode, 1, Integer::sum);
        if (!viewer.closedByUs) {
            disconnects++;
        }
    }

    void bid(Viewer viewer, long sentNs, long latencyNs) {
        deliveries++;
        if (latencyNs < 0) {
            unstamped++;
        } else {
            long micros = Math.min(latencyNs / 1000, LATENCY_MAX_MICROS);
            latency.recordValue(micros);
            latencyByAuction.computeIfAbsent(viewer.auction, a -> new Histogram(LATENCY_MAX_MICROS, 3)).recordValue(micros);
            lastDeliveries.computeIfAbsent(viewer.auction, a -> new HashMap<>())
                    .computeIfAbsent(sentNs, t -> new TreeMap<>()).merge(viewer.remote.getPort(), micros, Math::max);
        }
    }

    /** A refusal a real client answers by trying again later: the replica said 503 before the upgrade. */
    static boolean refusal(String failure) {
        return failure.endsWith(" 503");
    }

    // ---- commands, from the worker's main thread

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(60, TimeUnit.SECONDS);
    }

    /** Opens {@code count} viewers, at most {@code concurrency} connecting at once; answers when all settled. */
    ObjectNode open(int count, List<String> auctions, int concurrency, long timeoutMs) throws Exception {
        return open(new OpenBatch(count, auctions, null, concurrency, 0, 0), timeoutMs);
    }

    /**
     * Opens the viewers of a plan ({@code auction:transport:count,...}) in a shuffled order, at most {@code rate}
     * starting per second (0: as fast as {@code concurrency} allows); a viewer refused with 503 tries again after
     * socket.io-client's back-off (1 s doubling to 5 s, ±50%), on the next replica, up to {@code retries} times.
     */
    ObjectNode openPlan(String plan, int concurrency, double rate, int retries, long timeoutMs) throws Exception {
        List<String> auctions = new ArrayList<>();
        List<Transport> transports = new ArrayList<>();
        for (String entry : plan.split(",")) {
            if (entry.isEmpty()) {
                continue;
            }
            String[] parts = entry.split(":");
            Transport t = Transport.of(parts[1]);
            for (int i = Integer.parseInt(parts[2]); i > 0; i--) {
                auctions.add(parts[0]);
                transports.add(t);
            }
        }
        // the same shuffle for both lists: every auction and transport joins throughout the batch
        long seed = random.nextLong();
        java.util.Collections.shuffle(auctions, new java.util.Random(seed));
        java.util.Collections.shuffle(transports, new java.util.Random(seed));
        return open(new OpenBatch(auctions.size(), auctions, transports, concurrency, rate, retries), timeoutMs);
    }

    private ObjectNode open(OpenBatch opening, long timeoutMs) throws Exception {
        int count = opening.count;
        onLoop(() -> {
            batch = opening;
            opening.pump();
            return null;
        });
        boolean done = opening.done.await(timeoutMs, TimeUnit.MILLISECONDS);
        return onLoop(() -> {
            ObjectNode reply = JSON.createObjectNode();
            reply.put("requested", count);
            reply.put("opened", opening.opened);
            reply.put("failed", opening.failedHere);
            reply.put("pending", count - opening.opened - opening.failedHere);
            reply.put("timedOut", !done);
            reply.put("firstStartNs", opening.firstStartNs);
            reply.put("lastOpenNs", opening.lastOpenNs);
            reply.put("deflateAccepted", opening.deflateAccepted);
            reply.put("refused", opening.refusedHere);
            reply.put("retries", opening.retriesHere);
            batch = null;
            return reply;
        });
    }

    /** Waits until every open viewer of {@code auction} saw {@code current == expected} as its latest count. */
    ObjectNode awaitCount(String auction, int expected, long timeoutMs) throws Exception {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            ObjectNode state = onLoop(() -> {
                int of = 0;
                int matching = 0;
                long reached = 0;
                long firstCount = 0;
                for (Viewer viewer : viewers) {
                    if (viewer.open && viewer.auction.equals(auction)) {
                        of++;
                        if (viewer.lastCurrent == expected) {
                            matching++;
                            reached = Math.max(reached, viewer.lastCountChangeNs);
                        }
                        firstCount = Math.max(firstCount, viewer.firstCountNs);
                    }
                }
                ObjectNode reply = JSON.createObjectNode();
                reply.put("of", of);
                reply.put("matching", matching);
                reply.put("reached", of > 0 && matching == of);
                reply.put("reachedNs", reached);
                reply.put("lastFirstCountNs", firstCount);
                return reply;
            });
            if (state.get("reached").asBoolean() || System.nanoTime() > deadline) {
                return state;
            }
            Thread.sleep(20);
        }
    }

    /** Waits until every open, reading viewer of {@code auction} has received {@code expected} bids. */
    ObjectNode awaitEvents(String auction, long expected, long timeoutMs) throws Exception {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            ObjectNode state = onLoop(() -> {
                int of = 0;
                int complete = 0;
                long min = Long.MAX_VALUE;
                long max = 0;
                for (Viewer viewer : viewers) {
                    if (viewer.auction.equals(auction) && !viewer.slow && viewer.openNs != 0) {
                        of++;
                        if (viewer.bids >= expected) {
                            complete++;
                        }
                        min = Math.min(min, viewer.bids);
                        max = Math.max(max, viewer.bids);
                    }
                }
                ObjectNode reply = JSON.createObjectNode();
                reply.put("of", of);
                reply.put("complete", complete);
                reply.put("minBids", of == 0 ? 0 : min);
                reply.put("maxBids", max);
                reply.put("lastFrameNs", lastFrameNs);
                return reply;
            });
            if (state.get("complete").asInt() == state.get("of").asInt() || System.nanoTime() > deadline) {
                return state;
            }
            Thread.sleep(20);
        }
    }

    /** Waits until no frame arrived for {@code quietMs}. */
    ObjectNode awaitQuiet(long quietMs, long timeoutMs) throws Exception {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            long last = onLoop(() -> lastFrameNs);
            boolean quiet = System.nanoTime() - last >= quietMs * 1_000_000;
            if (quiet || System.nanoTime() > deadline) {
                ObjectNode reply = JSON.createObjectNode();
                reply.put("quiet", quiet);
                reply.put("lastFrameNs", last);
                return reply;
            }
            Thread.sleep(20);
        }
    }

    /** Stops reading on {@code count} open viewers of {@code auction}, as a stalled browser tab does. */
    ObjectNode stall(String auction, int count) throws Exception {
        return onLoop(() -> {
            int stalled = 0;
            for (Viewer viewer : viewers) {
                if (stalled < count && viewer.open && viewer.auction.equals(auction)) {
                    viewer.slow = true;
                    viewer.channel.config().setAutoRead(false);
                    stalled++;
                }
            }
            ObjectNode reply = JSON.createObjectNode();
            reply.put("stalled", stalled);
            return reply;
        });
    }

    ObjectNode resume() throws Exception {
        return onLoop(() -> {
            for (Viewer viewer : viewers) {
                if (viewer.slow && viewer.channel.isActive()) {
                    viewer.channel.config().setAutoRead(true);
                    viewer.channel.read();
                }
            }
            return JSON.createObjectNode();
        });
    }

    ObjectNode reset() throws Exception {
        return onLoop(() -> {
            latency.reset();
            latencyByAuction.clear();
            lastDeliveries.clear();
            deliveries = 0;
            unstamped = 0;
            countUpdates = 0;
            for (Viewer viewer : viewers) {
                viewer.bids = 0;
                viewer.countUpdates = 0;
                viewer.openAtReset = viewer.open;
            }
            return JSON.createObjectNode();
        });
    }

    ObjectNode stats() throws Exception {
        return onLoop(() -> {
            ObjectNode reply = JSON.createObjectNode();
            int open = 0;
            int deflated = 0;
            long pings = 0;
            long maxGap = 0;
            ObjectNode slowViewers = JSON.createObjectNode();
            int slowIndex = 0;
            for (Viewer viewer : viewers) {
                if (viewer.open) {
                    open++;
                }
                if (viewer.deflateAccepted) {
                    deflated++;
                }
                pings += viewer.pings;
                maxGap = Math.max(maxGap, viewer.maxPingGapNs);
                if (viewer.slow) {
                    ObjectNode slow = slowViewers.putObject(String.valueOf(slowIndex++));
                    slow.put("bids", viewer.bids);
                    slow.put("open", viewer.open);
                    slow.put("closeCode", viewer.closeCode);
                    slow.put("closeReason", viewer.closeReason);
                }
            }
            reply.put("viewers", viewers.size());
            reply.put("open", open);
            reply.put("failed", failed);
            reply.put("disconnects", disconnects);
            reply.putPOJO("closeCodes", closeCodes);
            reply.putPOJO("failures", failures);
            reply.put("deflateAccepted", deflated);
            reply.put("pings", pings);
            reply.put("maxPingGapMs", maxGap / 1_000_000);
            reply.put("deliveries", deliveries);
            reply.put("unstamped", unstamped);
            reply.put("countUpdates", countUpdates);
            reply.put("frameErrors", frameErrors);
            reply.put("latency", encode(latency));
            ObjectNode byAuction = reply.putObject("latencyByAuction");
            latencyByAuction.forEach((auction, histogram) -> byAuction.put(auction, encode(histogram)));
            ObjectNode last = reply.putObject("lastDeliveries");
            lastDeliveries.forEach((auction, bids) -> {
                ObjectNode perBid = last.putObject(auction);
                bids.forEach((sentNs, byPort) -> {
                    ObjectNode perPort = perBid.putObject(String.valueOf(sentNs));
                    byPort.forEach((port, micros) -> perPort.put(String.valueOf(port), micros));
                });
            });
            reply.put("connectTime", encode(connectTime));
            reply.put("refused", refused);
            reply.put("retries", retries);
            reply.set("slow", slowViewers);
            reply.put("cpuMs", ProcStats.cpuMillis(ProcessHandle.current().pid()));
            reply.put("rssKb", ProcStats.rssKb(ProcessHandle.current().pid()));
            return reply;
        });
    }

    /**
     * Closes {@code count} open viewers picked at random, as tabs being closed, and waits until their connections
     * are gone: churn.
     */
    ObjectNode closeSome(int count, long timeoutMs) throws Exception {
        List<Viewer> closing = onLoop(() -> {
            List<Viewer> open = new ArrayList<>();
            for (Viewer viewer : viewers) {
                if (viewer.open && !viewer.slow) {
                    open.add(viewer);
                }
            }
            java.util.Collections.shuffle(open, random);
            List<Viewer> picked = new ArrayList<>(open.subList(0, Math.min(count, open.size())));
            picked.forEach(Viewer::close);
            return picked;
        });
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        int active;
        do {
            Thread.sleep(20);
            active = onLoop(() -> (int) closing.stream().filter(v -> v.channel != null && v.channel.isActive()).count());
        } while (active > 0 && System.nanoTime() < deadline);
        ObjectNode reply = JSON.createObjectNode();
        reply.put("closed", closing.size() - active);
        reply.put("stillActive", active);
        return reply;
    }

    /**
     * For each auction: this worker's open viewers (the truth, summed over workers) and the lowest and highest
     * {@code current} they were last sent.
     */
    ObjectNode tally(List<String> auctions) throws Exception {
        return onLoop(() -> {
            ObjectNode reply = JSON.createObjectNode();
            Map<String, int[]> byAuction = new java.util.HashMap<>();
            for (String auction : auctions) {
                byAuction.put(auction, new int[] {0, Integer.MAX_VALUE, Integer.MIN_VALUE});
            }
            int open = 0;
            for (Viewer viewer : viewers) {
                if (!viewer.open) {
                    continue;
                }
                open++;
                int[] t = byAuction.get(viewer.auction);
                if (t != null) {
                    t[0]++;
                    t[1] = Math.min(t[1], viewer.lastCurrent);
                    t[2] = Math.max(t[2], viewer.lastCurrent);
                }
            }
            reply.put("open", open);
            ObjectNode of = reply.putObject("auctions");
            byAuction.forEach((auction, t) -> of.putObject(auction).put("open", t[0])
                    .put("minCurrent", t[0] == 0 ? -1 : t[1]).put("maxCurrent", t[0] == 0 ? -1 : t[2]));
            return reply;
        });
    }

    /**
     * For each {@code auction=expected}: of the viewers open since the last reset and open still, how many got
     * at least {@code expected} bids since; waits until all did or the time is up.
     */
    ObjectNode delivered(Map<String, Long> expected, long timeoutMs) throws Exception {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            ObjectNode state = onLoop(() -> {
                int of = 0;
                int complete = 0;
                long minBids = Long.MAX_VALUE;
                for (Viewer viewer : viewers) {
                    Long want = expected.get(viewer.auction);
                    if (want != null && viewer.openAtReset && viewer.open && !viewer.slow) {
                        of++;
                        if (viewer.bids >= want) {
                            complete++;
                        }
                        minBids = Math.min(minBids, viewer.bids);
                    }
                }
                ObjectNode reply = JSON.createObjectNode();
                reply.put("of", of);
                reply.put("complete", complete);
                reply.put("minBids", of == 0 ? 0 : minBids);
                return reply;
            });
            if (state.get("complete").asInt() == state.get("of").asInt() || System.nanoTime() > deadline) {
                return state;
            }
            Thread.sleep(50);
        }
    }

    ObjectNode closeAll(long timeoutMs) throws Exception {
        onLoop(() -> {
            viewers.forEach(Viewer::close);
            return null;
        });
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        int active;
        do {
            Thread.sleep(50);
            active = onLoop(() -> (int) viewers.stream().filter(v -> v.channel != null && v.channel.isActive()).count());
        } while (active > 0 && System.nanoTime() < deadline);
        ObjectNode reply = JSON.createObjectNode();
        reply.put("stillActive", active);
        return reply;
    }

    void shutdown() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    static String encode(Histogram histogram) {
        ByteBuffer buffer = ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
        int length = histogram.encodeIntoCompressedByteBuffer(buffer);
        return Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buffer.array(), length));
    }

    static Histogram decode(String base64) {
        try {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(base64)), 0);
        } catch (java.util.zip.DataFormatException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One {@code open} command: starts viewers as earlier ones settle, keeping {@code concurrency} in flight. */
    private final class OpenBatch {
        final int count;
        final List<String> auctions;
        /** Each viewer's transport, parallel to {@code auctions}; null: the generator's. */
        final List<Transport> transports;
        final int concurrency;
        final double rate;
        final int maxRetries;
        final CountDownLatch done = new CountDownLatch(1);
        int started;
        int inFlight;
        int opened;
        int failedHere;
        int refusedHere;
        int retriesHere;
        int deflateAccepted;
        long firstStartNs;
        long lastOpenNs;
        private long batchStartNs;
        private boolean pumpScheduled;

        OpenBatch(int count, List<String> auctions, List<Transport> transports, int concurrency, double rate, int maxRetries) {
            this.count = count;
            this.auctions = auctions;
            this.transports = transports;
            this.concurrency = Math.max(1, concurrency);
            this.rate = rate;
            this.maxRetries = maxRetries;
            if (count == 0) {
                done.countDown();
            }
        }

        void pump() {
            if (batchStartNs == 0) {
                batchStartNs = System.nanoTime();
            }
            while (inFlight < concurrency && started < count) {
                if (rate > 0 && started >= (long) ((System.nanoTime() - batchStartNs) / 1e9 * rate) + 1) {
                    if (!pumpScheduled) {
                        pumpScheduled = true;
                        loop.schedule(() -> {
                            pumpScheduled = false;
                            pump();
                        }, Math.max(1, (long) (1000 / rate)), TimeUnit.MILLISECONDS);
                    }
                    return;
                }
                int global = indexOffset + created * indexStride;
                created++;
                Transport t = transports == null ? transport : transports.get(started);
                Viewer viewer = attempt(auctions.get(started % auctions.size()), t, global, 0, 0);
                started++;
                if (firstStartNs == 0) {
                    firstStartNs = viewer.startNs;
                }
            }
        }

        private Viewer attempt(String auction, Transport t, int global, int attempt, long firstAttemptNs) {
            Viewer viewer = new Viewer(Generator.this, auction, t, targets.get((global + attempt) % targets.size()),
                    new InetSocketAddress(sources.get(global % sources.size()), 0));
            viewer.index = global;
            viewer.attempt = attempt;
            viewers.add(viewer);
            inFlight++;
            viewer.start();
            viewer.firstAttemptNs = firstAttemptNs == 0 ? viewer.startNs : firstAttemptNs;
            loop.schedule(() -> {
                if (!viewer.open) {
                    viewer.fail("open timeout");
                }
            }, VIEWER_OPEN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            return viewer;
        }

        /** Schedules another attempt for a viewer refused with 503, if it has retries left: true when it will. */
        boolean retry(Viewer viewer, String failure) {
            if (!refusal(failure)) {
                return false;
            }
            refusedHere++;
            if (viewer.attempt >= maxRetries) {
                return false;
            }
            retries++;
            retriesHere++;
            inFlight--;
            long delay = (long) (Math.min(5000, 1000L << Math.min(viewer.attempt, 3)) * (0.5 + random.nextDouble()));
            loop.schedule(() -> {
                attempt(viewer.auction, viewer.transport, viewer.index, viewer.attempt + 1, viewer.firstAttemptNs);
            }, delay, TimeUnit.MILLISECONDS);
            pump();
            return true;
        }

        void settled(Viewer viewer, boolean ok) {
            inFlight--;
            if (ok) {
                opened++;
                lastOpenNs = Math.max(lastOpenNs, viewer.openNs);
                connectTime.recordValue(Math.min((viewer.openNs - viewer.firstAttemptNs) / 1000, LATENCY_MAX_MICROS));
                if (viewer.deflateAccepted) {
                    deflateAccepted++;
                }
            } else {
                failedHere++;
            }
            if (opened + failedHere == count) {
                done.countDown();
            } else {
                pump();
            }
        }
    }

    // ---- the worker process

    static final List<Options.Spec> OPTIONS = List.of(
            new Options.Spec("targets", "127.0.0.1:8080", "host:port[,host:port...] viewers are spread over (round-robin)"),
            new Options.Spec("transport", "sio-ws", "ws | sio-ws | sio-polling | sockjs"),
            new Options.Spec("no-deflate", null, "do not offer permessage-deflate"),
            new Options.Spec("sources", "8", "bind viewers round-robin to 127.0.0.1 .. 127.0.0.N"),
            new Options.Spec("index-offset", "0", "this worker's first global viewer index"),
            new Options.Spec("index-stride", "1", "distance between this worker's global viewer indexes (= workers)"));

    static final String HELP = """
            worker: one generator JVM, driven over stdin/stdout by a scenario (you do not normally start it yourself).
            Commands, one per line, each answered by one JSON line:
              open <count> <auction|prefix*K> <concurrency> <timeoutMs>   open viewers (K auctions prefix0..prefixK-1)
              open-plan <concurrency> <perSecond> <retries> <timeoutMs> <auction:transport:count,...>
                                         open a plan's viewers shuffled, at a rate; a 503 is retried with back-off
              close-some <count> <timeoutMs>      close that many open viewers picked at random (churn)
              tally <auction,...>                 open viewers per auction here, and the counts they were last sent
              delivered <auction=bids,...> <timeoutMs>   until viewers open since reset got that many bids
              await-count <auction> <expected> <timeoutMs>                until every viewer's latest current == expected
              await-events <auction> <expected> <timeoutMs>               until every reading viewer got expected bids
              await-quiet <quietMs> <timeoutMs>                           until no frame arrived for quietMs
              stall <auction> <count>    stop reading on count viewers      resume      read again
              reset     clear latency and delivery counters                 stats       everything, as JSON
              close <timeoutMs>          close every viewer and exit
            Options:
            """;

    static void runWorker(String[] args) throws Exception {
        Options options = Options.parse("worker", OPTIONS, args);
        List<InetSocketAddress> targets = new ArrayList<>();
        for (String target : options.string("targets").split(",")) {
            String[] hostPort = target.split(":");
            targets.add(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])));
        }
        Generator generator = new Generator(Transport.of(options.string("transport")), !options.flag("no-deflate"),
                targets, sourceAddresses(options.integer("sources")), options.integer("index-offset"),
                options.integer("index-stride"));
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        out.println("{\"ready\":true,\"pid\":" + ProcessHandle.current().pid() + "}");
        String line;
        try {
            while ((line = in.readLine()) != null) {
                String[] cmd = line.trim().split("\\s+");
                ObjectNode reply;
                try {
                    reply = switch (cmd[0]) {
                        case "open" -> generator.open(Integer.parseInt(cmd[1]), auctions(cmd[2]), Integer.parseInt(cmd[3]),
                                Long.parseLong(cmd[4]));
                        case "open-plan" -> generator.openPlan(cmd[5], Integer.parseInt(cmd[1]), Double.parseDouble(cmd[2]),
                                Integer.parseInt(cmd[3]), Long.parseLong(cmd[4]));
                        case "close-some" -> generator.closeSome(Integer.parseInt(cmd[1]), Long.parseLong(cmd[2]));
                        case "tally" -> generator.tally(List.of(cmd[1].split(",")));
                        case "delivered" -> generator.delivered(expectations(cmd[1]), Long.parseLong(cmd[2]));
                        case "await-count" -> generator.awaitCount(cmd[1], Integer.parseInt(cmd[2]), Long.parseLong(cmd[3]));
                        case "await-events" -> generator.awaitEvents(cmd[1], Long.parseLong(cmd[2]), Long.parseLong(cmd[3]));
                        case "await-quiet" -> generator.awaitQuiet(Long.parseLong(cmd[1]), Long.parseLong(cmd[2]));
                        case "stall" -> generator.stall(cmd[1], Integer.parseInt(cmd[2]));
                        case "resume" -> generator.resume();
                        case "reset" -> generator.reset();
                        case "stats" -> generator.stats();
                        case "close" -> generator.closeAll(Long.parseLong(cmd[1]));
                        default -> throw new IllegalArgumentException("unknown command " + cmd[0]);
                    };
                } catch (Exception e) {
                    reply = JSON.createObjectNode().put("error", String.valueOf(e));
                }
                out.println(JSON.writeValueAsString(reply));
                if (cmd[0].equals("close")) {
                    break;
                }
            }
        } finally {
            generator.shutdown();
        }
    }

    /** {@code a=3,b=5} as a map. */
    static Map<String, Long> expectations(String spec) {
        Map<String, Long> expected = new java.util.HashMap<>();
        for (String pair : spec.split(",")) {
            String[] kv = pair.split("=");
            expected.put(kv[0], Long.parseLong(kv[1]));
        }
        return expected;
    }

    /**
     * {@code name}, or {@code prefix*K} (K auctions), or {@code prefix*K/P}: K auctions with P persons each, every viewer
     * of one of them carrying the {@code viewerId} of one of its persons (viewers beyond K*P are further tabs of the same
     * persons, round-robin).
     */
    static List<String> auctions(String spec) {
        int star = spec.indexOf('*');
        if (star < 0) {
            return List.of(spec);
        }
        String prefix = spec.substring(0, star);
        int slash = spec.indexOf('/', star);
        int count = Integer.parseInt(spec.substring(star + 1, slash < 0 ? spec.length() : slash));
        int persons = slash < 0 ? 0 : Integer.parseInt(spec.substring(slash + 1));
        List<String> auctions = new ArrayList<>(count * Math.max(1, persons));
        for (int p = 0; p < Math.max(1, persons); p++) {
            for (int i = 0; i < count; i++) {
                // the viewer's query is "slug=auction-" + this: the person rides along as a further parameter
                auctions.add(persons == 0 ? prefix + i : prefix + i + "&viewerId=p" + p);
            }
        }
        return auctions;
    }

    static List<InetAddress> sourceAddresses(int count) throws UnknownHostException {
        List<InetAddress> sources = new ArrayList<>();
        for (int i = 1; i <= Math.max(1, count); i++) {
            sources.add(InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) i}));
        }
        return sources;
    }
}
