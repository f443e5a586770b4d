package dev.gavel.server.viewers.socketio;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.Set;

/**
 * One Socket.IO v5 packet as a client sends it inside an Engine.IO MESSAGE: a type digit, then an optional
 * namespace ({@code /name,}), an optional acknowledgement id, and an optional JSON payload. Binary packets are
 * not taken.
 *
 * @param namespace {@code "/"} when the packet names none
 * @param ackId     -1 when the packet asks for no acknowledgement
 * @param data      null when the packet has no payload
 */
record SocketIoPacket(Type type, String namespace, long ackId, JsonNode data) {

    enum Type { CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK }

    static final String DEFAULT_NAMESPACE = "/";

    /** Event names that socket.io reserves for itself; a client may not emit them. */
    private static final Set<String> RESERVED_EVENTS = Set.of(
            "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** The event's name, for an EVENT: the first element of its array, as text. */
    String eventName() {
        return data.get(0).asText();
    }

    static SocketIoPacket decode(String text) throws ProtocolException {
        if (text.isEmpty()) {
            throw new ProtocolException("empty Socket.IO packet");
        }
        int typeCode = text.charAt(0) - '0';
        if (typeCode < 0 || typeCode >= Type.values().length) {
            throw new ProtocolException("unknown Socket.IO packet type '" + text.charAt(0) + "'");
        }
        Type type = Type.values()[typeCode];
        if (type == Type.BINARY_EVENT || type == Type.BINARY_ACK) {
            throw new ProtocolException("binary Socket.IO packets are not taken");
        }
        int i = 1;
        String namespace = DEFAULT_NAMESPACE;
        if (i < text.length() && text.charAt(i) == '/') {
            int comma = text.indexOf(',', i);
            int end = comma == -1 ? text.length() : comma;
            namespace = text.substring(i, end);
            i = comma == -1 ? end : end + 1;
        }
        int idStart = i;
        while (i < text.length() && Character.isDigit(text.charAt(i)) && i - idStart < 18) {
            i++;
        }
        long ackId = i > idStart ? Long.parseLong(text.substring(idStart, i)) : -1;
        JsonNode data = null;
        if (i < text.length()) {
            try {
                data = MAPPER.readTree(text.substring(i));
            } catch (JacksonException e) {
                throw new ProtocolException("Socket.IO payload is not JSON");
            }
        }
        if (!payloadFits(type, data)) {
            throw new ProtocolException("invalid payload for a " + type + " packet");
        }
        return new SocketIoPacket(type, namespace, ackId, data);
    }

    private static boolean payloadFits(Type type, JsonNode data) {
        return switch (type) {
            case CONNECT -> data == null || data.isObject();
            case DISCONNECT -> data == null;
            case EVENT -> data != null && data.isArray() && !data.isEmpty()
                    && (data.get(0).isNumber() || (data.get(0).isTextual() && !RESERVED_EVENTS.contains(data.get(0).asText())));
            case ACK -> data != null && data.isArray();
            default -> false;
        };
    }
}
