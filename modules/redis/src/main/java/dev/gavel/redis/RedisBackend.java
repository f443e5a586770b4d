package dev.gavel.redis;

import dev.gavel.core.AuctionRegistry;
import dev.gavel.core.Backend;
import dev.gavel.core.BackendMetrics;
import dev.gavel.core.CountBy;
import dev.gavel.core.EventBroker;
import dev.gavel.core.EventLogSettings;
import dev.gavel.core.PresenceStore;
import dev.gavel.core.ReplicaQueries;
import dev.gavel.core.Timers;
import dev.gavel.core.ViewerStats;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;

import java.time.Clock;
import java.util.concurrent.TimeUnit;

/**
 * The backend of a cluster of replicas on Redis ({@link RedisTarget}: a server, the master of a Sentinel set, or a Redis
 * Cluster, whose shards each serve their auctions; over TLS and as an ACL user where the target says; one code path
 * for all three, over a {@link RedisTopology}): counts in per-auction hashes (see {@link RedisPresenceStore}),
 * events and count changes over per-auction pub/sub channels (see {@link RedisEventBroker}), the open auctions in a
 * set that every replica copies (see {@link RedisAuctionRegistry}).
 *
 * <p>When Redis is unreachable the backend is not ready; requests fail rather than hang past their timeout,
 * and the subscriber reconnects with backoff. Once it is back, the reconnect actions run so that the node
 * writes its entries again.
 */
public final class RedisBackend implements Backend {

    private static final long FIRST_LOAD_WAIT_MILLIS = 5000;

    private final Redis commands;
    private final Redis publisher;
    private final RedisPresenceStore presence;
    private final RedisEventBroker broker;
    private final RedisViewerStats stats;
    private final RedisAuctionRegistry auctions;
    private final RedisReplicaQueries queries;

    private RedisBackend(Vertx vertx, RedisTarget target, Clock clock, long leaseMillis, long historyIntervalMillis,
                        long historyRetentionMillis, EventLogSettings log, BackendMetrics metrics, CountBy countBy) {
        // One shard on one Redis, one per master on a cluster; the rest follows the topology.
        RedisTopology topology = RedisTopology.of(vertx, target);
        // One connection per shard each for counts, publishes and (the broker's links) subscriptions. Requests on one
        // connection are answered in order, so a replica's writes reach a shard in the order it made them (a report
        // that timed out can never land after a newer one), and events of an auction are published in the order they
        // were handed over, even when several are in flight.
        this.commands = new ShardedRedis(topology, "redis-commands");
        this.publisher = new ShardedRedis(topology, "redis-publish");
        this.broker = new RedisEventBroker(vertx, new TimedRedis(publisher, metrics, BackendMetrics.Operation.PUBLISH),
                new TimedRedis(publisher, metrics, BackendMetrics.Operation.LOG), log, topology, metrics, Timers.of(vertx), System::nanoTime);
        this.presence = new RedisPresenceStore(new TimedRedis(commands, metrics, BackendMetrics.Operation.REPORT), topology,
                clock, leaseMillis, countBy, historyIntervalMillis, historyRetentionMillis);
        this.stats = new RedisViewerStats(new TimedRedis(commands, metrics, BackendMetrics.Operation.STATS), presence,
                historyIntervalMillis, historyRetentionMillis);
        this.auctions = new RedisAuctionRegistry(vertx, commands, broker::isConnected, topology.pubSub());
        broker.listen(RedisKeys.auctionChanges(), auctions::heard);
        this.queries = new RedisReplicaQueries(vertx, broker, new TimedRedis(publisher, metrics, BackendMetrics.Operation.QUERY),
                topology.pubSub());
        // registered before anyone else's reconnect action: the registry is read again first
        broker.onReconnected(auctions::reload);
    }

    /**
     * Creates the backend, with the default audience history interval and retention; it does not connect
     * before {@link #connect()}.
     */
    public static RedisBackend create(Vertx vertx, RedisTarget target, Clock clock, long leaseMillis) {
        return create(vertx, target, clock, leaseMillis, ViewerStats.DEFAULT_INTERVAL_MILLIS, ViewerStats.DEFAULT_RETENTION_MILLIS,
                EventLogSettings.DEFAULT, BackendMetrics.NONE, CountBy.CONNECTION);
    }

    /**
     * Creates the backend; it does not connect before {@link #connect()}.
     *
     * @param historyIntervalMillis  one audience history sample per auction per this interval
     * @param historyRetentionMillis how long samples and unique viewer tallies are kept
     * @param log                    how much of each auction's events is kept, and for how long
     * @param metrics                told the latency and outcome of every command, by operation, and each reconnect
     * @param countBy                what an auction's count counts (every replica of a deployment alike)
     */
    public static RedisBackend create(Vertx vertx, RedisTarget target, Clock clock, long leaseMillis,
                                     long historyIntervalMillis, long historyRetentionMillis, EventLogSettings log,
                                     BackendMetrics metrics, CountBy countBy) {
        return new RedisBackend(vertx, target, clock, leaseMillis, historyIntervalMillis, historyRetentionMillis, log, metrics,
                countBy);
    }

    /**
     * Starts connecting. The future completes once Redis first answered and the auction registry was read (or
     * {@value #FIRST_LOAD_WAIT_MILLIS} ms later: the registry follows), or fails if the first try did not reach
     * Redis; either way the backend keeps connecting in the background and is ready once it is.
     */
    public Future<Void> connect() {
        return broker.start().compose(v -> auctions.firstLoad()
                .timeout(FIRST_LOAD_WAIT_MILLIS, TimeUnit.MILLISECONDS)
                .otherwiseEmpty());
    }

    @Override
    public PresenceStore presence() {
        return presence;
    }

    @Override
    public EventBroker broker() {
        return broker;
    }

    @Override
    public ViewerStats stats() {
        return stats;
    }

    @Override
    public AuctionRegistry auctions() {
        return auctions;
    }

    @Override
    public ReplicaQueries queries() {
        return queries;
    }

    @Override
    public boolean isReady() {
        return broker.isConnected();
    }

    @Override
    public String subscriptionsRefused() {
        return broker.subscriptionsRefused();
    }

    @Override
    public void onReconnected(Runnable action) {
        broker.onReconnected(action);
    }

    @Override
    public Future<Void> close() {
        // the broker closes its subscriber links and the topology
        return broker.close().eventually(publisher::close).eventually(commands::close);
    }
}
