package dev.gavel.redis;

import dev.gavel.core.Timers;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading the slot map, on fake nodes and the test's own clock and timers. */
class ClusterTopologyTest {

    private static final String A = "10.0.0.1:7000";
    private static final String B = "10.0.0.2:7000";
    private static final String C = "10.0.0.3:7000";

    private final Vertx vertx = Vertx.vertx();
    private final FakeCluster cluster = new FakeCluster(A, B, C).assign(0, 8191, A).assign(8192, 16383, B);
    private final AtomicLong nanos = new AtomicLong();
    /** Timers that fire only when the test runs them. */
    private final List<Long> delays = new CopyOnWriteArrayList<>();
    private final List<Runnable> tasks = new CopyOnWriteArrayList<>();
    private final Timers timers = new Timers() {
        @Override
        public long schedule(long delayMillis, Runnable task) {
            delays.add(delayMillis);
            tasks.add(task);
            return tasks.size() - 1;
        }

        @Override
        public void cancel(long id) {
            if (id >= 0 && id < tasks.size()) {
                tasks.set((int) id, () -> { });
            }
        }
    };
    private final ClusterTopology topology = cluster.topology(vertx.getOrCreateContext(), timers, nanos::get);

    @AfterEach
    void close() throws Exception {
        topology.close();
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    @Test
    void eachSlotIsServedByTheMasterTheMapNames() throws Exception {
        assertNull(topology.shardOf("k"), "unknown before the first read");
        topology.refresh().await(5, TimeUnit.SECONDS);

        assertEquals(Set.of("redis://" + A, "redis://" + B), topology.shards());
        assertEquals("redis://" + (ClusterSlots.slot("k") <= 8191 ? A : B), topology.shardOf("k"));
        assertEquals(PubSub.SHARDED, topology.pubSub());
        assertEquals("redis://10.0.0.9:7001", topology.shardAt("10.0.0.9:7001"));
    }

    @Test
    void theSeedsCredentialsAndSchemeNameEveryNodeButLogsShowNone() {
        ClusterTopology secure = new ClusterTopology(vertx.getOrCreateContext(), List.of("rediss://gavel:secret@10.0.0.1:7000"),
                endpoint -> cluster.node(A).client(), timers, nanos::get);
        assertEquals("rediss://gavel:secret@10.0.0.2:7000", secure.shardAt("10.0.0.2:7000"));
        assertEquals(" at rediss://***@10.0.0.2:7000", secure.describe("rediss://gavel:secret@10.0.0.2:7000"));
    }

    @Test
    void readsCloseTogetherWaitForTheGapOnTheInjectedClock() throws Exception {
        topology.refresh().await(5, TimeUnit.SECONDS);
        assertEquals(1, slotReads());
        waitFor(() -> delays.size() == 1);
        assertEquals(List.of(ClusterTopology.PERIOD_MILLIS), delays, "the next periodic read");

        // asked again at once: the read waits for the gap, on the timers
        var second = topology.refresh();
        waitFor(() -> delays.size() == 2);
        assertTrue(delays.get(1) > 0 && delays.get(1) <= 100, delays.toString());
        assertEquals(1, slotReads());
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(100));
        vertx.getOrCreateContext().runOnContext(v -> tasks.get(1).run());
        second.await(5, TimeUnit.SECONDS);
        assertEquals(2, slotReads());

        // asked later than the gap: at once
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(1));
        topology.refresh().await(5, TimeUnit.SECONDS);
        assertEquals(3, slotReads());
    }

    @Test
    void thePeriodicReadFindsAMoveAndTellsTheListenersOnlyOfChanges() throws Exception {
        AtomicInteger changes = new AtomicInteger();
        topology.onChange(changes::incrementAndGet);
        topology.refresh().await(5, TimeUnit.SECONDS);
        assertEquals(1, changes.get());
        waitFor(() -> delays.size() == 1);

        nanos.addAndGet(TimeUnit.SECONDS.toNanos(5));
        runLastTimer();
        waitFor(() -> slotReads() == 2 && delays.size() == 2);
        assertEquals(1, changes.get(), "the same map again is no change");

        cluster.assign(8192, 16383, C);
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(5));
        runLastTimer();
        waitFor(() -> changes.get() == 2);
        assertEquals(Set.of("redis://" + A, "redis://" + C), topology.shards());
    }

    @Test
    void theKnownMastersAreAskedFirstThenTheSeedsAndNoAnswerFailsTheRead() throws Exception {
        topology.refresh().await(5, TimeUnit.SECONDS);
        cluster.node(A).down = true;
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(1));
        topology.refresh().await(5, TimeUnit.SECONDS);
        assertEquals(1, cluster.node(B).count("CLUSTER SLOTS"), "B, a master known, answered when A did not");

        cluster.node(B).down = true;
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(1));
        assertThrows(Exception.class, () -> topology.refresh().await(5, TimeUnit.SECONDS));
        assertEquals(Set.of("redis://" + A, "redis://" + B), topology.shards(), "the map stays as last read");
    }

    private void runLastTimer() {
        Runnable task = tasks.get(tasks.size() - 1);
        vertx.getOrCreateContext().runOnContext(v -> task.run());
    }

    private long slotReads() {
        return cluster.nodes.values().stream().mapToLong(node -> node.count("CLUSTER SLOTS")).sum();
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 5 s");
            }
            Thread.sleep(5);
        }
    }
}
