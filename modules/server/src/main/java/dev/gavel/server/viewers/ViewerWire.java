package dev.gavel.server.viewers;

import dev.gavel.core.ViewerEvent;
import dev.gavel.core.audience.Start;
import dev.gavel.server.ops.GavelMetrics;

/**
 * What a viewer's transport offers: one implementation per wire format. Called on the connection's context only.
 */
public interface ViewerWire {

    /** The transport this wire belongs to, for metrics. */
    GavelMetrics.Transport transport();

    /** Writes the event in this wire's format. */
    void write(ViewerEvent event);

    /** True while the transport holds as much unsent data as it should: more is kept back until it drains. */
    boolean congested();

    /** Runs {@code action} (on the connection's context) each time the transport stops being congested. */
    void onDrained(Runnable action);

    /**
     * The viewer's place in its auction's events is known ({@link dev.gavel.core.audience.Viewer#started}); returns what the
     * viewer is sent first, before what it missed or the current bid, or null. On WebSocket and SockJS, a viewer that
     * came back with an offset is told whether its events were found (the {@code recovery} event).
     */
    default ViewerEvent started(Start start) {
        return start.recovered() == null ? null : ViewerEvent.recovery(start.recovered(), start.missed());
    }

    /** Closes the connection with a WebSocket close code (or the transport's nearest equivalent). */
    void close(short code, String reason);
}
