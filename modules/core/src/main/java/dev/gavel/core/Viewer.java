package dev.gavel.core;

/**
 * One open viewer connection, whatever its transport. Both methods may be called from any thread and never
 * block: a transport queues what it cannot write at once.
 */
public interface Viewer {

    /** Close code for a viewer sent away because its replica is stopping (WebSocket 1012, Service Restart). */
    short SERVICE_RESTART = 1012;

    void send(ViewerEvent event);

    void close(short code, String reason);
}
