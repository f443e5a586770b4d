package dev.gavel.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ViewerEventTest {

    @Test
    void encodesTheJsonFrameAndTheSocketIoPacketOnce() {
        ViewerEvent event = ViewerEvent.of(ViewerEvent.PLAYER_SOLD_UPDATE, "\"Sold to Mumbai!\"");
        assertEquals("{\"event\":\"playerSoldUpdate\",\"data\":\"Sold to Mumbai!\"}", event.jsonFrame());
        assertEquals("42[\"playerSoldUpdate\",\"Sold to Mumbai!\"]", event.socketIoPacket());
        assertSame(event.jsonFrame(), event.jsonFrame());
        assertSame(event.socketIoPacket(), event.socketIoPacket());
    }

    @Test
    void aCountIsTheContractPayload() {
        ViewerCount count = new ViewerCount(AuctionId.of("123"), 6, 9, 77);
        assertEquals("{\"event\":\"viewerCountUpdate\",\"data\":{\"auctionId\":\"123\",\"current\":6,\"peak\":9}}",
                count.toEvent().jsonFrame());
    }

    @Test
    void aCountIsNeverNegativeNorAbovePeak() {
        AuctionId id = AuctionId.of("1");
        assertThrows(IllegalArgumentException.class, () -> new ViewerCount(id, -1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new ViewerCount(id, 3, 2, 1));
    }

    @Test
    void badFrameErrorsQuoteTheirMessage() {
        assertEquals("{\"event\":\"error\",\"data\":{\"code\":\"bad_frame\",\"message\":\"unknown event '\\\"x\\\\'\"}}",
                ViewerEvent.badFrame("unknown event '\"x\\'").jsonFrame());
    }

    @Test
    void quotesControlCharacters() {
        assertEquals("\"a\\nb\\u0001\\t\"", Json.quote("a\nb\u0001\t"));
    }
}
