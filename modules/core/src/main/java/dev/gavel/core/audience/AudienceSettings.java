package dev.gavel.core.audience;

/**
 * How a replica keeps its audience in step with the store.
 *
 * @param flushMillis     how often local count changes are written to the store (one batch for all auctions)
 * @param broadcastMillis at most one count broadcast per auction per this interval
 * @param heartbeatMillis how often every entry's lease is renewed, changed or not
 * @param requestTimeoutMillis how long a store request may take before it is counted as failed
 */
public record AudienceSettings(long flushMillis, long broadcastMillis, long heartbeatMillis, long requestTimeoutMillis) {

    public AudienceSettings {
        if (flushMillis <= 0 || broadcastMillis < 0 || heartbeatMillis <= 0 || requestTimeoutMillis <= 0) {
            throw new IllegalArgumentException("bad audience settings: " + flushMillis + "/" + broadcastMillis
                    + "/" + heartbeatMillis + "/" + requestTimeoutMillis);
        }
    }

    /**
     * Settings for a node whose dead replicas must stop counting within {@code nodeTtlMillis}: the lease is
     * 3/5 of it and the heartbeat 1/5, so two heartbeats may be missed, and a survivor's sweep finds an
     * expired entry within 4/5 of the TTL.
     */
    public static AudienceSettings forNodeTtl(long nodeTtlMillis, long broadcastMillis) {
        return new AudienceSettings(50, broadcastMillis, Math.max(1, nodeTtlMillis / 5), Math.max(1000, nodeTtlMillis / 5));
    }

    /** The lease that goes with {@link #forNodeTtl}. */
    public static long leaseMillisForNodeTtl(long nodeTtlMillis) {
        return Math.max(1, nodeTtlMillis * 3 / 5);
    }
}
