package dev.gavel.server;

import dev.gavel.core.Backend;
import dev.gavel.core.audience.Audience;
import dev.gavel.server.api.ApiRoutes;
import dev.gavel.server.api.AuctionApi;
import dev.gavel.server.api.WhoIsWatching;
import dev.gavel.server.http.BadRequests;
import dev.gavel.server.http.HttpConnectionGuard;
import dev.gavel.server.http.NodeLimits;
import dev.gavel.server.http.OriginPolicy;
import dev.gavel.server.http.Refusal;
import dev.gavel.server.ops.GavelMetrics;
import dev.gavel.server.ops.HealthRoutes;
import dev.gavel.server.ops.NodeState;
import dev.gavel.server.pages.Pages;
import dev.gavel.server.viewers.UpgradeRouter;
import dev.gavel.server.viewers.ViewerAdmission;
import dev.gavel.server.viewers.ViewerCountries;
import dev.gavel.server.viewers.ViewerDirectory;
import dev.gavel.server.viewers.ViewerTokens;
import dev.gavel.server.viewers.ViewerFrames;
import dev.gavel.server.viewers.WebSocketPings;
import dev.gavel.server.viewers.socketio.EngineSettings;
import dev.gavel.server.viewers.socketio.SocketIoViewers;
import dev.gavel.server.viewers.sockjs.SockJsViewers;
import dev.gavel.server.viewers.ws.WebSocketViewers;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Serves everything public of a node on one port: viewer transports, the probes, the HTTP API and the pages, and
 * {@code /metrics} too unless the node has a management port ({@code MANAGEMENT_PORT}). A node
 * deploys one instance per event loop; they share the port, and each serves the connections it accepts.
 */
