package dev.gavel.server.viewers.socketio;

/**
 * The Engine.IO sessions held by one event loop, and the one periodic timer that drives them: every
 * {@link #TICK_MILLIS} it ticks the sessions whose deadline (a ping to send, a pong overdue, an upgrade that took
 * too long) has come. One timer per loop instead of one per session: nothing is allocated per ping, and a session
 * costs a slot in two arrays. The tick's granularity does not show: a session sends its pings up to
 * {@link #PING_LEAD_MILLIS} early and checks its deadlines on every request of its client, so a client that stops
 * answering finds its session gone exactly {@code pingInterval + pingTimeout} after its last pong. Only what the
 * server does unasked (the CLOSE to a held poll, the close of a WebSocket) may come up to a tick late.
 *
 * <p>Beside each session the ticker keeps when it is due, as the session last said. A tick reads
 * that flat array and touches only the sessions that are due: at 15,000 sessions a loop, a tick is a scan of 120 KB
 * of longs instead of a visit to every session (which was a quarter of an idle replica's CPU). A session's deadline
 * moves when it is ticked, and when its client sends something (a pong, a poll, a post, an upgrade's probe and
 * packets); its owner tells the ticker after each of those ({@link #rescheduled}).
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

    /** What a ticker drives. */
    interface Ticked {
        /** When {@link #tick()} next has something to do, in the clock's millis; {@link Long#MAX_VALUE} once ended. */
        long nextDeadline();

        /** Does what is due; may end the session, which then leaves the ticker ({@link #remove}). */
        void tick();

        /** Where the ticker keeps the session: set by the ticker only; -1 when it holds it not. */
        int tickerSlot();

        void tickerSlot(int slot);
    }

    private Ticked[] sessions = new Ticked[64];
    /** Per slot, the session's {@link Ticked#nextDeadline()} as of its last tick or {@link #rescheduled}. */
    private long[] dueAt = new long[64];
    private int size;

    /** Adds a session, due when it says. */
    void add(Ticked session) {
        if (size == sessions.length) {
            resize(size * 2);
        }
        sessions[size] = session;
        dueAt[size] = session.nextDeadline();
        session.tickerSlot(size++);
    }

    /** Removes a session in constant time: the last one takes its slot. */
    void remove(Ticked session) {
        int slot = session.tickerSlot();
        if (slot < 0 || slot >= size || sessions[slot] != session) {
            return;
        }
        Ticked last = sessions[--size];
        sessions[slot] = last;
        dueAt[slot] = dueAt[size];
        last.tickerSlot(slot);
        sessions[size] = null;
        session.tickerSlot(-1);
        if (sessions.length > 64 && size < sessions.length / 4) {
            resize(sessions.length / 2);
        }
    }

    /** The session's deadline may have moved (its client sent something): it is due when it now says. */
    void rescheduled(Ticked session) {
        int slot = session.tickerSlot();
        if (slot >= 0 && slot < size && sessions[slot] == session) {
            dueAt[slot] = session.nextDeadline();
        }
    }

    /** Ticks every session that is due at {@code now}; a session that ends meanwhile leaves its slot to another. */
    void tick(long now) {
        for (int i = 0; i < size; i++) {
            if (dueAt[i] > now) {
                continue;
            }
            Ticked session = sessions[i];
            session.tick();
            if (i < size && sessions[i] == session) {
                dueAt[i] = session.nextDeadline();
            } else {
                i--;
            }
        }
    }

    private void resize(int length) {
        Ticked[] resizedSessions = new Ticked[length];
        long[] resizedDue = new long[length];
        System.arraycopy(sessions, 0, resizedSessions, 0, size);
        System.arraycopy(dueAt, 0, resizedDue, 0, size);
        sessions = resizedSessions;
        dueAt = resizedDue;
    }
}
