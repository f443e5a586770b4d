package dev.gavel.testkit;

import dev.gavel.core.Backend;
import dev.gavel.core.ViewerStats;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Clock;

class RedisBackendContractIT extends BackendContract {

    @RegisterExtension
    static final RedisExtension redis = new RedisExtension();

    @Override
    protected Backend createBackend(Vertx vertx, Clock clock, long leaseMillis, dev.gavel.core.CountBy countBy) {
        return redis.connectedEngine(vertx, clock, leaseMillis, ViewerStats.DEFAULT_INTERVAL_MILLIS,
                ViewerStats.DEFAULT_RETENTION_MILLIS, countBy);
    }
}
