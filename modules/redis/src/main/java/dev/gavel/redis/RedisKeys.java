package dev.gavel.redis;

import dev.gavel.core.AuctionId;

/**
 * Names in Redis. Every key and channel of one auction carries the hash tag {@code {a:<id>}}, so they fall
 * into one slot of a Redis Cluster and the report script may touch them together.
 */
final class RedisKeys {

    private static final String CHANNEL_SUFFIX = ":events";
    private static final String AUCTION_PREFIX = "gavel:{a:";

    private RedisKeys() {
    }

    /** The hash of an auction's per-replica counts, peak and version. */
    static String counts(AuctionId auction) {
        return AUCTION_PREFIX + auction.value() + "}";
    }

    /** The pub/sub channel of an auction's events and count changes. */
    static String channel(AuctionId auction) {
        return AUCTION_PREFIX + auction.value() + "}" + CHANNEL_SUFFIX;
    }

    /** The auction whose channel this is, or null for a channel that is not one of ours. */
    static AuctionId auctionOfChannel(String channel) {
        if (!channel.startsWith(AUCTION_PREFIX) || !channel.endsWith("}" + CHANNEL_SUFFIX)) {
            return null;
        }
        return AuctionId.of(channel.substring(AUCTION_PREFIX.length(), channel.length() - CHANNEL_SUFFIX.length() - 1));
    }

    /** The head of an auction's event log: a hash of its epoch, last sequence number and last bid (see publish.lua). */
    static String logHead(AuctionId auction) {
        return AUCTION_PREFIX + auction.value() + "}:head";
    }

    /** An auction's event log: a list of its newest events (see publish.lua). */
    static String log(AuctionId auction) {
        return AUCTION_PREFIX + auction.value() + "}:log";
    }

    /** The HyperLogLog of an auction's distinct viewer ids. */
    static String uniqueViewers(AuctionId auction) {
        return AUCTION_PREFIX + auction.value() + "}:viewers";
    }

    /** The sorted set of an auction's audience history steps; report.lua names it after the counts hash. */
    static String history(AuctionId auction) {
        return AUCTION_PREFIX + auction.value() + "}:history";
    }

    /** The set of auctions open for viewers (see {@link RedisAuctionRegistry}); one slot with {@link #auctionsVersion}. */
    static String openAuctions() {
        return "gavel:{auctions}:open";
    }

    /** The version of the last change to {@link #openAuctions}, from Redis's clock in microseconds. */
    static String auctionsVersion() {
        return "gavel:{auctions}:version";
    }

    /**
     * The pub/sub channel of changes to {@link #openAuctions}: {@code <version> o|c <auction id>}. In the slot of the
     * registry's keys, so that the script that changes them may publish on it with sharded pub/sub.
     */
    static String auctionChanges() {
        return "gavel:{auctions}:changes";
    }

    /**
     * A liveness hash of the replicas (see heartbeat.lua); each shard of a Redis Cluster has its own, the first
     * {@code n} whose slot it serves.
     */
    static String liveness(int n) {
        return "gavel:{live:" + n + "}";
    }

    /**
     * The pub/sub channel a replica hears questions from other replicas and their answers on (see
     * {@link RedisReplicaQueries}); in the slot of the node's other key.
     */
    static String replicaQueries(String nodeId) {
        return "gavel:node:{" + nodeId + "}:asks";
    }

    /** The set of auctions where a node holds entries, so that the node can remove them all when it restarts. */
    static String nodeAuctions(String nodeId) {
        return "gavel:node:{" + nodeId + "}:auctions";
    }
}
