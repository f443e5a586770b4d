package dev.gavel.core;

import io.vertx.core.Future;

/**
 * Carries an auction's events to every replica that has viewers in it.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>{@link #publish} completes only once the event has been handed to every current subscriber of the
 *       auction (Redis: the PUBLISH was acknowledged), and fails otherwise; an event is never silently
 *       dropped by a publisher that was told it succeeded.</li>
 *   <li>Events and count changes of one auction reach each subscriber in the order they were published.</li>
 *   <li>Delivery is at most once: a subscriber that is cut off (Redis lost) misses what was published
 *       meanwhile. Counts heal on their own, since a replica re-reads them when it is reconnected.</li>
 *   <li>Listener callbacks run on the context that subscribed.</li>
 * </ul>
 */
public interface EventBroker {

    /** Hands {@code event} to every subscriber of {@code auction}. */
    Future<Void> publish(AuctionId auction, ViewerEvent event);

    /**
     * Subscribes {@code listener} to the auction's events and count changes. The subscription holds across
     * losses of the connection to the broker: it is restored when the connection is.
     */
    Future<Subscription> subscribe(AuctionId auction, AuctionListener listener);

    /** What a subscriber of one auction is told. */
    interface AuctionListener {

        /** An event published for the auction's viewers. */
        void onEvent(ViewerEvent event);

        /** The auction's count changed. */
        void onCount(ViewerCount count);
    }

    /** A subscription; ending it stops the listener being called. */
    interface Subscription {

        Future<Void> unsubscribe();
    }
}
