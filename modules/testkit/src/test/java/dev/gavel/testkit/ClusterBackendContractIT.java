package dev.gavel.testkit;

import dev.gavel.core.Backend;
import dev.gavel.core.ViewerStats;
import dev.gavel.redis.RedisTarget;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.time.Clock;

/**
 * The backend contract on a Redis Cluster (three masters, one replica each), through sharded pub/sub, as the ACL user
 * of docs/redis.md's Cluster line (its rules read from that file).
 */
class ClusterBackendContractIT extends BackendContract {

    private static ClusterFixture redis;
    private static String password;

    @BeforeAll
    static void startRedis() throws IOException {
        redis = ClusterFixture.start();
        password = redis.addGavelUser(TlsRedisBackendContractIT.documentedRules("+spublish"));
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @Override
    protected Backend createBackend(Vertx vertx, Clock clock, long leaseMillis, dev.gavel.core.CountBy countBy) {
        return RedisExtension.connectedEngine(RedisTarget.cluster(redis.seedUrls(password)), vertx, clock, leaseMillis,
                ViewerStats.DEFAULT_INTERVAL_MILLIS, ViewerStats.DEFAULT_RETENTION_MILLIS, countBy);
    }
}
