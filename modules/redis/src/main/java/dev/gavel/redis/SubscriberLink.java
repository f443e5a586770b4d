package dev.gavel.redis;

import dev.gavel.core.BackendMetrics;
import dev.gavel.core.Timers;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One subscriber connection to one shard of a {@link RedisTopology} (the one Redis, or one master of a Redis Cluster),
 * with the topology's kind of pub/sub. It is watched (a PING every second) and, when lost, connected again with
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
    /**
     * While Redis refuses the link's subscriptions (an ACL without {@code SUBSCRIBE}/{@code SSUBSCRIBE} or without the
     * channels), tries are spaced up to this: the refusal lasts until an operator changes the ACL.
     */
    static final long MAX_REFUSED_BACKOFF_MILLIS = 5000;
    private final Timers timers;
    private final Context context;
    private final String name;
    private final Redis client;
    private final PubSub pubSub;
    private final LongSupplier nanoTime;
    private final BackendMetrics metrics;
    private final Owner owner;
    /** The channels a subscribe was sent for on the connection now held. */
    private final Set<String> subscribed = ConcurrentHashMap.newKeySet();
    /** PINGs sent after subscriptions, waiting for their answer (see {@link #fence}). */
    private final List<Promise<Void>> fences = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The outcome of the first try to connect. */
    private final Promise<Void> firstTry = Promise.promise();

    private volatile RedisConnection connection;
    private long backoffMillis = MIN_BACKOFF_MILLIS;
    private long pingTimer = -1;
    private volatile long lastHeardNanos;
    private boolean everConnected;
    private boolean closed;
    /**
     * Why Redis refused the last try to subscribe (an error reply: {@code NOPERM}, {@code ERR}), or null once a
     * connection subscribed to every channel. Read from any thread.
     */
    private volatile String refusal;
    /** The connection held now subscribed (Redis answered) and the owner was told. */
    private volatile boolean up;

    /**
     * @param name     what logs add after "Redis": "" for the one Redis, or " at " and the node's endpoint, without
     *                 credentials
     * @param client   connects to the node; closed with the link
     * @param pubSub   the topology's subscribe commands
     * @param timers   the PINGs, the waits and the backoff, on {@code context}
     * @param nanoTime a monotonic clock ({@link System#nanoTime}): when the connection was last heard from
     */
    SubscriberLink(Context context, String name, Redis client, PubSub pubSub, BackendMetrics metrics, Owner owner,
                   Timers timers, LongSupplier nanoTime) {
        this.timers = timers;
        this.context = context;
        this.name = name;
        this.client = client;
        this.pubSub = pubSub;
        this.metrics = metrics;
        this.owner = owner;
        this.nanoTime = nanoTime;
        this.lastHeardNanos = nanoTime.getAsLong();
    }

    String name() {
        return name;
    }

    /** A connection is held (its subscriptions may still be on their way). */
    boolean isConnected() {
        return connection != null;
    }

    /**
     * Connected, Redis answered the subscriptions and did not refuse them, and the owner was told
     * ({@link Owner#connected}): the link delivers its channels' messages.
     */
    boolean isUp() {
        return up && connection != null && refusal == null;
    }

    /** Why Redis refuses this link's subscriptions, or null while it takes them. Any thread. */
    String refusal() {
        return refusal;
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
        // Refused: the link is down until a reconnect subscribes to every channel; the caller's listener is kept, and
        // subscribed by that reconnect.
        Future<Void> sent = settled(subscriptionCommand(conn, pubSub.subscribe(channel)));
        return Future.join(sent, fence(conn)).<Void>mapEmpty()
                .recover(refused -> {
                    context.runOnContext(v -> refused(conn, refused.getMessage()));
                    return Future.succeededFuture();
                });
    }

    Future<Void> unsubscribe(String channel) {
        RedisConnection conn = connection;
        if (conn == null || !subscribed.remove(channel)) {
            return Future.succeededFuture();
        }
        // a refused unsubscribe leaves an unwanted channel, whose messages find no listener
        return settled(subscriptionCommand(conn, pubSub.unsubscribe(channel)))
                .otherwiseEmpty();
    }

    /** Redis took the channel away (its slot moved): no longer subscribed here. */
    void dropped(String channel) {
        subscribed.remove(channel);
    }

    /**
     * Completes when the reply came, or after {@link #SETTLE_MILLIS} in any case: vertx-redis-client
     * 5.0.7 drops the promise of a command when a pub/sub push arrives while it waits, so the reply may never be
     * seen. A (UN)SUBSCRIBE that was really lost went with its connection, and the reconnect subscribes again to
     * every channel with listeners. But an error reply ({@code NOPERM} from an ACL, {@code ERR}) is no dropped
     * promise: Redis refused, and the future fails with {@link Refused}.
     */
    static Future<Void> settled(Future<Response> reply) {
        return reply.timeout(SETTLE_MILLIS, TimeUnit.MILLISECONDS).transform(ar -> {
            if (ar.failed() && isRefusal(ar.cause())) {
                return Future.failedFuture(new Refused(ar.cause().getMessage()));
            }
            return Future.<Void>succeededFuture();
        });
    }

    /**
     * A PING after subscriptions: Redis answers in order, so once it is answered, the subscriptions' replies came
     * before it. An error reply to a subscription, arriving while the PING waits, is taken by the PING's promise (the
     * client pairs the next non-push reply with the oldest waiting command): then it fails with {@link Refused}. The
     * subscriptions' own futures complete once written, so without this a link would count as subscribed before Redis
     * said whether it took them.
     */
    private Future<Void> fence(RedisConnection conn) {
        Promise<Void> pong = Promise.promise();
        fences.add(pong);
        // A push that arrives while the PING waits takes its promise (the subscription's own confirmation does, in
        // RESP3): then its PONG reaches the connection's handler, which completes the fences; else the wait ends it.
        long timer = timers.schedule(SETTLE_MILLIS, pong::tryComplete);
        conn.send(Request.cmd(Command.PING)).onComplete(ar -> {
            if (ar.failed() && isRefusal(ar.cause())) {
                pong.tryFail(new Refused(ar.cause().getMessage()));
            } else {
                pong.tryComplete();
            }
        });
        return pong.future().andThen(ar -> {
            timers.cancel(timer);
            fences.remove(pong);
        });
    }

    /** An error reply of Redis, as opposed to a timeout or a lost connection. */
    static boolean isRefusal(Throwable error) {
        return error instanceof io.vertx.redis.client.impl.types.ErrorType;
    }

    /** Redis answered a subscription with an error. */
    static final class Refused extends RuntimeException {
        Refused(String message) {
            super(message, null, false, false);
        }
    }

    /** A reply whose promise the client dropped (see {@link #settled}) is never reported: neither late nor failed. */
    private Future<Response> subscriptionCommand(RedisConnection conn, Request command) {
        return metrics.timed(BackendMetrics.Operation.SUBSCRIBE, () -> conn.send(command));
    }

    Future<Void> close() {
        return Future.<Void>future(promise -> context.runOnContext(v -> {
            closed = true;
            timers.cancel(pingTimer);
            RedisConnection conn = connection;
            connection = null;
            up = false;
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
                lastHeardNanos = nanoTime.getAsLong();
                if (push != null && push.type() == ResponseType.SIMPLE) {
                    // a PONG whose PING's promise a push took: the fences sent before it are answered
                    fences.forEach(Promise::tryComplete);
                }
                if (push != null && push.type() == ResponseType.ERROR) {
                    // vertx-redis-client completes a (S)SUBSCRIBE once written, and hands the reply, an error too, to
                    // this handler: an error here is Redis refusing a subscription
                    context.runOnContext(v -> refused(conn, push.toString()));
                    return;
                }
                owner.pushed(this, push);
            });
            conn.exceptionHandler(error -> lost(conn, error.toString()));
            conn.endHandler(v -> lost(conn, "connection closed"));
            // Published before subscribing, so that a subscribe() racing with this reconnect either sees the
            // connection and subscribes itself, or is in the channels subscribed here (twice is harmless).
            subscribed.clear();
            up = false;
            connection = conn;
            List<String> channels = List.copyOf(owner.channelsOf(this));
            subscribed.addAll(channels);
            List<Future<Void>> sent = new ArrayList<>();
            pubSub.subscribe(channels).forEach(subscribe -> sent.add(settled(subscriptionCommand(conn, subscribe))));
            if (!channels.isEmpty()) {
                sent.add(fence(conn));
            }
            return Future.join(sent).map(x -> conn);
        }).andThen(ar -> {
            if (ar.failed()) {
                RedisConnection held = connection;
                if (ar.cause() instanceof Refused) {
                    // none held: refused() ran already, and scheduled the next try
                    if (held != null) {
                        refused(held, ar.cause().getMessage());
                    }
                } else if (held == null) {
                    owner.lost(this, ar.cause().toString());
                    scheduleReconnect(ar.cause().toString());
                }
                return;
            }
            if (connection != ar.result()) {
                // refused (or lost) while its other subscriptions were on their way: a new try follows
                return;
            }
            backoffMillis = MIN_BACKOFF_MILLIS;
            schedulePing(ar.result());
            if (refusal != null) {
                refusal = null;
                LOG.info("Redis{} takes this replica's subscriptions again", name);
            }
            boolean again = everConnected;
            everConnected = true;
            up = true;
            if (again) {
                metrics.reconnected();
                LOG.info("Reconnected to Redis{}; resubscribed to {} channels", name, subscribed.size());
            } else {
                LOG.info("Connected to Redis{}", name);
            }
            owner.connected(this, again);
        }).mapEmpty();
    }

    /** A PING every {@link #PING_MILLIS} while {@code conn} is the connection held. */
    private void schedulePing(RedisConnection conn) {
        pingTimer = timers.schedule(PING_MILLIS, () -> {
            if (connection == conn && !closed) {
                ping(conn);
                schedulePing(conn);
            }
        });
    }

    private void ping(RedisConnection conn) {
        long sentAt = nanoTime.getAsLong();
        // timed before the timeout: a PING whose promise a push swallowed is never reported, not reported as failed
        metrics.timed(BackendMetrics.Operation.PING, () -> conn.send(Request.cmd(Command.PING)))
                .timeout(PING_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                .onFailure(error -> {
                    if (isRefusal(error)) {
                        // an error reply to a subscription taken by this PING's promise (see fence)
                        context.runOnContext(v -> refused(conn, error.getMessage()));
                        return;
                    }
                    // A push can swallow the PING's promise (see settled); anything heard since means alive.
                    if (lastHeardNanos - sentAt > 0) {
                        return;
                    }
                    conn.close();
                    lost(conn, "no answer to PING: " + error);
                });
    }

    /**
     * Redis refused a subscription on {@code conn}: the link is down (its channels are not delivered), the connection
     * closed, and a new one tries to subscribe again after a backoff that grows to {@link #MAX_REFUSED_BACKOFF_MILLIS}.
     * On the link's context.
     */
    private void refused(RedisConnection conn, String why) {
        if (connection != conn || closed) {
            return;
        }
        metrics.subscriptionRefused();
        String before = refusal;
        refusal = why;
        connection = null;
        up = false;
        subscribed.clear();
        timers.cancel(pingTimer);
        conn.close();
        if (before == null) {
            LOG.error("Redis{} refused this replica's subscription ({}): its viewers get no events, and publishing to "
                    + "its channels is answered 503, until it subscribes; retrying with backoff. Check the ACL of "
                    + "Gavel's Redis user (docs/redis.md)", name, why);
            backoffMillis = Math.max(backoffMillis, MIN_BACKOFF_MILLIS * 10);
        } else {
            LOG.debug("Redis{} still refuses this replica's subscription ({})", name, why);
        }
        owner.lost(this, "subscription refused: " + why);
        long delay = backoffMillis;
        backoffMillis = Math.min(MAX_REFUSED_BACKOFF_MILLIS, backoffMillis * 2);
        timers.schedule(delay, () -> {
            if (!closed && connection == null) {
                connect();
            }
        });
    }

    private void lost(RedisConnection conn, String why) {
        context.runOnContext(v -> {
            if (connection != conn || closed) {
                return;
            }
            connection = null;
            up = false;
            subscribed.clear();
            timers.cancel(pingTimer);
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
        backoffMillis = Math.min(refusal == null ? MAX_BACKOFF_MILLIS : MAX_REFUSED_BACKOFF_MILLIS, backoffMillis * 2);
        LOG.debug("Redis{} not reachable ({}); next try in {} ms", name, why, delay);
        timers.schedule(delay, () -> {
            if (!closed) {
                connect();
            }
        });
    }
}
