package dev.gavel.core.audience;

/**
 * Coalesces count broadcasts of one auction: at most one per interval. The caller asks how long to wait
 * before it may send, sends the latest count when that time comes, and says when it sent. Whatever arrived
 * meanwhile is folded into that one send, so viewers always end on the latest value.
 *
 * <p>The interval grows with the auction's audience on this replica: a broadcast costs one frame per viewer here,
 * so an auction with more than {@link #FRAMES_PER_SECOND} / 5 viewers here is shown its count less often than
 * five times a second, at most {@link #MAX_INTERVAL_MILLIS} apart. An audience of 30,000 on six replicas (5,000
 * each) sees its count once a second while it changes, which is all a "30,012 watching" needs, and costs each
 * replica 5,000 frames a second instead of 25,000.
 */
final class BroadcastThrottle {

    /** The count frames one auction may cost a replica per second, once its interval has grown past the base one. */
    static final long FRAMES_PER_SECOND = 5_000;
    /** The interval never grows past this, whatever the audience. */
    static final long MAX_INTERVAL_MILLIS = 1_000;

    private final long intervalMillis;
    private long lastSentAt;
    private boolean sentBefore;

    public BroadcastThrottle(long intervalMillis) {
        if (intervalMillis < 0) {
            throw new IllegalArgumentException("intervalMillis cannot be negative: " + intervalMillis);
        }
        this.intervalMillis = intervalMillis;
    }

    /**
     * Milliseconds to wait, from {@code now}, before the next broadcast to {@code viewersHere} viewers may go; 0
     * means at once.
     */
    public long delayBeforeNext(long now, long viewersHere) {
        return sentBefore ? Math.max(0, lastSentAt + intervalFor(viewersHere) - now) : 0;
    }

    /** The base interval, or longer for a big audience here (see the class comment). */
    long intervalFor(long viewersHere) {
        long forTheAudience = Math.min(MAX_INTERVAL_MILLIS, viewersHere * 1_000 / FRAMES_PER_SECOND);
        return Math.max(intervalMillis, forTheAudience);
    }

    public void sent(long now) {
        lastSentAt = now;
        sentBefore = true;
    }
}
