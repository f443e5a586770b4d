package dev.gavel.server.viewers.socketio;

import dev.gavel.server.viewers.socketio.SocketIoPacket.Type;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SocketIoPacketTest {

    @Test
    void connectToTheDefaultNamespace() throws ProtocolException {
        SocketIoPacket bare = SocketIoPacket.decode("0");
        assertEquals(Type.CONNECT, bare.type());
        assertEquals("/", bare.namespace());
        assertNull(bare.data());
        assertEquals("secret", SocketIoPacket.decode("0{\"token\":\"secret\"}").data().get("token").asText());
    }

    @Test
    void namespaceAndAckId() throws ProtocolException {
        assertEquals("/admin", SocketIoPacket.decode("0/admin,").namespace());
        SocketIoPacket event = SocketIoPacket.decode("2/admin,12[\"bid\",1]");
        assertEquals("/admin", event.namespace());
        assertEquals(12, event.ackId());
        assertEquals("bid", event.eventName());
    }

    @Test
    void anEventIsNamedByTheFirstElement() throws ProtocolException {
        SocketIoPacket event = SocketIoPacket.decode("2[\"heartbeat\"]");
        assertEquals(Type.EVENT, event.type());
        assertEquals(-1, event.ackId());
        assertEquals("heartbeat", event.eventName());
        assertEquals("7", SocketIoPacket.decode("2[7]").eventName());
    }

    @Test
    void disconnect() throws ProtocolException {
        assertEquals(Type.DISCONNECT, SocketIoPacket.decode("1").type());
    }

    @Test
    void refusesWhatBreaksTheProtocol() {
        for (String bad : new String[]{"", "9", "2", "2\"heartbeat\"", "2[]", "2[\"connect\"]", "2[{}]", "2[\"a\"",
                "1{}", "0[]", "4{\"message\":\"x\"}", "51-[\"a\",{\"_placeholder\":true,\"num\":0}]", "3"}) {
            assertThrows(ProtocolException.class, () -> SocketIoPacket.decode(bad), bad);
        }
    }
}
