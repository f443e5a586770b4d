package dev.gavel.testkit;

import dev.gavel.core.Engine;
import dev.gavel.core.InMemoryEngine;
import io.vertx.core.Vertx;

import java.time.Clock;

class InMemoryEngineContractTest extends EngineContract {

    @Override
    protected Engine createEngine(Vertx vertx, Clock clock, long leaseMillis) {
        return new InMemoryEngine(vertx, clock, leaseMillis);
    }
}
