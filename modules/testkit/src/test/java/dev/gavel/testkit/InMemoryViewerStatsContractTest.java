package dev.gavel.testkit;

import dev.gavel.core.Backend;
import dev.gavel.core.memory.InMemoryBackend;
import io.vertx.core.Vertx;

import java.time.Clock;

class InMemoryViewerStatsContractTest extends ViewerStatsContract {

    @Override
    protected Backend createBackend(Vertx vertx, Clock clock, long leaseMillis, long intervalMillis, long retentionMillis) {
        return new InMemoryBackend(vertx, clock, leaseMillis, intervalMillis, retentionMillis, dev.gavel.core.EventLogSettings.DEFAULT,
                dev.gavel.core.CountBy.CONNECTION);
    }
}
