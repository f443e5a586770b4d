package dev.gavel.server.viewers.socketio;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gavel.core.EventLoops;
import dev.gavel.core.EventOffset;
import dev.gavel.core.ViewerEvent;
import dev.gavel.core.audience.Audience;
import dev.gavel.core.audience.Start;
import dev.gavel.core.audience.Viewer;
import dev.gavel.server.http.AddressLimiter;
import dev.gavel.server.http.Refusal;
import dev.gavel.server.ops.GavelMetrics;
import dev.gavel.server.viewers.AttachedViewer;
import dev.gavel.server.viewers.LeanWebSocket;
import dev.gavel.server.viewers.SharedFrames;
import dev.gavel.server.viewers.ViewerAdmission;
import dev.gavel.server.viewers.ViewerDirectory;
import dev.gavel.server.viewers.ViewerFrames;
import dev.gavel.server.viewers.ViewerTokens;
import dev.gavel.server.viewers.ViewerWire;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Map;

/**
 * One Socket.IO client on this node: its {@link EngineSession} and {@link SocketIoSocket}, bound to the Vert.x
 * context (event loop) that took its handshake, and the viewer it is once the client has connected to the
 * default namespace.
 *
 * <p>Every call into the session runs on that context. A long-polling request or an upgrade WebSocket of the
 * session may arrive on another event loop; its owner hands it over with {@link #onContext}.
 */
final class SocketIoConnection implements EngineSession.Listener, SocketIoSocket.Host, SessionTicker.Ticked {

    private static final Logger LOG = LoggerFactory.getLogger(SocketIoConnection.class);
    /** How long a session that ended between two polls waits for the poll that is told so. */
    private static final long CLOSE_GRACE_MILLIS = 10_000;
    /** Packets waiting for a poll beyond this many characters hold back further events (see {@link ViewerWire}). */
    private static final int POLL_BUFFER_CHARS = 64 * 1024;

    private final Vertx vertx;
    private final Context context;
    private final Clock clock;
    private final ViewerAdmission admission;
    private final ViewerAdmission.Admitted admitted;
    private final Audience audience;
    private final ViewerDirectory directory;
    private final GavelMetrics metrics;
    private final Map<String, SocketIoConnection> registry;
    private final SessionTicker ticker;
    private final SocketIoSocket socket;
    /** The session's place in its client address's connections, released when the session ends. */
    private final AddressLimiter.Lease lease;
    private final EngineWire wire = new EngineWire();
    private EngineSession session;
    private WebSocketTransport transport;
    private final SessionPids pids;
    private AttachedViewer viewer;
    /** The pid the client came back with, verified; the CONNECT is answered with it again if what it missed was found. */
    private String returningPid;
    private boolean ended;
    /** Where {@link SessionTicker} keeps this session; -1 once it left. */
    private int tickerSlot = -1;

    private SocketIoConnection(Vertx vertx, Clock clock, ViewerAdmission admission, ViewerAdmission.Admitted admitted,
                               Audience audience, ViewerDirectory directory, GavelMetrics metrics, Map<String, SocketIoConnection> registry,
                               SessionTicker ticker, AddressLimiter.Lease lease, SessionPids pids) {
        this.vertx = vertx;
        this.pids = pids;
        this.lease = lease;
        // the server's context under the request's duplicate: every request of the session runs there, in order
        this.context = EventLoops.here(vertx);
        this.clock = clock;
        this.admission = admission;
        this.admitted = admitted;
        this.audience = audience;
        this.directory = directory;
        this.metrics = metrics;
        this.registry = registry;
        this.ticker = ticker;
        this.socket = new SocketIoSocket(this, Ids::next);
    }

    /** Opens a long-polling session; the handshake's answer is {@link #openPacket()}. */
    static SocketIoConnection overPolling(Vertx vertx, Clock clock, EngineSettings settings, ViewerAdmission admission,
                                          ViewerAdmission.Admitted admitted, Audience audience, ViewerDirectory directory,
                                          GavelMetrics metrics, Map<String, SocketIoConnection> registry, SessionTicker ticker,
                                          AddressLimiter.Lease lease, SessionPids pids) {
        SocketIoConnection connection = new SocketIoConnection(vertx, clock, admission, admitted, audience, directory, metrics, registry,
                ticker, lease, pids);
        connection.session = EngineSession.overPolling(Ids.next(), settings, clock, SessionTicker.PING_LEAD_MILLIS, connection);
        connection.register();
        return connection;
    }

