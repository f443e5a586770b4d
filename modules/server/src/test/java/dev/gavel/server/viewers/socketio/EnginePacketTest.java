package dev.gavel.server.viewers.socketio;

import dev.gavel.server.viewers.socketio.EnginePacket.Type;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EnginePacketTest {

    @Test
    void everyTypeIsItsDigit() {
        assertEquals("0", new EnginePacket(Type.OPEN, "").encode());
        assertEquals("3probe", new EnginePacket(Type.PONG, "probe").encode());
        assertEquals("6", EnginePacket.NOOP_PACKET.encode());
        assertEquals("42[\"a\"]", EnginePacket.message("2[\"a\"]").encode());
    }

    @Test
    void decodesTypeAndData() throws ProtocolException {
        assertEquals(new EnginePacket(Type.PING, "probe"), EnginePacket.decode("2probe"));
        assertEquals(new EnginePacket(Type.UPGRADE, ""), EnginePacket.decode("5"));
        assertEquals(EnginePacket.message("0"), EnginePacket.decode("40"));
    }

    @Test
    void aPollingPayloadIsPacketsJoinedByTheRecordSeparator() throws ProtocolException {
        assertEquals("40\u001e2", EnginePacket.encodePayload(List.of("40", "2")));
        assertEquals(List.of(new EnginePacket(Type.PONG, ""), EnginePacket.message("2[\"heartbeat\"]")),
                EnginePacket.decodePayload("3\u001e42[\"heartbeat\"]"));
        assertEquals(List.of(new EnginePacket(Type.CLOSE, "")), EnginePacket.decodePayload("1"));
    }

    @Test
    void refusesWhatIsNotAPacket() {
        assertThrows(ProtocolException.class, () -> EnginePacket.decode(""));
        assertThrows(ProtocolException.class, () -> EnginePacket.decode("abc"));
        assertThrows(ProtocolException.class, () -> EnginePacket.decode("7"));
        assertThrows(ProtocolException.class, () -> EnginePacket.decode("bBAQID"));
        assertThrows(ProtocolException.class, () -> EnginePacket.decodePayload("3\u001e"));
        assertThrows(ProtocolException.class, () -> EnginePacket.decodePayload(""));
    }
}
