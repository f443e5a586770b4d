package dev.gavel.server;

import dev.gavel.core.Audience;
import dev.gavel.core.AuctionId;
import dev.gavel.core.Viewer;
import dev.gavel.core.ViewerEvent;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Viewers over plain WebSocket at {@code /ws?slug=auction-<id>}, one JSON text per frame. */
final class WebSocketViewers implements Handler<RoutingContext> {

    private static final Logger LOG = LoggerFactory.getLogger(WebSocketViewers.class);

    private final ViewerAdmission admission;
    private final Audience audience;

    WebSocketViewers(ViewerAdmission admission, Audience audience) {
        this.admission = admission;
        this.audience = audience;
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        AuctionId auction;
        try {
            auction = admission.admit(request);
        } catch (Refusal refusal) {
            refusal.send(ctx.response());
            return;
        }
        if (!"websocket".equalsIgnoreCase(request.getHeader("Upgrade"))) {
            Refusal.sendError(ctx.response(), 400, "expected a WebSocket upgrade");
            return;
        }
        String viewerId = admission.viewerId(request);
        request.toWebSocket()
                .onSuccess(ws -> accept(auction, viewerId, ws))
                .onFailure(e -> LOG.debug("WebSocket upgrade failed: {}", e.toString()));
    }

    private void accept(AuctionId auction, String viewerId, ServerWebSocket ws) {
        Viewer viewer = new WebSocketViewer(ws);
        ws.textMessageHandler(text -> ViewerFrames.handle(text, viewer));
        ws.binaryMessageHandler(data -> {
            if (data.length() > ViewerFrames.MAX_FRAME_BYTES) {
                viewer.close(ViewerFrames.TOO_BIG, "frame over " + ViewerFrames.MAX_FRAME_BYTES + " bytes");
            } else {
                viewer.send(ViewerEvent.badFrame("binary frames are not taken"));
            }
        });
        ws.exceptionHandler(e -> LOG.debug("Viewer WebSocket error: {}", e.toString()));
        ws.closeHandler(v -> audience.leave(auction, viewer));
        audience.join(auction, viewer, viewerId);
    }

    private record WebSocketViewer(ServerWebSocket ws) implements Viewer {

        @Override
        public void send(ViewerEvent event) {
            if (!ws.isClosed()) {
                ws.writeTextMessage(event.jsonFrame());
            }
        }

        @Override
        public void close(short code, String reason) {
            ws.close(code, reason);
        }
    }
}
