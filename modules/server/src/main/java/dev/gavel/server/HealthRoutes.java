package dev.gavel.server;

import dev.gavel.core.Audience;
import dev.gavel.core.Engine;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * {@code /health/live} (the process answers), {@code /health/ready} (it takes viewers: started, not stopping,
 * not full or overloaded, its engine's backend reachable, and its count writes to the store succeeding), and {@code /metrics} in Prometheus text format.
 */
final class HealthRoutes {

    private final Engine engine;
    private final Audience audience;
    private final NodeState state;

    HealthRoutes(Engine engine, Audience audience, NodeState state) {
        this.engine = engine;
        this.audience = audience;
        this.state = state;
    }

    /** Takes viewers, its backend answers, and its count writes succeed (a viewer counted nowhere is worse than refused). */
    private boolean isReady() {
        return state.whyNoViewers() == null && engine.isReady() && !audience.storeFailing();
    }

    void mount(Router router) {
        router.get("/health/live").handler(ctx -> ctx.json(new JsonObject().put("status", "UP")));
        router.get("/health/ready").handler(ctx -> {
            boolean ready = isReady();
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
                .end("# HELP gavel_viewers Viewer connections open on this replica.\n"
                        + "# TYPE gavel_viewers gauge\n"
                        + "gavel_viewers " + audience.localViewers() + "\n"
                        + "# HELP gavel_ready 1 when this replica takes viewers.\n"
                        + "# TYPE gavel_ready gauge\n"
                        + "gavel_ready " + (isReady() ? 1 : 0) + "\n"));
    }
}
