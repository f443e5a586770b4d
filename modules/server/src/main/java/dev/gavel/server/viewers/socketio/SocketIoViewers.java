package dev.gavel.server.viewers.socketio;

import dev.gavel.core.audience.Audience;
import dev.gavel.server.http.AddressLimiter;
import dev.gavel.server.http.OriginPolicy;
import dev.gavel.server.http.Refusal;
import dev.gavel.server.http.StickyCookie;
import dev.gavel.server.http.UpgradeRequest;
import dev.gavel.server.ops.GavelMetrics;
import dev.gavel.server.viewers.LeanWebSocket;
import dev.gavel.server.viewers.UpgradeRouter;
import dev.gavel.server.viewers.ViewerAdmission;
import dev.gavel.server.viewers.ViewerDirectory;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Viewers over Socket.IO (Engine.IO protocol v4, Socket.IO protocol v5, default namespace), as
 * {@code socket.io-client} v4 connects with {@code path: "/auction/"} and {@code query: {slug: "auction-<id>"}}:
 * long-polling, WebSocket, and the upgrade from the one to the other.
 *
 * <p>The handshake (the first request, without {@code sid}) passes {@link ViewerAdmission}: a disallowed
 * {@code Origin} is answered 403, a bad slug 400 and an auction that is not open 404, with {@code {"error": ...}},
 * before anything is counted.
 * A client is counted from its CONNECT to the default namespace until its session ends. The CONNECT carries its
 * viewer token, if any ({@code io(url, {auth: {token}})}); one that does not verify, or none with
 * {@code VIEWER_TOKENS=required}, is answered with a CONNECT_ERROR {@code {"message": "invalid token"}}, nothing is
 * counted, and the session ends. Engine.IO's own errors are answered as Engine.IO answers them: HTTP 400 with
 * {@code {"code": n, "message": ...}}.
 *
 * <p>Sessions live in this node's memory: every request of a long-polling session must reach this node (see
 * {@link StickyCookie}). Within the node they may arrive on any event loop: each is handed to the context that
 * holds the session.
 */
public final class SocketIoViewers implements Handler<RoutingContext>, UpgradeRouter.Route {

    private static final Logger LOG = LoggerFactory.getLogger(SocketIoViewers.class);
    private static final String TEXT = "text/plain; charset=UTF-8";

    private final ViewerAdmission admission;
    private final OriginPolicy origins;
    private final Audience audience;
    private final ViewerDirectory directory;
    private final GavelMetrics metrics;
    private final EngineSettings settings;
    private final String nodeId;
    private final Clock clock;
    private final Map<String, SocketIoConnection> connections;
    private final SessionTicker ticker = new SessionTicker();
    private final SessionPids pids;

    /**
     * @param sessions the node's open sessions, shared by every event loop's handler: a session's requests may land
     *                 on any loop
     * @param recoverySecret what every replica shares, that the pids of connection state recovery are signed with
     *                 (see {@link SessionPids})
     */
    public SocketIoViewers(ViewerAdmission admission, OriginPolicy origins, Audience audience, ViewerDirectory directory, GavelMetrics metrics,
                           EngineSettings settings, String nodeId, Clock clock, Sessions sessions, String recoverySecret) {
        this.admission = admission;
        this.origins = origins;
        this.audience = audience;
        this.directory = directory;
        this.metrics = metrics;
        this.settings = settings;
        this.nodeId = nodeId;
        this.clock = clock;
        this.connections = sessions.open;
        this.pids = new SessionPids(recoverySecret);
    }

    /**
     * Starts ticking this handler's sessions; call once, on the context of the event loop it serves (its sessions
     * live there).
     */
    public void startTicking(Vertx vertx) {
        vertx.setPeriodic(SessionTicker.TICK_MILLIS, t -> ticker.tick(clock.millis()));
    }

