package dev.gavel.core.audience;

/**
 * Coalesces count broadcasts of one auction: at most one per interval. The caller asks how long to wait
 * before it may send, sends the latest count when that time comes, and says when it sent. Whatever arrived
 * meanwhile is folded into that one send, so viewers always end on the latest value.
 */
final class BroadcastThrottle {

    private final long intervalMillis;
    private long lastSentAt;
    private boolean sentBefore;

    public BroadcastThrottle(long intervalMillis) {
        if (intervalMillis < 0) {
            throw new IllegalArgumentException("intervalMillis cannot be negative: " + intervalMillis);
        }
        this.intervalMillis = intervalMillis;
    }

    /** Milliseconds to wait, from {@code now}, before the next broadcast may go; 0 means at once. */
    public long delayBeforeNext(long now) {
        return sentBefore ? Math.max(0, lastSentAt + intervalMillis - now) : 0;
    }

    public void sent(long now) {
        lastSentAt = now;
        sentBefore = true;
    }
}