    /** Opens a session on a WebSocket; the open packet is sent on it at once. */
    static SocketIoConnection overWebSocket(Vertx vertx, Clock clock, EngineSettings settings, ViewerAdmission admission,
                                            ViewerAdmission.Admitted admitted, Audience audience, ViewerDirectory directory,
                                            GavelMetrics metrics,
                                            Map<String, SocketIoConnection> registry, SessionTicker ticker,
                                            AddressLimiter.Lease lease, SessionPids pids, LeanWebSocket ws) {
        SocketIoConnection connection = new SocketIoConnection(vertx, clock, admission, admitted, audience, directory, metrics, registry,
                ticker, lease, pids);
        WebSocketTransport transport = new WebSocketTransport(ws);
        connection.transport = transport;
        connection.session = EngineSession.overWebSocket(Ids.next(), settings, clock, SessionTicker.PING_LEAD_MILLIS, connection,
                transport);
        connection.wire(transport);
        connection.register();
        return connection;
    }

    String openPacket() {
        return session.openPacket();
    }

    /** Runs {@code action} on this session's context: at once when called there, else handed over. */
    void onContext(Runnable action) {
        EventLoops.onLoop(context, action);
    }

    /** A long-polling GET; false when it must be answered 400 (the session may have been closed for it). */
    boolean poll(EngineSession.Poll poll) {
        EngineSession.Answer answer = session.poll(poll);
        ticker.rescheduled(this);
        if (session.bufferedChars() == 0) {
            wire.drained();
        }
        return answer == EngineSession.Answer.OK;
    }

    /** The held poll's connection closed before it was answered. */
    void pollAborted(EngineSession.Poll poll) {
        session.pollAborted(poll);
    }

    /** A long-polling POST's body; false when it must be answered 400. */
    boolean post(String body) {
        EngineSession.Answer answer = session.post(body);
        ticker.rescheduled(this);
        return answer == EngineSession.Answer.OK;
    }

    /**
     * A WebSocket that the client opened to upgrade this session. Called on the WebSocket's own context, which may
     * be another loop's: its handlers are set at once, before a frame can be missed, and each hands what arrives
     * over to the session's context, after the probe itself. The session closes it if it cannot upgrade (already
     * upgraded, another probe under way, or ended), as engine.io does.
     */
    void probe(LeanWebSocket ws) {
        WebSocketTransport candidate = new WebSocketTransport(ws);
        wire(candidate);
        onContext(() -> {
            session.probe(candidate);
            ticker.rescheduled(this);
        });
    }

    @Override
    public void fail(String reason) {
        LOG.debug("Socket.IO session {} broke the protocol: {}", session.sid(), reason);
        session.fail(EngineSession.PROTOCOL_ERROR, reason);
    }

    @Override
    public void onMessage(String data) {
        socket.receive(data);
    }

    @Override
    public long nextDeadline() {
        return session.nextDeadline();
    }

    @Override
    public void tick() {
        session.tick();
    }

    @Override
    public int tickerSlot() {
        return tickerSlot;
    }

    @Override
    public void tickerSlot(int slot) {
        tickerSlot = slot;
    }

    @Override
    public void onClose(String reason) {
        ended = true;
        ticker.remove(this);
        lease.release();
        if (session.owesPoll()) {
            // the client polls again within moments (or its poll is on its way): it is answered rather than told the
            // session is unknown
            vertx.setTimer(CLOSE_GRACE_MILLIS, t -> registry.remove(session.sid(), this));
        } else {
            registry.remove(session.sid(), this);
        }
        detach();
        LOG.atDebug().addKeyValue("auction", admitted.auction().value()).log("Socket.IO session {} closed: {}", session.sid(), reason);
    }

    @Override
    public void send(String enginePacket) {
        session.send(enginePacket);
    }

    /**
     * Makes the client a viewer at once, before anything else of the session runs: from its CONNECT's answer on, it
     * misses no event. The answer goes out when the viewer is started ({@link EngineWire#started}), with a pid (see
     * {@link SessionPids}): the same one the client came back with when what it missed was found, so that
     * {@code socket.recovered} is true and the missed events follow, else a new one. A viewer token that does not
     * verify (or none, where one is required) is answered with a CONNECT_ERROR instead, and the session closed after
     * it: the client may come back on a new one (socket.io-client does when told {@code socket.connect()}, with a fresh
     * {@code auth}).
     */
    @Override
    public void connected(JsonNode auth) {
        ViewerAdmission.Admitted joining;
        try {
            JsonNode token = auth == null ? null : auth.get("token");
            // a token that is not a string is not one: its JSON text does not verify
            joining = admission.signIn(admitted, token == null || token.isNull() ? null
                    : token.isTextual() ? token.asText() : token.toString());
        } catch (ViewerTokens.Invalid invalid) {
            Refusal.log("invalid token (Socket.IO CONNECT error)");
            socket.refuse("invalid token", invalid.reason());
            LOG.debug("Socket.IO session {} refused: invalid token ({})", session.sid(), invalid.reason());
            // socket.io-client closes the session itself on a refused CONNECT (a retry opens a new one); closing it
            // here too keeps a client that would not from having tokens verified without end on one connection
            session.close(EngineSession.NORMAL_CLOSURE, "invalid token");
            return;
        }
        returningPid = null;
        JsonNode pid = auth == null ? null : auth.get("pid");
        if (pid != null && pid.isTextual()) {
            SessionPids.Claim claim = pids.verify(pid.asText(), admitted.auction());
            if (claim != null) {
                JsonNode offset = auth.get("offset");
                EventOffset from = offset != null && offset.isTextual() ? EventOffset.fromClient(offset.asText()) : claim.position();
                returningPid = pid.asText();
                joining = joining.resumingFrom(from == null ? EventOffset.UNKNOWN : from);
            }
        }
        wire.answered = false;
        viewer = AttachedViewer.attach(audience, directory, metrics, joining, wire, clock);
        LOG.atDebug().addKeyValue("auction", admitted.auction().value()).log("Socket.IO session {} joined", session.sid());
    }

