package dev.gavel.server.viewers.socketio;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SocketIoSocketTest {

    private final List<String> log = new ArrayList<>();
    private final SocketIoSocket socket = new SocketIoSocket(new SocketIoSocket.Host() {
        @Override
        public void send(String enginePacket) {
            log.add("send " + enginePacket);
        }

        @Override
        public void connected(JsonNode auth) {
            log.add("connected " + auth);
            if (auth != null && "bad".equals(auth.path("token").asText())) {
                SocketIoSocketTest.this.socket.refuse("invalid token", "invalid");
            } else {
                log.add("send " + SocketIoSocketTest.this.socket.answer("p1"));
            }
        }

        @Override
        public void disconnected() {
            log.add("disconnected");
        }

        @Override
        public void event(String name) {
            log.add("event " + name);
        }

        @Override
        public void fail(String reason) {
            log.add("fail");
        }
    }, () -> "abc");

    @Test
    void connectIsAnsweredWithTheSocketIdAndCountsOnce() {
        socket.receive("0");
        socket.receive("0");
        assertEquals(List.of("connected null", "send 40{\"sid\":\"abc\",\"pid\":\"p1\"}", "send 40{\"sid\":\"abc\",\"pid\":\"p1\"}"), log);
        assertTrue(socket.isConnected());
    }

    @Test
    void aReconnectingClientsPidAndOffsetReachTheHost() {
        socket.receive("0{\"pid\":\"p0\",\"offset\":\"k3-7\"}");
        assertEquals("connected {\"pid\":\"p0\",\"offset\":\"k3-7\"}", log.get(0));
    }

    @Test
    void eventsCountOnlyAfterConnect() {
        socket.receive("2[\"heartbeat\"]");
        assertEquals(List.of(), log);
        socket.receive("0");
        socket.receive("2[\"heartbeat\"]");
        socket.receive("2[\"whatever\",1,2]");
        assertEquals(List.of("connected null", "send 40{\"sid\":\"abc\",\"pid\":\"p1\"}", "event heartbeat", "event whatever"), log);
    }

    @Test
    void aRefusedConnectIsAConnectErrorAndTheClientMayConnectAgain() {
        socket.receive("0{\"token\":\"bad\"}");
        socket.receive("2[\"heartbeat\"]");
        assertFalse(socket.isConnected());
        socket.receive("0{\"token\":\"good\"}");
        socket.receive("2[\"heartbeat\"]");
        assertEquals(List.of("connected {\"token\":\"bad\"}",
                "send 44{\"message\":\"invalid token\",\"data\":{\"reason\":\"invalid\"}}",
                "connected {\"token\":\"good\"}", "send 40{\"sid\":\"abc\",\"pid\":\"p1\"}", "event heartbeat"), log);
        assertTrue(socket.isConnected());
    }

    @Test
    void otherNamespacesAreRefused() {
        socket.receive("0/admin,");
        socket.receive("2/admin,[\"heartbeat\"]");
        assertEquals(List.of("send 44/admin,{\"message\":\"Invalid namespace\"}"), log);
        assertFalse(socket.isConnected());
    }

    @Test
    void disconnectEndsTheViewer() {
        socket.receive("0");
        socket.receive("1");
        socket.receive("1");
        assertEquals(List.of("connected null", "send 40{\"sid\":\"abc\",\"pid\":\"p1\"}", "disconnected"), log);
        assertFalse(socket.isConnected());
    }

    @Test
    void aBrokenPacketFailsTheSession() {
        socket.receive("0");
        socket.receive("2{\"not\":\"an array\"}");
        assertEquals(List.of("connected null", "send 40{\"sid\":\"abc\",\"pid\":\"p1\"}", "fail"), log);
    }

    @Test
    void strayAcknowledgementsChangeNothing() {
        socket.receive("0");
        socket.receive("31[]");
        assertEquals(List.of("connected null", "send 40{\"sid\":\"abc\",\"pid\":\"p1\"}"), log);
    }
}
