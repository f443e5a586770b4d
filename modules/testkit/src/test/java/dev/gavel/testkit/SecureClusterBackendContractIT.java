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
 * The backend contract on a Redis Cluster that speaks only TLS (clients, replication, cluster bus), as the Cluster ACL
 * user of docs/redis.md, trusting the test's CA: every node is reached at the address the cluster announces, and its
 * certificate must name it.
 */
class SecureClusterBackendContractIT extends BackendContract {

    private static ClusterFixture redis;
    private static String password;

    @BeforeAll
    static void startRedis() throws IOException {
        redis = ClusterFixture.startSecure();
        password = redis.addGavelUser(TlsRedisBackendContractIT.documentedRules("+spublish"));
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @Override
    protected Backend createBackend(Vertx vertx, Clock clock, long leaseMillis, dev.gavel.core.CountBy countBy) {
        return RedisExtension.connectedEngine(RedisTarget.cluster(redis.seedUrls(password)).withTlsCa(redis.caFile()), vertx,
                clock, leaseMillis, ViewerStats.DEFAULT_INTERVAL_MILLIS, ViewerStats.DEFAULT_RETENTION_MILLIS, countBy);
    }
}
