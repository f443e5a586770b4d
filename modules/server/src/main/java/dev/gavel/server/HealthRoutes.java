package dev.gavel.server;

import dev.gavel.core.Audience;
import dev.gavel.core.Engine;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * {@code /health/live} (the process answers), {@code /health/ready} (it takes viewers: started, not stopping,
 * not full or overloaded, its engine's backend reachable, and its count writes to the store succeeding), and
 * {@code /metrics} in Prometheus text format (the node's {@link GavelMetrics}; see docs/metrics.md).
 */
final class HealthRoutes {

    private final Engine engine;
    private final Audience audience;
    private final NodeState state;
    private final GavelMetrics metrics;

    HealthRoutes(Engine engine, Audience audience, NodeState state, GavelMetrics metrics) {
        this.engine = engine;
        this.audience = audience;
        this.state = state;
        this.metrics = metrics;
    }

    /**
     * True while the replica takes viewers, its backend answers, and its count writes succeed (a viewer counted
     * nowhere is worse than one refused): what {@code /health/ready} and {@code gavel_ready} say.
     */
    static boolean isReady(NodeState state, Engine engine, Audience audience) {
        return state.whyNoViewers() == null && engine.isReady() && !audience.storeFailing();
    }

    void mount(Router router) {
        router.get("/health/live").handler(ctx -> ctx.json(new JsonObject().put("status", "UP")));
        router.get("/health/ready").handler(ctx -> {
            boolean ready = isReady(state, engine, audience);
            String storeFailure = audience.storeFailure();
            JsonObject body = new JsonObject()
                    .put("status", ready ? "UP" : "DOWN")
                    .put("engine", engine.isReady() ? "UP" : "DOWN")
                    .put("store", storeFailure == null ? "UP" : "DOWN");
            if (storeFailure != null) {
                body.put("storeFailure", "count writes fail: " + storeFailure);
            }
            ctx.response().setStatusCode(ready ? 200 : 503);
            ctx.json(body);
        });
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                .end(metrics.scrape()));
    }
}
