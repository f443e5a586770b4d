package dev.gavel.testkit;

import dev.gavel.server.GavelConfig;
import dev.gavel.server.GavelNode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Several Gavel nodes in this JVM, each with its own Vert.x instance and port, on one Redis (or one
 * in-memory node when there is no Redis). Nodes are named {@code node-0}, {@code node-1}, ...
 */
public final class Cluster implements AutoCloseable {

    /**
     * Tests open thousands of viewers a second from 127.0.0.1, which the per-address limits take for a flood; a test
     * of those limits sets its own.
     */
    static final Map<String, String> LOOPBACK_CROWD = Map.of(
            "MAX_CONNECTIONS_PER_ADDRESS", "1000000",
            "MAX_NEW_CONNECTIONS_PER_ADDRESS_PER_SECOND", "1000000",
            "MAX_API_REQUESTS_PER_ADDRESS_PER_SECOND", "1000000");

    private final RedisFixture redis;
    private final Map<String, String> env;
    private final List<GavelNode> nodes = new ArrayList<>();

    private Cluster(RedisFixture redis, Map<String, String> env) {
        this.redis = redis;
        this.env = env;
    }

    /**
     * @param redis null for nodes that find Redis in {@code env} ({@code REDIS_SENTINELS}, or {@code REDIS_URL}) or, with
     *              none there, a single in-memory node
     * @param env   extra configuration for every node, e.g. {@code NODE_TTL_MS}
     */
    public static Cluster start(RedisFixture redis, int size, Map<String, String> env) {
        Cluster cluster = new Cluster(redis, env);
        try {
            for (int i = 0; i < size; i++) {
                cluster.nodes.add(cluster.startNode("node-" + i, 0));
            }
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    /** Starts one more node (or a node again under a name it had) and returns its index. */
    public int add(String nodeId) {
        nodes.add(startNode(nodeId, 0));
        return nodes.size() - 1;
    }

    /**
     * Starts a stopped node again in its place: same index, same {@code NODE_ID}, on {@code port} (the one it had, read
     * before stopping it), as a replica restarted at its address. Clients that retry that address, such as a page the
     * node served, find it again.
     */
    public void restart(int index, int port) {
        nodes.set(index, startNode(nodes.get(index).config().nodeId(), port));
    }

    public GavelNode node(int index) {
        return nodes.get(index);
    }

    public int port(int index) {
        return nodes.get(index).port();
    }

    public int size() {
        return nodes.size();
    }

    /** Stops a node gracefully, as on SIGTERM. */
    public void stop(int index) {
        await(nodes.get(index).stop());
    }

    /** Kills a node: no heartbeat, sockets dropped, nothing removed from Redis. */
    public void crash(int index) {
        await(nodes.get(index).crash());
    }

    /** @param port 0 for a free one */
    private GavelNode startNode(String nodeId, int port) {
        Map<String, String> nodeEnv = new HashMap<>(env);
        nodeEnv.put("PORT", Integer.toString(port));
        nodeEnv.put("NODE_ID", nodeId);
        nodeEnv.putIfAbsent("ADMIN_TOKEN", "test-admin-token");
        // tests stop nodes often; the ones about the drain set it
        nodeEnv.putIfAbsent("DRAIN_MS", "0");
        LOOPBACK_CROWD.forEach(nodeEnv::putIfAbsent);
        if (redis != null) {
            nodeEnv.put("REDIS_URL", redis.url());
        }
        return await(GavelNode.start(GavelConfig.fromEnv(nodeEnv)));
    }

    private static <T> T await(io.vertx.core.Future<T> future) {
        try {
            return future.await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        for (GavelNode node : nodes) {
            try {
                node.crash().await(10, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // already stopped
            }
        }
    }
}
