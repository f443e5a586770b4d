package dev.gavel.server.viewers.socketio;

/**
 * The Engine.IO sessions held by one event loop, and the one periodic timer that drives them: every
 * {@link #TICK_MILLIS} it ticks the sessions whose deadline (a ping to send, a pong overdue, an upgrade that took
 * too long) has come. One timer per loop instead of one per session: nothing is allocated per ping, and a session
 * costs a slot in an array. The tick's granularity does not show: a session sends its pings up to
 * {@link #PING_LEAD_MILLIS} early and checks its deadlines on every request of its client, so a client that stops
 * answering finds its session gone exactly {@code pingInterval + pingTimeout} after its last pong. Only what the
 * server does unasked (the CLOSE to a held poll, the close of a WebSocket) may come up to a tick late.
 *
 * <p>Confined to its loop's context.
 */
final class SessionTicker {

    static final long TICK_MILLIS = 100;
    /**
     * How early a session's ping may go out: two ticks, so that a tick a little late (the timer's jitter, a busy loop)
     * still sends it before it is due.
     */
    static final long PING_LEAD_MILLIS = 2 * TICK_MILLIS;

    private SocketIoConnection[] sessions = new SocketIoConnection[64];
    private int size;

    /** Adds a session; {@link SocketIoConnection#tickerSlot} remembers where. */
    void add(SocketIoConnection connection) {
        if (size == sessions.length) {
            SocketIoConnection[] grown = new SocketIoConnection[size * 2];
            System.arraycopy(sessions, 0, grown, 0, size);
            sessions = grown;
        }
        connection.tickerSlot = size;
        sessions[size++] = connection;
    }

    /** Removes a session in constant time: the last one takes its slot. */
    void remove(SocketIoConnection connection) {
        int slot = connection.tickerSlot;
        if (slot < 0 || slot >= size || sessions[slot] != connection) {
            return;
        }
        SocketIoConnection last = sessions[--size];
        sessions[slot] = last;
        last.tickerSlot = slot;
        sessions[size] = null;
        connection.tickerSlot = -1;
        if (sessions.length > 64 && size < sessions.length / 4) {
            SocketIoConnection[] shrunk = new SocketIoConnection[sessions.length / 2];
            System.arraycopy(sessions, 0, shrunk, 0, size);
            sessions = shrunk;
        }
    }

    /** Ticks every session that is due at {@code now}; a session that ends meanwhile leaves its slot to another. */
    void tick(long now) {
        for (int i = 0; i < size; i++) {
            SocketIoConnection connection = sessions[i];
            connection.tickIfDue(now);
            if (i < size && sessions[i] != connection) {
                i--;
            }
        }
    }
}
