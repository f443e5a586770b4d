package dev.gavel.testkit;

import dev.gavel.core.Backend;
import dev.gavel.core.memory.InMemoryBackend;
import io.vertx.core.Vertx;

import java.time.Clock;

class InMemoryBackendContractTest extends BackendContract {

    @Override
    protected Backend createBackend(Vertx vertx, Clock clock, long leaseMillis, dev.gavel.core.CountBy countBy) {
        return new InMemoryBackend(vertx, clock, leaseMillis, dev.gavel.core.ViewerStats.DEFAULT_INTERVAL_MILLIS,
                dev.gavel.core.ViewerStats.DEFAULT_RETENTION_MILLIS, dev.gavel.core.EventLogSettings.DEFAULT, countBy);
    }

    @Override
    protected boolean backendsAreReplicasOfOneStore() {
        return false;
    }
}
