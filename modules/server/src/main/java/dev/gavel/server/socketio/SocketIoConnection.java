package dev.gavel.server.socketio;

import dev.gavel.core.AuctionId;
import dev.gavel.core.Audience;
import dev.gavel.core.Viewer;
import dev.gavel.core.ViewerEvent;
import dev.gavel.server.ViewerFrames;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Map;

/**
 * One Socket.IO client on this node: its {@link EngineSession} and {@link SocketIoSocket}, bound to the Vert.x
 * context that opened it, and the {@link Viewer} that the audience counts once the client has connected to
 * the default namespace.
 *
 * <p>Every call into the session runs on that context: the HTTP requests and WebSocket frames of the session
 * arrive there (the node's HTTP server runs on one context), and {@link #send} and {@link #close}, which the
 * audience calls from its own context, are handed over to it.
 */
final class SocketIoConnection implements EngineSession.Listener, SocketIoSocket.Host, Viewer {

    private static final Logger LOG = LoggerFactory.getLogger(SocketIoConnection.class);
    /** How long a session closed between two polls waits for the poll that is told so. */
    private static final long CLOSE_GRACE_MILLIS = 10_000;

    private final Vertx vertx;
    private final Context context;
    private final Clock clock;
    private final AuctionId auction;
    private final String viewerId;
    private final Audience audience;
    private final Map<String, SocketIoConnection> registry;
    private final SocketIoSocket socket;
    private EngineSession session;
    private long timerId = -1;
    private long timerAt = Long.MAX_VALUE;
    private boolean joined;

