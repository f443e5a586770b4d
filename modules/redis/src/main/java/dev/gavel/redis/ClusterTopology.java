package dev.gavel.redis;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Which master of a Redis Cluster serves each hash slot, as {@code CLUSTER SLOTS} says, asked of the masters known
 * and then of the seed nodes. Read again {@value #PERIOD_MILLIS} ms after the last time, and at once when a shard's
 * connection was lost or a command was redirected ({@link #refresh}; several asks close together are one read, at
 * most one per {@value #MIN_GAP_MILLIS} ms). Listeners hear every change, on the topology's context.
 *
 * <p>Endpoints are URLs with the scheme and credentials of the seeds: {@code redis[s]://[user:pass@]host:port}.
 */
final class ClusterTopology {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterTopology.class);
    static final long PERIOD_MILLIS = 5000;
    private static final long MIN_GAP_MILLIS = 100;
    private static final long ASK_TIMEOUT_MILLIS = 2000;

    private final Vertx vertx;
    private final Context context;
    private final RedisTarget target;
    private final String prefix;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    /**
     * One client per node asked, kept: a client registers its pool's metrics when created, so a client per read would
     * add meters every {@value #PERIOD_MILLIS} ms for as long as the node runs.
     */
    private final Map<String, Redis> clients = new HashMap<>();
    /** Slot -> endpoint of its master; null while unknown. Replaced whole, never changed in place. */
    private volatile String[] masters = new String[ClusterSlots.SLOTS];
    private Promise<Void> reading;
    private boolean readAgain;
    private long lastReadNanos = System.nanoTime() - TimeUnit.SECONDS.toNanos(1);
    private long periodicTimer = -1;
    private boolean closed;

    ClusterTopology(Vertx vertx, RedisTarget target) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.target = target;
        URI seed = URI.create(target.endpoints().get(0));
        this.prefix = seed.getScheme() + "://" + (seed.getRawUserInfo() == null ? "" : seed.getRawUserInfo() + "@");
    }

    /** Called on the topology's context after each read that changed who serves a slot. */
    void onChange(Runnable listener) {
        listeners.add(listener);
    }

    /** The endpoint of the master serving the slot of {@code key}, or null while no read told. */
    String masterOf(String key) {
        return masters[ClusterSlots.slot(key)];
    }

    /** The endpoint URL of the node at {@code hostPort}, with the seeds' scheme and credentials. */
    String endpoint(String hostPort) {
        return prefix + hostPort;
    }

    /** The masters that serve at least one slot. */
    Set<String> masters() {
        Set<String> endpoints = new LinkedHashSet<>();
        for (String endpoint : masters) {
            if (endpoint != null) {
                endpoints.add(endpoint);
            }
        }
        return endpoints;
    }

    /** Reads the slots now (or right after the read under way); completes when read, or fails when no node answered. */
    Future<Void> refresh() {
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> {
            if (closed) {
                done.fail("topology closed");
                return;
            }
            if (reading != null) {
                readAgain = true;
                reading.future().onComplete(done);
                return;
            }
            reading = Promise.promise();
            reading.future().onComplete(done);
            long gapMillis = MIN_GAP_MILLIS - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastReadNanos);
            if (gapMillis > 0) {
                vertx.setTimer(gapMillis, t -> read());
            } else {
                read();
            }
        });
        return done.future();
    }

    void close() {
        context.runOnContext(v -> {
            closed = true;
            vertx.cancelTimer(periodicTimer);
            clients.values().forEach(Redis::close);
            clients.clear();
        });
    }

    private void read() {
        lastReadNanos = System.nanoTime();
        List<String> candidates = new ArrayList<>(masters());
        target.endpoints().stream().filter(seed -> !candidates.contains(seed)).forEach(candidates::add);
        ask(candidates, 0, null).onComplete(ar -> {
            Promise<Void> finished = reading;
            reading = null;
            if (ar.succeeded()) {
                apply(ar.result());
                finished.complete();
            } else {
                finished.fail(ar.cause());
            }
            vertx.cancelTimer(periodicTimer);
            if (closed) {
                return;
            }
            if (readAgain) {
                readAgain = false;
                refresh();
            } else {
                periodicTimer = vertx.setTimer(PERIOD_MILLIS, t -> refresh());
            }
        });
    }

    private Future<String[]> ask(List<String> candidates, int index, Throwable lastError) {
        if (index >= candidates.size()) {
            return Future.failedFuture(lastError == null ? new IllegalStateException("no Redis Cluster node known") : lastError);
        }
        String endpoint = candidates.get(index);
        Redis client = clients.computeIfAbsent(endpoint, e -> Redis.createClient(vertx, target.options(e)));
        return client.connect()
                .compose(conn -> conn.send(Request.cmd(Command.CLUSTER).arg("SLOTS"))
                        .eventually(conn::close))
                .timeout(ASK_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                .map(this::slots)
                .recover(error -> ask(candidates, index + 1, error));
    }

    /** {@code CLUSTER SLOTS}: {@code [[from, to, [host, port, id], replicas...], ...]}. */
    private String[] slots(Response reply) {
        String[] read = new String[ClusterSlots.SLOTS];
        for (Response range : reply) {
            int from = range.get(0).toInteger();
            int to = range.get(1).toInteger();
            Response master = range.get(2);
            String endpoint = endpoint(master.get(0).toString() + ":" + master.get(1).toInteger());
            Arrays.fill(read, from, to + 1, endpoint);
        }
        return read;
    }

    private void apply(String[] read) {
        if (Arrays.equals(read, masters)) {
            return;
        }
        boolean first = masters().isEmpty();
        masters = read;
        if (first) {
            LOG.info("Redis Cluster: {} masters", masters().size());
        } else {
            LOG.info("Redis Cluster slots moved; masters now {}", masters().stream().map(RedisTarget::redacted).toList());
        }
        listeners.forEach(Runnable::run);
    }
}
