package dev.gavel.server;

import dev.gavel.core.ViewerEvent;

/**
 * The wire of a viewer that joins its auction's room before its WebSocket upgrade is answered, so that it is there
 * when its client learns it is connected: whatever an event published that instant. Until the connection exists the
 * wire is congested, so what arrives waits in the viewer, in order; then the connection's own wire takes over and
 * what waited goes out. Called on the connection's context only.
 */
final class PendingWire implements ViewerWire {

    private final GavelMetrics.Transport transport;
    private ViewerWire wire;
    private Runnable drained;
    private boolean closed;
    private short closeCode;
    private String closeReason;

    PendingWire(GavelMetrics.Transport transport) {
        this.transport = transport;
    }

    /** The connection exists: its wire takes over, and what waited goes out (or it is closed, if the viewer was). */
    void connected(ViewerWire connection) {
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
