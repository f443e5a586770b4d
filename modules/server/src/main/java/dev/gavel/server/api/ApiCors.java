package dev.gavel.server.api;

import dev.gavel.server.http.OriginPolicy;
import dev.gavel.server.http.Refusal;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * CORS for the API. A request with no {@code Origin} (not from a browser) passes untouched. A browser origin
 * that {@link OriginPolicy} allows gets {@code Access-Control-Allow-Origin} naming it, and its preflight is
 * answered here (204, methods GET, POST, PUT and DELETE, headers Authorization and Content-Type). Any other origin is
 * refused with 403 and gets no CORS headers, so its page can read nothing.
 */
final class ApiCors implements Handler<RoutingContext> {

    static final String ALLOWED_METHODS = "GET, POST, PUT, DELETE";
    static final String ALLOWED_HEADERS = "Authorization, Content-Type";
    private static final String MAX_AGE_SECONDS = "600";

    private final OriginPolicy origins;

    ApiCors(OriginPolicy origins) {
        this.origins = origins;
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        String origin = request.getHeader(HttpHeaders.ORIGIN);
        if (origin == null) {
            ctx.next();
            return;
        }
        if (!origins.isAllowedOrigin(origin, request.getHeader(HttpHeaders.HOST))) {
            Refusal.sendError(ctx.response(), 403, "origin not allowed: " + origin);
            return;
        }
        ctx.response()
                .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, origin)
                .putHeader(HttpHeaders.VARY, HttpHeaders.ORIGIN);
        if (request.method() == HttpMethod.OPTIONS && request.getHeader(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD) != null) {
            ctx.response()
                    .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS)
                    .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS)
                    .putHeader(HttpHeaders.ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECONDS)
                    .setStatusCode(204)
                    .end();
            return;
        }
        ctx.next();
    }
}
