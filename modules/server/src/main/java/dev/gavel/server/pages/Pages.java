package dev.gavel.server.pages;

import dev.gavel.core.AuctionId;
import dev.gavel.server.http.OriginPolicy;
import dev.gavel.server.http.Refusal;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The pages a node serves itself, plain static files from the jar: the live view of an auction at
 * {@code /auctions/<id>} and the admin dashboard at {@code /admin}, with their scripts, styles and the libraries they
 * load under {@code /assets/} (never a CDN: a node's pages work offline). Every file is read once at start; a
 * missing one fails the start.
 *
 * <p>Pages are same-origin with the node's viewer transports and API, which {@link OriginPolicy} always allows. Their
 * Content-Security-Policy allows scripts, styles and connections from the node only, and no inline script.
 */
public final class Pages {

    static final String LIVE_VIEW = "/auctions/:id";
    static final String DASHBOARD = "/admin";
    /**
     * Scripts only from the node, no inline ones; connections only to the node (Chrome and Firefox take {@code 'self'}
     * to cover its {@code ws:} and {@code wss:} too); uPlot styles its chart through the CSSOM, which needs no
     * {@code 'unsafe-inline'}.
     */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    /** Our own files change with each release and are small: revalidated every time. */
    private static final String OWN = "no-cache";
    /** The libraries' files are named by their version in the jar and change only with it. */
    private static final String LIBRARY = "public, max-age=86400";
    private static final String PAGES = "dev/gavel/server/pages/";
    private static final String HTML = "text/html; charset=utf-8";
    private static final String JS = "application/javascript; charset=utf-8";
    private static final String CSS = "text/css; charset=utf-8";
    private static final String JSON = "application/json";

    private Pages() {
    }

    public static void mount(Router router) {
        Buffer live = read(PAGES + "live.html");
        router.get(LIVE_VIEW).handler(ctx -> {
            try {
                AuctionId.of(ctx.pathParam("id"));
            } catch (IllegalArgumentException e) {
                Refusal.sendError(ctx.response(), 400, "not a valid auction id: " + e.getMessage());
                return;
            }
            // the page reads the id from its own path
            send(ctx.response(), HTML, OWN, live);
        });
        serve(router, DASHBOARD, HTML, OWN, PAGES + "admin.html");
        serve(router, "/assets/gavel/gavel.css", CSS, OWN, PAGES + "gavel.css");
        serve(router, "/assets/gavel/live.js", JS, OWN, PAGES + "live.js");
        serve(router, "/assets/gavel/admin.js", JS, OWN, PAGES + "admin.js");
        // copied from npm by the build (modules/server/js), at the version of its lock file
        serve(router, "/assets/socket.io-client/socket.io.min.js", JS, LIBRARY, PAGES + "vendor/socket.io.min.js");
        // the dashboard's map, copied from npm by the build at the versions of its lock file; world-110m.json is
        // world-atlas's countries with alpha-2 ids (js/world.js)
        serve(router, "/assets/d3/d3-array.min.js", JS, LIBRARY, PAGES + "vendor/d3-array.min.js");
        serve(router, "/assets/d3/d3-geo.min.js", JS, LIBRARY, PAGES + "vendor/d3-geo.min.js");
        serve(router, "/assets/d3/topojson-client.min.js", JS, LIBRARY, PAGES + "vendor/topojson-client.min.js");
        serve(router, "/assets/world/countries-110m.json", JSON, LIBRARY, PAGES + "vendor/world-110m.json");
        // the uplot webjar, at the parent pom's uplot.version
        serve(router, "/assets/uplot/uPlot.iife.min.js", JS, LIBRARY, "META-INF/resources/webjars/uplot/1.6.30/dist/uPlot.iife.min.js");
        serve(router, "/assets/uplot/uPlot.min.css", CSS, LIBRARY, "META-INF/resources/webjars/uplot/1.6.30/dist/uPlot.min.css");
    }

    private static void serve(Router router, String path, String contentType, String cacheControl, String resource) {
        Buffer body = read(resource);
        router.get(path).handler(ctx -> send(ctx.response(), contentType, cacheControl, body));
    }

    private static void send(HttpServerResponse response, String contentType, String cacheControl, Buffer body) {
        response.putHeader(HttpHeaders.CONTENT_TYPE, contentType)
                .putHeader(HttpHeaders.CACHE_CONTROL, cacheControl)
                .putHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                .putHeader("X-Content-Type-Options", "nosniff")
                .putHeader("Referrer-Policy", "no-referrer")
                .end(body);
    }

    private static Buffer read(String resource) {
        try (InputStream in = Pages.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource + " (a page of the node, or a library it loads)");
            }
            return Buffer.buffer(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
