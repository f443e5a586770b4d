package dev.gavel.server;

import dev.gavel.core.Engine;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * {@code /health/live} (the process answers), {@code /health/ready} (it takes viewers: started, not stopping,
 * not full or overloaded, and its engine's backend reachable), and {@code /metrics} in Prometheus text format
 * (the node's {@link GavelMetrics}; see docs/metrics.md).
 */
final class HealthRoutes {

    private final Engine engine;
    private final NodeState state;
    private final GavelMetrics metrics;

    HealthRoutes(Engine engine, NodeState state, GavelMetrics metrics) {
        this.engine = engine;
        this.state = state;
        this.metrics = metrics;
    }

    /** True while the replica takes viewers: what {@code /health/ready} and {@code gavel_ready} say. */
    static boolean isReady(NodeState state, Engine engine) {
        return state.whyNoViewers() == null && engine.isReady();
    }

    void mount(Router router) {
        router.get("/health/live").handler(ctx -> ctx.json(new JsonObject().put("status", "UP")));
        router.get("/health/ready").handler(ctx -> {
            boolean ready = isReady(state, engine);
            ctx.response().setStatusCode(ready ? 200 : 503);
            ctx.json(new JsonObject()
                    .put("status", ready ? "UP" : "DOWN")
                    .put("engine", engine.isReady() ? "UP" : "DOWN"));
        });
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                .end(metrics.scrape()));
    }
}
