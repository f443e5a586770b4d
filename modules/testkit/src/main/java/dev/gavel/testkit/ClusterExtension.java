package dev.gavel.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A real Redis for a test class, and for each test a fresh cluster on it (started on a clean Redis when the
 * test first asks for it), with every client the test opened closed after it:
 *
 * <pre>
 * &#64;RegisterExtension
 * static final ClusterExtension gavel = new ClusterExtension(3, Map.of("NODE_TTL_MS", "2000"));
 * </pre>
 */
public final class ClusterExtension implements BeforeAllCallback, AfterAllCallback, AfterEachCallback {

    private final int size;
    private final Map<String, String> env;
    private final List<AutoCloseable> clients = new ArrayList<>();
    private final RedisExtension redis = new RedisExtension();
    private Cluster cluster;

    /**
     * @param size how many nodes {@link #cluster()} starts
     * @param env  their configuration, e.g. {@code NODE_TTL_MS}
     */
    public ClusterExtension(int size, Map<String, String> env) {
        this.size = size;
        this.env = env;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        redis.beforeAll(context);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        List<TestViewer> viewers = new ArrayList<>();
        for (AutoCloseable client : clients) {
            if (client instanceof TestViewer viewer) {
                viewers.add(viewer);
            } else {
                client.close();
            }
        }
        TestViewer.closeAll(viewers);
        clients.clear();
        if (cluster != null) {
            cluster.close();
            cluster = null;
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        redis.afterAll(context);
    }

    public RedisFixture redis() {
        return redis.fixture();
    }

    /** This test's cluster, as configured for the class. */
    public Cluster cluster() {
        return cluster != null ? cluster : start(size, env);
    }

    /** Starts this test's cluster with its own size and configuration, on a Redis that is up and empty. */
    public Cluster start(int nodes, Map<String, String> nodeEnv) {
        if (cluster != null) {
            throw new IllegalStateException("this test's cluster is already running");
        }
        redis().bringBack();
        redis().command("FLUSHALL");
        cluster = Cluster.start(redis(), nodes, nodeEnv);
        return cluster;
    }

    /** A plain WebSocket viewer of an auction on one node, closed after the test. */
    public TestViewer watch(int node, String auction) {
        return track(TestViewer.watch(cluster().port(node), auction));
    }

    /** Closes {@code client} after the test. */
    public <T extends AutoCloseable> T track(T client) {
        clients.add(client);
        return client;
    }
}