    /** The open Engine.IO sessions of a node, counted or not yet, whichever event loop holds them. */
    public static final class Sessions {
        private final Map<String, SocketIoConnection> open = new ConcurrentHashMap<>();
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        HttpServerResponse response = ctx.response();
        String sid = request.getParam("sid");
        ViewerAdmission.Admitted admitted = null;
        try {
            if (sid == null) {
                admitted = admission.admit(request);
                admission.refuseWhenFull();
            } else {
                admission.checkOrigin(request);
            }
        } catch (Refusal refusal) {
            refusal.send(response);
            return;
        }
        boolean upgrade = "websocket".equalsIgnoreCase(request.getHeader(HttpHeaders.UPGRADE));
        if (!upgrade) {
            allowCrossOrigin(request, response);
        }
        if (request.method() == HttpMethod.OPTIONS) {
            preflight(request, response);
            return;
        }
        if (!"4".equals(request.getParam("EIO"))) {
            engineError(response, 5, "Unsupported protocol version");
            return;
        }
        String transport = request.getParam("transport");
        if (!"polling".equals(transport) && !"websocket".equals(transport)) {
            engineError(response, 0, "Transport unknown");
            return;
        }
        if ("websocket".equals(transport) != upgrade) {
            engineError(response, 3, "Bad request");
            return;
        }
        if (sid == null) {
            handshake(ctx.vertx(), request, response, admitted, upgrade);
            return;
        }
        SocketIoConnection connection = connections.get(sid);
        if (connection == null) {
            engineError(response, 1, "Session ID unknown");
        } else if (upgrade) {
            // a WebSocket upgrade that is not a GET (those are taken before Vert.x: see upgrade(UpgradeRequest, ...))
            engineError(response, 3, "Bad request");
        } else if (request.method() == HttpMethod.GET) {
            connection.onContext(() -> poll(response, connection));
        } else if (request.method() == HttpMethod.POST) {
            post(request, response, connection);
        } else {
            engineError(response, 3, "Bad request");
        }
    }

    /**
     * A new session over long-polling (a new session over WebSocket is a GET upgrade, which never gets here: see
     * {@link #upgrade(UpgradeRequest, Supplier)}).
     */
    private void handshake(Vertx vertx, HttpServerRequest request, HttpServerResponse response,
                           ViewerAdmission.Admitted admitted, boolean upgrade) {
        if (request.method() != HttpMethod.GET || upgrade) {
            engineError(response, 2, "Bad handshake method");
            return;
        }
        AddressLimiter.Lease lease;
        try {
            lease = admission.acquireConnection(request);
        } catch (Refusal refusal) {
            refusal.send(response);
            return;
        }
        SocketIoConnection connection = SocketIoConnection.overPolling(vertx, clock, settings, admission, admitted, audience, directory,
                metrics, connections, ticker, lease, pids);
        response.addCookie(StickyCookie.forNode(nodeId))
                .putHeader(HttpHeaders.CONTENT_TYPE, TEXT)
                .end(connection.openPacket());
    }

    /** Every WebSocket of Socket.IO: a new session's, or a long-polling session's upgrade ({@code sid}). */
    @Override
    public boolean takes(UpgradeRequest upgrade) {
        return true;
    }

    /**
     * A WebSocket, with the same checks and answers as {@link #handle} gives a request: the viewer's refusals as JSON
     * {@code {"error"}}, Engine.IO's own errors as Engine.IO answers them. Without a {@code sid} it opens a session
     * over WebSocket. With one, it is accepted whatever the session's state, and the session closes it when it cannot
     * upgrade (already upgraded, or another upgrade under way), as engine.io does: the client sees its WebSocket
     * closed rather than an error answer.
     */
    @Override
    public void upgrade(UpgradeRequest upgrade, Supplier<LeanWebSocket> accept) {
        String sid = upgrade.param("sid");
        ViewerAdmission.Admitted admitted = null;
        AddressLimiter.Lease lease = null;
        try {
            if (sid == null) {
                admitted = admission.admit(upgrade);
                admission.refuseWhenFull();
            } else {
                admission.checkOrigin(upgrade);
            }
            if (!"4".equals(upgrade.param("EIO"))) {
                upgrade.answer(400, "application/json", engineError(5, "Unsupported protocol version"));
                return;
            }
            String transport = upgrade.param("transport");
            if (!"websocket".equals(transport)) {
                upgrade.answer(400, "application/json", "polling".equals(transport) ? engineError(3, "Bad request")
                        : engineError(0, "Transport unknown"));
                return;
            }
            if (sid == null) {
                lease = admission.acquireConnection(upgrade);
            }
        } catch (Refusal refusal) {
            upgrade.refuse(refusal);
            return;
        }
        if (sid == null) {
            open(upgrade, accept, admitted, lease);
            return;
        }
        SocketIoConnection connection = connections.get(sid);
        if (connection == null) {
            upgrade.answer(400, "application/json", engineError(1, "Session ID unknown"));
            return;
        }
        LeanWebSocket ws = accept.get();
        if (ws != null) {
            connection.probe(ws);
        }
    }

