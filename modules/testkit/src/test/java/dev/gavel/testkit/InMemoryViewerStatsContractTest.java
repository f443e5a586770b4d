package dev.gavel.testkit;

import dev.gavel.core.Engine;
import dev.gavel.core.InMemoryEngine;
import io.vertx.core.Vertx;

import java.time.Clock;

class InMemoryViewerStatsContractTest extends ViewerStatsContract {

    @Override
    protected Engine createEngine(Vertx vertx, Clock clock, long leaseMillis, long intervalMillis, long retentionMillis) {
        return new InMemoryEngine(vertx, clock, leaseMillis, intervalMillis, retentionMillis, dev.gavel.core.EventLogSettings.DEFAULT);
    }
}
