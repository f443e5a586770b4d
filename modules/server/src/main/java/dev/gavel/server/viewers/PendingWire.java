package dev.gavel.server.viewers;

import dev.gavel.core.ViewerEvent;
import dev.gavel.core.audience.Start;
import dev.gavel.server.ops.GavelMetrics;

/**
 * The wire of a viewer that joins its auction before its client is told it is connected (the WebSocket upgrade's
 * answer, SockJS's open frame), so that it misses nothing from then on. The client is told once the viewer is
 * started ({@link #whenStarted}): at once when its auction's feed is live here, else once the feed knows the offset
 * the viewer starts at. Until the connection exists the wire is congested, so what arrives waits in the viewer, in
 * order; then the connection's own wire takes over and what waited goes out. Called on the connection's context only.
 */
public final class PendingWire implements ViewerWire {

    private final GavelMetrics.Transport transport;
    private ViewerWire wire;
    private Runnable drained;
    private boolean closed;
    private boolean started;
    private Runnable whenStarted;
    private short closeCode;
    private String closeReason;

    public PendingWire(GavelMetrics.Transport transport) {
        this.transport = transport;
    }

    /** The connection exists: its wire takes over, and what waited goes out (or it is closed, if the viewer was). */
    public void connected(ViewerWire connection) {
        wire = connection;
        if (drained != null) {
            connection.onDrained(drained);
        }
        if (closed) {
            connection.close(closeCode, closeReason);
        } else if (drained != null) {
            drained.run();
        }
    }

    /** Runs {@code action} once the viewer is started (at once if it is): the moment to tell the client it is connected. */
    public void whenStarted(Runnable action) {
        if (started) {
            action.run();
        } else {
            whenStarted = action;
        }
    }

    @Override
    public ViewerEvent started(Start start) {
        started = true;
        Runnable action = whenStarted;
        whenStarted = null;
        if (action != null) {
            action.run();
        }
        return ViewerWire.super.started(start);
    }

    @Override
    public GavelMetrics.Transport transport() {
        return transport;
    }

    @Override
    public void write(ViewerEvent event) {
        // a viewer writes only while its wire is not congested, that is once connected
        wire.write(event);
    }

    @Override
    public boolean congested() {
        return wire == null || wire.congested();
    }

    @Override
    public void onDrained(Runnable action) {
        drained = action;
        if (wire != null) {
            wire.onDrained(action);
        }
    }

    @Override
    public void close(short code, String reason) {
        if (wire != null) {
            wire.close(code, reason);
        } else {
            // closed before it was connected (the node stops, the auction closed): closed as soon as it is
            closed = true;
            closeCode = code;
            closeReason = reason;
        }
    }
}