    private void open(UpgradeRequest upgrade, Supplier<LeanWebSocket> accept, ViewerAdmission.Admitted admitted,
                      AddressLimiter.Lease lease) {
        LeanWebSocket ws = accept.get();
        if (ws == null) {
            lease.release();
            LOG.debug("Socket.IO client left before its WebSocket handshake was answered");
            return;
        }
        SocketIoConnection.overWebSocket(Vertx.currentContext().owner(), clock, settings, admission, admitted, audience, directory,
                metrics, connections, ticker, lease, pids, ws);
    }

    private void poll(HttpServerResponse response, SocketIoConnection connection) {
        EngineSession.Poll poll = payload -> {
            if (!response.ended() && !response.closed()) {
                response.putHeader(HttpHeaders.CONTENT_TYPE, TEXT).end(payload);
            }
        };
        if (connection.poll(poll)) {
            if (!response.ended()) {
                response.closeHandler(v -> connection.onContext(() -> connection.pollAborted(poll)));
            }
        } else {
            engineError(response, 3, "Bad request");
        }
    }

    private void post(HttpServerRequest request, HttpServerResponse response, SocketIoConnection connection) {
        Buffer body = Buffer.buffer();
        boolean[] tooLarge = {false};
        request.handler(chunk -> {
            if (tooLarge[0]) {
                return;
            }
            body.appendBuffer(chunk);
            if (body.length() > settings.maxPayloadBytes()) {
                tooLarge[0] = true;
                connection.onContext(() -> connection.fail("body over maxPayload"));
                engineError(response, 413, 3, "Payload too large");
            }
        });
        request.endHandler(v -> {
            if (tooLarge[0]) {
                return;
            }
            String text = body.toString(StandardCharsets.UTF_8);
            connection.onContext(() -> {
                if (connection.post(text)) {
                    response.putHeader(HttpHeaders.CONTENT_TYPE, TEXT).end("ok");
                } else {
                    engineError(response, 3, "Bad request");
                }
            });
        });
        request.resume();
    }

    private void allowCrossOrigin(HttpServerRequest request, HttpServerResponse response) {
        String origin = request.getHeader(HttpHeaders.ORIGIN);
        if (origin != null) {
            response.putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, origin)
                    .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true")
                    .putHeader(HttpHeaders.VARY, "Origin");
        }
    }

    private void preflight(HttpServerRequest request, HttpServerResponse response) {
        String headers = request.getHeader(HttpHeaders.ACCESS_CONTROL_REQUEST_HEADERS);
        if (headers != null) {
            response.putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_HEADERS, headers);
        }
        response.putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS")
                .putHeader(HttpHeaders.ACCESS_CONTROL_MAX_AGE, "86400")
                .setStatusCode(204)
                .end();
    }

    private static void engineError(HttpServerResponse response, int code, String message) {
        engineError(response, 400, code, message);
    }

    /** Engine.IO's error answer: {@code {"code": n, "message": ...}}. */
    private static void engineError(HttpServerResponse response, int status, int code, String message) {
        if (response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(engineError(code, message));
    }

    private static String engineError(int code, String message) {
        return "{\"code\":" + code + ",\"message\":\"" + message + "\"}";
    }
}
