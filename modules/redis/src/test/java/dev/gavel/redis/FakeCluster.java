package dev.gavel.redis;

import dev.gavel.core.Timers;
import io.vertx.core.Context;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Fake nodes that answer as a Redis Cluster's masters do for routing: {@code CLUSTER SLOTS} with the slot map the test
 * sets, a keyed command with the name of the node that served it where its slot lives, {@code MOVED} elsewhere, and
 * {@code ASK} for a key already migrated to the node a slot is moving to (served there after {@code ASKING}).
 */
final class FakeCluster {

    final Map<String, FakeNode> nodes = new LinkedHashMap<>();
    /** Slot -> host:port of its master. */
    private final String[] owner = new String[ClusterSlots.SLOTS];
    /** Slot -> host:port it is migrating to. */
    private final Map<Integer, String> migrating = new ConcurrentHashMap<>();
    /** Keys that moved already to where their slot is migrating. */
    private final Set<String> migrated = ConcurrentHashMap.newKeySet();

    FakeCluster(String... hostPorts) {
        for (String hostPort : hostPorts) {
            nodes.put(hostPort, new FakeNode(hostPort, this::answer));
        }
    }

    FakeNode node(String hostPort) {
        return nodes.get(hostPort);
    }

    /** Slots {@code from}..{@code to} are served by the master at {@code hostPort} (the router is not told). */
    synchronized FakeCluster assign(int from, int to, String hostPort) {
        java.util.Arrays.fill(owner, from, to + 1, hostPort);
        return this;
    }

    /** {@code key} moved already to {@code hostPort}, where its slot is migrating. */
    void migrate(String key, String hostPort) {
        migrating.put(ClusterSlots.slot(key), hostPort);
        migrated.add(key);
    }

    /** A topology whose seed is the first node, reaching each node through a client of its own. */
    ClusterTopology topology(Context context, Timers timers, LongSupplier nanoTime) {
        return new ClusterTopology(context, List.of("redis://" + nodes.keySet().iterator().next()),
                endpoint -> nodes.get(endpoint.substring("redis://".length())).client(), timers, nanoTime);
    }

    private synchronized Response answer(FakeNode.Connection connection, Request command) {
        String self = connection.node().hostPort;
        if (command.command() == Command.CLUSTER) {
            return FakeNode.slots(ranges());
        }
        if (command.command() == Command.ASKING) {
            connection.asking = true;
            return FakeNode.ok();
        }
        if (command.command() == Command.PING || command.command() == Command.SCRIPT) {
            return FakeNode.bulk(self);
        }
        String key = ShardedRedis.routingKey(command);
        int slot = ClusterSlots.slot(key);
        boolean asked = connection.asking;
        connection.asking = false;
        if (self.equals(migrating.get(slot)) && asked && migrated.contains(key)) {
            return FakeNode.bulk(self);
        }
        if (self.equals(owner[slot])) {
            return migrated.contains(key) ? FakeNode.error("ASK " + slot + " " + migrating.get(slot)) : FakeNode.bulk(self);
        }
        return FakeNode.error("MOVED " + slot + " " + owner[slot]);
    }

    private List<Object[]> ranges() {
        List<Object[]> ranges = new ArrayList<>();
        int from = 0;
        for (int slot = 1; slot <= ClusterSlots.SLOTS; slot++) {
            if (slot == ClusterSlots.SLOTS || !java.util.Objects.equals(owner[slot], owner[from])) {
                if (owner[from] != null) {
                    ranges.add(new Object[] {from, slot - 1, owner[from]});
                }
                from = slot;
            }
        }
        return ranges;
    }
}
