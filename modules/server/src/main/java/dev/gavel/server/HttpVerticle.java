package dev.gavel.server;

import dev.gavel.core.Audience;
import dev.gavel.core.Engine;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

import java.time.Clock;

/** Serves everything of a node on one port: viewer transports, health and metrics, and the HTTP API. */
final class HttpVerticle extends VerticleBase {

    /** The largest frame a viewer may send; a bigger one closes its connection with 1009. */
    static final int MAX_VIEWER_FRAME_BYTES = 4096;

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
        new HealthRoutes(engine, audience, state).mount(router);
        HttpServerOptions options = new HttpServerOptions()
                .setPort(config.port())
                .setMaxWebSocketFrameSize(MAX_VIEWER_FRAME_BYTES)
                .setMaxWebSocketMessageSize(MAX_VIEWER_FRAME_BYTES);
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
