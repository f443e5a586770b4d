package dev.gavel.core.memory;

import dev.gavel.core.AuctionRegistry;
import dev.gavel.core.Backend;
import dev.gavel.core.CountBy;
import dev.gavel.core.EventBroker;
import dev.gavel.core.EventLogSettings;
import dev.gavel.core.PresenceStore;
import dev.gavel.core.ReplicaQueries;
import dev.gavel.core.ViewerStats;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Clock;

/** A complete single node with nothing external: counts and events live in this process. */
public final class InMemoryBackend implements Backend {

    private final InMemoryEventBroker broker;
    private final InMemoryPresenceStore presence;
    private final InMemoryViewerStats stats;
    private final InMemoryAuctionRegistry auctions = new InMemoryAuctionRegistry();
    private final InMemoryReplicaQueries queries = new InMemoryReplicaQueries();

    /** A backend whose stats sample every {@link ViewerStats#DEFAULT_INTERVAL_MILLIS} and keep the default retention. */
    public InMemoryBackend(Vertx vertx, Clock clock, long leaseMillis) {
        this(vertx, clock, leaseMillis, ViewerStats.DEFAULT_INTERVAL_MILLIS, ViewerStats.DEFAULT_RETENTION_MILLIS,
                EventLogSettings.DEFAULT, CountBy.CONNECTION);
    }

    /**
     * @param historyIntervalMillis  one audience history sample per auction per this interval
     * @param historyRetentionMillis how long samples and unique viewer tallies are kept
     * @param log                    how much of each auction's events is kept, and for how long
     * @param countBy                what an auction's count counts
     */
    public InMemoryBackend(Vertx vertx, Clock clock, long leaseMillis, long historyIntervalMillis, long historyRetentionMillis,
                          EventLogSettings log, CountBy countBy) {
        this.broker = new InMemoryEventBroker(vertx, clock, log);
        this.presence = new InMemoryPresenceStore(clock, leaseMillis, broker, InMemoryPresenceStore.DEFAULT_IDLE_AUCTIONS_MAX, countBy);
        this.stats = new InMemoryViewerStats(historyIntervalMillis, historyRetentionMillis);
        presence.onCountChange(stats::changed);
    }

    /**
     * What this backend holds for auctions, against its bounds: the stats' tallies keep at most
     * {@link #STATS_IDLE_BYTES_MAX} for auctions nobody watches, presence at most {@link #PRESENCE_IDLE_AUCTIONS_MAX}.
     */
    public record Retained(long statsBytes, int statsAuctions, int presenceAuctions) {
    }

    public static final long STATS_IDLE_BYTES_MAX = InMemoryViewerStats.DEFAULT_IDLE_BYTES_MAX;
    public static final int PRESENCE_IDLE_AUCTIONS_MAX = InMemoryPresenceStore.DEFAULT_IDLE_AUCTIONS_MAX;

    public Retained retained() {
        return new Retained(stats.retainedBytes(), stats.trackedAuctions(), presence.trackedAuctions());
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
    public ReplicaQueries queries() {
        return queries;
    }

    @Override
    public boolean isReady() {
        return true;
    }

    @Override
    public void onReconnected(Runnable action) {
        // Nothing to lose: the backend lives in this process.
    }

    @Override
    public Future<Void> close() {
        return Future.succeededFuture();
    }
}