final class HttpVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(HttpVerticle.class);

    /**
     * The largest frame Vert.x reads at all; a bigger one drops the connection. Frames between this and the
     * contract's 4 KiB are read so that they can be refused with a proper 1009 (see {@link ViewerFrames}).
     */
    static final int MAX_WEBSOCKET_FRAME_BYTES = 64 * 1024;

    private final GavelConfig config;
    private final Backend backend;
    private final Audience audience;
    private final ViewerDirectory directory;
    private final ViewerCountries countries;
    private final WhoIsWatching watching;
    private final NodeState state;
    private final GavelMetrics metrics;
    private final SocketIoViewers.Sessions socketIoSessions;
    private final SockJsViewers.Sessions sockJsSessions;
    private final NodeLimits limits;
    private final AtomicReferenceArray<Context> loops;
    private final int loop;
    private final Clock clock;
    private HttpServer server;
    private Router router;

    /**
     * @param loops every instance's context, by loop; this one sets its own at start
     * @param loop  which of the node's event loops this instance serves, from 0
     */
    HttpVerticle(GavelConfig config, Backend backend, Audience audience, ViewerDirectory directory, ViewerCountries countries,
                 WhoIsWatching watching, NodeState state, GavelMetrics metrics,
                 SocketIoViewers.Sessions socketIoSessions, SockJsViewers.Sessions sockJsSessions, NodeLimits limits,
                 AtomicReferenceArray<Context> loops, int loop, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.backend = backend;
        this.audience = audience;
        this.directory = directory;
        this.countries = countries;
        this.watching = watching;
        this.state = state;
        this.metrics = metrics;
        this.socketIoSessions = socketIoSessions;
        this.sockJsSessions = sockJsSessions;
        this.limits = limits;
        this.loops = loops;
        this.loop = loop;
    }

    @Override
    public Future<?> start() {
        OriginPolicy origins = new OriginPolicy(config.allowedOrigins());
        ViewerAdmission admission = new ViewerAdmission(origins, state, metrics, backend.auctions(), config.registeredAuctions(),
                limits.addresses(), limits.viewers(), new ViewerTokens(config.viewerTokens(), clock), countries);
        router = Router.router(vertx);
        WebSocketPings pings = new WebSocketPings(config.wsPingIntervalMillis(), clock);
        pings.start(vertx);
        WebSocketViewers webSockets = new WebSocketViewers(admission, audience, directory, metrics, pings, clock);
        router.route("/ws").handler(webSockets);
        SocketIoViewers socketIo = new SocketIoViewers(admission, origins, audience, directory, metrics, new EngineSettings(
                config.socketIoPingIntervalMillis(), config.socketIoPingTimeoutMillis(), ViewerFrames.MAX_FRAME_BYTES,
                EngineSettings.DEFAULT_UPGRADE_TIMEOUT_MILLIS), config.nodeId(), clock, socketIoSessions, config.adminToken());
        socketIo.startTicking(vertx);
        router.route("/auction/").handler(socketIo);
        // vertx-web's routes take a path with or without its trailing slash; so do these
        UpgradeRouter upgrades = new UpgradeRouter(context, metrics, MAX_WEBSOCKET_FRAME_BYTES, config.wsCompression())
                .route("/ws", webSockets).route("/ws/", webSockets)
                .route("/auction/", socketIo).route("/auction", socketIo);
        loops.set(loop, context);
        new SockJsViewers(admission, audience, directory, metrics, config.nodeId(), ViewerFrames.MAX_FRAME_BYTES, pings, clock,
                sockJsSessions).mount(vertx, router, loops);
        HealthRoutes health = new HealthRoutes(backend, audience, state, metrics);
        health.mountProbes(router);
        if (!config.hasManagementPort()) {
            health.mountMetrics(router);
        }
        Pages.mount(router);
        vertx.setPeriodic(NodeState.TICK_MILLIS, t -> state.ticked(loop));
        return ApiRoutes.load(vertx, config.adminTokens(), origins,
                new AuctionApi(backend, audience, clock, metrics, config.registeredAuctions(), watching))
                .compose(api -> {
                    // Before the API reads a body or a token: an address over its rate costs nothing more.
                    router.route("/api/*").handler(this::limitApi);
                    // Last: the API router is mounted on /* and passes on what it does not route.
                    api.mount(vertx, router);
                    router.route().failureHandler(HttpVerticle::failed);
                    HttpServerOptions options = serverOptions(config);
                    Handler<HttpConnection> strictFraming = BadRequests.strictFraming(options);
                    Handler<HttpConnection> guard = HttpConnectionGuard.installer(
                            new HttpConnectionGuard.Settings(config.httpHeaderTimeoutMillis(), config.httpIdleTimeoutMillis(), limits, metrics,
                                    upgrades));
                    BadRequests badRequests = new BadRequests(router, metrics);
                    return vertx.createHttpServer(options)
                            .connectionHandler(connection -> {
                                strictFraming.handle(connection);
                                guard.handle(connection);
                            })
                            .invalidRequestHandler(badRequests::invalid)
                            .requestHandler(badRequests)
                            .listen();
                })
                .onSuccess(s -> server = s);
    }

    /**
     * The last word on a request that failed with an exception outside the API (which has its own): a {@link Refusal}
     * is answered as such; anything else is a 500 whose stack is logged once per interval, not once per request (a
     * client that can make a route fail must not be able to fill the log). A failure with only a status goes on to
     * vertx-web's own answer, which logs nothing.
     */
    private static void failed(RoutingContext ctx) {
        Throwable failure = ctx.failure();
        if (failure == null || ctx.response().headWritten()) {
            ctx.next();
        } else if (failure instanceof Refusal refusal) {
            refusal.send(ctx.response());
        } else if (Refusal.sendError(ctx.response(), 500, "internal error")) {
            LOG.warn("Request {} {} failed (the first in this interval; the others are counted)", ctx.request().method(),
                    ctx.request().path(), failure);
        }
    }

    private void limitApi(RoutingContext ctx) {
        try {
            limits.api().check(limits.addresses().of(ctx.request()));
        } catch (Refusal refusal) {
            metrics.refused(refusal.reason());
            refusal.send(ctx.response());
            return;
        }
        ctx.next();
    }

    /**
     * Port 0 asks for a free port; the instances of one node must still share it, which Vert.x does for a
     * negative port. Compression is off unless asked for: frames are small, and deflate keeps a zlib state per
     * connection. When on, it is bounded: the fastest level, and no context takeover wherever the client agrees.
     * HTTP/2 over clear text is off: nothing of Gavel uses it, and without it {@link BadRequests#strictFraming} sees
     * each connection before its first request.
     */
    static HttpServerOptions serverOptions(GavelConfig config) {
        return new HttpServerOptions()
                .setPort(config.port() == 0 ? -1 : config.port())
                .setHttp2ClearTextEnabled(false)
                .setMaxWebSocketFrameSize(MAX_WEBSOCKET_FRAME_BYTES)
                .setMaxWebSocketMessageSize(MAX_WEBSOCKET_FRAME_BYTES)
                .setPerMessageWebSocketCompressionSupported(config.wsCompression())
                .setPerFrameWebSocketCompressionSupported(config.wsCompression())
                .setWebSocketCompressionLevel(1)
                .setWebSocketAllowServerNoContext(true)
                .setWebSocketPreferredClientNoContext(true);
    }

    /** The node's routes; tests compare them with the OpenAPI document. */
    Router router() {
        return router;
    }

    int actualPort() {
        return server.actualPort();
    }
}
