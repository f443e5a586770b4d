package dev.gavel.redis;

import dev.gavel.core.testing.ManualTime;
import io.vertx.core.Promise;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading the slot map, on fake nodes and manual time. */
class ClusterTopologyTest {

    private static final String A = "10.0.0.1:7000";
    private static final String B = "10.0.0.2:7000";
    private static final String C = "10.0.0.3:7000";

    private final Vertx vertx = Vertx.vertx();
    private final Context context = vertx.getOrCreateContext();
    private final FakeCluster cluster = new FakeCluster(A, B, C).assign(0, 8191, A).assign(8192, 16383, B);
    private final ManualTime time = new ManualTime();
    private final ClusterTopology topology = cluster.topology(context, time, time::nanoTime);

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
        ClusterTopology secure = new ClusterTopology(context, List.of("rediss://gavel:secret@10.0.0.1:7000"),
                endpoint -> cluster.node(A).client(), time, time::nanoTime);
        assertEquals("rediss://gavel:secret@10.0.0.2:7000", secure.shardAt("10.0.0.2:7000"));
        assertEquals(" at rediss://***@10.0.0.2:7000", secure.describe("rediss://gavel:secret@10.0.0.2:7000"));
    }

    @Test
    void readsCloseTogetherWaitForTheGapOnTheInjectedClock() throws Exception {
        topology.refresh().await(5, TimeUnit.SECONDS);
        assertEquals(1, slotReads());
        waitFor(() -> time.pending() == 1);

        // asked again at once: the read waits for the gap, on the timers
        var second = topology.refresh();
        waitFor(() -> time.pending() == 2);
        advance(99);
        assertEquals(1, slotReads());
        advance(1);
        second.await(5, TimeUnit.SECONDS);
        assertEquals(2, slotReads());

        // asked later than the gap: at once
        advance(1000);
        topology.refresh().await(5, TimeUnit.SECONDS);
        assertEquals(3, slotReads());
    }

    @Test
    void thePeriodicReadFindsAMoveAndTellsTheListenersOnlyOfChanges() throws Exception {
        AtomicInteger changes = new AtomicInteger();
        topology.onChange(changes::incrementAndGet);
        topology.refresh().await(5, TimeUnit.SECONDS);
        assertEquals(1, changes.get());
        waitFor(() -> time.pending() == 1);

        advance(ClusterTopology.PERIOD_MILLIS - 1);
        assertEquals(1, slotReads());
        advance(1);
        waitFor(() -> slotReads() == 2 && time.pending() == 1);
        assertEquals(1, changes.get(), "the same map again is no change");

        cluster.assign(8192, 16383, C);
        advance(ClusterTopology.PERIOD_MILLIS);
        waitFor(() -> changes.get() == 2);
        assertEquals(Set.of("redis://" + A, "redis://" + C), topology.shards());
    }

    @Test
    void theKnownMastersAreAskedFirstThenTheSeedsAndNoAnswerFailsTheRead() throws Exception {
        topology.refresh().await(5, TimeUnit.SECONDS);
        cluster.node(A).down = true;
        advance(1000);
        topology.refresh().await(5, TimeUnit.SECONDS);
        assertEquals(1, cluster.node(B).count("CLUSTER SLOTS"), "B, a master known, answered when A did not");

        cluster.node(B).down = true;
        advance(1000);
        assertThrows(Exception.class, () -> topology.refresh().await(5, TimeUnit.SECONDS));
        assertEquals(Set.of("redis://" + A, "redis://" + B), topology.shards(), "the map stays as last read");
    }

    /** Moves the time on the topology's context, where its timers belong. */
    private void advance(long millis) throws Exception {
        Promise<Void> moved = Promise.promise();
        context.runOnContext(v -> {
            time.advance(millis);
            moved.complete();
        });
        moved.future().await(5, TimeUnit.SECONDS);
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
