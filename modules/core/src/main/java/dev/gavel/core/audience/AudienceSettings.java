package dev.gavel.core.audience;

/**
 * Every timing of a replica's audience that another rests on, in one place; the constructor checks how they depend
 * on each other and names the rule a combination breaks.
 *
 * @param nodeTtlMillis        a replica that stops heartbeating is no longer counted after this long ({@code NODE_TTL_MS})
 * @param leaseMillis          how long a replica's proof of life holds in the store
 * @param heartbeatMillis      how often a replica proves it is alive (and a survivor sweeps the dead)
 * @param flushMillis          how often local count changes are written to the store (one batch for all auctions)
 * @param broadcastMillis      at most one count broadcast per auction per this interval
 * @param requestTimeoutMillis how long a store request may take before it is counted as failed
 */
public record AudienceSettings(long nodeTtlMillis, long leaseMillis, long heartbeatMillis, long flushMillis,
                               long broadcastMillis, long requestTimeoutMillis) {

    public AudienceSettings {
        if (nodeTtlMillis <= 0 || leaseMillis <= 0 || heartbeatMillis <= 0 || flushMillis <= 0 || broadcastMillis < 0
                || requestTimeoutMillis <= 0) {
            throw new IllegalArgumentException("audience timings must be positive: " + this);
        }
        if (flushMillis > heartbeatMillis) {
            throw new IllegalArgumentException("flush (" + flushMillis + " ms) must not be longer than the heartbeat ("
                    + heartbeatMillis + " ms): a replica's changes go before the heartbeat that vouches for them");
        }
        if (2 * heartbeatMillis >= leaseMillis) {
            throw new IllegalArgumentException("the lease (" + leaseMillis + " ms) must outlast two heartbeats ("
                    + heartbeatMillis + " ms each): a replica may miss one without being counted dead");
        }
        if (leaseMillis + heartbeatMillis > nodeTtlMillis) {
            throw new IllegalArgumentException("lease + heartbeat (" + leaseMillis + " + " + heartbeatMillis
                    + " ms) must fit in the node TTL (" + nodeTtlMillis + " ms): a survivor's sweep, once per heartbeat,"
                    + " finds a lapsed replica within lease + heartbeat");
        }
    }

    /**
     * The timings of a node whose dead replicas must stop counting within {@code nodeTtlMillis}: the lease is 3/5 of
     * it and the heartbeat 1/5, so two heartbeats may be missed, and a survivor's sweep finds a lapsed replica within
     * 4/5 of the TTL.
     */
    public static AudienceSettings forNodeTtl(long nodeTtlMillis, long broadcastMillis) {
        long heartbeat = Math.max(1, nodeTtlMillis / 5);
        return new AudienceSettings(nodeTtlMillis, Math.max(3, nodeTtlMillis * 3 / 5), heartbeat, Math.min(50, heartbeat),
                broadcastMillis, Math.max(1000, nodeTtlMillis / 5));
    }
}
