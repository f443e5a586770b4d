package dev.gavel.core;

import io.vertx.core.Future;

import java.util.function.Consumer;

/**
 * The auctions an admin opened for viewers, shared by every replica. Each replica answers {@link #isOpen} from a
 * local copy (no I/O per viewer); {@link #open} and {@link #close} change the shared registry and reach every
 * replica's copy.
 *
 * <p>What callers may rely on:
 * <ul>
 *   <li>{@link #open} and {@link #close} are idempotent. Once their future succeeded, the change is stored and this
 *       replica's copy shows it (Redis: unless the change did not come back on pub/sub within a second, when the
 *       future succeeds anyway and the copy follows as soon as it does, or on the next reconnect). They
 *       fail when the backend is away; a caller that gave up waiting cannot tell whether the change was made, and
 *       may simply call again.</li>
 *   <li>Every other replica's copy shows a change within the pub/sub delivery time (milliseconds). A replica cut
 *       off from the backend misses changes while it is; it keeps answering from its last copy, and reloads the
 *       whole registry once it is back, so that it agrees again within moments of its reconnect.</li>
 *   <li>Changes reach each replica in the order the backend made them; a replica's copy never goes back to an
 *       older state.</li>
 *   <li>Every {@link #close} is announced to the {@link #onClosed} listeners of every replica, whether or not the
 *       auction was open (an auction watched without being opened can still be closed). An auction found closed
 *       by a reload after a reconnect is announced too.</li>
 *   <li>Redis: the registry survives a restart of Redis that lost its data while any replica still holds a copy;
 *       the first replica to reload writes its copy back.</li>
 * </ul>
 */
public interface AuctionRegistry {

    /** True when the auction is open, by this replica's copy. Any thread; never blocks. */
    boolean isOpen(AuctionId auction);

    /** Opens the auction for viewers. The future says whether it was open already. */
    Future<Boolean> open(AuctionId auction);

    /** Closes the auction and has every replica send its viewers away. The future says whether it was open. */
    Future<Boolean> close(AuctionId auction);

    /**
     * Calls {@code listener} with each auction closed from now on, on any replica (this one included), after this
     * replica's copy shows it closed. The listener may run on any thread.
     */
    void onClosed(Consumer<AuctionId> listener);
}
