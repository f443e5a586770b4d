package dev.gavel.core;

import io.vertx.core.Future;

/**
 * A presence store and an event broker over one backend: in memory for a single node, or Redis for a
 * cluster of replicas.
 */
public interface Backend {

    PresenceStore presence();

    EventBroker broker();

    /** Unique viewers, audience history and watched auctions, on the same backend. */
    ViewerStats stats();

    /** The auctions an admin opened for viewers, on the same backend. */
    AuctionRegistry auctions();

    /** Questions to the other replicas (who is watching), over the same backend. */
    ReplicaQueries queries();

    /** True while the backend answers; a replica is ready to take viewers only then. */
    boolean isReady();

    /**
     * Why the backend refuses this replica's subscriptions now (so that its viewers, or those of some auctions, get no
     * events), or null while it takes them. Any thread.
     */
    default String subscriptionsRefused() {
        return null;
    }

    /**
     * Called after a lost connection to the backend came back and the subscriptions were restored; whatever
     * was written while it was away may be gone, so the node writes its entries again.
     */
    void onReconnected(Runnable action);

    Future<Void> close();
}
