package dev.gavel.server;

import dev.gavel.core.AuctionId;
import dev.gavel.core.Audience;
import dev.gavel.core.Viewer;
import dev.gavel.core.ViewerEvent;
import dev.gavel.core.ViewerId;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

/**
 * Viewers over SockJS at {@code /sockjs?slug=auction-<id>}, with vertx-web's SockJS server: every transport that
 * {@code sockjs-client} 1.6 offers, the same JSON frames as {@code /ws}.
 *
 * <p>{@code sockjs-client} repeats the query of the URL it was given on every request it makes (info, iframe,
 * each transport's requests and the WebSocket upgrade). So every request under {@code /sockjs/} passes
 * {@link ViewerAdmission} before SockJS sees it: a disallowed {@code Origin} is answered 403 and a bad slug 400,
 * with {@code {"error": ...}}; the client's first request ({@code /info}) is refused, and nothing is counted.
 * Every HTTP answer carries {@link StickyCookie}, since a SockJS session over HTTP lives on one replica.
 */
final class SockJsViewers {

    private static final Logger LOG = LoggerFactory.getLogger(SockJsViewers.class);
    /** A frame over this is answered like a WebSocket frame over it: closed with 1009 (Message Too Big). */
    private static final short MESSAGE_TOO_BIG = 1009;
    /** The receiving requests of the HTTP transports, which vertx-web answers and then disconnects. */
    private static final List<String> CLOSING_TRANSPORTS = List.of("/xhr", "/xhr_streaming", "/eventsource", "/htmlfile", "/jsonp");

    private final ViewerAdmission admission;
    private final Audience audience;
    private final String nodeId;
    private final int maxFrameBytes;

    SockJsViewers(ViewerAdmission admission, Audience audience, String nodeId, int maxFrameBytes) {
        this.admission = admission;
        this.audience = audience;
        this.nodeId = nodeId;
        this.maxFrameBytes = maxFrameBytes;
    }

    void mount(Vertx vertx, Router router) {
        router.route("/sockjs/*").handler(this::admit);
        // the XHR transports post their frames; a few frames fit, a flood is answered 413
        router.route("/sockjs/*").handler(BodyHandler.create(false).setBodyLimit(4L * maxFrameBytes));
        router.route("/sockjs/*").subRouter(SockJSHandler.create(vertx, new SockJSHandlerOptions()).socketHandler(this::accept));
    }

    private void admit(RoutingContext ctx) {
        try {
            admission.admit(ctx.request());
        } catch (Refusal refusal) {
            refusal.send(ctx.response());
            return;
        }
        if (!"websocket".equalsIgnoreCase(ctx.request().getHeader(HttpHeaders.UPGRADE))) {
            ctx.response().addCookie(StickyCookie.forNode(nodeId));
        }
        String path = ctx.request().path();
        if (CLOSING_TRANSPORTS.stream().anyMatch(path::endsWith)) {
            // vertx-web closes the connection after each answer of these; saying so keeps a keep-alive client
            // or proxy from sending its next request on it (Node's agent does, and that request fails)
            ctx.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
        }
        ctx.next();
    }

    private void accept(SockJSSocket socket) {
        AuctionId auction;
        String viewerId;
        try {
            Map<String, List<String>> query = new QueryStringDecoder(socket.uri()).parameters();
            List<String> slug = query.get("slug");
            List<String> viewerIds = query.get("viewerId");
            auction = AuctionId.fromSlug(slug == null ? null : slug.get(0));
            viewerId = ViewerId.orRandom(viewerIds == null ? null : viewerIds.get(0));
        } catch (IllegalArgumentException e) {
            // admit() let the request through, so this cannot happen; refuse anyway rather than count it
            socket.close(1008, e.getMessage());
            return;
        }
        Viewer viewer = new SockJsViewer(socket, Vertx.currentContext());
        socket.handler(data -> {
            if (data.length() > maxFrameBytes) {
                viewer.close(MESSAGE_TOO_BIG, "frame over " + maxFrameBytes + " bytes");
            } else {
                ViewerFrames.handle(data.toString(), viewer);
            }
        });
        socket.exceptionHandler(e -> LOG.debug("SockJS viewer of auction {} failed: {}", auction, e.toString()));
        socket.closeHandler(v -> {
            LOG.debug("SockJS viewer left auction {}", auction);
            audience.leave(auction, viewer);
        });
        LOG.debug("SockJS viewer joined auction {}", auction);
        audience.join(auction, viewer, viewerId);
    }

    /** A SockJS session as a viewer; writes happen on the session's own context. */
    private record SockJsViewer(SockJSSocket socket, Context context) implements Viewer {

        @Override
        public void send(ViewerEvent event) {
            context.runOnContext(v -> socket.write(event.jsonFrame()));
        }

        @Override
        public void close(short code, String reason) {
            context.runOnContext(v -> socket.close(code, reason));
        }
    }
}
