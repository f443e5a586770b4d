package dev.gavel.server.viewers.socketio;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gavel.core.Json;

import java.util.function.Supplier;

/**
 * The Socket.IO v5 side of one Engine.IO session, for the default namespace only. A CONNECT to {@code "/"} is
 * answered {@code 40{"sid":...}} and makes the client a viewer; a DISCONNECT, or the end of the session, ends
 * that. Any other namespace is refused with a CONNECT_ERROR. Events are handed to the host by name;
 * acknowledgements that a client asks for are not sent. A packet that breaks the protocol fails the session.
 *
 * <p>No I/O of its own and not thread-safe, like {@link EngineSession}.
 */
final class SocketIoSocket {

    /** What the socket asks of the session it runs on. */
    interface Host {

        /** Sends an Engine.IO packet (a Socket.IO packet with the MESSAGE prefix {@code 4}). */
        void send(String enginePacket);

        /**
         * The client connected to the default namespace, with its CONNECT's payload ({@code auth}, null when none):
         * it is a viewer from the moment the host answers it ({@link #answer}), which it may do later.
         */
        void connected(JsonNode auth);

        /** The client left the default namespace: it is no longer a viewer. */
        void disconnected();

        /** The client emitted an event in the default namespace. */
        void event(String name);

        /** The client broke the protocol; the session should be closed. */
        void fail(String reason);
    }

    private static final char MESSAGE = EnginePacket.Type.MESSAGE.code();
    /** The server's DISCONNECT of the default namespace: the client reports "io server disconnect" and stays away. */
    static final String DISCONNECT = MESSAGE + "1";

    private final Host host;
    private final Supplier<String> ids;
    private boolean connected;
    /** The CONNECT's answer, once the host gave it; null until then. */
    private String answer;

    /** @param ids makes the id a CONNECT is answered with */
    SocketIoSocket(Host host, Supplier<String> ids) {
        this.host = host;
        this.ids = ids;
    }

    boolean isConnected() {
        return connected;
    }

    /**
     * The CONNECT's answer, {@code 40{"sid":...,"pid":...}}: with the private session id of connection state recovery
     * ({@code pid}, null for none), which the client sends back when it reconnects. The socket's id is for the client's
     * own bookkeeping: nothing here looks it up, so none is kept.
     */
    String answer(String pid) {
        answer = MESSAGE + "0{\"sid\":" + Json.quote(ids.get()) + (pid == null ? "" : ",\"pid\":" + Json.quote(pid)) + "}";
        return answer;
    }

    /**
     * Refuses the CONNECT that the host was just told of ({@link Host#connected}): a CONNECT_ERROR
     * {@code 44{"message": message, "data": {"reason": reason}}}, which socket.io-client hands to its
     * {@code connect_error} listeners as an {@code Error} with that message and {@code data}. The client is not
     * connected, and may CONNECT again.
     */
    void refuse(String message, String reason) {
        connected = false;
        answer = null;
        host.send(MESSAGE + "4{\"message\":" + Json.quote(message) + ",\"data\":{\"reason\":" + Json.quote(reason) + "}}");
    }

    /** Takes the data of one Engine.IO MESSAGE from the client. */
    void receive(String message) {
        SocketIoPacket packet;
        try {
            packet = SocketIoPacket.decode(message);
        } catch (ProtocolException e) {
            host.fail(e.getMessage());
            return;
        }
        boolean defaultNamespace = SocketIoPacket.DEFAULT_NAMESPACE.equals(packet.namespace());
        switch (packet.type()) {
            case CONNECT -> {
                if (!defaultNamespace) {
                    host.send(MESSAGE + "4" + packet.namespace() + ",{\"message\":\"Invalid namespace\"}");
                    return;
                }
                if (connected) {
                    // asked again: the same answer, once there is one
                    if (answer != null) {
                        host.send(answer);
                    }
                } else {
                    connected = true;
                    answer = null;
                    host.connected(packet.data());
                }
            }
            case DISCONNECT -> {
                if (defaultNamespace && connected) {
                    connected = false;
                    host.disconnected();
                }
            }
            case EVENT -> {
                // like socket.io, packets for a namespace the client has not joined are ignored
                if (defaultNamespace && connected) {
                    host.event(packet.eventName());
                }
            }
            case ACK -> {
                // the server never asks for acknowledgements; a stray one changes nothing
            }
            default -> host.fail("a client may not send " + packet.type());
        }
    }
}
