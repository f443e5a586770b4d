package dev.gavel.server;

import dev.gavel.core.Audience;
import dev.gavel.core.Engine;
import dev.gavel.server.socketio.EngineSettings;
import dev.gavel.server.socketio.SocketIoViewers;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

import java.time.Clock;

/** Serves everything of a node on one port: viewer transports, health and metrics, and the HTTP API. */
final class HttpVerticle extends VerticleBase {

    /**
     * The largest frame Vert.x reads at all; a bigger one drops the connection. Frames between this and the
     * contract's 4 KiB are read so that they can be refused with a proper 1009 (see {@link ViewerFrames}).
     */
    static final int MAX_WEBSOCKET_FRAME_BYTES = 64 * 1024;

    private final GavelConfig config;
    private final Engine engine;
    private final Audience audience;
    private final NodeState state;
    private HttpServer server;
    private Router router;

    HttpVerticle(GavelConfig config, Engine engine, Audience audience, NodeState state) {
        this.config = config;
        this.engine = engine;
        this.audience = audience;
        this.state = state;
    }

    @Override
    public Future<?> start() {
        OriginPolicy origins = new OriginPolicy(config.allowedOrigins());
        ViewerAdmission admission = new ViewerAdmission(origins);
        router = Router.router(vertx);
        router.route("/ws").handler(new WebSocketViewers(admission, audience));
        router.route("/auction/").handler(new SocketIoViewers(admission, origins, audience, new EngineSettings(
                config.socketIoPingIntervalMillis(), config.socketIoPingTimeoutMillis(), ViewerFrames.MAX_FRAME_BYTES,
                EngineSettings.DEFAULT_UPGRADE_TIMEOUT_MILLIS), config.nodeId(), Clock.systemUTC()));
        new SockJsViewers(admission, audience, config.nodeId(), ViewerFrames.MAX_FRAME_BYTES).mount(vertx, router);
        new HealthRoutes(engine, audience, state).mount(router);
        HttpServerOptions options = new HttpServerOptions()
                .setPort(config.port())
                .setMaxWebSocketFrameSize(MAX_WEBSOCKET_FRAME_BYTES)
                .setMaxWebSocketMessageSize(MAX_WEBSOCKET_FRAME_BYTES);
        return ApiRoutes.load(vertx, config.adminToken(), origins, new AuctionApi(engine, Clock.systemUTC()))
                .compose(api -> {
                    // Last: the API router is mounted on /* and passes on what it does not route.
                    api.mount(vertx, router);
                    return vertx.createHttpServer(options).requestHandler(router).listen();
                })
                .onSuccess(s -> server = s);
    }

    /** The node's routes; tests compare them with the OpenAPI document. */
    Router router() {
        return router;
    }

    int actualPort() {
        return server.actualPort();
    }
}
