package dev.gavel.redis;

import dev.gavel.core.EngineMetrics;
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

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One subscriber connection: to the Redis (standalone, or the master the sentinels name), or to one master of a
 * Redis Cluster with sharded pub/sub. It is watched (a PING every second) and, when lost, connected again with
 * backoff, subscribing again to the channels its owner gives it. vertx-redis-client does not reconnect by itself.
 * State is confined to the owner's context: call every method there.
 */
final class SubscriberLink {

    /** The broker that holds the link. Every call comes on the link's context. */
    interface Owner {
        /** The channels this link should be subscribed to now. */
        Collection<String> channelsOf(SubscriberLink link);

        /** A push (a message, or a subscription change) arrived; any thread of the connection. */
        void pushed(SubscriberLink link, Response push);

        /** Connected and subscribed; {@code again} after a lost connection. */
        void connected(SubscriberLink link, boolean again);

        /** The connection was lost, or a try to connect failed. */
        void lost(SubscriberLink link, String why);
    }

    private static final Logger LOG = LoggerFactory.getLogger(SubscriberLink.class);
    private static final long PING_MILLIS = 1000;
    /**
     * A subscriber connection that answers nothing for this long is taken for dead. Longer than the stalls of a
     * live Redis (a slow command, a fork, {@code DEBUG SLEEP 3}), which would otherwise cost a reconnect and a
     * resubscription each; a Redis that died with its host is noticed this much later (one that died alone closes
     * the connection at once).
     */
    private static final long PING_TIMEOUT_MILLIS = 4000;
    /** How long a (UN)SUBSCRIBE waits for its reply before it is taken as settled (see {@link #settled}). */
    private static final long SETTLE_MILLIS = 2000;
    private static final long MIN_BACKOFF_MILLIS = 100;
    /**
     * Short: once Redis (or, after a failover, the new master) answers again, a replica is back within this long,
     * however long the outage was; one connection attempt a second per replica costs Redis nothing.
     */
    private static final long MAX_BACKOFF_MILLIS = 1000;
    private final Vertx vertx;
    private final Context context;
    private final String name;
    private final Redis client;
    private final boolean sharded;
    private final EngineMetrics metrics;
    private final Owner owner;
    /** The channels a subscribe was sent for on the connection now held. */
    private final Set<String> subscribed = ConcurrentHashMap.newKeySet();
    /** The outcome of the first try to connect. */
    private final Promise<Void> firstTry = Promise.promise();

    private volatile RedisConnection connection;
    private long backoffMillis = MIN_BACKOFF_MILLIS;
    private long pingTimer = -1;
    private volatile long lastHeardNanos = System.nanoTime();
    private boolean everConnected;
    private boolean closed;

    /**
     * @param name    what logs add after "Redis": "" for the one Redis, or " at " and the node's endpoint, without
     *                credentials
     * @param client  connects to the node; closed with the link
     * @param sharded {@code SSUBSCRIBE} one channel per command (Redis Cluster), else {@code SUBSCRIBE}
     */
    SubscriberLink(Vertx vertx, Context context, String name, Redis client, boolean sharded, EngineMetrics metrics,
                   Owner owner) {
        this.vertx = vertx;
        this.context = context;
        this.name = name;
        this.client = client;
        this.sharded = sharded;
        this.metrics = metrics;
        this.owner = owner;
    }

    String name() {
        return name;
    }

    boolean isConnected() {
        return connection != null;
    }

    boolean isSubscribed(String channel) {
        return subscribed.contains(channel);
    }

    /** The channels subscribed on the connection held now. */
    List<String> subscribed() {
        return new ArrayList<>(subscribed);
    }

    /** Starts connecting, and keeps trying; see {@link #firstTry}. */
    void start() {
        context.runOnContext(v -> connect().onComplete(firstTry));
    }

    /** Completes when the first try connected, or fails with it, while the link keeps trying. */
    Future<Void> firstTry() {
        return firstTry.future();
    }

    /** Subscribes on the connection held now; none held: the next connection subscribes to what its owner says. */
    Future<Void> subscribe(String channel) {
        RedisConnection conn = connection;
        if (conn == null || !subscribed.add(channel)) {
            return Future.succeededFuture();
        }
        return settled(subscriptionCommand(conn, Request.cmd(sharded ? Command.SSUBSCRIBE : Command.SUBSCRIBE).arg(channel)));
    }

    Future<Void> unsubscribe(String channel) {
        RedisConnection conn = connection;
        if (conn == null || !subscribed.remove(channel)) {
            return Future.succeededFuture();
        }
        return settled(subscriptionCommand(conn, Request.cmd(sharded ? Command.SUNSUBSCRIBE : Command.UNSUBSCRIBE).arg(channel)));
    }

