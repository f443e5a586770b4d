package dev.gavel.redis;

import dev.gavel.core.Timers;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
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
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Which master of a Redis Cluster serves each hash slot, as {@code CLUSTER SLOTS} says, asked of the masters known
 * and then of the seed nodes. Read again {@value #PERIOD_MILLIS} ms after the last time, and at once when a shard's
 * connection was lost or a command was redirected ({@link #refresh}; several asks close together are one read, at
 * most one per {@value #MIN_GAP_MILLIS} ms). Listeners hear every change, on the topology's context.
 *
 * <p>Endpoints are URLs with the scheme and credentials of the seeds: {@code redis[s]://[user:pass@]host:port}.
 */
final class ClusterTopology implements RedisTopology {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterTopology.class);
    static final long PERIOD_MILLIS = 5000;
    private static final long MIN_GAP_MILLIS = 100;
    private static final long ASK_TIMEOUT_MILLIS = 2000;

    private final Context context;
    private final List<String> seeds;
    private final Function<String, Redis> nodes;
    private final Timers timers;
    private final LongSupplier nanoTime;
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
    private long lastReadNanos;
    private long periodicTimer = -1;
    private boolean closed;

    ClusterTopology(Vertx vertx, RedisTarget target) {
        this(vertx.getOrCreateContext(), target.endpoints(), endpoint -> Redis.createClient(vertx, target.options(endpoint)),
                Timers.of(vertx), System::nanoTime);
    }

    /**
     * @param context  where the topology's state lives, its reads run and its listeners are called
     * @param seeds    the endpoint URLs of nodes to ask when no master known answers
     * @param nodes    a new client of the node at an endpoint URL (kept for the topology's reads, or given to a shard's user)
     * @param timers   the periodic and the spaced reads, on {@code context}
     * @param nanoTime a monotonic clock ({@link System#nanoTime}) that spaces the reads
     */
    ClusterTopology(Context context, List<String> seeds, Function<String, Redis> nodes, Timers timers, LongSupplier nanoTime) {
        this.context = context;
        this.seeds = List.copyOf(seeds);
        this.nodes = nodes;
        this.timers = timers;
        this.nanoTime = nanoTime;
        this.lastReadNanos = nanoTime.getAsLong() - TimeUnit.SECONDS.toNanos(1);
        URI seed = URI.create(seeds.get(0));
        this.prefix = seed.getScheme() + "://" + (seed.getRawUserInfo() == null ? "" : seed.getRawUserInfo() + "@");
    }

    @Override
    public PubSub pubSub() {
        return PubSub.SHARDED;
    }

    @Override
    public void onChange(Runnable listener) {
        listeners.add(listener);
    }

    /** The endpoint of the master serving the slot of {@code key}, or null while no read told. */
    @Override
    public String shardOf(String key) {
        return masters[ClusterSlots.slot(key)];
    }

    /** The endpoint URL of the node at {@code hostPort}, with the seeds' scheme and credentials. */
    @Override
    public String shardAt(String hostPort) {
        return prefix + hostPort;
    }

    @Override
    public String describe(String shard) {
        return " at " + RedisTarget.redacted(shard);
    }

    /** A client of its own (pools of a cluster's nodes keep Vert.x's names). */
    @Override
    public Redis client(String shard, String purpose) {
        return nodes.apply(shard);
    }

    /** The masters that serve at least one slot. */
    @Override
    public Set<String> shards() {
        Set<String> endpoints = new LinkedHashSet<>();
        for (String endpoint : masters) {
            if (endpoint != null) {
                endpoints.add(endpoint);
            }
        }
        return endpoints;
    }

    /** Reads the slots now (or right after the read under way); completes when read, or fails when no node answered. */
    @Override
    public Future<Void> refresh() {
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
            long gapMillis = MIN_GAP_MILLIS - TimeUnit.NANOSECONDS.toMillis(nanoTime.getAsLong() - lastReadNanos);
            if (gapMillis > 0) {
                timers.schedule(gapMillis, this::read);
            } else {
                read();
            }
        });
        return done.future();
    }

    @Override
    public void close() {
        context.runOnContext(v -> {
            closed = true;
            timers.cancel(periodicTimer);
            clients.values().forEach(Redis::close);
            clients.clear();
        });
    }

    private void read() {
        lastReadNanos = nanoTime.getAsLong();
        List<String> candidates = new ArrayList<>(shards());
        seeds.stream().filter(seed -> !candidates.contains(seed)).forEach(candidates::add);
        ask(candidates, 0, null).onComplete(ar -> {
            Promise<Void> finished = reading;
            reading = null;
            if (ar.succeeded()) {
                apply(ar.result());
                finished.complete();
            } else {
                finished.fail(ar.cause());
            }
            timers.cancel(periodicTimer);
            if (closed) {
                return;
            }
            if (readAgain) {
                readAgain = false;
                refresh();
            } else {
                periodicTimer = timers.schedule(PERIOD_MILLIS, this::refresh);
            }
        });
    }

    private Future<String[]> ask(List<String> candidates, int index, Throwable lastError) {
        if (index >= candidates.size()) {
            return Future.failedFuture(lastError == null ? new IllegalStateException("no Redis Cluster node known") : lastError);
        }
        String endpoint = candidates.get(index);
        Redis client = clients.computeIfAbsent(endpoint, nodes);
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
            String endpoint = shardAt(master.get(0).toString() + ":" + master.get(1).toInteger());
            Arrays.fill(read, from, to + 1, endpoint);
        }
        return read;
    }

    private void apply(String[] read) {
        if (Arrays.equals(read, masters)) {
            return;
        }
        boolean first = shards().isEmpty();
        masters = read;
        if (first) {
            LOG.info("Redis Cluster: {} masters", shards().size());
        } else {
            LOG.info("Redis Cluster slots moved; masters now {}", shards().stream().map(RedisTarget::redacted).toList());
        }
        listeners.forEach(Runnable::run);
    }
}
