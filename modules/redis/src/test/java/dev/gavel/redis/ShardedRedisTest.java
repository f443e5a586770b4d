package dev.gavel.redis;

import dev.gavel.core.testing.ManualTime;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The router's own logic on fake nodes (see {@link FakeNode}): where each command goes, and what a {@code MOVED}, an
 * {@code ASK}, a slot-map change and a shard that is down do to it. What the backend does on a real Redis Cluster is
 * tested by ClusterBackendContractIT and RedisClusterIT.
 */
class ShardedRedisTest {

    private static final String A = "10.0.0.1:7000";
    private static final String B = "10.0.0.2:7000";
    private static final String C = "10.0.0.3:7000";

    private final Vertx vertx = Vertx.vertx();
    private final Context context = vertx.getOrCreateContext();
    private final ManualTime time = new ManualTime();
    private final FakeCluster cluster = new FakeCluster(A, B, C).assign(0, 8191, A).assign(8192, 16383, B);
    private final String keyOfA = keyIn(0, 8191, "a");
    private final String otherKeyOfA = keyIn(0, 8191, "c");
    private final String keyOfB = keyIn(8192, 16383, "b");
    private ClusterTopology topology;
    private ShardedRedis redis;

    @BeforeEach
    void readTheSlots() throws Exception {
        topology = cluster.topology(context, time, time::nanoTime);
        topology.refresh().await(5, TimeUnit.SECONDS);
        redis = new ShardedRedis(topology, "redis-commands");
    }

    @AfterEach
    void close() throws Exception {
        redis.close().await(5, TimeUnit.SECONDS);
        topology.close();
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    @Test
    void eachCommandGoesToTheMasterOfItsKeysSlot() throws Exception {
        assertEquals(A, get(keyOfA));
        assertEquals(B, get(keyOfB));
        assertEquals(1, cluster.node(A).count("GET " + keyOfA));
        assertEquals(0, cluster.node(B).count("GET " + keyOfA));
        // an EVALSHA by its first key
        Request script = Request.cmd(Command.EVALSHA).arg("sha").arg(1).arg(keyOfB).arg("x");
        assertEquals(B, redis.send(script).await(5, TimeUnit.SECONDS).toString());
    }

    @Test
    void aBatchIsOnePipelinePerShardAndItsRepliesKeepTheOrderOfItsCommands() throws Exception {
        assertEquals(List.of(A, B, A), batch(keyOfA, keyOfB, otherKeyOfA));
        assertEquals(1, cluster.node(A).batches);
        assertEquals(1, cluster.node(B).batches);
    }

    @Test
    void scriptLoadGoesToEveryMaster() throws Exception {
        redis.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg("return 1")).await(5, TimeUnit.SECONDS);
        assertEquals(1, cluster.node(A).count("SCRIPT LOAD return 1"));
        assertEquals(1, cluster.node(B).count("SCRIPT LOAD return 1"));
        assertEquals(0, cluster.node(C).count("SCRIPT LOAD return 1"));
    }

    @Test
    void aMovedReadsTheSlotsAgainAndSendsTheCommandWhereItsKeyLivesNow() throws Exception {
        long reads = slotReads();
        cluster.assign(0, 8191, C);
        secondLater();

        assertEquals(C, get(keyOfA));
        assertEquals(1, cluster.node(A).count("GET " + keyOfA), "asked once where the old map said");
        assertEquals(reads + 1, slotReads());
        // from now on straight to the new master, and the former one, which serves no slot, has no connection left
        assertEquals(C, get(keyOfA));
        assertEquals(1, cluster.node(A).count("GET " + keyOfA));
        assertEquals(0, cluster.node(A).open());
    }

    @Test
    void anAskSendsTheCommandOnceToTheNodeNamedAfterAskingAndKeepsTheSlotMap() throws Exception {
        long reads = slotReads();
        cluster.migrate(keyOfA, C);

        assertEquals(C, get(keyOfA));
        assertEquals(List.of("ASKING", "GET " + keyOfA), cluster.node(C).received);
        assertEquals(reads, slotReads());
        // the slot is still A's: the next command for it goes there first
        assertEquals(C, get(keyOfA));
        assertEquals(2, cluster.node(A).count("GET " + keyOfA));
        assertEquals(A, get(otherKeyOfA));
    }

    @Test
    void aBatchPartWhoseSlotMovedIsSentAgainCommandByCommandWhereEachLivesNow() throws Exception {
        cluster.assign(0, 8191, C);
        secondLater();
        assertEquals(List.of(C, B, C), batch(keyOfA, keyOfB, otherKeyOfA));
        assertEquals(1, cluster.node(B).batches, "the part that did not move is sent once");
    }

    @Test
    void aShardThatIsDownFailsItsCommandsOnlyAndItsReplacementIsFoundByReadingTheSlotsAgain() throws Exception {
        cluster.node(B).down = true;
        long reads = slotReads();
        secondLater();

        assertThrows(Exception.class, () -> get(keyOfB));
        assertEquals(A, get(keyOfA));
        waitFor(() -> slotReads() > reads);

        // B's replica takes over its slots: the next failure asks for the read that finds it
        cluster.assign(8192, 16383, C);
        secondLater();
        assertThrows(Exception.class, () -> batch(keyOfA, keyOfB), "a batch succeeds only if every part did");
        waitFor(() -> ("redis://" + C).equals(topology.shardOf(keyOfB)));
        assertEquals(C, get(keyOfB));
    }

    @Test
    void beforeTheSlotsAreReadACommandFailsSayingSo() throws Exception {
        ClusterTopology unread = cluster.topology(context, time, time::nanoTime);
        ShardedRedis router = new ShardedRedis(unread, "redis-commands");
        Exception error = assertThrows(Exception.class, () -> router.send(Request.cmd(Command.GET).arg(keyOfA)).await(5, TimeUnit.SECONDS));
        assertTrue(error.getMessage().contains("no Redis Cluster master known"), error.getMessage());
        unread.close();
    }

    private String get(String key) throws Exception {
        return redis.send(Request.cmd(Command.GET).arg(key)).await(5, TimeUnit.SECONDS).toString();
    }

    private List<String> batch(String... keys) throws Exception {
        Future<List<Response>> replies = redis.batch(java.util.Arrays.stream(keys).map(key -> Request.cmd(Command.GET).arg(key)).toList());
        return replies.await(5, TimeUnit.SECONDS).stream().map(Response::toString).toList();
    }

    /**
     * A second later, on the topology's context, where its timers belong: a read of the slots asked for now is made at
     * once (not after the gap between reads).
     */
    private void secondLater() throws Exception {
        Promise<Void> moved = Promise.promise();
        context.runOnContext(v -> {
            time.advance(1000);
            moved.complete();
        });
        moved.future().await(5, TimeUnit.SECONDS);
    }

    private long slotReads() {
        return cluster.nodes.values().stream().mapToLong(node -> node.count("CLUSTER SLOTS")).sum();
    }

    /** A key whose slot is in {@code from}..{@code to}. */
    private static String keyIn(int from, int to, String prefix) {
        for (int i = 0; ; i++) {
            int slot = ClusterSlots.slot(prefix + i);
            if (slot >= from && slot <= to) {
                return prefix + i;
            }
        }
    }

    private static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 5 s");
            }
            Thread.sleep(5);
        }
    }
}
