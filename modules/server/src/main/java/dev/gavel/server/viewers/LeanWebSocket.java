package dev.gavel.server.viewers;

import dev.gavel.core.EventLoops;
import dev.gavel.server.http.UpgradeRequest;
import dev.gavel.server.http.Utf8Frames;
import dev.gavel.server.ops.GavelMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.Context;
import io.vertx.core.Handler;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * A viewer's WebSocket on a bare Netty pipeline. Its upgrade never reaches Vert.x's request handling:
 * {@link UpgradeRouter} takes it off the connection's pipeline and {@link #accept} answers it with Netty's handshake,
 * putting this handler where Vert.x's was; Vert.x's connection object becomes garbage, and no Vert.x request,
 * response, WebSocket or routing context is made. What stays per connection is Netty's channel and codec, and this
 * object: that is what lets one replica hold as many viewers as it has open files, and admit them at a rate Vert.x's
 * HTTP path does not reach (see docs/benchmarks.md for what each costs).
 *
 * <p>What it does: text frames (fragmented ones joined, up to {@link ViewerFrames#MAX_FRAME_BYTES}, else 1009),
 * binary frames by length, invalid UTF-8 closed with 1007 ({@link Utf8Frames}), pings answered, the close handshake
 * with a timeout. A frame fanned out to many viewers is written as one {@link SharedFrames} buffer: encoded once. Handlers run on the context of the server that took the upgrade, on the channel's event loop.
 */
public final class LeanWebSocket extends ChannelInboundHandlerAdapter {

    /** How long a close waits for the client's close frame (or for a congested connection to take ours). */
    static final long CLOSING_TIMEOUT_MILLIS = 10_000;

    private final Context context;
    private final GavelMetrics metrics;
    private ChannelHandlerContext chctx;
    private Handler<String> textHandler = text -> { };
    private Handler<Integer> binaryHandler = length -> { };
    private Handler<Void> closeHandler = v -> { };
    private Handler<Void> drainHandler = v -> { };
    private ByteBuf fragments;
    private boolean binaryFragments;
    private boolean closeSent;
    private boolean closed;
    private ScheduledFuture<?> closingTimeout;

    private LeanWebSocket(Context context, GavelMetrics metrics) {
        this.context = context;
        this.metrics = metrics;
    }

    /**
     * Answers an upgrade that never reached Vert.x with the handshake, and takes the connection: call on the context
     * whose handlers it runs.
     *
     * @return null when the client went away first (or sent a handshake Netty cannot answer: it was told so)
     */
    static LeanWebSocket accept(UpgradeRequest upgrade, WebSocketDecoderConfig frames, Context context,
                                GavelMetrics metrics) {
        LeanWebSocket lean = new LeanWebSocket(context, metrics);
        return upgrade.accept(lean, frames) ? lean : null;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        chctx = ctx;
        if (!ctx.channel().isActive()) {
            closed = true;
        }
    }

    /** The connection's channel (for the loop's {@link WebSocketPings}). */
    public Channel channel() {
        return chctx.channel();
    }

    public LeanWebSocket textHandler(Handler<String> handler) {
        textHandler = handler;
        return this;
    }

    public LeanWebSocket binaryHandler(Handler<Integer> handler) {
        binaryHandler = handler;
        return this;
    }

    /** Called once the connection is closed, whoever closed it. */
    public LeanWebSocket closeHandler(Handler<Void> handler) {
        closeHandler = handler;
        if (closed) {
            EventLoops.dispatch(context, null, handler);
        }
        return this;
    }

    /** Called when the connection takes writes again after {@link #writeQueueFull()}. */
    public LeanWebSocket drainHandler(Handler<Void> handler) {
        drainHandler = handler;
        return this;
    }

    /** Writes a whole frame made by {@link SharedFrames}, shared with every other connection that gets it. */
    public void writeFrame(ByteBuf sharedFrame) {
        if (!closeSent && !closed) {
            chctx.writeAndFlush(sharedFrame.duplicate(), chctx.voidPromise());
        }
    }

    /** Writes one text frame of this connection's own. */
    public void writeText(String text) {
        if (!closeSent && !closed) {
            chctx.writeAndFlush(new TextWebSocketFrame(text), chctx.voidPromise());
        }
    }

    /** True while more is in flight than the channel's high water mark. */
    public boolean writeQueueFull() {
        return !chctx.channel().isWritable();
    }

    /** True once a close was sent or the connection is gone. */
    public boolean isClosed() {
        return closeSent || closed;
    }

    /** Starts the close handshake with {@code code}; the connection is dropped if the client does not answer. */
    public void close(short code, String reason) {
        if (closeSent || closed) {
            return;
        }
        closeSent = true;
        chctx.writeAndFlush(new CloseWebSocketFrame(code, reason), chctx.voidPromise());
        closingTimeout = chctx.executor().schedule(() -> {
            chctx.close();
        }, CLOSING_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof WebSocketFrame frame) {
                frame(ctx, frame);
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void frame(ChannelHandlerContext ctx, WebSocketFrame frame) {
        if (frame instanceof CloseWebSocketFrame close) {
            if (!closeSent) {
                closeSent = true;
                int status = close.statusCode();
                ctx.writeAndFlush(status < 0 ? new CloseWebSocketFrame() : new CloseWebSocketFrame(status, null))
                        .addListener(f -> ctx.close());
            } else {
                ctx.close();
            }
        } else if (frame instanceof PingWebSocketFrame) {
            ctx.writeAndFlush(new PongWebSocketFrame(frame.content().retain()), ctx.voidPromise());
        } else if (frame instanceof PongWebSocketFrame || closeSent) {
            // nothing to answer; after our close, the client's frames are not taken
        } else if (frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame) {
            if (frame.isFinalFragment()) {
                deliver(frame instanceof BinaryWebSocketFrame, frame.content());
            } else {
                binaryFragments = frame instanceof BinaryWebSocketFrame;
                fragments = ctx.alloc().buffer().writeBytes(frame.content());
                checkFragments();
            }
        } else if (frame instanceof ContinuationWebSocketFrame && fragments != null) {
            fragments.writeBytes(frame.content());
            if (checkFragments() && frame.isFinalFragment()) {
                ByteBuf whole = fragments;
                fragments = null;
                try {
                    deliver(binaryFragments, whole);
                } finally {
                    whole.release();
                }
            }
        }
    }

    /** False (and the connection closing with 1009) once the joined fragments are over the frame limit. */
    private boolean checkFragments() {
        if (fragments.readableBytes() <= ViewerFrames.MAX_FRAME_BYTES) {
            return true;
        }
        fragments.release();
        fragments = null;
        metrics.refused("frame_too_big");
        close(ViewerFrames.TOO_BIG, "frame over " + ViewerFrames.MAX_FRAME_BYTES + " bytes");
        return false;
    }

    private void deliver(boolean binary, ByteBuf content) {
        if (binary) {
            EventLoops.dispatch(context, content.readableBytes(), binaryHandler);
        } else {
            EventLoops.dispatch(context, content.toString(StandardCharsets.UTF_8), textHandler);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && !closed) {
            EventLoops.dispatch(context, null, drainHandler);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (closingTimeout != null) {
            closingTimeout.cancel(false);
        }
        if (fragments != null) {
            fragments.release();
            fragments = null;
        }
        if (!closed) {
            closed = true;
            EventLoops.dispatch(context, null, closeHandler);
        }
    }

    /**
     * A frame that breaks the protocol (invalid UTF-8 is answered 1007 by {@link Utf8Frames}, before this handler) ends
     * here, as does any other failure of the channel.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof CorruptedWebSocketFrameException) {
            metrics.refused("invalid_frame");
        }
        ctx.close();
    }
}
