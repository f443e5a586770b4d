package dev.gavel.testkit;

import dev.gavel.core.Backend;
import dev.gavel.core.ViewerStats;
import dev.gavel.redis.RedisTarget;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.time.Clock;

/** The backend contract on the master of a Sentinel deployment (one master, one replica, three sentinels). */
class SentinelBackendContractIT extends BackendContract {

    private static SentinelFixture redis;

    @BeforeAll
    static void startRedis() {
        redis = SentinelFixture.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @Override
    protected Backend createBackend(Vertx vertx, Clock clock, long leaseMillis, dev.gavel.core.CountBy countBy) {
        return RedisExtension.connectedEngine(RedisTarget.sentinel(redis.sentinelUrls(), SentinelFixture.MASTER_NAME), vertx,
                clock, leaseMillis, ViewerStats.DEFAULT_INTERVAL_MILLIS, ViewerStats.DEFAULT_RETENTION_MILLIS, countBy);
    }
}
