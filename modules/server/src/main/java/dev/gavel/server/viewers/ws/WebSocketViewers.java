package dev.gavel.server.viewers.ws;

import dev.gavel.core.ViewerEvent;
import dev.gavel.core.audience.Audience;
import dev.gavel.server.http.AddressLimiter;
import dev.gavel.server.http.Refusal;
import dev.gavel.server.http.UpgradeRequest;
import dev.gavel.server.ops.GavelMetrics;
import dev.gavel.server.viewers.AttachedViewer;
import dev.gavel.server.viewers.LeanWebSocket;
import dev.gavel.server.viewers.PendingWire;
import dev.gavel.server.viewers.SharedFrames;
import dev.gavel.server.viewers.UpgradeRouter;
import dev.gavel.server.viewers.ViewerAdmission;
import dev.gavel.server.viewers.ViewerDirectory;
import dev.gavel.server.viewers.ViewerWire;
import dev.gavel.server.viewers.WebSocketPings;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.function.Supplier;

/**
 * Viewers over plain WebSocket at {@code /ws?slug=auction-<id>}, one JSON text per frame; each is pinged by its
 * loop's {@link WebSocketPings} and dropped when it stops answering.
 */
public final class WebSocketViewers implements Handler<RoutingContext>, UpgradeRouter.Route {

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

    /**
     * A request to {@code /ws} that is not a viewer's upgrade (those never get here: {@link #upgrade}) gets the same
     * checks, then a 400.
     */
    @Override
    public void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        try {
            ViewerAdmission.Admitted admitted = admission.admit(request);
            admission.refuseWhenFull();
            admission.signIn(admitted, request);
            metrics.refused("bad_request");
            throw new Refusal(400, "expected a WebSocket upgrade");
        } catch (Refusal refusal) {
            refusal.send(ctx.response());
        }
    }

    @Override
    public boolean takes(UpgradeRequest upgrade) {
        return true;
    }

    /**
     * Admits a viewer's upgrade, joins the viewer, then answers the upgrade once it is started: the client learns it
     * is connected only when its place in the auction's events is known, and misses nothing from then on. A first
     * viewer of the auction here waits for the feed to subscribe and read the log's head (a round trip to Redis);
     * nothing more of the connection is read meanwhile.
     */
    @Override
    public void upgrade(UpgradeRequest upgrade, Supplier<LeanWebSocket> accept) {
        ViewerAdmission.Admitted admitted;
        AddressLimiter.Lease lease;
        try {
            admitted = admission.admit(upgrade);
            admission.refuseWhenFull();
            admitted = admission.signIn(admitted, upgrade);
            lease = admission.acquireConnection(upgrade);
        } catch (Refusal refusal) {
            upgrade.refuse(refusal);
            return;
        }
        PendingWire wire = new PendingWire(GavelMetrics.Transport.WS);
        AttachedViewer viewer = AttachedViewer.attach(audience, directory, metrics, admitted, wire, clock);
        wire.whenStarted(() -> {
            LeanWebSocket ws = accept.get();
            if (ws == null) {
                viewer.detach();
                lease.release();
                LOG.debug("WebSocket client left before its upgrade was answered");
                return;
            }
            pings.watch(ws.channel());
            ws.textHandler(viewer::receiveText)
                    .binaryHandler(viewer::receiveBinary)
                    .closeHandler(v -> {
                        viewer.detach();
                        lease.release();
                    });
            wire.connected(new JsonFrames(ws));
        });
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
