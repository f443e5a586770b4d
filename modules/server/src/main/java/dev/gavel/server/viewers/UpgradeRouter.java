package dev.gavel.server.viewers;

import dev.gavel.core.EventLoops;
import dev.gavel.server.http.UpgradeRequest;
import dev.gavel.server.http.UpgradeTaker;
import dev.gavel.server.ops.GavelMetrics;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.vertx.core.Context;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Takes the WebSocket upgrades of new viewers ({@code /ws}, Socket.IO's and SockJS's WebSocket) before Vert.x builds
 * anything for them, and hands each to its transport on the event loop's context; the transport answers it with a
 * refusal or with the handshake, after which the connection is a {@link LeanWebSocket}. One per event loop.
 */
public final class UpgradeRouter implements UpgradeTaker {

    /** A transport's part: which upgrades of its path are its viewers', and what it does with one. */
    public interface Route {

        /** True when the upgrade opens a new viewer of this transport (false leaves it to Vert.x's routes). */
        boolean takes(UpgradeRequest upgrade);

        /**
         * Answers the upgrade (on the event loop's context): a refusal, or {@code accept.get()}, which does the
         * handshake and gives the connection's {@link LeanWebSocket} (null when the client is gone).
         */
        void upgrade(UpgradeRequest upgrade, Supplier<LeanWebSocket> accept);
    }

    private final Context context;
    private final GavelMetrics metrics;
    private final WebSocketDecoderConfig frames;
    private final Map<String, Route> routes = new HashMap<>();

    /**
     * @param context          the event loop's context, which the transports' handlers run on
     * @param maxFrameBytes    the largest frame the WebSocket decoder reads at all
     * @param compression      whether permessage-deflate is accepted ({@code WS_COMPRESSION})
     */
    public UpgradeRouter(Context context, GavelMetrics metrics, int maxFrameBytes, boolean compression) {
        this.context = EventLoops.loopOf(context);
        this.metrics = metrics;
        this.frames = WebSocketDecoderConfig.newBuilder()
                .maxFramePayloadLength(maxFrameBytes)
                .allowExtensions(compression)
                .closeOnProtocolViolation(false)
                .build();
    }

    /** Routes the upgrades of {@code path} (exactly) to {@code route}. */
    public UpgradeRouter route(String path, Route route) {
        routes.put(path, route);
        return this;
    }

    @Override
    public boolean takes(UpgradeRequest upgrade) {
        Route route = routes.get(upgrade.path());
        return route != null && route.takes(upgrade);
    }

    @Override
    public void take(UpgradeRequest upgrade) {
        Route route = routes.get(upgrade.path());
        EventLoops.dispatch(context, upgrade, u -> route.upgrade(u, () -> LeanWebSocket.accept(u, frames, context, metrics)));
    }
}
