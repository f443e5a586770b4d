package dev.gavel.server.http;

import dev.gavel.server.ops.GavelMetrics;
import dev.gavel.server.viewers.LeanWebSocket;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;

/**
 * The one UTF-8 rule for every WebSocket of a node, whatever takes its frames ({@link LeanWebSocket} on {@code /ws}
 * and Socket.IO, vertx-web's SockJS): a text frame (or a fragmented text message) that is not valid UTF-8 is
 * answered with close code 1007 and the connection is closed, as RFC 6455 requires (Netty's validator), and counted
 * as {@code invalid_frame}. {@link HttpConnectionGuard} puts one in every connection the moment it is upgraded, so no
 * frame gets past it, whichever transport the connection serves.
 */
public final class Utf8Frames extends Utf8FrameValidator {

    static final String NAME = "gavel-utf8";

    private final GavelMetrics metrics;

    private Utf8Frames(GavelMetrics metrics) {
        super(true);
        this.metrics = metrics;
    }

    /**
     * Puts the rule just before the pipeline's last handler, which takes the frames: after the WebSocket decoder and
     * any decompression, so it sees the text as the application would.
     */
    public static void require(ChannelPipeline pipeline, GavelMetrics metrics) {
        if (pipeline.get(NAME) == null) {
            pipeline.addBefore(pipeline.lastContext().name(), NAME, new Utf8Frames(metrics));
        }
    }

    /**
     * The validator has sent 1007; the connection is closed from here, toward the socket, at once. (Its own close
     * goes through the whole pipeline, where Vert.x's WebSocket, under SockJS, would turn it into a close handshake of
     * its own and wait 10 s for the client's answer.) The failure ends here instead of in a log.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (cause instanceof CorruptedWebSocketFrameException) {
            metrics.refused("invalid_frame");
            ctx.close();
        } else {
            super.exceptionCaught(ctx, cause);
        }
    }
}
