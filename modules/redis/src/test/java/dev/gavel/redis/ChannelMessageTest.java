package dev.gavel.redis;

import dev.gavel.core.AuctionId;
import dev.gavel.core.EventBroker;
import dev.gavel.core.EventOffset;
import dev.gavel.core.ViewerCount;
import dev.gavel.core.ViewerEvent;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What travels on an auction's channel and what its log holds. */
class ChannelMessageTest {

    private static final AuctionId A = AuctionId.of("a");

    private final List<ViewerEvent> events = new ArrayList<>();
    private final EventBroker.AuctionListener listener = new EventBroker.AuctionListener() {
        @Override
        public void onEvent(ViewerEvent event) {
            events.add(event);
        }

        @Override
        public void onCount(ViewerCount count) {
        }

        @Override
        public void onResubscribed() {
        }
    };

    @Test
    void anEventCarriesItsOffsetAndPublishTime() {
        assertTrue(ChannelMessage.decode(A, "o k3x 42 1700000000123 playerSoldUpdate \"sold to a b\"", listener));
        ViewerEvent event = events.get(0);
        assertEquals("playerSoldUpdate", event.name());
        assertEquals("\"sold to a b\"", event.dataJson());
        assertEquals(1_700_000_000_123L, event.publishedAtMillis());
        assertEquals(new EventOffset("k3x", 42), event.offset());
        assertEquals("{\"event\":\"playerSoldUpdate\",\"data\":\"sold to a b\",\"offset\":\"k3x-42\"}", event.jsonFrame());
        assertEquals("42[\"playerSoldUpdate\",\"sold to a b\",\"k3x-42\"]", event.socketIoPacket());
    }

    @Test
    void anEventOfAnEarlierReplicaHasNoOffset() {
        assertTrue(ChannelMessage.decode(A, "t 1700000000123 playerSoldUpdate \"sold\"", listener));
        assertTrue(ChannelMessage.decode(A, "e playerSoldUpdate \"sold\"", listener));
        assertEquals(1_700_000_000_123L, events.get(0).publishedAtMillis());
        assertNull(events.get(0).offset());
        assertEquals(0, events.get(1).publishedAtMillis());
    }

    @Test
    void aMalformedEventIsIgnored() {
        assertFalse(ChannelMessage.decode(A, "t soon playerSoldUpdate \"sold\"", listener));
        assertFalse(ChannelMessage.decode(A, "t 123 playerSoldUpdate", listener));
        assertFalse(ChannelMessage.decode(A, "o k3x x 123 playerSoldUpdate \"sold\"", listener));
        assertFalse(ChannelMessage.decode(A, "o K3X 1 123 playerSoldUpdate \"sold\"", listener));
        assertFalse(ChannelMessage.decode(A, "o k3x", listener));
        assertEquals(List.of(), events);
    }
}
