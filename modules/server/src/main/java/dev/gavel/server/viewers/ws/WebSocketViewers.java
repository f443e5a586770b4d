package dev.gavel.server.viewers.ws;

import dev.gavel.core.ViewerEvent;
import dev.gavel.core.audience.Audience;
import dev.gavel.server.http.AddressLimiter;
import dev.gavel.server.http.Refusal;
import dev.gavel.server.ops.GavelMetrics;
import dev.gavel.server.viewers.AttachedViewer;
import dev.gavel.server.viewers.LeanWebSocket;
import dev.gavel.server.viewers.PendingWire;
import dev.gavel.server.viewers.SharedFrames;
import dev.gavel.server.viewers.ViewerAdmission;
import dev.gavel.server.viewers.ViewerDirectory;
import dev.gavel.server.viewers.ViewerWire;
import dev.gavel.server.viewers.WebSocketPings;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;

/**
 * Viewers over plain WebSocket at {@code /ws?slug=auction-<id>}, one JSON text per frame; each is pinged by its
 * loop's {@link WebSocketPings} and dropped when it stops answering.
 */
public final class WebSocketViewers implements Handler<RoutingContext> {

    private static final Logger LOG = LoggerFactory.getLogger(WebSocketViewers.class);

    private final ViewerAdmission admission;
    private final Audience audience;
    private final ViewerDirectory directory;
    private final GavelMetrics metrics;
    private final WebSocketPings pings;
    private final Clock clock;

    public WebSocketViewers(ViewerAdmission admission, Audience audience, ViewerDirectory directory, GavelMetrics metrics, WebSocketPings pings, Clock clock) {
        this.admission = admission;
        this.audience = audience;
        this.directory = directory;
        this.metrics = metrics;
        this.pings = pings;
        this.clock = clock;
    }

    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        ViewerAdmission.Admitted admitted;
        AddressLimiter.Lease lease;
        try {
            admitted = admission.admit(request);
            admission.refuseWhenFull();
            admitted = admission.signIn(admitted, request);
            if (!"websocket".equalsIgnoreCase(request.getHeader("Upgrade"))) {
                metrics.refused("bad_request");
                throw new Refusal(400, "expected a WebSocket upgrade");
            }
            lease = admission.acquireConnection(request);
        } catch (Refusal refusal) {
            refusal.send(ctx.response());
            return;
        }
        upgrade(request, admitted, lease);
    }

    /**
     * Joins the viewer, then answers the upgrade once it is started: the client learns it is connected only when its
     * place in the auction's events is known, and misses nothing from then on. A first viewer of the auction here
     * waits for the feed to subscribe and read the log's head (a round trip to Redis); the request waits, paused, so
     * that its end is not read without a handler. Vert.x hands the WebSocket over a few tasks of the loop after it
     * wrote the answer; what arrives meanwhile waits in the viewer ({@link PendingWire}).
     */
    private void upgrade(HttpServerRequest request, ViewerAdmission.Admitted admitted, AddressLimiter.Lease lease) {
        PendingWire wire = new PendingWire(GavelMetrics.Transport.WS);
        request.pause();
        AttachedViewer viewer = AttachedViewer.attach(audience, directory, metrics, admitted, wire, clock);
        wire.whenStarted(() -> {
            Future<ServerWebSocket> upgraded;
            try {
                upgraded = request.toWebSocket();
            } catch (IllegalStateException gone) {
                // the client went away while the request waited
                upgraded = Future.failedFuture(gone);
            }
            upgraded.onSuccess(ws -> accept(request, viewer, wire, ws, lease))
                    .onFailure(e -> {
                        viewer.detach();
                        lease.release();
                        LOG.debug("WebSocket upgrade failed: {}", e.toString());
                    });
        });
    }

    private void accept(HttpServerRequest request, AttachedViewer viewer, PendingWire wire, ServerWebSocket upgraded,
                        AddressLimiter.Lease lease) {
        LeanWebSocket ws = LeanWebSocket.take(upgraded, metrics);
        pings.watch(request);
        ws.textHandler(viewer::receiveText)
                .binaryHandler(viewer::receiveBinary)
                .closeHandler(v -> {
                    viewer.detach();
                    lease.release();
                });
        wire.connected(new JsonFrames(ws));
    }

    /** The plain WebSocket wire: one {@code {"event":..,"data":..}} text frame per event. */
    private record JsonFrames(LeanWebSocket ws) implements ViewerWire {

        @Override
        public GavelMetrics.Transport transport() {
            return GavelMetrics.Transport.WS;
        }

        @Override
        public void write(ViewerEvent event) {
            ws.writeFrame(SharedFrames.jsonFrame(event));
        }

        @Override
        public boolean congested() {
            return !ws.isClosed() && ws.writeQueueFull();
        }

        @Override
        public void onDrained(Runnable action) {
            ws.drainHandler(v -> action.run());
        }

        @Override
        public void close(short code, String reason) {
            ws.close(code, reason);
        }
    }
}
