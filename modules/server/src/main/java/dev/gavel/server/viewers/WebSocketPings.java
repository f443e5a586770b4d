package dev.gavel.server.viewers;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.HttpServerConnection;

import java.time.Clock;

/**
 * The server's WebSocket ping on {@code /ws} and on SockJS's WebSocket transports ({@code WS_PING_INTERVAL_MS}), for
 * the WebSockets of one event loop. Nothing else writes to the viewer of a quiet auction, so without it a viewer
 * whose link died stays counted until TCP gives up (about 15 minutes).
 *
 * <p>What callers may rely on: every watched connection is sent a ping once per interval; a connection from which
 * nothing at all (a pong, or any other frame) arrived in the interval after a ping is dropped, without a close frame
 * (a client that cannot answer a ping cannot hear one either; a live one sees 1006 and reconnects). Its transport sees
 * the connection end at once, so its viewer leaves the count then, not when TCP gives up. A dead viewer is dropped
 * between one and two intervals after its link died, plus at most one tick.
 *
 * <p>One periodic timer per loop, not one per connection: a connection costs a slot in an array and a handler in its
 * pipeline. Confined to its loop's context; the connections it watches are on the same loop.
 */
public final class WebSocketPings {

    private final long intervalMillis;
    private final Clock clock;
    private Watch[] watched = new Watch[64];
    private int size;

    public WebSocketPings(long intervalMillis, Clock clock) {
        this.intervalMillis = intervalMillis;
        this.clock = clock;
    }

    public long intervalMillis() {
        return intervalMillis;
    }

    /** A tenth of the interval, between 100 ms and 1 s: pings go out at most that late. */
    static long tickMillis(long intervalMillis) {
        return Math.min(1000, Math.max(100, intervalMillis / 10));
    }

    /** Starts the loop's timer; call once, on the context of the event loop whose connections it watches. */
    public void start(Vertx vertx) {
        vertx.setPeriodic(tickMillis(intervalMillis), t -> tick(clock.millis()));
    }

    /**
     * Watches the WebSocket that {@code upgraded} was upgraded to, if it was (an HTTP request of SockJS's other
     * transports is not). Call on the connection's context, once the upgrade succeeded.
     */
    public void watch(HttpServerRequest upgraded) {
        if (upgraded.connection() instanceof HttpServerConnection connection) {
            watch(connection.channelHandlerContext().channel());
        }
    }

    /**
     * Has the kernel end {@code request}'s connection once data sent on it stays unacknowledged for the interval
     * ({@code TCP_USER_TIMEOUT}): for SockJS's HTTP receiving connections, which carry a heartbeat but no answer to
     * it. Only with epoll (Linux); elsewhere TCP's own retries decide, as before.
     */
    public void boundUnacknowledged(HttpServerRequest request) {
        if (request.connection() instanceof HttpServerConnection connection
                && connection.channelHandlerContext().channel() instanceof EpollSocketChannel channel) {
            channel.config().setTcpUserTimeout((int) intervalMillis);
        }
    }

    /**
     * Watches a WebSocket channel: its last handler is whoever takes its frames (Gavel's {@link LeanWebSocket} or
     * Vert.x's WebSocket), and the watch goes just before it, where it sees every frame after decoding.
     */
    public void watch(Channel channel) {
        if (!channel.isActive() || channel.pipeline().get(WebSocketFrameDecoder.class) == null) {
            return;
        }
        Watch watch = new Watch(clock.millis() + intervalMillis);
        channel.pipeline().addBefore(channel.pipeline().lastContext().name(), "gavel-ping", watch);
        if (size == watched.length) {
            Watch[] grown = new Watch[size * 2];
            System.arraycopy(watched, 0, grown, 0, size);
            watched = grown;
        }
        watch.slot = size;
        watched[size++] = watch;
    }

    /** Pings every connection that is due at {@code now}, and drops those that did not answer the last ping. */
    void tick(long now) {
        for (int i = 0; i < size; i++) {
            Watch watch = watched[i];
            if (watch.due <= now) {
                watch.due = now + intervalMillis;
                watch.tick();
            }
            if (i < size && watched[i] != watch) {
                // it was dropped and the last connection took its slot
                i--;
            }
        }
    }

    /** Removes a connection in constant time: the last one takes its slot. */
    private void remove(Watch watch) {
        int slot = watch.slot;
        if (slot < 0 || slot >= size || watched[slot] != watch) {
            return;
        }
        Watch last = watched[--size];
        watched[slot] = last;
        last.slot = slot;
        watched[size] = null;
        watch.slot = -1;
        if (watched.length > 64 && size < watched.length / 4) {
            Watch[] shrunk = new Watch[watched.length / 2];
            System.arraycopy(watched, 0, shrunk, 0, size);
            watched = shrunk;
        }
    }

    /** One connection's state: whether anything arrived since the last ping. Passes every frame on untouched. */
    private final class Watch extends ChannelInboundHandlerAdapter {

        private ChannelHandlerContext ctx;
        private long due;
        private int slot = -1;
        /** True until the first ping: a connection is given a whole interval before its first. */
        private boolean heard = true;

        private Watch(long due) {
            this.due = due;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            heard = true;
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            remove(this);
            ctx.fireChannelInactive();
        }

        private void tick() {
            if (!heard) {
                remove(this);
                // from here, not from the channel's tail: Vert.x's WebSocket would turn a close into a closing
                // handshake that waits for the client's answer
                ctx.close();
                return;
            }
            heard = false;
            ctx.writeAndFlush(new PingWebSocketFrame(Unpooled.EMPTY_BUFFER), ctx.voidPromise());
        }
    }
}
