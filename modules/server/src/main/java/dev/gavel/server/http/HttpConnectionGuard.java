package dev.gavel.server.http;

import dev.gavel.server.ops.GavelMetrics;
import dev.gavel.server.ops.logging.RefusalLog;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.impl.HttpServerConnection;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * What every HTTP connection of a node passes through until it becomes a WebSocket, at the Netty level, in front of
 * Vert.x:
 *
 * <ul>
 *   <li><b>Open sockets per address</b> ({@code MAX_SOCKETS_PER_ADDRESS}): a connection from an address that holds
 *       as many already is answered 429 and closed before anything of it is read; a trusted proxy's are not counted.
 *       The connection's place is given back when it closes, whatever it became.</li>
 *   <li><b>Header and idle timeouts</b> ({@link ConnectionDeadlines}): a connection that does not complete a request
 *       head in time (slowloris, or nothing at all) is closed and counted ({@code header_timeout}); one that waits
 *       for its next request longer than the idle timeout is closed, and so is one that leaves its answers unread that
 *       long ({@code unread_answers}).</li>
 *   <li><b>Unread answers</b>: while more is queued for the client than the channel's high water mark (it does not
 *       read what it asked for, e.g. pipelined requests it never reads the answers of), the connection reads no more
 *       requests, as a proxy would ({@link Intake}); so does one with {@value #MAX_IN_PROGRESS} requests read and not
 *       answered yet (pipelined faster than they are answered). What one connection holds stays bounded by one read's
 *       bytes, the water mark and the requests and answers of one slice.</li>
 *   <li><b>Malformed bodies</b>: a body the decoder cannot read (a bad chunk size) reaches the routes as a
 *       {@link Refusal} 400 ({@code malformed_http}), not as an exception with a stack for the log.</li>
 * </ul>
 *
 * <p><b>Viewer upgrades</b> ({@link UpgradeTaker}) are taken here, before Vert.x sees them: the request goes to its
 * taker instead of Vert.x's handler, and until it is answered nothing more of the connection is decoded.
 *
 * <p>When the connection is upgraded (the 101 goes out), it puts {@link Utf8Frames} in front of whatever will take
 * the frames and leaves the pipeline: a viewer's connection is timed by its pings from then on. Confined to the
 * connection's event loop.
 */
public final class HttpConnectionGuard extends ChannelDuplexHandler {

    private static final String NAME = "gavel-guard";
    private static final String INTAKE = "gavel-intake";
    /** How much of what was read the decoder gets at once: a few request heads. */
    private static final int SLICE_BYTES = 4096;
    /**
     * Requests read and not answered yet, past which a connection's further bytes wait: browsers do not pipeline at
     * all, and Vert.x would otherwise decode every pipelined request it reads into a queue of its own.
     */
    static final int MAX_IN_PROGRESS = 16;
    private static final String DECODER = "httpDecoder";
    private static final String MALFORMED_BODY = "malformed request body";

    /**
     * What the guards of an event loop's server share.
     *
     * @param upgrades who takes viewers' WebSocket upgrades before Vert.x, or null for none
     */
    public record Settings(long headerMillis, long idleMillis, NodeLimits limits, GavelMetrics metrics, UpgradeTaker upgrades) {
    }

    private final Settings settings;
    private final ConnectionDeadlines deadlines;
    private final Intake intake = new Intake();
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer;
    private long timerAt = ConnectionDeadlines.NONE;
    private boolean refused;
    private boolean done;
    /** A viewer upgrade taken off Vert.x's path and not answered yet: nothing more is decoded meanwhile. */
    private UpgradeRequest taken;
    /** True while {@link #taken} waits for the answers of requests read before it. */
    private boolean takenWaits;
    /** True until the end of a taken request (its {@link LastHttpContent}) has gone by: its parts are not Vert.x's. */
    private boolean skippingTaken;

    private HttpConnectionGuard(Settings settings, long now) {
        this.settings = settings;
        this.deadlines = new ConnectionDeadlines(settings.headerMillis(), settings.idleMillis(), now);
    }

    /**
     * For {@link io.vertx.core.http.HttpServer#connectionHandler}, which Vert.x calls before the connection's first
     * byte is read (with HTTP/2 over clear text off, see the node's server options).
     */
    public static Handler<HttpConnection> installer(Settings settings) {
        return connection -> {
            if (connection instanceof HttpServerConnection server) {
                install(server.channelHandlerContext(), settings);
            }
        };
    }

    private static void install(ChannelHandlerContext vertx, Settings settings) {
        ChannelPipeline pipeline = vertx.pipeline();
        if (pipeline.get(DECODER) == null) {
            return;
        }
        HttpConnectionGuard guard = new HttpConnectionGuard(settings, now());
        pipeline.addBefore(DECODER, INTAKE, guard.intake);
        pipeline.addBefore(vertx.name(), NAME, guard);
        Channel channel = pipeline.channel();
        String peer = settings.limits().addresses().untrustedPeer(channel.remoteAddress());
        if (peer != null) {
            try {
                AddressLimiter.Lease lease = settings.limits().sockets().acquire(peer);
                channel.closeFuture().addListener(f -> lease.release());
            } catch (Refusal refusal) {
                guard.refuse(refusal);
                return;
            }
        }
        guard.watch();
    }

    private static long now() {
        return System.nanoTime() / 1_000_000;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Answers 429 and closes, reading nothing of the connection. */
    private void refuse(Refusal refusal) {
        refused = true;
        done = true;
        ctx.channel().config().setAutoRead(false);
        settings.metrics().refused(refusal.reason());
        RefusalLog.refused("too many sockets open from this address (429)");
        byte[] body = ("{\"error\":\"" + refusal.getMessage() + "\"}").getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.TOO_MANY_REQUESTS,
                Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    /** Arms the timer for the current deadline, unless one is armed for it or earlier already. */
    private void watch() {
        long deadline = deadlines.deadline();
        if (done || deadline == ConnectionDeadlines.NONE || (timer != null && timerAt <= deadline)) {
            return;
        }
        if (timer != null) {
            timer.cancel(false);
        }
        timerAt = deadline;
        timer = ctx.executor().schedule(this::check, Math.max(0, deadline - now()), TimeUnit.MILLISECONDS);
    }

    private void check() {
        timer = null;
        timerAt = ConnectionDeadlines.NONE;
        if (done) {
            return;
        }
        ConnectionDeadlines.Expiry expiry = deadlines.expired(now());
        if (expiry == ConnectionDeadlines.Expiry.HEADER) {
            settings.metrics().refused("header_timeout");
            RefusalLog.refused("no complete request head within HTTP_HEADER_TIMEOUT_MS (connection closed)");
            ctx.close();
        } else if (expiry == ConnectionDeadlines.Expiry.UNREAD) {
            settings.metrics().refused("unread_answers");
            RefusalLog.refused("answers left unread for HTTP_IDLE_TIMEOUT_MS (connection closed)");
            ctx.close();
        } else if (expiry == ConnectionDeadlines.Expiry.IDLE) {
            ctx.close();
        } else {
            watch();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest request) {
            deadlines.requestStarted();
            if (settings.upgrades() != null && taken == null && isUpgrade(request)) {
                UpgradeRequest upgrade = new UpgradeRequest(ctx.channel(), request, this::answered);
                if (settings.upgrades().takes(upgrade)) {
                    take(upgrade);
                    ReferenceCountUtil.release(msg);
                    return;
                }
            }
        } else if (skippingTaken) {
            skippingTaken = !(msg instanceof LastHttpContent);
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * A WebSocket upgrade that Vert.x's own checks would let through to a route: {@code GET} over HTTP/1.1, read
     * without error, with a {@code Host} and a well-encoded URI ({@link BadRequests} answers the others as before).
     */
    private static boolean isUpgrade(HttpRequest request) {
        return request.method() == HttpMethod.GET && request.protocolVersion() == HttpVersion.HTTP_1_1
                && request.decoderResult().isSuccess()
                && HttpHeaderValues.WEBSOCKET.contentEqualsIgnoreCase(request.headers().get(HttpHeaderNames.UPGRADE))
                && request.headers().contains(HttpHeaderNames.HOST) && BadRequests.wellEncoded(request.uri());
    }

    /**
     * Hands the upgrade to its taker once every request read before it is answered (a client that pipelines an upgrade
     * behind other requests gets their answers first, in order); until it is answered, no more of the connection is
     * decoded.
     */
    private void take(UpgradeRequest upgrade) {
        taken = upgrade;
        skippingTaken = true;
        if (deadlines.inProgress() > 1) {
            takenWaits = true;
        } else {
            settings.upgrades().take(upgrade);
        }
    }

    /** The taken upgrade was answered: the connection goes on (after a refusal that kept it) as any other. */
    private void answered() {
        taken = null;
        takenWaits = false;
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            deadlines.read();
        } else {
            deadlines.unread(now());
            watch();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse response && response.status().code() == HttpResponseStatus.SWITCHING_PROTOCOLS.code()) {
            ctx.write(msg, promise);
            upgraded();
            return;
        }
        boolean ends = msg instanceof LastHttpContent
                && !(msg instanceof HttpResponse response && response.status().codeClass() == HttpStatusClass.INFORMATIONAL);
        ctx.write(msg, promise);
        if (ends) {
            deadlines.responseEnded(now());
            watch();
            if (takenWaits && deadlines.inProgress() == 1) {
                takenWaits = false;
                UpgradeRequest upgrade = taken;
                ctx.executor().execute(() -> settings.upgrades().take(upgrade));
            }
            intake.resumeLater();
        }
    }

    /** A WebSocket now: the UTF-8 rule goes in front of whatever takes its frames, and the guard leaves. */
    private void upgraded() {
        deadlines.upgraded();
        done = true;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        ChannelPipeline pipeline = ctx.pipeline();
        Utf8Frames.require(pipeline, settings.metrics());
        if (pipeline.get(INTAKE) != null) {
            pipeline.remove(INTAKE);
        }
        pipeline.remove(this);
    }

    /**
     * A failure on its way from the decoder to Vert.x is the client's malformed input (a body Netty could not read):
     * it goes on as a stackless 400 refusal. A socket's own failure (the client reset it) ends here: the connection
     * closes, and Vert.x learns that from the close (given the reset while it held a pipelined request, Vert.x 5.0
     * fails with a NullPointerException that Netty logs with a warning, once per connection).
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            ctx.close();
        } else if (cause instanceof Refusal) {
            ctx.fireExceptionCaught(cause);
        } else {
            settings.metrics().refused(BadRequests.REASON);
            ctx.fireExceptionCaught(new Refusal(400, BadRequests.REASON, MALFORMED_BODY, 0));
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        done = true;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        ctx.fireChannelInactive();
    }

    /**
     * In front of the decoder: tells the deadlines when the client's bytes arrive, and hands them to the decoder a
     * slice at a time for as long as the connection is writable. Once it is not (the client does not read its
     * answers), the rest of what was read waits here, as bytes, reading stops, and both resume when the client has
     * read enough: what one connection holds is one read's bytes and the answers to one slice's requests, not a
     * decoded request and an answer for every byte it sends.
     */
    private final class Intake extends ChannelInboundHandlerAdapter {

        private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
        private ChannelHandlerContext intakeCtx;
        /** True when reading was turned off here (it was on) and must be turned on again here. */
        private boolean stoppedReading;
        /** True while a slice is being handed on: what it causes (an answer, a drain) must not feed the next one. */
        private boolean feeding;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            intakeCtx = ctx;
        }

        /** True while the connection may be given more requests: it takes its answers, and few are in progress. */
        private boolean open(ChannelHandlerContext ctx) {
            return ctx.channel().isWritable() && deadlines.inProgress() < MAX_IN_PROGRESS && taken == null;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (refused) {
                ReferenceCountUtil.release(msg);
                return;
            }
            deadlines.bytesArrived(now());
            watch();
            if (!(msg instanceof ByteBuf bytes)) {
                ctx.fireChannelRead(msg);
            } else if (!held.isEmpty()) {
                held.add(bytes);
                stopReading(ctx);
            } else {
                feed(ctx, bytes);
            }
        }

        /** Hands {@code bytes} on a slice at a time while the connection is writable; keeps the rest. */
        private boolean feed(ChannelHandlerContext ctx, ByteBuf bytes) {
            feeding = true;
            try {
                while (bytes.isReadable()) {
                    if (!open(ctx)) {
                        held.addFirst(bytes);
                        stopReading(ctx);
                        return false;
                    }
                    ctx.fireChannelRead(bytes.readRetainedSlice(Math.min(SLICE_BYTES, bytes.readableBytes())));
                }
                bytes.release();
                return true;
            } finally {
                feeding = false;
            }
        }

        private void stopReading(ChannelHandlerContext ctx) {
            if (ctx.channel().config().isAutoRead()) {
                stoppedReading = true;
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            resumeLater();
            ctx.fireChannelWritabilityChanged();
        }

        /**
         * Resumes in a task of its own, when anything waits: what calls this (an answer being written, a flush) is in
         * the middle of Vert.x's work on the connection, which the next request must not enter.
         */
        void resumeLater() {
            if ((!held.isEmpty() || stoppedReading) && intakeCtx != null) {
                intakeCtx.executor().execute(this::resume);
            }
        }

        /** Feeds what waits, and reads again, once the connection is open to more requests. */
        private void resume() {
            ChannelHandlerContext ctx = intakeCtx;
            if (feeding || ctx == null || ctx.isRemoved() || !open(ctx)) {
                return;
            }
            if (!held.isEmpty()) {
                boolean fed = true;
                while (fed && !held.isEmpty()) {
                    fed = feed(ctx, held.poll());
                }
                ctx.fireChannelReadComplete();
            }
            if (held.isEmpty() && stoppedReading && open(ctx)) {
                stoppedReading = false;
                ctx.channel().config().setAutoRead(true);
            }
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            while (!held.isEmpty()) {
                ctx.fireChannelRead(held.poll());
            }
            if (stoppedReading) {
                stoppedReading = false;
                ctx.channel().config().setAutoRead(true);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            while (!held.isEmpty()) {
                held.poll().release();
            }
            ctx.fireChannelInactive();
        }
    }
}
