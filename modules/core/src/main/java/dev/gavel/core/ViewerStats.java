package dev.gavel.core;

import io.vertx.core.Future;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Audience figures of auctions beyond the live count: distinct viewers, a history of the count, and which
 * auctions are being watched. Replicas write it in batches, so its load grows with auctions and replicas,
 * never with viewers.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>Unique viewers are estimated in bounded memory per auction (a HyperLogLog): the standard error is
 *       about 0.81%, small counts are exact in practice. A viewer id added twice, by any replica, counts once.
 *       The tally is kept for the retention after the last id was added; an implementation whose memory is the
 *       node's own may forget auctions that nobody watches sooner, least recently watched first, once they hold
 *       more than its stated bound (never an auction marked as watched within the activity lease).</li>
 *   <li>History holds at most one sample per auction per interval, however many replicas sample: the first
 *       sample offered for an interval wins, later ones for the same or an earlier interval are dropped.
 *       Samples older than the retention are dropped.</li>
 *   <li>{@link #activeAuctions} answers every auction that a replica marked as watched within the activity
 *       lease; it may also answer auctions that were left meanwhile, so a caller checks their counts.</li>
 *   <li>When the backend is unreachable, futures fail and nothing is half-written; a writer offers its batch
 *       again.</li>
 * </ul>
 */
public interface ViewerStats {

    /** One sample per auction per 10 s unless configured otherwise. */
    long DEFAULT_INTERVAL_MILLIS = 10_000;

    /** Samples and tallies are kept a day unless configured otherwise. */
    long DEFAULT_RETENTION_MILLIS = 24L * 60 * 60 * 1000;

    /**
     * Adds viewer ids to auctions' unique viewer tallies, and marks those auctions as watched. One call carries
     * a replica's batch for many auctions.
     */
    Future<Void> addViewers(Map<AuctionId, Set<String>> viewerIds, long nowMillis);

    /**
     * Offers one history sample of each auction's current count, for the interval that contains
     * {@code nowMillis}, and marks those auctions as watched. An interval that already has a sample keeps it.
     */
    Future<Void> sample(Collection<AuctionId> watched, long nowMillis);

    /** The estimated number of distinct viewer ids ever added to the auction within the retention; 0 if none. */
    Future<Long> uniqueViewers(AuctionId auction);

    /** The auction's samples with {@code from <= timestamp <= to}, oldest first. */
    Future<List<HistorySample>> history(AuctionId auction, long fromMillis, long toMillis);

    /** Auctions marked as watched within the activity lease; a superset of those with viewers now. */
    Future<Set<AuctionId>> activeAuctions(long nowMillis);

    /** The sampling interval: one sample per auction per this many ms. */
    long intervalMillis();

    /** How long a mark as watched holds: a replica renews it every interval, so three intervals survive a miss. */
    static long activityLeaseMillis(long intervalMillis) {
        return 3 * intervalMillis;
    }
}
