package dev.gavel.server.http;

/**
 * When an HTTP connection that is not (yet) a viewer must be closed: the protocol's timing rules, with no I/O, driven
 * by the events of its connection and read with {@link #deadline()} and {@link #expired}. {@link HttpConnectionGuard}
 * is its Netty side.
 *
 * <ul>
 *   <li>A new connection's first request head must be complete within the header timeout of the accept, whether
 *       it sends nothing at all or one byte every few seconds (slowloris).</li>
 *   <li>While a request is in progress (its head read, its response not ended) nothing is timed: a long poll, a
 *       streaming response or a request waiting for its auction is the server's business, not the client's.</li>
 *   <li>Once every response has ended, the connection may wait for its next request for the idle timeout; once a
 *       byte of that request arrives, its head must be complete within the header timeout.</li>
 *   <li>A connection whose answers stay unread (it is not writable) for the idle timeout is closed, whatever it is
 *       doing: a client that asks and never reads must not hold its socket for ever.</li>
 *   <li>A connection upgraded to a WebSocket is a viewer: never timed here again (its pings are).</li>
 * </ul>
 *
 * <p>Times are milliseconds on any monotonic clock. Not thread-safe: confined to the connection's event loop.
 */
final class ConnectionDeadlines {

    /** Why a connection is closed. */
    enum Expiry {
        /** A request head that was not complete in time, or a new connection that sent none. */
        HEADER,
        /** No new request within the idle timeout after the last response. */
        IDLE,
        /** Answers left unread for the idle timeout. */
        UNREAD
    }

    static final long NONE = Long.MAX_VALUE;

    private final long headerMillis;
    private final long idleMillis;
    /** Requests whose head was read and whose response has not ended. */
    private int inProgress;
    /** True while the next request's head is awaited with the header timeout (after accept, or after its first byte). */
    private boolean awaitingHead = true;
    private boolean upgraded;
    private long deadline;
    /** Since when the client has not read its answers, or -1. */
    private long unreadSince = -1;

    /** A connection accepted at {@code now}: its first request head is due within the header timeout. */
    ConnectionDeadlines(long headerMillis, long idleMillis, long now) {
        this.headerMillis = headerMillis;
        this.idleMillis = idleMillis;
        this.deadline = now + headerMillis;
    }

    /** Bytes arrived from the client. Between requests, they start a request head: it is due within the header timeout. */
    void bytesArrived(long now) {
        if (!upgraded && inProgress == 0 && !awaitingHead) {
            awaitingHead = true;
            deadline = Math.min(deadline, now + headerMillis);
        }
    }

    /** A request head is complete: nothing is timed until its response has ended. */
    void requestStarted() {
        inProgress++;
        awaitingHead = false;
        deadline = NONE;
    }

    /** A response ended; once every request read has been answered, the idle timeout starts. */
    void responseEnded(long now) {
        if (inProgress > 0) {
            inProgress--;
        }
        if (!upgraded && inProgress == 0) {
            awaitingHead = false;
            deadline = now + idleMillis;
        }
    }

    /** The client stopped reading: the connection's answers queue. */
    void unread(long now) {
        if (unreadSince < 0) {
            unreadSince = now;
        }
    }

    /** The client reads its answers again. */
    void read() {
        unreadSince = -1;
    }

    /** The connection is a WebSocket now. */
    void upgraded() {
        upgraded = true;
        deadline = NONE;
    }

    /** Requests whose head was read and whose response has not ended. */
    int inProgress() {
        return inProgress;
    }

    /** When the connection must be closed if nothing happens before, or {@link #NONE}. */
    long deadline() {
        if (upgraded || unreadSince < 0) {
            return deadline;
        }
        return Math.min(deadline, unreadSince + idleMillis);
    }

    /** Why the connection must be closed at {@code now}, or null when it need not. */
    Expiry expired(long now) {
        if (!upgraded && unreadSince >= 0 && now >= unreadSince + idleMillis) {
            return Expiry.UNREAD;
        }
        if (deadline == NONE || now < deadline) {
            return null;
        }
        return awaitingHead ? Expiry.HEADER : Expiry.IDLE;
    }
}
