package dev.gavel.server.ops;

import dev.gavel.core.Backend;
import dev.gavel.core.audience.Audience;
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
public final class HealthRoutes {

    private final Backend backend;
    private final Audience audience;
    private final NodeState state;
    private final GavelMetrics metrics;

    public HealthRoutes(Backend backend, Audience audience, NodeState state, GavelMetrics metrics) {
        this.backend = backend;
        this.audience = audience;
        this.state = state;
        this.metrics = metrics;
    }

    /** True while the replica takes viewers: what {@code /health/ready} and {@code gavel_ready} say. */
    public static boolean isReady(NodeState state) {
        return state.whyNoViewers() == null;
    }

    /** Why the store (Redis) does not work for this replica now, or null while it does. */
    public static String storeFailure(Backend backend, Audience audience) {
        String refused = backend.subscriptionsRefused();
        if (refused != null) {
            return "Redis refuses this replica's subscriptions (viewers get no events): " + refused;
        }
        String writes = audience.storeFailure();
        if (writes != null) {
            return "count writes fail: " + writes;
        }
        return backend.isReady() ? null : "the store (Redis) does not answer";
    }

    /** The probes, on the public port and on the management port. */
    public void mountProbes(Router router) {
        router.get("/health/live").handler(ctx -> ctx.json(new JsonObject().put("status", "UP")));
        router.get("/health/ready").handler(ctx -> {
            NodeState.Busy busy = state.whyNoViewers();
            String storeFailure = storeFailure(backend, audience);
            JsonObject body = new JsonObject()
                    .put("status", busy == null ? "UP" : "DOWN")
                    .put("engine", backend.isReady() ? "UP" : "DOWN")
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
    public void mountMetrics(Router router) {
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                .end(metrics.scrape()));
    }
}
