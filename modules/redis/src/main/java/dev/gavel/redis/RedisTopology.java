package dev.gavel.redis;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;

import java.util.Set;

/**
 * Which shard serves each key, and how to reach it: the one place that knows what kind of Redis the backend runs on.
 * A standalone Redis, or the master a Sentinel set names, is one shard that serves every key, with plain pub/sub
 * ({@link OneShard}); a Redis Cluster is one shard per master, each serving the keys of its hash slots, with sharded
 * pub/sub ({@link ClusterTopology}). The backend's classes route by it ({@link ShardedRedis} for commands, one
 * {@link SubscriberLink} per shard for subscriptions) and never ask which kind it is.
 *
 * <p>A shard is named by a string: the URL of its master's endpoint on a cluster, with the seeds' scheme and
 * credentials (so never logged as is: see {@link #describe}).
 */
interface RedisTopology {

    /** The topology of {@code target}; a cluster's is empty until {@link #refresh} read it. */
    static RedisTopology of(Vertx vertx, RedisTarget target) {
        return target.mode() == RedisTarget.Mode.CLUSTER ? new ClusterTopology(vertx, target) : new OneShard(vertx, target);
    }

    PubSub pubSub();

    /** The shard that serves {@code key} now, or null while unknown. */
    String shardOf(String key);

    /** The shards that serve at least one key now. */
    Set<String> shards();

    /** The shard of the node at {@code hostPort} (as a {@code MOVED} or {@code ASK} names it). */
    String shardAt(String hostPort);

    /** What logs add after "Redis" for {@code shard}: "" for the one Redis, else " at " and its endpoint without credentials. */
    String describe(String shard);

    /**
     * A new client of {@code shard}'s master, its own pool of one connection; {@code purpose} names the pool where
     * pools have names of their own (one Redis: {@code redis-commands}, {@code redis-publish}, {@code redis-subscribe}).
     */
    Redis client(String shard, String purpose);

    /** Reads who serves what again (or not, where that never changes); completes when read, fails when nothing answered. */
    Future<Void> refresh();

    /** {@code listener} runs after each read that changed who serves a key, on the topology's context. */
    void onChange(Runnable listener);

    void close();

    /** One Redis: a standalone server, or the master a Sentinel set names (reached anew on each connect). */
    final class OneShard implements RedisTopology {

        static final String SHARD = "redis";

        private final Vertx vertx;
        private final RedisTarget target;

        OneShard(Vertx vertx, RedisTarget target) {
            this.vertx = vertx;
            this.target = target;
        }

        @Override
        public PubSub pubSub() {
            return PubSub.PLAIN;
        }

        @Override
        public String shardOf(String key) {
            return SHARD;
        }

        @Override
        public Set<String> shards() {
            return Set.of(SHARD);
        }

        @Override
        public String shardAt(String hostPort) {
            return SHARD;
        }

        @Override
        public String describe(String shard) {
            return "";
        }

        @Override
        public Redis client(String shard, String purpose) {
            // A pool name per purpose, so that Vert.x's pool metrics are one series each, not one registered several
            // times (target.options() is a new object on each call).
            return Redis.createClient(vertx, target.options().setPoolName(purpose));
        }

        @Override
        public Future<Void> refresh() {
            return Future.succeededFuture();
        }

        @Override
        public void onChange(Runnable listener) {
        }

        @Override
        public void close() {
        }
    }
}
