package dev.gavel.redis;

import dev.gavel.core.AuctionId;
import dev.gavel.core.EventBroker;
import dev.gavel.core.ViewerCount;
import dev.gavel.core.ViewerEvent;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What travels on an auction's channel, both ways. */
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
    };

    @Test
    void anEventCarriesItsPublishTime() {
        String message = ChannelMessage.encode(ViewerEvent.published("playerSoldUpdate", "\"sold to a b\"", 1_700_000_000_123L));
        assertEquals("t 1700000000123 playerSoldUpdate \"sold to a b\"", message);

        assertTrue(ChannelMessage.decode(A, message, listener));
        assertEquals("playerSoldUpdate", events.get(0).name());
        assertEquals("\"sold to a b\"", events.get(0).dataJson());
        assertEquals(1_700_000_000_123L, events.get(0).publishedAtMillis());
    }

    @Test
    void anEventOfAnEarlierReplicaHasNoPublishTime() {
        assertTrue(ChannelMessage.decode(A, "e playerSoldUpdate \"sold\"", listener));
        assertEquals("\"sold\"", events.get(0).dataJson());
        assertEquals(0, events.get(0).publishedAtMillis());
    }

    @Test
    void aMalformedEventIsIgnored() {
        assertFalse(ChannelMessage.decode(A, "t soon playerSoldUpdate \"sold\"", listener));
        assertFalse(ChannelMessage.decode(A, "t 123 playerSoldUpdate", listener));
        assertFalse(ChannelMessage.decode(A, "t 123", listener));
        assertEquals(List.of(), events);
    }
}