    /** Redis took the channel away (its slot moved): no longer subscribed here. */
    void dropped(String channel) {
        subscribed.remove(channel);
    }

    /**
     * Completes when the reply came, or after {@link #SETTLE_MILLIS} in any case: vertx-redis-client
     * 5.0.7 drops the promise of a command when a pub/sub push arrives while it waits, so the reply may never be
     * seen. A (UN)SUBSCRIBE that was really lost went with its connection, and the reconnect subscribes again to
     * every channel with listeners.
     */
    private static Future<Void> settled(Future<Response> reply) {
        return reply.timeout(SETTLE_MILLIS, TimeUnit.MILLISECONDS).<Void>mapEmpty().otherwiseEmpty();
    }

    /** A reply whose promise the client dropped (see {@link #settled}) is never reported: neither late nor failed. */
    private Future<Response> subscriptionCommand(RedisConnection conn, Request command) {
        return metrics.timed(EngineMetrics.Operation.SUBSCRIBE, () -> conn.send(command));
    }

    Future<Void> close() {
        return Future.<Void>future(promise -> context.runOnContext(v -> {
            closed = true;
            vertx.cancelTimer(pingTimer);
            RedisConnection conn = connection;
            connection = null;
            subscribed.clear();
            (conn == null ? Future.<Void>succeededFuture() : conn.close()).eventually(client::close).onComplete(promise);
        }));
    }

    private Future<Void> connect() {
        return client.connect().compose(conn -> {
            if (closed) {
                conn.close();
                return Future.failedFuture("subscriber closed");
            }
            conn.handler(push -> {
                lastHeardNanos = System.nanoTime();
                owner.pushed(this, push);
            });
            conn.exceptionHandler(error -> lost(conn, error.toString()));
            conn.endHandler(v -> lost(conn, "connection closed"));
            // Published before subscribing, so that a subscribe() racing with this reconnect either sees the
            // connection and subscribes itself, or is in the channels subscribed here (twice is harmless).
            subscribed.clear();
            connection = conn;
            List<String> channels = List.copyOf(owner.channelsOf(this));
            subscribed.addAll(channels);
            List<Future<Void>> sent = new ArrayList<>();
            if (sharded) {
                // one per command: the channels of one SSUBSCRIBE must share a slot
                channels.forEach(channel -> sent.add(settled(subscriptionCommand(conn, Request.cmd(Command.SSUBSCRIBE).arg(channel)))));
            } else if (!channels.isEmpty()) {
                Request subscribe = Request.cmd(Command.SUBSCRIBE);
                channels.forEach(subscribe::arg);
                sent.add(settled(subscriptionCommand(conn, subscribe)));
            }
            return Future.join(sent).map(x -> conn);
        }).andThen(ar -> {
            if (ar.failed()) {
                if (connection == null) {
                    owner.lost(this, ar.cause().toString());
                    scheduleReconnect(ar.cause().toString());
                }
                return;
            }
            backoffMillis = MIN_BACKOFF_MILLIS;
            pingTimer = vertx.setPeriodic(PING_MILLIS, t -> ping(ar.result()));
            boolean again = everConnected;
            everConnected = true;
            if (again) {
                metrics.reconnected();
                LOG.info("Reconnected to Redis{}; resubscribed to {} channels", name, subscribed.size());
            } else {
                LOG.info("Connected to Redis{}", name);
            }
            owner.connected(this, again);
        }).mapEmpty();
    }

    private void ping(RedisConnection conn) {
        long sentAt = System.nanoTime();
        // timed before the timeout: a PING whose promise a push swallowed is never reported, not reported as failed
        metrics.timed(EngineMetrics.Operation.PING, () -> conn.send(Request.cmd(Command.PING)))
                .timeout(PING_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                .onFailure(error -> {
                    // A push can swallow the PING's promise (see settled); anything heard since means alive.
                    if (lastHeardNanos - sentAt > 0) {
                        return;
                    }
                    conn.close();
                    lost(conn, "no answer to PING: " + error);
                });
    }

    private void lost(RedisConnection conn, String why) {
        context.runOnContext(v -> {
            if (connection != conn || closed) {
                return;
            }
            connection = null;
            subscribed.clear();
            vertx.cancelTimer(pingTimer);
            LOG.warn("Lost the Redis subscriber connection{} ({}); reconnecting", name, why);
            owner.lost(this, why);
            scheduleReconnect(why);
        });
    }

    private void scheduleReconnect(String why) {
        if (closed) {
            return;
        }
        long delay = backoffMillis;
        backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
        LOG.debug("Redis{} not reachable ({}); next try in {} ms", name, why, delay);
        vertx.setTimer(delay, t -> {
            if (!closed) {
                connect();
            }
        });
    }
}