    private SocketIoConnection(Vertx vertx, Clock clock, AuctionId auction, String viewerId, Audience audience,
                               Map<String, SocketIoConnection> registry, String socketId) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.clock = clock;
        this.auction = auction;
        this.viewerId = viewerId;
        this.audience = audience;
        this.registry = registry;
        this.socket = new SocketIoSocket(socketId, this);
    }

    /** Opens a long-polling session; the handshake's answer is {@link #openPacket()}. */
    static SocketIoConnection overPolling(Vertx vertx, Clock clock, EngineSettings settings, AuctionId auction,
                                          String viewerId, Audience audience, Map<String, SocketIoConnection> registry) {
        SocketIoConnection connection = new SocketIoConnection(vertx, clock, auction, viewerId, audience, registry, Ids.next());
        connection.session = EngineSession.overPolling(Ids.next(), settings, clock, connection);
        connection.register();
        return connection;
    }

    /** Opens a session on a WebSocket; the open packet is sent on it at once. */
    static SocketIoConnection overWebSocket(Vertx vertx, Clock clock, EngineSettings settings, AuctionId auction,
                                            String viewerId, Audience audience, Map<String, SocketIoConnection> registry,
                                            ServerWebSocket ws) {
        SocketIoConnection connection = new SocketIoConnection(vertx, clock, auction, viewerId, audience, registry, Ids.next());
        WebSocketTransport transport = new WebSocketTransport(ws);
        connection.session = EngineSession.overWebSocket(Ids.next(), settings, clock, connection, transport);
        connection.wire(transport);
        connection.register();
        return connection;
    }

    String openPacket() {
        return session.openPacket();
    }

    /** A long-polling GET; false when it must be answered 400 (the session may have been closed for it). */
    boolean poll(EngineSession.Poll poll) {
        EngineSession.Answer answer = session.poll(poll);
        armTimer();
        return answer == EngineSession.Answer.OK;
    }

    /** The held poll's connection closed before it was answered. */
    void pollAborted(EngineSession.Poll poll) {
        session.pollAborted(poll);
    }

    /** A long-polling POST's body; false when it must be answered 400. */
    boolean post(String body) {
        EngineSession.Answer answer = session.post(body);
        armTimer();
        return answer == EngineSession.Answer.OK;
    }

    boolean canUpgrade() {
        return session.canUpgrade();
    }

    /** A WebSocket that the client opened to upgrade this session. */
    void probe(ServerWebSocket ws) {
        WebSocketTransport transport = new WebSocketTransport(ws);
        wire(transport);
        session.probe(transport);
        armTimer();
    }

    @Override
    public void send(ViewerEvent event) {
        onContext(() -> session.send(event.socketIoPacket()));
    }

    @Override
    public void close(short code, String reason) {
        onContext(() -> session.close(code, reason));
    }

    @Override
    public void onMessage(String data) {
        socket.receive(data);
    }

    @Override
    public void onClose(String reason) {
        if (timerId != -1) {
            vertx.cancelTimer(timerId);
            timerId = -1;
        }
        if (session.owesClose()) {
            // the client polls again within moments; it is told the session is closed rather than that it is unknown
            vertx.setTimer(CLOSE_GRACE_MILLIS, t -> registry.remove(session.sid(), this));
        } else {
            registry.remove(session.sid(), this);
        }
        if (joined) {
            joined = false;
            audience.leave(auction, this);
        }
        LOG.debug("Socket.IO session {} of auction {} closed: {}", session.sid(), auction, reason);
    }

    @Override
    public void send(String enginePacket) {
        session.send(enginePacket);
    }

    @Override
    public void connected() {
        joined = true;
        audience.join(auction, this, viewerId);
        LOG.debug("Socket.IO session {} joined auction {}", session.sid(), auction);
    }

    @Override
    public void disconnected() {
        joined = false;
        audience.leave(auction, this);
        LOG.debug("Socket.IO session {} left auction {}", session.sid(), auction);
    }

    @Override
    public void event(String name) {
        ViewerFrames.handleEvent(name, this);
    }

    @Override
    public void fail(String reason) {
        LOG.debug("Socket.IO session {} broke the protocol: {}", session.sid(), reason);
        session.fail(EngineSession.PROTOCOL_ERROR, reason);
    }

    private void register() {
        registry.put(session.sid(), this);
        armTimer();
        LOG.debug("Socket.IO session {} opened for auction {}", session.sid(), auction);
    }

    private void wire(WebSocketTransport transport) {
        ServerWebSocket ws = transport.ws();
        ws.textMessageHandler(text -> {
            if (ViewerFrames.isTooBig(text)) {
                ws.close(ViewerFrames.TOO_BIG, "frame over " + ViewerFrames.MAX_FRAME_BYTES + " bytes");
                return;
            }
            session.socketMessage(transport, text);
            armTimer();
        });
        ws.binaryMessageHandler(data -> session.socketBinary(transport));
        ws.exceptionHandler(e -> LOG.debug("Socket.IO WebSocket of session {} failed: {}", session.sid(), e.toString()));
        ws.closeHandler(v -> session.socketClosed(transport));
    }

    /** Keeps one timer, due no later than the session's next deadline; a timer that fires early re-arms. */
    private void armTimer() {
        long deadline = session.nextDeadline();
        if (deadline == Long.MAX_VALUE || (timerId != -1 && timerAt <= deadline)) {
            return;
        }
        if (timerId != -1) {
            vertx.cancelTimer(timerId);
        }
        timerAt = deadline;
        timerId = vertx.setTimer(Math.max(1, deadline - clock.millis()), t -> {
            timerId = -1;
            timerAt = Long.MAX_VALUE;
            session.tick();
            armTimer();
        });
    }

    private void onContext(Runnable action) {
        if (Vertx.currentContext() == context) {
            action.run();
            armTimer();
        } else {
            context.runOnContext(v -> {
                action.run();
                armTimer();
            });
        }
    }

    /** A WebSocket as an Engine.IO transport. */
    private record WebSocketTransport(ServerWebSocket ws) implements EngineSession.Socket {

        @Override
        public void send(String packet) {
            if (!ws.isClosed()) {
                ws.writeTextMessage(packet);
            }
        }

        @Override
        public void close(short code, String reason) {
            if (!ws.isClosed()) {
                ws.close(code, reason);
            }
        }
    }
}
