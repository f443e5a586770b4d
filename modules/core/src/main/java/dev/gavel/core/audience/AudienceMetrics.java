package dev.gavel.core.audience;

/**
 * What a replica's audience tells its metrics while it works. Calls come from every event loop and from the
 * reporter, on the hot path of fan-outs: implementations must be thread-safe, must not block, and should cost no
 * more than an atomic add. A fan-out is reported once with its number of viewers, never once per viewer.
 */
public interface AudienceMetrics {

    /** Reports nothing. */
    AudienceMetrics NONE = new AudienceMetrics() {
        @Override
        public void joined() {
        }

        @Override
        public void left(int viewers) {
        }

        @Override
        public void broadcast() {
        }

        @Override
        public void countsSent(int viewers) {
        }

        @Override
        public void eventDelivered(int viewers, long publishedAtMillis) {
        }
    };

    /** The replica saw a gap in an auction's events (a jump of its sequence numbers) and read it from the log. */
    default void gapRepaired() {
    }

    /**
     * One auction's count could not be written while the rest of the report was (its key in the store is broken, or
     * its shard is away): that auction's viewers keep their last count, the others are unaffected.
     */
    default void auctionReportFailed() {
    }

    /** The replica found events missing from an auction's log (trimmed, or lost by Redis): its viewers missed them. */
    default void gapUnrecoverable() {
    }

    /** A viewer joined an auction's room on this replica. */
    void joined();

    /** {@code viewers} viewers left their auctions' rooms on this replica (whatever the reason). */
    void left(int viewers);

    /** The replica sent an auction's new count to its event loops (once per coalesced broadcast and auction). */
    void broadcast();

    /** One event loop handed a count update to {@code viewers} viewers. */
    void countsSent(int viewers);

    /**
     * One event loop handed an event to {@code viewers} viewers.
     *
     * @param publishedAtMillis when the event was published, by the publishing replica's clock; 0 when not known
     */
    void eventDelivered(int viewers, long publishedAtMillis);
}
