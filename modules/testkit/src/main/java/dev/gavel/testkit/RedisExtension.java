package dev.gavel.testkit;

import dev.gavel.core.BackendMetrics;
import dev.gavel.core.CountBy;
import dev.gavel.redis.RedisBackend;
import dev.gavel.redis.RedisTarget;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.time.Clock;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis for a test class ({@link RedisFixture}), started before its first test and stopped after its last:
 *
 * <pre>
 * &#64;RegisterExtension
 * static final RedisExtension redis = new RedisExtension();
 * </pre>
 */
public final class RedisExtension implements BeforeAllCallback, AfterAllCallback {

    private RedisFixture redis;

    @Override
    public void beforeAll(ExtensionContext context) {
        redis = RedisFixture.start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        redis.close();
    }

    public RedisFixture fixture() {
        return redis;
    }

    /** A Redis backend on this Redis, connected. */
    public RedisBackend connectedEngine(Vertx vertx, Clock clock, long leaseMillis, long historyIntervalMillis,
                                       long historyRetentionMillis) {
        return connectedEngine(vertx, clock, leaseMillis, historyIntervalMillis, historyRetentionMillis, CountBy.CONNECTION);
    }

    /** A Redis backend on this Redis, connected, counting {@code countBy}. */
    public RedisBackend connectedEngine(Vertx vertx, Clock clock, long leaseMillis, long historyIntervalMillis,
                                       long historyRetentionMillis, CountBy countBy) {
        return connectedEngine(RedisTarget.standalone(redis.url()), vertx, clock, leaseMillis, historyIntervalMillis,
                historyRetentionMillis, countBy);
    }

    /** A Redis backend on {@code target}, connected. */
    public static RedisBackend connectedEngine(RedisTarget target, Vertx vertx, Clock clock, long leaseMillis,
                                              long historyIntervalMillis, long historyRetentionMillis) {
        return connectedEngine(target, vertx, clock, leaseMillis, historyIntervalMillis, historyRetentionMillis, CountBy.CONNECTION);
    }

    /** A Redis backend on {@code target}, connected, counting {@code countBy}. */
    public static RedisBackend connectedEngine(RedisTarget target, Vertx vertx, Clock clock, long leaseMillis,
                                              long historyIntervalMillis, long historyRetentionMillis, CountBy countBy) {
        RedisBackend backend = RedisBackend.create(vertx, target, clock, leaseMillis, historyIntervalMillis,
                historyRetentionMillis, dev.gavel.core.EventLogSettings.DEFAULT, BackendMetrics.NONE, countBy);
        try {
            backend.connect().await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("could not connect to the test Redis (" + target + ")", e);
        }
        return backend;
    }
}
