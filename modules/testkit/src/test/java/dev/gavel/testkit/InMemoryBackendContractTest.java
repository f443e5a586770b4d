package dev.gavel.testkit;

import dev.gavel.core.Backend;
import dev.gavel.core.memory.InMemoryBackend;
import io.vertx.core.Vertx;

import java.time.Clock;

class InMemoryBackendContractTest extends BackendContract {

    @Override
    protected Backend createBackend(Vertx vertx, Clock clock, long leaseMillis) {
        return new InMemoryBackend(vertx, clock, leaseMillis);
    }
}
