package dev.gavel.server.api;

import dev.gavel.server.http.OriginPolicy;
import dev.gavel.server.http.Refusal;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.openapi.router.OpenAPIRoute;
import io.vertx.ext.web.openapi.router.RequestExtractor;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/**
 * The HTTP API under {@code /api/v1}, routed and validated from its OpenAPI document
 * ({@value #DOCUMENT_RESOURCE}, served at {@code /api/v1/openapi.yaml}): only the operations of the document
 * are routed, and a request that does not match it is refused with 400 before any handler runs.
 *
 * <p>Every API request passes, in order: exact path matching (404 for a path that only a lenient router would
 * take for an operation's, such as one with a trailing slash), the 64 KiB body limit (413), CORS
 * ({@link ApiCors}), the admin token (401), then validation (400). The token check fails closed: every request
 * under {@code /api/} needs the token unless it is exactly one of the operations that the document leaves open.
 */
public final class ApiRoutes {

    static final String DOCUMENT_RESOURCE = "dev/gavel/server/openapi.yaml";
    static final int MAX_BODY_BYTES = 64 * 1024;

    private final OpenAPIContract contract;
    private final Buffer document;
    private final AdminToken adminToken;
    private final ApiCors cors;
    private final AuctionApi api;

    private ApiRoutes(OpenAPIContract contract, Buffer document, AdminToken adminToken, ApiCors cors, AuctionApi api) {
        this.contract = contract;
        this.document = document;
        this.adminToken = adminToken;
        this.cors = cors;
        this.api = api;
    }

    /** Loads and checks the OpenAPI document; fails if it is missing or not a valid OpenAPI 3 document. */
    public static Future<ApiRoutes> load(Vertx vertx, List<String> adminTokens, OriginPolicy origins, AuctionApi api) {
        Buffer document = Buffer.buffer(readDocument());
        return OpenAPIContract.from(vertx, DOCUMENT_RESOURCE)
                .map(contract -> new ApiRoutes(contract, document, new AdminToken(adminTokens), new ApiCors(origins), api));
    }

    /**
     * Mounts the API on {@code router}. Call it after the node's other routes: the API router is mounted on
     * {@code /*} (its routes carry their full paths) and passes on whatever it does not route.
     */
    public void mount(Vertx vertx, Router router) {
        // The body is read first, whatever is refused after: a request answered while its body is left unread
        // would leave a keep-alive connection stuck. The 64 KiB limit bounds what an unauthenticated caller costs.
        router.route("/api/*").handler(ApiRoutes::refuseInexactPath);
        router.route("/api/*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
        router.route("/api/*").handler(cors);
        router.route("/api/*").handler(this::checkAdminToken);
        router.route("/*").subRouter(createApiRouter(vertx));
        router.route("/api/*").failureHandler(ApiErrors::handle);
        router.errorHandler(404, ctx -> Refusal.sendError(ctx.response(), 404,
                "no such route: " + ctx.request().method() + " " + ctx.request().path()));
        router.errorHandler(405, ctx -> Refusal.sendError(ctx.response(), 405,
                "method not allowed: " + ctx.request().method() + " " + ctx.request().path()));
    }

    private Router createApiRouter(Vertx vertx) {
        RouterBuilder builder = RouterBuilder.create(vertx, contract, RequestExtractor.withBodyHandler());
        Map<String, io.vertx.core.Handler<RoutingContext>> handlers = Map.ofEntries(
                Map.entry("publishBidding", api::publishBidding),
                Map.entry("publishSold", api::publishSold),
                Map.entry("getViewerCount", api::viewerCount),
                Map.entry("getViewerStats", api::viewerStats),
                Map.entry("getEvents", api::events),
                Map.entry("listWatchedAuctions", api::watchedAuctions),
                Map.entry("listViewers", api::listViewers),
                Map.entry("listCountries", api::listCountries),
                Map.entry("openAuction", api::openAuction),
                Map.entry("closeAuction", api::closeAuction),
                Map.entry("getOpenApiDocument", this::serveDocument));
        for (OpenAPIRoute route : builder.getRoutes()) {
            String operationId = route.getOperation().getOperationId();
            io.vertx.core.Handler<RoutingContext> handler = handlers.get(operationId);
            if (handler == null) {
                throw new IllegalStateException("the OpenAPI document has an operation without a handler: " + operationId);
            }
            // The admin token is checked by checkAdminToken, before validation, not by the builder.
            route.setDoSecurity(false).addHandler(handler);
        }
        return builder.createRouter();
    }

    /**
     * Vert.x routes {@code /api/v1/auctions/} (and {@code //}, {@code /.}) to {@code /api/v1/auctions}, while the
     * document knows only the exact path; an API path is answered only as the document spells it. Dot segments,
     * doubled slashes and percent-encoded letters are normalized away before this check and before routing.
     */
    private static void refuseInexactPath(RoutingContext ctx) {
        if (ctx.normalizedPath().endsWith("/")) {
            Refusal.sendError(ctx.response(), 404, "no such route: " + ctx.request().method() + " " + ctx.normalizedPath());
            return;
        }
        ctx.next();
    }

    private void checkAdminToken(RoutingContext ctx) {
        Operation operation = contract.findOperation(ctx.normalizedPath(), ctx.request().method());
        boolean open = operation != null && operation.getSecurityRequirements().isEmpty();
        if (!open && !adminToken.accepts(ctx.request().getHeader(HttpHeaders.AUTHORIZATION))) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer");
            Refusal.sendError(ctx.response(), 401, "missing or wrong admin token");
            return;
        }
        ctx.next();
    }

    private void serveDocument(RoutingContext ctx) {
        // YAML, announced as text/plain as the document says: vertx-openapi takes no YAML media type.
        ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8").end(document);
    }

    private static byte[] readDocument() {
        try (InputStream in = ApiRoutes.class.getClassLoader().getResourceAsStream(DOCUMENT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + DOCUMENT_RESOURCE);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
