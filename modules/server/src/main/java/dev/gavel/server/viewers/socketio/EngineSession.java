package dev.gavel.server.viewers.socketio;

import dev.gavel.core.Json;
import dev.gavel.server.viewers.socketio.EnginePacket.Type;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * One Engine.IO v4 session on the server side, as a state machine with no I/O of its own: its owner hands it
 * what arrives (polls, posted bodies, WebSocket messages, closes) and calls {@link #tick()} at
 * {@link #nextDeadline()}; it answers through the {@link Poll}s and {@link Socket}s it was given and tells its
 * {@link Listener} about messages and its end.
 *
 * <p>What it guarantees:
 * <ul>
 *   <li>Packets sent with {@link #send} reach the client in the order they were sent, across the upgrade from
 *       long-polling to WebSocket: while polling they wait in a buffer that the next poll takes whole, and the
 *       buffer is flushed to the WebSocket when the client completes the upgrade.</li>
 *   <li>At most one poll is held open; a second concurrent poll closes the session.</li>
 *   <li>The server pings {@code pingInterval} after the handshake or the last pong, up to {@code pingLeadMillis}
 *       early (so that its owner's ticking does not make it late); the pong is due {@code pingTimeout} after the
 *       ping was due, or after it went out if it went out late (the server's lateness is not the client's). So a
 *       client that stops answering (a long-polling client that stops polling, too) is gone exactly
 *       {@code pingInterval + pingTimeout} after its last pong while its owner ticks on time: every request checks
 *       the deadlines before it is served, so none finds the session alive past them, even before the next
 *       tick.</li>
 *   <li>A client that closes the session (CLOSE) has its held poll answered with a NOOP; without a poll held,
 *       the poll it may still have on its way gets that NOOP (the client sends CLOSE without waiting for it).</li>
 *   <li>A packet that breaks the protocol closes the session; a bad packet on a WebSocket that is only probing
 *       drops that WebSocket and leaves the session on long-polling.</li>
 *   <li>{@link Listener#onClose} is called exactly once, and nothing is sent after it.</li>
 * </ul>
 *
 * <p>Not thread-safe: its owner calls it from one thread at a time (in Gavel, one Vert.x context).
 */
final class EngineSession {

    /** What the session tells its owner. */
    interface Listener {

        /** The data of a MESSAGE packet from the client. */
        void onMessage(String data);

        /** The session ended; called once. */
        void onClose(String reason);
    }

    /** A long-polling GET waiting for packets; answered at most once. */
    interface Poll {

        /** Answers the GET with a long-polling body (200). */
        void answer(String payload);
    }

    /** A WebSocket that carries the session, or is probing to. */
    interface Socket {

        void send(String packet);

        void close(short code, String reason);
    }

    /** What the owner answers to a request it handed over. */
    enum Answer {
        /** Taken (a poll may be held open). */
        OK,
        /** Engine.IO's "Bad request": HTTP 400. */
        BAD_REQUEST
    }

    static final short NORMAL_CLOSURE = 1000;
    static final short PROTOCOL_ERROR = 1002;

    private static final String PROBE = "probe";

    private final String sid;
    private final EngineSettings settings;
    private final Clock clock;
    private final long pingLeadMillis;
    private final Listener listener;
    private final List<String> buffer = new ArrayList<>();
    private int bufferedChars;

    private Socket socket;
    private Socket probe;
    private boolean probed;
    private long upgradeDeadline = Long.MAX_VALUE;
    private Poll pendingPoll;
    private long nextPingAt;
    private long pongDeadline = Long.MAX_VALUE;
    private boolean closed;
    /**
     * The payload that the client's next poll gets after the session ended between polls: what waited, then CLOSE,
     * when the server closed it; NOOP when the client did.
     */
    private String owedPoll;

    private EngineSession(String sid, EngineSettings settings, Clock clock, long pingLeadMillis, Listener listener,
                          Socket socket) {
        this.sid = sid;
        this.settings = settings;
        this.clock = clock;
        // never so early that pings crowd a short interval
        this.pingLeadMillis = Math.min(pingLeadMillis, settings.pingIntervalMillis() / 2);
        this.listener = listener;
        this.socket = socket;
        this.nextPingAt = clock.millis() + settings.pingIntervalMillis();
    }

    /**
     * A session opened by a long-polling handshake; the handshake's answer is {@link #openPacket()}.
     *
     * @param pingLeadMillis how long before it is due a ping may go out: more than the longest its owner takes to
     *                       call {@link #tick()} once {@link #nextDeadline()} has come, so that pings go out on time
     *                       and the deadlines stay exact; at most half of {@code pingInterval} is taken
     */
    static EngineSession overPolling(String sid, EngineSettings settings, Clock clock, long pingLeadMillis, Listener listener) {
        return new EngineSession(sid, settings, clock, pingLeadMillis, listener, null);
    }

    /** A session opened on a WebSocket; the open packet is sent on it at once. See {@link #overPolling}. */
    static EngineSession overWebSocket(String sid, EngineSettings settings, Clock clock, long pingLeadMillis,
                                       Listener listener, Socket socket) {
        EngineSession session = new EngineSession(sid, settings, clock, pingLeadMillis, listener, socket);
        socket.send(session.openPacket());
        return session;
    }

    String sid() {
        return sid;
    }

    boolean isClosed() {
        return closed;
    }

    /** Characters of packets waiting for the next poll. */
    int bufferedChars() {
        return bufferedChars;
    }

    /** True while the session runs on long-polling (also during an upgrade that has not completed). */
    boolean isPolling() {
        return socket == null;
    }

    /** The OPEN packet: the session id and the parameters the client must follow. */
    String openPacket() {
        return Type.OPEN.code() + "{\"sid\":" + Json.quote(sid)
                + ",\"upgrades\":" + (socket == null ? "[\"websocket\"]" : "[]")
                + ",\"pingInterval\":" + settings.pingIntervalMillis()
                + ",\"pingTimeout\":" + settings.pingTimeoutMillis()
                + ",\"maxPayload\":" + settings.maxPayloadBytes() + "}";
    }

    /** A long-polling GET: answered now when packets wait, else held until some do. */
    Answer poll(Poll poll) {
        tick();
        if (closed && owedPoll != null) {
            String payload = owedPoll;
            owedPoll = null;
            poll.answer(payload);
            return Answer.OK;
        }
        if (closed || socket != null) {
            return Answer.BAD_REQUEST;
        }
        if (pendingPoll != null) {
            fail(PROTOCOL_ERROR, "overlapping polls");
            return Answer.BAD_REQUEST;
        }
        pendingPoll = poll;
        if (!buffer.isEmpty()) {
            flushToPoll();
        } else if (probed) {
            // the client is pausing long-polling for the upgrade: let this poll end
            answerPoll(EnginePacket.NOOP_PACKET.encode());
        }
        return Answer.OK;
    }

    /** The held poll's connection closed before it was answered: the client went away. */
    void pollAborted(Poll poll) {
        if (!closed && pendingPoll == poll) {
            pendingPoll = null;
            end("poll connection closed");
        }
    }

    /** A long-polling POST's body: one or more packets. */
    Answer post(String body) {
        tick();
        if (closed || socket != null) {
            return Answer.BAD_REQUEST;
        }
        List<EnginePacket> packets;
        try {
            packets = EnginePacket.decodePayload(body);
        } catch (ProtocolException e) {
            fail(PROTOCOL_ERROR, "bad packet: " + e.getMessage());
            return Answer.BAD_REQUEST;
        }
        for (EnginePacket packet : packets) {
            if (closed) {
                break;
            }
            if (!receive(packet)) {
                return Answer.BAD_REQUEST;
            }
        }
        return Answer.OK;
    }

    /** True when a WebSocket may start an upgrade now: on long-polling, and no other probe under way. */
    boolean canUpgrade() {
        return !closed && socket == null && probe == null;
    }

    /** A WebSocket opened with this session's id, to upgrade to; closed at once unless {@link #canUpgrade()}. */
    void probe(Socket candidate) {
        tick();
        if (!canUpgrade()) {
            candidate.close(PROTOCOL_ERROR, "cannot upgrade now");
            return;
        }
        probe = candidate;
        upgradeDeadline = clock.millis() + settings.upgradeTimeoutMillis();
    }

    /** A text message on a WebSocket of this session (its transport, or a probe). */
    void socketMessage(Socket from, String text) {
        tick();
        if (closed) {
            return;
        }
        EnginePacket packet;
        try {
            packet = EnginePacket.decode(text);
        } catch (ProtocolException e) {
            if (from == probe) {
                dropProbe("bad packet: " + e.getMessage());
            } else if (from == socket) {
                fail(PROTOCOL_ERROR, "bad packet: " + e.getMessage());
            }
            return;
        }
        if (from == socket) {
            receive(packet);
        } else if (from == probe) {
            upgradeStep(packet);
        }
    }

    /** A binary message on a WebSocket of this session: not taken. */
    void socketBinary(Socket from) {
        tick();
        if (from == probe) {
            dropProbe("binary packets are not taken");
        } else if (from == socket) {
            fail(PROTOCOL_ERROR, "binary packets are not taken");
        }
    }

    /** A WebSocket of this session was closed by the other side or the network. */
    void socketClosed(Socket from) {
        if (from == probe) {
            probe = null;
            probed = false;
            upgradeDeadline = Long.MAX_VALUE;
        } else if (from == socket && !closed) {
            end("transport close");
        }
    }

    /** Sends an encoded packet to the client (e.g. a Socket.IO packet as an Engine.IO MESSAGE). */
    void send(String packet) {
        if (closed) {
            return;
        }
        if (socket != null) {
            socket.send(packet);
        } else {
            buffer.add(packet);
            bufferedChars += packet.length();
            if (pendingPoll != null) {
                flushToPoll();
            }
        }
    }

    /**
     * Closes the session from the server side in good order (e.g. the replica is stopping): a held poll gets a
     * CLOSE packet, or else the next poll does (see {@link #owesPoll()}); a WebSocket is closed with {@code code}.
     * Does nothing when already closed.
     */
    void close(short code, String reason) {
        shutDown(code, reason, true);
    }

    /**
     * Ends the session because the client broke the protocol or stopped answering: like {@link #close}, but a
     * client that has no poll held learns it from its next request, which finds the session unknown.
     */
    void fail(short code, String reason) {
        shutDown(code, reason, false);
    }

    private void shutDown(short code, String reason, boolean oweClose) {
        if (closed) {
            return;
        }
        if (socket != null) {
            socket.close(code, reason);
        } else if (pendingPoll != null) {
            buffer.add(EnginePacket.CLOSE_PACKET.encode());
            flushToPoll();
        } else if (oweClose) {
            // what was sent last (a Socket.IO DISCONNECT) still reaches the client, before the CLOSE
            buffer.add(EnginePacket.CLOSE_PACKET.encode());
            owedPoll = EnginePacket.encodePayload(buffer);
        }
        end(reason);
    }

    /**
     * True when this long-polling session ended between two polls and the client's next poll is still answered (with
     * CLOSE when the server closed it, NOOP when the client did), so its owner should keep the session findable for a
     * while after it ended.
     */
    boolean owesPoll() {
        return owedPoll != null;
    }

    /**
     * Sends a ping that is due (or less than {@code pingLeadMillis} from due), ends a session whose pong is late,
     * drops a probe that took too long. Every request of the client calls it first, so no request is served past a
     * deadline, however late the owner ticks.
     */
    void tick() {
        if (closed) {
            return;
        }
        long now = clock.millis();
        if (probe != null && now >= upgradeDeadline) {
            dropProbe("upgrade timeout");
        }
        if (pongDeadline == Long.MAX_VALUE && now >= nextPingAt - pingLeadMillis) {
            // from when the ping was due when it goes out early, so that a client that stops answering is gone
            // pingInterval + pingTimeout after its last pong; from now when it goes out late (the loop was busy):
            // the client still has all of pingTimeout
            pongDeadline = Math.max(nextPingAt, now) + settings.pingTimeoutMillis();
            send(EnginePacket.PING_PACKET.encode());
        }
        if (now >= pongDeadline) {
            fail(NORMAL_CLOSURE, "ping timeout");
        }
    }

    /**
     * When {@link #tick()} has something to do next, in the clock's millis; {@link Long#MAX_VALUE} once closed. It moves
     * on a tick and on what the client sends; its owner reads it again after each ({@link SessionTicker#rescheduled}).
     */
    long nextDeadline() {
        if (closed) {
            return Long.MAX_VALUE;
        }
        long heartbeat = pongDeadline == Long.MAX_VALUE ? nextPingAt - pingLeadMillis : pongDeadline;
        return Math.min(heartbeat, upgradeDeadline);
    }

    /** Takes a packet from the current transport; false (and the session closed) when it breaks the protocol. */
    private boolean receive(EnginePacket packet) {
        switch (packet.type()) {
            case PONG -> {
                pongDeadline = Long.MAX_VALUE;
                nextPingAt = clock.millis() + settings.pingIntervalMillis();
            }
            case MESSAGE -> listener.onMessage(packet.data());
            case CLOSE -> {
                if (pendingPoll != null) {
                    answerPoll(EnginePacket.NOOP_PACKET.encode());
                } else if (socket == null) {
                    // its poll may be on its way still, behind this POST (on another connection, or another loop)
                    owedPoll = EnginePacket.NOOP_PACKET.encode();
                }
                if (socket != null) {
                    socket.close(NORMAL_CLOSURE, "closed by the client");
                }
                end("closed by the client");
            }
            case NOOP -> {
                // nothing to do
            }
            default -> {
                fail(PROTOCOL_ERROR, "unexpected " + packet.type() + " packet from the client");
                return false;
            }
        }
        return true;
    }

    private void upgradeStep(EnginePacket packet) {
        if (!probed && packet.type() == Type.PING && PROBE.equals(packet.data())) {
            probed = true;
            probe.send(Type.PONG.code() + PROBE);
            if (pendingPoll != null) {
                answerPoll(EnginePacket.NOOP_PACKET.encode());
            }
        } else if (probed && packet.type() == Type.UPGRADE) {
            socket = probe;
            probe = null;
            probed = false;
            upgradeDeadline = Long.MAX_VALUE;
            if (pendingPoll != null) {
                answerPoll(EnginePacket.NOOP_PACKET.encode());
            }
            List<String> waiting = List.copyOf(buffer);
            buffer.clear();
            bufferedChars = 0;
            waiting.forEach(socket::send);
        } else {
            dropProbe("unexpected " + packet.type() + " packet during the upgrade");
        }
    }

    private void dropProbe(String reason) {
        Socket dropped = probe;
        probe = null;
        probed = false;
        upgradeDeadline = Long.MAX_VALUE;
        dropped.close(PROTOCOL_ERROR, reason);
    }

    private void flushToPoll() {
        String payload = EnginePacket.encodePayload(buffer);
        buffer.clear();
        bufferedChars = 0;
        answerPoll(payload);
    }

    private void answerPoll(String payload) {
        Poll poll = pendingPoll;
        pendingPoll = null;
        poll.answer(payload);
    }

    private void end(String reason) {
        closed = true;
        buffer.clear();
        bufferedChars = 0;
        if (probe != null) {
            dropProbe(reason);
        }
        listener.onClose(reason);
    }
}
