package dev.gavel.core.audience;

import dev.gavel.core.ViewerEvent;

/**
 * One open viewer connection, whatever its transport. Every method is called on the connection's own context and
 * never blocks.
 */
public interface Viewer {

    /** Close code for a viewer sent away because its auction was closed (WebSocket 1000, Normal Closure). */
    short NORMAL_CLOSURE = 1000;
    /** Close code for a viewer sent away because its replica is stopping (WebSocket 1012, Service Restart). */
    short SERVICE_RESTART = 1012;
    /** Close code for a viewer that fell too far behind on what it was sent (WebSocket 1013, Try Again Later). */
    short TRY_AGAIN_LATER = 1013;

    void send(ViewerEvent event);

    /**
     * The viewer's place in its auction's events is known: called once, after its first count (if one is known) and
     * before any event; what the viewer missed, or the current bid, follows through {@link #send}.
     */
    void started(Start start);

    void close(short code, String reason);
}
