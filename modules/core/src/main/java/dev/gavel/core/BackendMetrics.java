package dev.gavel.core;

import dev.gavel.core.audience.AudienceMetrics;
import io.vertx.core.Future;

import java.util.Locale;
import java.util.function.Supplier;

/**
 * What a backend tells a replica's metrics about its backend: how long each kind of command takes and whether it
 * failed, and how often the connection was restored. Thread-safe and cheap, like {@link AudienceMetrics}.
 */
public interface BackendMetrics {

    /** Reports nothing. */
    BackendMetrics NONE = new BackendMetrics() {
        @Override
        public void command(Operation operation, long nanos, boolean succeeded) {
        }

        @Override
        public void reconnected() {
        }
    };

    /** The kinds of work a backend sends to its backend: a small fixed set, so that each is one metric series. */
    enum Operation {
        /**
         * Writing this replica's counts (the report script; also reading a count, reading which replicas hold an
         * auction's viewers, and removing a node's entries).
         */
        REPORT,
        /** Publishing an event for viewers (appending it to the auction's log and announcing it). */
        PUBLISH,
        /** Reading an auction's event log: a replica or a viewer catching up on what it missed. */
        LOG,
        /** Subscribing to or unsubscribing from an auction's channel. */
        SUBSCRIBE,
        /** The subscriber connection's liveness check. */
        PING,
        /** Unique viewers, audience history and the watched-auctions index. */
        STATS,
        /** Questions to other replicas and their answers (who is watching, and where). */
        QUERY;

        /** The name used in metrics: lower case. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One command (or pipelined batch) of {@code operation} completed after {@code nanos}. */
    void command(Operation operation, long nanos, boolean succeeded);

    /** The connection to the backend was lost and is back. */
    void reconnected();

    /** The backend refused a subscription (an error reply to {@code SUBSCRIBE}/{@code SSUBSCRIBE}, e.g. an ACL's). */
    default void subscriptionRefused() {
    }

    /** Sends {@code command} and reports its latency and outcome when it completes. */
    default <T> Future<T> timed(Operation operation, Supplier<Future<T>> command) {
        long start = System.nanoTime();
        return command.get().andThen(ar -> command(operation, System.nanoTime() - start, ar.succeeded()));
    }
}
