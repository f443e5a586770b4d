package dev.gavel.server;

import dev.gavel.server.logging.RefusalLog;
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
 *       for its next request longer than the idle timeout is closed.</li>
 *   <li><b>Unread answers</b>: while more is queued for the client than the channel's high water mark (it does not
 *       read what it asked for, e.g. pipelined requests it never reads the answers of), the connection reads no more
 *       requests, as a proxy would: the answers queued for one connection stay bounded by the water mark plus the
 *       answer to one request.</li>
 *   <li><b>Malformed bodies</b>: a body the decoder cannot read (a bad chunk size) reaches the routes as a
 *       {@link Refusal} 400 ({@code malformed_http}), not as an exception with a stack for the log.</li>
 * </ul>
 *
 * <p>When the connection is upgraded (the 101 goes out), it puts {@link Utf8Frames} in front of whatever will take
 * the frames and leaves the pipeline: a viewer's connection is timed by its pings from then on. Confined to the
 * connection's event loop.
 */
final class HttpConnectionGuard extends ChannelDuplexHandler {

    private static final String NAME = "gavel-guard";
    private static final String BYTES = "gavel-bytes";
    private static final String DECODER = "httpDecoder";
    private static final String MALFORMED_BODY = "malformed request body";

    /** What the guards of a node share. */
    record Settings(long headerMillis, long idleMillis, NodeLimits limits, GavelMetrics metrics) {

        static Settings of(GavelConfig config, NodeLimits limits, GavelMetrics metrics) {
            return new Settings(config.httpHeaderTimeoutMillis(), config.httpIdleTimeoutMillis(), limits, metrics);
        }
    }

    private final Settings settings;
    private final ConnectionDeadlines deadlines;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer;
    private long timerAt = ConnectionDeadlines.NONE;
    /** Requests read while the client was not reading its answers, in order; null while there are none. */
    private ArrayDeque<Object> held;
    /** True when this guard turned reading off (Vert.x had it on) and must turn it on again. */
    private boolean stoppedReading;
    private boolean refused;
    private boolean done;

    private HttpConnectionGuard(Settings settings, long now) {
        this.settings = settings;
        this.deadlines = new ConnectionDeadlines(settings.headerMillis(), settings.idleMillis(), now);
    }

    /**
     * For {@link io.vertx.core.http.HttpServer#connectionHandler}, which Vert.x calls before the connection's first
     * byte is read (with HTTP/2 over clear text off, see {@link HttpVerticle#serverOptions}).
     */
    static Handler<HttpConnection> installer(Settings settings) {
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
        pipeline.addBefore(DECODER, BYTES, guard.new Bytes());
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
        } else if (expiry == ConnectionDeadlines.Expiry.IDLE) {
            ctx.close();
        } else {
            watch();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest) {
            deadlines.requestStarted();
        }
        if ((held != null && !held.isEmpty()) || !ctx.channel().isWritable()) {
            if (held == null) {
                held = new ArrayDeque<>();
            }
            held.add(msg);
            stopReading();
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            resumeReading();
        } else {
            stopReading();
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void stopReading() {
        if (ctx.channel().config().isAutoRead()) {
            stoppedReading = true;
            ctx.channel().config().setAutoRead(false);
        }
    }

    /** Hands on what was held while the client did not read, for as long as it reads; then reads again. */
    private void resumeReading() {
        boolean forwarded = false;
        while (held != null && !held.isEmpty() && ctx.channel().isWritable()) {
            ctx.fireChannelRead(held.poll());
            forwarded = true;
        }
        if (forwarded) {
            ctx.fireChannelReadComplete();
        }
        if ((held == null || held.isEmpty()) && stoppedReading && ctx.channel().isWritable()) {
            stoppedReading = false;
            ctx.channel().config().setAutoRead(true);
        }
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
        while (held != null && !held.isEmpty()) {
            ctx.fireChannelRead(held.poll());
        }
        if (stoppedReading) {
            stoppedReading = false;
            ctx.channel().config().setAutoRead(true);
        }
        if (pipeline.get(BYTES) != null) {
            pipeline.remove(BYTES);
        }
        pipeline.remove(this);
    }

    /**
     * A failure on its way from the decoder to Vert.x is the client's malformed input (a body Netty could not read):
     * it goes on as a stackless 400 refusal. A socket's own failures (a reset) go on as they are.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException || cause instanceof Refusal) {
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
        while (held != null && !held.isEmpty()) {
            ReferenceCountUtil.release(held.poll());
        }
        ctx.fireChannelInactive();
    }

    /** In front of the decoder: tells the deadlines when the client's bytes arrive. */
    private final class Bytes extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (refused) {
                ReferenceCountUtil.release(msg);
                return;
            }
            deadlines.bytesArrived(now());
            watch();
            ctx.fireChannelRead(msg);
        }
    }
}
