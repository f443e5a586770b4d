package dev.gavel.redis;

import dev.gavel.core.AuctionId;
import dev.gavel.core.EngineMetrics;
import dev.gavel.core.EventBroker;
import dev.gavel.core.ViewerEvent;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Auction events over Redis pub/sub, one channel per auction. Publishing goes through one connection, which
 * keeps the publish order; subscriptions live on one dedicated connection, which this broker watches (a PING every second)
 * and, when it is lost, reconnects with backoff, subscribing again to every channel that has listeners and to the
 * engine's own channels ({@link #listen}).
 * vertx-redis-client does not reconnect by itself.
 */
final class RedisEventBroker implements EventBroker {

    private static final Logger LOG = LoggerFactory.getLogger(RedisEventBroker.class);
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
    private final Redis publisher;
    private final Redis subscriber;
    private final EngineMetrics metrics;
    private final Map<String, List<Listening>> listeners = new ConcurrentHashMap<>();
    private final List<Runnable> reconnectedActions = new CopyOnWriteArrayList<>();
    private final Map<String, Consumer<String>> engineChannels = new ConcurrentHashMap<>();

    private volatile RedisConnection connection;
    private long backoffMillis = MIN_BACKOFF_MILLIS;
    private long pingTimer = -1;
    private volatile long lastHeardNanos = System.nanoTime();
    private boolean everConnected;
    private boolean closed;

    /** @param publisher a client that reports its commands as {@link EngineMetrics.Operation#PUBLISH} */
    RedisEventBroker(Vertx vertx, Redis publisher, Redis subscriber, EngineMetrics metrics) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.publisher = publisher;
        this.subscriber = subscriber;
        this.metrics = metrics;
    }

    /** Connects the subscriber; completes when first connected, or fails, while it keeps trying. */
    Future<Void> start() {
        return Future.<Void>future(promise -> context.runOnContext(v -> connect().onComplete(promise)));
    }

    boolean isConnected() {
        return connection != null;
    }

    void onReconnected(Runnable action) {
        reconnectedActions.add(action);
    }

    /**
     * Hands every message of a channel of the engine's own (not an auction's) to {@code handler}, on the subscriber
     * connection's thread, for as long as the broker runs. Call before {@link #start}.
     */
    void listen(String channel, Consumer<String> handler) {
        engineChannels.put(channel, handler);
    }

    @Override
    public Future<Void> publish(AuctionId auction, ViewerEvent event) {
        return publisher.send(Request.cmd(Command.PUBLISH).arg(RedisKeys.channel(auction)).arg(ChannelMessage.encode(event)))
                .mapEmpty();
    }

    @Override
    public Future<Subscription> subscribe(AuctionId auction, AuctionListener listener) {
        String channel = RedisKeys.channel(auction);
        Listening listening = new Listening(vertx.getOrCreateContext(), listener);
        boolean[] first = {false};
        listeners.compute(channel, (c, list) -> {
            List<Listening> updated = list == null ? new CopyOnWriteArrayList<>() : list;
            first[0] = updated.isEmpty();
            updated.add(listening);
            return updated;
        });
        Subscription subscription = () -> unsubscribe(channel, listening);
        RedisConnection conn = connection;
        if (!first[0] || conn == null) {
            // Already subscribed, or not connected: the reconnect subscribes to every channel with listeners.
            return Future.succeededFuture(subscription);
        }
        return settled(subscriptionCommand(conn, Request.cmd(Command.SUBSCRIBE).arg(channel))).map(subscription);
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

    private Future<Void> unsubscribe(String channel, Listening listening) {
        boolean[] last = {false};
        listeners.computeIfPresent(channel, (c, list) -> {
            list.remove(listening);
            last[0] = list.isEmpty();
            return last[0] ? null : list;
        });
        RedisConnection conn = connection;
        if (!last[0] || conn == null) {
            return Future.succeededFuture();
        }
        return settled(subscriptionCommand(conn, Request.cmd(Command.UNSUBSCRIBE).arg(channel)));
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
            (conn == null ? Future.<Void>succeededFuture() : conn.close()).onComplete(promise);
        }));
    }

    private Future<Void> connect() {
        return subscriber.connect().compose(conn -> {
            if (closed) {
                conn.close();
                return Future.failedFuture("broker closed");
            }
            conn.handler(this::onPush);
            conn.exceptionHandler(error -> lost(conn, error.toString()));
            conn.endHandler(v -> lost(conn, "connection closed"));
            // Published before subscribing, so that a subscribe() racing with this reconnect either sees the
            // connection and subscribes itself, or is already in the listeners subscribed here (twice is harmless).
            connection = conn;
            Request subscribe = Request.cmd(Command.SUBSCRIBE);
            listeners.keySet().forEach(subscribe::arg);
            engineChannels.keySet().forEach(subscribe::arg);
            Future<Void> resubscribed = listeners.isEmpty() && engineChannels.isEmpty()
                    ? Future.succeededFuture() : settled(subscriptionCommand(conn, subscribe));
            return resubscribed.map(x -> conn);
        }).andThen(ar -> {
            if (ar.failed()) {
                if (connection == null) {
                    scheduleReconnect(ar.cause().toString());
                }
                return;
            }
            backoffMillis = MIN_BACKOFF_MILLIS;
            pingTimer = vertx.setPeriodic(PING_MILLIS, t -> ping(ar.result()));
            if (everConnected) {
                metrics.reconnected();
                LOG.info("Reconnected to Redis; resubscribed to {} auction channels", listeners.size());
            } else {
                LOG.info("Connected to Redis");
            }
            everConnected = true;
            // Also after a first connection that came late: whatever was meant for Redis meanwhile is written now.
            reconnectedActions.forEach(Runnable::run);
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
            vertx.cancelTimer(pingTimer);
            LOG.warn("Lost the Redis subscriber connection ({}); reconnecting", why);
            scheduleReconnect(why);
        });
    }

    private void scheduleReconnect(String why) {
        if (closed) {
            return;
        }
        long delay = backoffMillis;
        backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
        LOG.debug("Redis not reachable ({}); next try in {} ms", why, delay);
        vertx.setTimer(delay, t -> connect());
    }

    private void onPush(Response push) {
        lastHeardNanos = System.nanoTime();
        if (push == null || (push.type() != ResponseType.PUSH && push.type() != ResponseType.MULTI)) {
            // A reply whose command's promise was dropped (see settled), e.g. a PONG.
            return;
        }
        if (push.size() < 3 || !"message".equals(push.get(0).toString())) {
            return;
        }
        String channel = push.get(1).toString();
        Consumer<String> engineChannel = engineChannels.get(channel);
        if (engineChannel != null) {
            engineChannel.accept(push.get(2).toString());
            return;
        }
        AuctionId auction = RedisKeys.auctionOfChannel(channel);
        if (auction == null) {
            return;
        }
        String message = push.get(2).toString();
        for (Listening listening : listeners.getOrDefault(channel, List.of())) {
            listening.context.runOnContext(v -> {
                if (!ChannelMessage.decode(auction, message, listening.listener)) {
                    LOG.warn("Ignored a message of unknown shape on {}", channel);
                }
            });
        }
    }

    private record Listening(Context context, AuctionListener listener) {
    }
}
