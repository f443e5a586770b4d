package dev.gavel.testkit;

import dev.gavel.core.Engine;
import dev.gavel.redis.RedisEngine;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Clock;
import java.util.concurrent.TimeUnit;

class RedisViewerStatsContractIT extends ViewerStatsContract {

    private static RedisFixture redis;

    @BeforeAll
    static void startRedis() {
        redis = RedisFixture.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @Override
    protected Engine createEngine(Vertx vertx, Clock clock, long leaseMillis, long intervalMillis, long retentionMillis) {
        redis.command("FLUSHALL");
        RedisEngine engine = RedisEngine.create(vertx, redis.url(), clock, leaseMillis, intervalMillis, retentionMillis);
        try {
            engine.connect().await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return engine;
    }
}
