package dev.gavel.redis;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ClusterSlotsTest {

    /** What {@code CLUSTER KEYSLOT} of redis-server 7.0.15 answered for each key. */
    private static final Map<String, Integer> KEYSLOT = Map.of(
            "123456789", 12739,
            "foo", 12182,
            "gavel:{a:1}", 8311,
            "gavel:{a:1}:events", 8311,
            "gavel:{auctions}:open", 2555,
            "{}x", 10595,
            "a{}{b}", 15033,
            "a{b}c{d}", 3300,
            "{user1000}.following", 3443,
            "é", 10180);

    @Test
    void slotsAreTheServersOwnHashTagsIncluded() {
        KEYSLOT.forEach((key, slot) -> assertEquals(slot, ClusterSlots.slot(key), key));
    }

    @Test
    void everyKeyAndChannelOfAnAuctionShareItsSlot() {
        var auction = dev.gavel.core.AuctionId.of("lot-42");
        int slot = ClusterSlots.slot(RedisKeys.counts(auction));
        assertEquals(slot, ClusterSlots.slot(RedisKeys.channel(auction)));
        assertEquals(slot, ClusterSlots.slot(RedisKeys.uniqueViewers(auction)));
        assertEquals(slot, ClusterSlots.slot(RedisKeys.history(auction)));
        assertEquals(RedisKeys.counts(auction) + ":history", RedisKeys.history(auction), "report.lua names it so");
        int registry = ClusterSlots.slot(RedisKeys.openAuctions());
        assertEquals(registry, ClusterSlots.slot(RedisKeys.auctionsVersion()));
        assertEquals(registry, ClusterSlots.slot(RedisKeys.auctionChanges()));
    }
}
