package dev.gavel.testkit;

import dev.gavel.core.Backend;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Clock;

class RedisViewerStatsContractIT extends ViewerStatsContract {

    @RegisterExtension
    static final RedisExtension redis = new RedisExtension();

    @Override
    protected Backend createBackend(Vertx vertx, Clock clock, long leaseMillis, long intervalMillis, long retentionMillis) {
        redis.fixture().command("FLUSHALL");
        return redis.connectedEngine(vertx, clock, leaseMillis, intervalMillis, retentionMillis);
    }
}
