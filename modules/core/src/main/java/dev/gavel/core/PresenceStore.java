package dev.gavel.core;

import io.vertx.core.Future;

import java.util.Map;

/**
 * Where each replica's share of every auction's audience is kept, and summed into the auction's {@link ViewerCount}.
 *
 * <p>A replica reports its own local counts and, for persons, only who arrived (their first tab on this replica) and who
 * left (their last); it never reports single connections. It proves that it is alive with one {@link #heartbeat} per
 * heartbeat interval, whatever the number of auctions: an entry counts while its replica's last heartbeat is younger
 * than the store's lease, so the share of a replica that died without cleaning up stops counting on its own, and the
 * first heartbeat of another replica after that removes it and announces the corrected counts.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>Each report of one auction is atomic: writing the entry and its persons, dropping the entries of replicas that
 *       are not alive, summing and raising the peak happen together, so two replicas reporting at once never lose an
 *       update. Every read is exact in the same way: it never counts a replica that is not alive.</li>
 *   <li>A person held by several replicas counts once; it stops counting when the last replica holding it reported
 *       its departure or stopped being alive. {@code connections} and {@code people} are both kept whatever
 *       {@link #countBy()} says; {@code current} and {@code peak} count what it says.</li>
 *   <li>The peak is only ever raised to a number that was really reached at one moment: the sum of entries that were
 *       current together, a single replica's own count, or a peak the store itself told a replica earlier
 *       ({@link LocalCount#knownPeak}), so a peak survives a store that lost it while any replica still knows it. While
 *       the sum may mix an old entry of one replica with a newer one of another (a report arrived late), the peak is not
 *       raised to it and {@code current} is shown no higher than the peak; see the implementation for how that is
 *       recognised.</li>
 *   <li>When a report, a read or a heartbeat changes an auction's {@code current} or {@code peak}, the new count is
 *       announced to every subscriber of the auction on the {@link EventBroker}, in the order the changes were made,
 *       with a {@link ViewerCount#version() version} that grows with each change.</li>
 *   <li>A count is exact as of the last report of each replica; it lags a replica's local changes by that replica's
 *       flush interval, and a dead replica's share by at most the lease time.</li>
 *   <li>A replica that was found dead (its heartbeat lapsed and its entries were removed) is told so by its next
 *       heartbeat, and its reports are refused with {@link NotAliveException} until then: it writes all its entries
 *       again, complete.</li>
 *   <li>When the store is unreachable or refuses writes (e.g. Redis out of memory), futures fail, nothing is
 *       half-written and nothing is announced. The caller reports again.</li>
 * </ul>
 */
public interface PresenceStore {

    /** A replica that keeps an entry unchanged writes it again at least this often (a store may expire quiet keys). */
    long RENEW_MILLIS = 60L * 60 * 1000;

    /**
     * One replica's share of an auction.
     *
     * @param connections its viewer connections in the auction now, never negative; 0 removes its entry and persons
     * @param anonymous   those of them that belong to no person key (each counts as one person)
     * @param persons     person keys whose presence here changed: true for a first tab here, false for a last one
     *                    gone; with {@code complete}, every person held here (all true)
     * @param complete    {@code persons} replaces what the store holds of this replica in this auction
     * @param knownPeak   the auction's peak as the store last told this replica (0 if never): the store raises its
     *                    peak to at least this, which keeps a peak across a store that lost its data
     */
    record LocalCount(long connections, long anonymous, Map<String, Boolean> persons, boolean complete, long knownPeak) {

        public LocalCount {
            persons = Map.copyOf(persons);
        }

        /** {@code connections} connections of no person: the whole share, complete. */
        public LocalCount(long connections, long knownPeak) {
            this(connections, connections, Map.of(), true, knownPeak);
        }
    }

    /**
     * An auction's count with what it is made of.
     *
     * @param count       {@code current} and {@code peak}, in {@link #countBy()}'s unit
     * @param connections viewer connections on every replica together
     * @param people      persons on every replica together (a person in several replicas once)
     */
    record Reading(ViewerCount count, long connections, long people) {
    }

    /** Refusal of a report by a replica that is not alive in the store: it heartbeats, then writes everything again. */
    final class NotAliveException extends RuntimeException {

        public NotAliveException(String nodeId) {
            super("node " + nodeId + " is not alive in the store (its heartbeat lapsed, or the store lost it)", null, false, false);
        }
    }

    /** What {@code current} and {@code peak} count. */
    CountBy countBy();

    /**
     * Proves that {@code nodeId} is alive for one lease from now, and removes the entries of replicas whose lease ran
     * out, announcing the corrected counts (each dead replica is cleaned up by one heartbeat of one survivor).
     *
     * @return true when this replica was not alive in the store before (its first heartbeat, or it was found dead and
     *         its entries may be gone): it writes all its entries again, complete
     */
    Future<Boolean> heartbeat(String nodeId);

    /**
     * Sets this replica's entries: for each auction, {@code nodeId} has that share, and its person changes are applied.
     * A negative number fails the whole report. Fails with {@link NotAliveException} when {@code nodeId} is not alive.
     *
     * @return each reported auction's count after its update. A store spread over shards may leave out the auctions
     *         of a shard that failed (nothing of theirs was written, and the caller reports them again); it fails the
     *         report only when nothing could be written.
     */
    Future<Map<AuctionId, ViewerCount>> report(String nodeId, Map<AuctionId, LocalCount> local);

    /**
     * The auction's count now, without replicas that are not alive; a count of 0 for an auction never seen (or, in a
     * store that bounds what it keeps of auctions without viewers, one forgotten since).
     */
    Future<ViewerCount> read(AuctionId auction);

    /**
     * The auction's count as replica {@code nodeId}, which holds {@code local} of it, may tell it: with that replica's
     * own connections and anonymous viewers replaced by what it holds (its entry may be missing, e.g. in a Redis
     * restarted empty before the replica wrote it back, or lag by a flush interval). Its persons are the store's.
     */
    Future<Reading> read(AuctionId auction, String nodeId, LocalCount local);

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
