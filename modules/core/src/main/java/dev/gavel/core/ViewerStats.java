package dev.gavel.core;

import io.vertx.core.Future;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Audience figures of auctions beyond the live count: distinct viewers, a history of the count, and which
 * auctions are being watched. Replicas write it in batches when viewers join and counts change, so its load grows
 * with auctions and replicas, never with viewers, and is nothing at rest.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>Unique viewers are estimated in bounded memory per auction (a HyperLogLog): the standard error is
 *       about 0.81%, small counts are exact in practice. A viewer id added twice, by any replica, counts once.
 *       The tally is kept for the retention after the last id was added; an implementation whose memory is the
 *       node's own may forget auctions that nobody watches sooner, least recently watched first, once they hold
 *       more than its stated bound (never an auction that has viewers now).</li>
 *   <li>History has one sample per auction per interval in which the auction had viewers, for the whole cluster: the
 *       highest count announced in the interval (at its start or after a change in it). It is kept as a step
 *       function of the announced count, written by the {@link PresenceStore} when the count changes, so nothing is
 *       written for it while nothing changes; readers fill in the intervals between steps. Intervals older than the
 *       retention are not answered.</li>
 *   <li>{@link #activeAuctions} answers every auction that a live replica holds viewers in, read on request (nothing is
 *       written at rest to keep it); it may also answer auctions that were left meanwhile, so a caller checks their
 *       counts.</li>
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
     * Adds viewer ids to auctions' unique viewer tallies. One call carries a replica's batch for many auctions.
     */
    Future<Void> addViewers(Map<AuctionId, Set<String>> viewerIds, long nowMillis);

    /** The estimated number of distinct viewer ids ever added to the auction within the retention; 0 if none. */
    Future<Long> uniqueViewers(AuctionId auction);

    /**
     * The auction's samples with {@code from <= timestamp <= to}, oldest first, as of {@code nowMillis}: up to the
     * interval that contains it, back to the retention.
     */
    Future<List<HistorySample>> history(AuctionId auction, long fromMillis, long toMillis, long nowMillis);

    /** Auctions that live replicas hold viewers in; a superset of those with viewers now. */
    Future<Set<AuctionId>> activeAuctions(long nowMillis);

    /** The sampling interval: one sample per auction per this many ms. */
    long intervalMillis();
}
