package dev.gavel.core;

/**
 * How many viewers an auction has on all replicas together, and the most it has had.
 *
 * @param current viewer connections now, never negative
 * @param peak    the highest {@code current} since the auction's counting began, never below {@code current}
 * @param version orders the counts of one auction: of two counts, the one with the higher version is the
 *                newer. Versions only grow, also across a restart of the store. Not shown to viewers.
 */
public record ViewerCount(AuctionId auctionId, long current, long peak, long version) {

    public ViewerCount {
        if (current < 0 || peak < current) {
            throw new IllegalArgumentException("bad count: current=" + current + " peak=" + peak);
        }
    }

    /** True when this count is newer than {@code other}, or {@code other} is null. */
    public boolean isNewerThan(ViewerCount other) {
        return other == null || version > other.version;
    }

    /** The {@code viewerCountUpdate} payload: {@code {"auctionId":"..","current":n,"peak":n}}. */
    public String toJson() {
        return "{\"auctionId\":\"" + auctionId.value() + "\",\"current\":" + current + ",\"peak\":" + peak + "}";
    }

    /** The event that tells viewers this count. */
    public ViewerEvent toEvent() {
        return ViewerEvent.of(ViewerEvent.VIEWER_COUNT_UPDATE, toJson());
    }
}
