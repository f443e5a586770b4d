package dev.gavel.server;

import dev.gavel.core.Audience;
import dev.gavel.core.Engine;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * {@code /health/live} (the process answers), {@code /health/ready} (this replica takes viewers: started, not
 * stopping, not full or overloaded) and {@code /metrics} in Prometheus text format (the node's {@link GavelMetrics};
 * see docs/metrics.md).
 *
 * <p>Neither probe depends on Redis: every replica shares it, so a probe that failed with it would take every replica
 * out of its Service at the same moment, although each can still serve its pages, the API and new viewers (whose
 * counts follow once Redis is back). The store's state is in the readiness body ({@code "store": "DOWN"} and why), in
 * {@code gavel_store_failing}, and in the GavelStoreFailing alert.
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

    /** True while the replica takes viewers: what {@code /health/ready} and {@code gavel_ready} say. */
    static boolean isReady(NodeState state) {
        return state.whyNoViewers() == null;
    }

    /** Why the store (Redis) does not work for this replica now, or null while it does. */
    static String storeFailure(Engine engine, Audience audience) {
        String refused = engine.subscriptionsRefused();
        if (refused != null) {
            return "Redis refuses this replica's subscriptions (viewers get no events): " + refused;
        }
        String writes = audience.storeFailure();
        if (writes != null) {
            return "count writes fail: " + writes;
        }
        return engine.isReady() ? null : "the store (Redis) does not answer";
    }

    /** The probes, on the public port and on the management port. */
    void mountProbes(Router router) {
        router.get("/health/live").handler(ctx -> ctx.json(new JsonObject().put("status", "UP")));
        router.get("/health/ready").handler(ctx -> {
            NodeState.Busy busy = state.whyNoViewers();
            String storeFailure = storeFailure(engine, audience);
            JsonObject body = new JsonObject()
                    .put("status", busy == null ? "UP" : "DOWN")
                    .put("engine", engine.isReady() ? "UP" : "DOWN")
                    .put("store", storeFailure == null ? "UP" : "DOWN");
            if (busy != null) {
                body.put("reason", busy.message());
            }
            if (storeFailure != null) {
                body.put("storeFailure", storeFailure);
            }
            ctx.response().setStatusCode(busy == null ? 200 : 503);
            ctx.json(body);
        });
    }

    /** {@code /metrics}: on the management port when there is one, else on the public port. */
    void mountMetrics(Router router) {
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                .end(metrics.scrape()));
    }
}
