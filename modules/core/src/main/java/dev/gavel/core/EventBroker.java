package dev.gavel.core;

import io.vertx.core.Future;

/**
 * Carries an auction's events to every replica that has viewers in it, and keeps the newest of them in the auction's
 * log, so that a viewer or a replica that missed some can read them back.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>{@link #publish} appends the event to the auction's log, gives it the next offset, and hands it to every
 *       current subscriber of the auction in one atomic step (Redis: one script); it completes only once that step
 *       was done, and fails otherwise. An event is never silently dropped by a publisher that was told it
 *       succeeded.</li>
 *   <li>Offsets of one auction grow by one sequence number per event, the same on every replica; events and count
 *       changes of one auction reach each subscriber in the order they were published.</li>
 *   <li>Delivery to a subscriber is at most once: one that is cut off (Redis lost) misses what was published
 *       meanwhile, and is told {@link AuctionListener#onResubscribed} once it is back, so that it can {@link #read}
 *       what it missed. A subscriber that sees a sequence number jump can read the gap the same way.</li>
 *   <li>The log keeps {@link EventLogSettings#size} events per auction for {@link EventLogSettings#windowMillis}
 *       after its last event; its head (epoch, last sequence number, last bid) for
 *       {@link EventLogSettings#headMillis}. A log made anew (its backend lost it) has a new epoch.</li>
 *   <li>Listener callbacks run on the context that subscribed.</li>
 * </ul>
 */
public interface EventBroker {

    /** Appends {@code event} to the auction's log and hands it to every subscriber; completes with it at its offset. */
    Future<ViewerEvent> publish(AuctionId auction, ViewerEvent event);

    /**
     * The auction's events after {@code after}, oldest first, at most {@code limit} of them (the oldest ones past
     * {@code after}); with {@code after} null, its newest {@code limit} events. Reads the head and last bid with them.
     */
    Future<LogRead> read(AuctionId auction, EventOffset after, int limit);

    /**
     * Subscribes {@code listener} to the auction's events and count changes. The subscription holds across
     * losses of the connection to the broker: it is restored when the connection is, and the listener told so.
     * Completes once events published from now on reach the listener.
     */
    Future<Subscription> subscribe(AuctionId auction, AuctionListener listener);

    /** What a subscriber of one auction is told. */
    interface AuctionListener {

        /** An event published for the auction's viewers, with its offset. */
        void onEvent(ViewerEvent event);

        /** The auction's count changed. */
        void onCount(ViewerCount count);

        /**
         * The subscription was lost and is back (the broker's connection dropped, or Redis failed over): events
         * published meanwhile did not arrive, and are in the log.
         */
        void onResubscribed();
    }

    /** A subscription; ending it stops the listener being called. */
    interface Subscription {

        Future<Void> unsubscribe();
    }
}
