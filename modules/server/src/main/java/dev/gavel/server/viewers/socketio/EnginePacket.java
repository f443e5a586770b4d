package dev.gavel.server.viewers.socketio;

import java.util.ArrayList;
import java.util.List;

/**
 * One Engine.IO v4 packet: a type digit followed by its data, as text. Binary packets (a {@code b} prefix on
 * long-polling, binary frames on WebSocket) are not taken: Gavel's viewers only send text.
 *
 * @param data the text after the type digit; empty when there is none
 */
record EnginePacket(Type type, String data) {

    /** The separator of packets in one long-polling body (ASCII record separator). */
    static final char RECORD_SEPARATOR = '\u001e';

    enum Type {
        OPEN, CLOSE, PING, PONG, MESSAGE, UPGRADE, NOOP;

        char code() {
            return (char) ('0' + ordinal());
        }
    }

    static final EnginePacket CLOSE_PACKET = new EnginePacket(Type.CLOSE, "");
    static final EnginePacket PING_PACKET = new EnginePacket(Type.PING, "");
    static final EnginePacket NOOP_PACKET = new EnginePacket(Type.NOOP, "");

    EnginePacket {
        if (type == null || data == null) {
            throw new IllegalArgumentException("a packet has a type and data");
        }
    }

    static EnginePacket message(String data) {
        return new EnginePacket(Type.MESSAGE, data);
    }

    String encode() {
        return type.code() + data;
    }

    /** Decodes one packet's text. */
    static EnginePacket decode(String text) throws ProtocolException {
        if (text == null || text.isEmpty()) {
            throw new ProtocolException("empty packet");
        }
        char code = text.charAt(0);
        if (code == 'b') {
            throw new ProtocolException("binary packets are not taken");
        }
        int type = code - '0';
        if (type < 0 || type >= Type.values().length) {
            throw new ProtocolException("unknown packet type '" + code + "'");
        }
        return new EnginePacket(Type.values()[type], text.substring(1));
    }

    /** Decodes a long-polling body: packets separated by {@link #RECORD_SEPARATOR}. */
    static List<EnginePacket> decodePayload(String body) throws ProtocolException {
        List<EnginePacket> packets = new ArrayList<>();
        int start = 0;
        while (true) {
            int end = body.indexOf(RECORD_SEPARATOR, start);
            packets.add(decode(body.substring(start, end == -1 ? body.length() : end)));
            if (end == -1) {
                return packets;
            }
            start = end + 1;
        }
    }

    /** Joins encoded packets into one long-polling body. */
    static String encodePayload(List<String> encodedPackets) {
        return String.join(String.valueOf(RECORD_SEPARATOR), encodedPackets);
    }
}
