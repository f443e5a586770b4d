package dev.gavel.core;

/**
 * How much of each auction's event log a backend keeps for viewers that come back and for replicas that missed
 * something: the newest {@code size} events, for {@code windowMillis} after the auction's last event.
 *
 * @param size         events kept per auction (the newest)
 * @param windowMillis an auction's log is dropped this long after its last event; a viewer away for longer may not
 *                     get what it missed
 */
public record EventLogSettings(int size, long windowMillis) {

    public static final EventLogSettings DEFAULT = new EventLogSettings(1000, 120_000);

    public EventLogSettings {
        if (size < 1 || windowMillis < 1) {
            throw new IllegalArgumentException("bad event log settings: size " + size + ", window " + windowMillis + " ms");
        }
    }

    /**
     * How long an auction's epoch, last sequence number and last bid outlive its last event: longer than the log, so
     * that a viewer that comes back after a quiet spell is told it missed nothing, and a joiner still sees the bid.
     */
    public long headMillis() {
        return Math.max(windowMillis, 24L * 3600 * 1000);
    }
}
