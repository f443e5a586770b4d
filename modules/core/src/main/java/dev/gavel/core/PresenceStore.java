package dev.gavel.core;

import io.vertx.core.Future;

import java.util.Map;

/**
 * Where each replica's viewer count per auction is kept, and summed into the auction's {@link ViewerCount}.
 *
 * <p>A replica reports its own local counts; it never reports single viewers. Each entry it reports is a
 * lease: an entry not reported again within the store's lease time stops counting, so the viewers of a
 * replica that died without cleaning up vanish from the counts on their own.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>Each report of one auction is atomic: writing the entry, dropping expired entries, summing and
 *       raising the peak happen together, so two replicas reporting at once never lose an update.</li>
 *   <li>The peak is only ever raised to a number of viewers that were really connected at one moment: the sum
 *       of entries that were current together, a single replica's own count, or a peak the store itself told a
 *       replica earlier ({@link LocalCount#knownPeak}), so a peak survives a store that lost it while any
 *       replica still knows it. While the sum may mix an old entry of one replica with a newer one of another
 *       (a report arrived late), the peak is not raised to it and {@code current} is shown no higher than the
 *       peak; see the implementation for how that is recognised.</li>
 *   <li>When a report or a read changes an auction's {@code current} or {@code peak}, the new count is
 *       announced to every subscriber of the auction on the {@link EventBroker}, in the order the changes
 *       were made, with a {@link ViewerCount#version() version} that grows with each change.</li>
 *   <li>A count is exact as of the last report of each replica; it lags a replica's local changes by
 *       that replica's flush interval, and a dead replica's share by at most the lease time.</li>
 *   <li>When the store is unreachable or refuses writes (e.g. Redis out of memory), futures fail, nothing is
 *       half-written and nothing is announced. The caller reports again.</li>
 * </ul>
 */
public interface PresenceStore {

    /**
     * One replica's share of an auction.
     *
     * @param viewers   its viewers in the auction now, never negative
     * @param knownPeak the auction's peak as the store last told this replica (0 if never): the store raises its
     *                  peak to at least this, which keeps a peak across a store that lost its data
     */
    record LocalCount(long viewers, long knownPeak) {
    }

    /**
     * Sets this replica's entries: for each auction, {@code nodeId} has that many viewers (0 removes the
     * entry), and the lease of each entry is renewed. A negative number of viewers fails the whole report.
     *
     * @return each reported auction's count after its update. A store spread over shards may leave out the auctions
     *         of a shard that failed (nothing of theirs was written, and the caller reports them again); it fails the
     *         report only when nothing could be written.
     */
    Future<Map<AuctionId, ViewerCount>> report(String nodeId, Map<AuctionId, LocalCount> local);

    /**
     * The auction's count now, after dropping expired entries; a count of 0 for an auction never seen (or, in a store
     * that bounds what it keeps of auctions without viewers, one forgotten since).
     */
    Future<ViewerCount> read(AuctionId auction);

    /**
     * The auction's count as replica {@code nodeId}, which holds {@code localViewers} of it, may tell it: the sum with
     * that replica's own entry replaced by what it knows (its entry may be missing, e.g. in a Redis restarted empty
     * before the replica wrote it back, or lag by a flush interval). A store of one replica: {@link #read}.
     */
    default Future<ViewerCount> read(AuctionId auction, String nodeId, long localViewers) {
        return read(auction);
    }

    /**
     * The replicas that hold an entry of the auction whose lease has not run out, and the viewers each reported: who to
     * ask about the auction's viewers, and what a replica that does not answer holds.
     */
    Future<Map<String, Long>> replicas(AuctionId auction);

    /**
     * Removes every entry that {@code nodeId} holds, announcing the corrected counts. A replica calls it when
     * it stops, and when it starts, so that a replica restarted under the same id does not count twice.
     */
    Future<Void> removeNode(String nodeId);
}