    @Override
    public void disconnected() {
        detach();
        LOG.atDebug().addKeyValue("auction", admitted.auction().value()).log("Socket.IO session {} left", session.sid());
    }

    @Override
    public void event(String name) {
        if (viewer != null) {
            viewer.receiveEvent(name);
        }
    }

    private void detach() {
        if (viewer != null) {
            viewer.detach();
            viewer = null;
        }
    }

    private void register() {
        registry.put(session.sid(), this);
        ticker.add(this);
        LOG.atDebug().addKeyValue("auction", admitted.auction().value()).log("Socket.IO session {} opened", session.sid());
    }

    private void wire(WebSocketTransport candidate) {
        LeanWebSocket ws = candidate.ws();
        ws.textHandler(text -> onContext(() -> {
            if (ViewerFrames.isTooBig(text)) {
                metrics.refused("frame_too_big");
                ws.close(ViewerFrames.TOO_BIG, "frame over " + ViewerFrames.MAX_FRAME_BYTES + " bytes");
                return;
            }
            if (session.isPolling()) {
                session.socketMessage(candidate, text);
                if (!session.isPolling()) {
                    transport = candidate;
                    wire.drained();
                }
            } else {
                session.socketMessage(candidate, text);
            }
            ticker.rescheduled(this);
        }));
        ws.binaryHandler(length -> onContext(() -> session.socketBinary(candidate)));
        ws.closeHandler(v -> onContext(() -> session.socketClosed(candidate)));
        ws.drainHandler(v -> onContext(() -> {
            if (transport == candidate) {
                wire.drained();
            }
        }));
    }

    /**
     * The Socket.IO wire: events as Socket.IO EVENT packets, on whichever transport the session runs. Congested until
     * the CONNECT is answered: what comes before waits in the viewer.
     */
    private final class EngineWire implements ViewerWire {
        private Runnable onDrained = () -> { };
        private boolean answered;

        @Override
        public ViewerEvent started(Start start) {
            String pid = start.isRecovered() && returningPid != null ? returningPid : pids.issue(admitted.auction(), start.position());
            session.send(socket.answer(pid));
            answered = true;
            return null;
        }

        @Override
        public GavelMetrics.Transport transport() {
            return GavelMetrics.Transport.SOCKETIO;
        }

        @Override
        public void write(ViewerEvent event) {
            if (session.isPolling() || transport == null) {
                session.send(event.socketIoPacket());
            } else {
                // the session is on its WebSocket: the packet's frame, encoded once for every viewer
                transport.ws().writeFrame(SharedFrames.socketIoPacket(event));
            }
        }

        @Override
        public boolean congested() {
            if (!answered) {
                return true;
            }
            if (session.isPolling()) {
                return session.bufferedChars() > POLL_BUFFER_CHARS;
            }
            return transport != null && transport.ws().writeQueueFull();
        }

        @Override
        public void onDrained(Runnable action) {
            onDrained = action;
        }

        void drained() {
            onDrained.run();
        }

        @Override
        public void close(short code, String reason) {
            if (code == Viewer.NORMAL_CLOSURE) {
                // a viewer sent away for good (its auction closed): a Socket.IO client reconnects after a
                // transport close, but not after the server's DISCONNECT
                session.send(SocketIoSocket.DISCONNECT);
            }
            session.close(code, reason);
        }
    }

    /** A WebSocket as an Engine.IO transport. */
    private record WebSocketTransport(LeanWebSocket ws) implements EngineSession.Socket {

        @Override
        public void send(String packet) {
            ws.writeText(packet);
        }

        @Override
        public void close(short code, String reason) {
            ws.close(code, reason);
        }
    }
}
