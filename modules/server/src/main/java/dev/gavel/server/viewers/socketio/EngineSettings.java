package dev.gavel.server.viewers.socketio;

/**
 * The Engine.IO parameters of a node, announced to every client in the handshake.
 *
 * @param pingIntervalMillis the server sends a ping this long after the last pong (or the handshake)
 * @param pingTimeoutMillis  a session whose pong does not come within this long after a ping is closed; so a
 *                           client that stops polling is gone after at most interval + timeout
 * @param maxPayloadBytes    the largest long-polling body (and WebSocket message) a client may send
 * @param upgradeTimeoutMillis a WebSocket probe that does not finish the upgrade within this long is dropped
 */
public record EngineSettings(long pingIntervalMillis, long pingTimeoutMillis, int maxPayloadBytes, long upgradeTimeoutMillis) {

    /** Engine.IO's own default for the upgrade timeout. */
    public static final long DEFAULT_UPGRADE_TIMEOUT_MILLIS = 10_000;

    public EngineSettings {
        if (pingIntervalMillis <= 0 || pingTimeoutMillis <= 0 || maxPayloadBytes <= 0 || upgradeTimeoutMillis <= 0) {
            throw new IllegalArgumentException("Engine.IO settings must be positive");
        }
    }
}
