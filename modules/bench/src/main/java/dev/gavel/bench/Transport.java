package dev.gavel.bench;

/** How a simulated viewer connects; the names are the command-line spellings. */
enum Transport {
    /** Plain WebSocket at {@code /ws}: frames {@code {"event":NAME,"data":...}}. */
    WS("ws"),
    /** Socket.IO straight over WebSocket: {@code /auction/?EIO=4&transport=websocket}. */
    SIO_WS("sio-ws"),
    /** Socket.IO as browsers start it: long-polling handshake, CONNECT, one poll, then the WebSocket upgrade. */
    SIO_POLLING("sio-polling"),
    /** SockJS over its WebSocket transport: {@code /sockjs/<server>/<session>/websocket}. */
    SOCKJS("sockjs");

    final String cliName;

    Transport(String cliName) {
        this.cliName = cliName;
    }

    boolean socketIo() {
        return this == SIO_WS || this == SIO_POLLING;
    }

    static Transport of(String name) {
        for (Transport transport : values()) {
            if (transport.cliName.equals(name)) {
                return transport;
            }
        }
        throw new Options.UsageException("unknown transport '" + name + "': ws, sio-ws, sio-polling or sockjs");
    }
}
