package dev.gavel.core;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which event loops hold a room of each auction, as of now: each loop marks a room as it opens it (the moment its
 * first viewer of the auction joins) and unmarks it as it removes it. The {@link PresenceReporter} routes an
 * auction's counts and events by it rather than by the sums the loops report once per turn, so that a viewer who
 * joined a moment ago, whose loop has not reported it yet, is not passed over. Thread-safe; one entry per auction
 * with a room, a small set of loop indexes each.
 */
final class RoomIndex {

    private final Map<AuctionId, Set<Integer>> loops = new ConcurrentHashMap<>();

    void opened(AuctionId auction, int loop) {
        loops.compute(auction, (id, set) -> {
            Set<Integer> marked = set != null ? set : ConcurrentHashMap.newKeySet();
            marked.add(loop);
            return marked;
        });
    }

    void closed(AuctionId auction, int loop) {
        loops.computeIfPresent(auction, (id, set) -> {
            set.remove(loop);
            return set.isEmpty() ? null : set;
        });
    }

    /** The loops holding a room of the auction now (empty when none); a live view, for reading at once. */
    Set<Integer> loopsOf(AuctionId auction) {
        return loops.getOrDefault(auction, Set.of());
    }
}
