package dev.gavel.redis;

import dev.gavel.core.BackendMetrics;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.List;

/**
 * A Redis client whose every command (or pipelined batch) is reported as one {@link BackendMetrics.Operation}. A
 * {@code NOSCRIPT} answer is not reported as a failure: the callers load the script and send again (Redis forgets
 * scripts when it restarts), so nothing failed.
 */
final class TimedRedis implements Redis {

    private final Redis redis;
    private final BackendMetrics metrics;
    private final BackendMetrics.Operation operation;

    TimedRedis(Redis redis, BackendMetrics metrics, BackendMetrics.Operation operation) {
        this.redis = redis;
        this.metrics = metrics;
        this.operation = operation;
    }

    @Override
    public Future<Response> send(Request command) {
        long sentAt = System.nanoTime();
        return timed(redis.send(command), sentAt);
    }

    @Override
    public Future<List<Response>> batch(List<Request> commands) {
        long sentAt = System.nanoTime();
        return timed(redis.batch(commands), sentAt);
    }

    private <T> Future<T> timed(Future<T> reply, long sentAt) {
        return reply.andThen(ar -> metrics.command(operation, System.nanoTime() - sentAt,
                ar.succeeded() || isNoScript(ar.cause())));
    }

    private static boolean isNoScript(Throwable error) {
        return error.getMessage() != null && error.getMessage().contains("NOSCRIPT");
    }

    @Override
    public Future<RedisConnection> connect() {
        return redis.connect();
    }

    /** Closes nothing: the client underneath belongs to the backend, which closes it. */
    @Override
    public Future<Void> close() {
        return Future.succeededFuture();
    }
}
