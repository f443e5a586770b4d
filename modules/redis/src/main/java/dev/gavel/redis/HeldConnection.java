package dev.gavel.redis;

import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.List;

/**
 * One connection of a client, held and used for every command until it is lost, then replaced on the next
 * command. Commands sent from one thread go out in the order they were sent. (vertx-redis-client's own
 * {@code send} takes a connection per command; in Sentinel mode that means looking the master up again,
 * asynchronously on the caller's context, and commands overtake each other.)
 *
 * <p>A master that was demoted while the connection stayed up answers writes with {@code READONLY}: the connection
 * is dropped then too, so the next command finds the master the sentinels name now.
 */
final class HeldConnection implements Redis {

    private final Redis client;
    private Future<RedisConnection> connection;

    HeldConnection(Redis client) {
        this.client = client;
    }

    @Override
    public Future<Response> send(Request command) {
        Future<RedisConnection> held = held();
        return held.compose(conn -> conn.send(command)).andThen(ar -> dropIfDemoted(held, ar.cause()));
    }

    @Override
    public Future<List<Response>> batch(List<Request> commands) {
        Future<RedisConnection> held = held();
        return held.compose(conn -> conn.batch(commands)).andThen(ar -> dropIfDemoted(held, ar.cause()));
    }

    private synchronized Future<RedisConnection> held() {
        if (connection == null || connection.failed()) {
            Future<RedisConnection> connecting = client.connect();
            connection = connecting;
            connecting.onSuccess(conn -> {
                conn.exceptionHandler(error -> {
                    lost(connecting);
                    conn.close();
                });
                conn.endHandler(v -> lost(connecting));
            });
        }
        return connection;
    }

    private synchronized void lost(Future<RedisConnection> which) {
        if (connection == which) {
            connection = null;
        }
    }

    private void dropIfDemoted(Future<RedisConnection> held, Throwable error) {
        if (error != null && error.getMessage() != null && error.getMessage().startsWith("READONLY") && held.succeeded()) {
            lost(held);
            held.result().close();
        }
    }

    /** A connection of its own, not the held one. */
    @Override
    public Future<RedisConnection> connect() {
        return client.connect();
    }

    @Override
    public Future<Void> close() {
        Future<RedisConnection> held;
        synchronized (this) {
            held = connection;
            connection = null;
        }
        Future<Void> closed = held == null || !held.succeeded() ? Future.succeededFuture() : held.result().close();
        return closed.eventually(client::close);
    }
}
