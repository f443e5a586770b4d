package dev.gavel.redis;

import dev.gavel.core.EngineMetrics;
import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.List;

/** A Redis client whose every command (or pipelined batch) is reported as one {@link EngineMetrics.Operation}. */
final class TimedRedis implements Redis {

    private final Redis redis;
    private final EngineMetrics metrics;
    private final EngineMetrics.Operation operation;

    TimedRedis(Redis redis, EngineMetrics metrics, EngineMetrics.Operation operation) {
        this.redis = redis;
        this.metrics = metrics;
        this.operation = operation;
    }

    @Override
    public Future<Response> send(Request command) {
        return metrics.timed(operation, () -> redis.send(command));
    }

    @Override
    public Future<List<Response>> batch(List<Request> commands) {
        return metrics.timed(operation, () -> redis.batch(commands));
    }

    @Override
    public Future<RedisConnection> connect() {
        return redis.connect();
    }

    /** Closes nothing: the client underneath belongs to the engine, which closes it. */
    @Override
    public Future<Void> close() {
        return Future.succeededFuture();
    }
}
