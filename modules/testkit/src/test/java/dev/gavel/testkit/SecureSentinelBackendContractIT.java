package dev.gavel.testkit;

import dev.gavel.core.Backend;
import dev.gavel.core.ViewerStats;
import dev.gavel.redis.RedisTarget;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Clock;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The backend contract on a Sentinel deployment that speaks only TLS and has no default user: Gavel logs in to the
 * sentinels and to the master as the user {@code gavel}, with the rules docs/redis.md gives for each.
 */
class SecureSentinelBackendContractIT extends BackendContract {

    private static SentinelFixture redis;

    @BeforeAll
    static void startRedis() throws IOException {
        redis = SentinelFixture.startSecure(TlsRedisBackendContractIT.documentedRules(),
                TlsRedisBackendContractIT.documentedRules("+sentinel|"));
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @Override
    protected Backend createBackend(Vertx vertx, Clock clock, long leaseMillis, dev.gavel.core.CountBy countBy) {
        return RedisExtension.connectedEngine(RedisTarget.sentinel(redis.sentinelUrls(), SentinelFixture.MASTER_NAME)
                        .withTlsCa(redis.caFile()), vertx, clock, leaseMillis, ViewerStats.DEFAULT_INTERVAL_MILLIS,
                ViewerStats.DEFAULT_RETENTION_MILLIS, countBy);
    }

    @Test
    void aNodeConfiguredWithTheSentinelsOverTlsIsReady() {
        try (Cluster cluster = Cluster.start(null, 1, Map.of("REDIS_SENTINELS", redis.sentinelAddresses(),
                "REDIS_MASTER_NAME", SentinelFixture.MASTER_NAME, "REDIS_TLS_CA", redis.caFile().toString()))) {
            ApiClient.Answer ready = ApiClient.get(cluster.port(0), "/health/ready");
            assertEquals(200, ready.status(), ready.toString());
            // readiness is the replica's own; whether it reached Redis over TLS is the body's "store"
            assertEquals("UP", ready.json().getString("store"), ready.toString());
        }
    }
}
