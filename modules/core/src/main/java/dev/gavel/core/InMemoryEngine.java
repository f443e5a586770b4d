package dev.gavel.core;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Clock;

/** A complete single node with nothing external: counts and events live in this process. */
public final class InMemoryEngine implements Engine {

    private final InMemoryEventBroker broker;
    private final InMemoryPresenceStore presence;

    public InMemoryEngine(Vertx vertx, Clock clock, long leaseMillis) {
        this.broker = new InMemoryEventBroker(vertx);
        this.presence = new InMemoryPresenceStore(clock, leaseMillis, broker);
    }

    @Override
    public PresenceStore presence() {
        return presence;
    }

    @Override
    public EventBroker broker() {
        return broker;
    }

    @Override
    public boolean isReady() {
        return true;
    }

    @Override
    public void onReconnected(Runnable action) {
        // Nothing to lose: the engine lives in this process.
    }

    @Override
    public Future<Void> close() {
        return Future.succeededFuture();
    }
}
