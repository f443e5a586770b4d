package dev.gavel.server.viewers.socketio;

/** An Engine.IO or Socket.IO packet that breaks the protocol; the session that sent it is closed. */
final class ProtocolException extends Exception {

    ProtocolException(String message) {
        super(message, null, false, false);
    }
}
