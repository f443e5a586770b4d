package dev.gavel.core;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Clock;

/** A complete single node with nothing external: counts and events live in this process. */
public final class InMemoryEngine implements Engine {

    private final InMemoryEventBroker broker;
    private final InMemoryPresenceStore presence;
    private final InMemoryViewerStats stats;
    private final InMemoryAuctionRegistry auctions = new InMemoryAuctionRegistry();

    /** An engine whose stats sample every {@link ViewerStats#DEFAULT_INTERVAL_MILLIS} and keep the default retention. */
    public InMemoryEngine(Vertx vertx, Clock clock, long leaseMillis) {
        this(vertx, clock, leaseMillis, ViewerStats.DEFAULT_INTERVAL_MILLIS, ViewerStats.DEFAULT_RETENTION_MILLIS,
                EventLogSettings.DEFAULT);
    }

    /**
     * @param historyIntervalMillis  one audience history sample per auction per this interval
     * @param historyRetentionMillis how long samples and unique viewer tallies are kept
     * @param log                    how much of each auction's events is kept, and for how long
     */
    public InMemoryEngine(Vertx vertx, Clock clock, long leaseMillis, long historyIntervalMillis, long historyRetentionMillis,
                          EventLogSettings log) {
        this.broker = new InMemoryEventBroker(vertx, clock, log);
        this.presence = new InMemoryPresenceStore(clock, leaseMillis, broker);
        this.stats = new InMemoryViewerStats(presence, historyIntervalMillis, historyRetentionMillis);
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
    public ViewerStats stats() {
        return stats;
    }

    @Override
    public AuctionRegistry auctions() {
        return auctions;
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
