package dev.gavel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One simulated viewer: its connection and what it has seen. Everything here runs on the generator's single
 * event-loop thread, so no field needs a lock.
 */
final class Viewer {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final char RECORD_SEPARATOR = '\u001e';

    final String auction;
    final Transport transport;
    final InetSocketAddress remote;
    final InetSocketAddress local;
    private final Generator generator;

    Channel channel;
    private String sid;
    private String cookie;
    private boolean settled;

    long startNs;
    /** When this viewer's first attempt started: a viewer refused with 503 tries again as a new Viewer. */
    long firstAttemptNs;
    /** 0 for the first attempt, then 1, 2, ... for each retry after a refusal. */
    int attempt;
    /** This viewer's global index: which replica and source address it uses. */
    int index;
    /** Open when the counters were last reset: such a viewer must get every bid published since. */
    boolean openAtReset;
    long openNs;
    long firstCountNs;
    long lastCountChangeNs;
    int lastCurrent = -1;
    long countUpdates;
    long bids;
    long lastPingNs;
    long maxPingGapNs;
    long pings;
    boolean deflateAccepted;
    boolean open;
    boolean slow;
    boolean closedByUs;
    boolean ended;
    int closeCode = -1;
    String closeReason;

    Viewer(Generator generator, String auction, Transport transport, InetSocketAddress remote, InetSocketAddress local) {
        this.generator = generator;
        this.auction = auction;
        this.transport = transport;
        this.remote = remote;
        this.local = local;
    }

    void start() {
        startNs = System.nanoTime();
        if (transport == Transport.SIO_POLLING) {
            generator.connectHttp(this, new PollingHandler());
        } else {
            generator.connectWebSocket(this, new WebSocketHandler(webSocketUri()));
        }
    }

    private String query() {
        return "slug=auction-" + auction;
    }

    private URI webSocketUri() {
        String base = "ws://" + remote.getHostString() + ":" + remote.getPort();
        return URI.create(switch (transport) {
            case WS -> base + "/ws?" + query();
            case SIO_WS -> base + "/auction/?EIO=4&transport=websocket&" + query();
            case SIO_POLLING -> base + "/auction/?EIO=4&transport=websocket&sid=" + sid + "&" + query();
            case SOCKJS -> base + "/sockjs/" + ThreadLocalRandom.current().nextInt(100, 1000) + "/"
                    + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36) + "/websocket?" + query();
        });
    }

    /** The viewer is admitted: its session is established and it is in the auction's room. */
    private void opened() {
        if (!open) {
            open = true;
            openNs = System.nanoTime();
            settle(null);
        }
    }

    void fail(String reason) {
        if (!settled) {
            settle(reason);
        }
        if (channel != null) {
            channel.close();
        }
    }

    private void settle(String failure) {
        if (!settled) {
            settled = true;
            generator.settled(this, failure);
        }
    }

    /** Closes from our side, as a tab being closed does. */
    void close() {
        closedByUs = true;
        if (channel == null || !channel.isActive()) {
            return;
        }
        if (open) {
            channel.writeAndFlush(new CloseWebSocketFrame(1000, "bye")).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }

    private void ended() {
        if (ended) {
            return;
        }
        ended = true;
        boolean wasOpen = open;
        open = false;
        if (!settled) {
            settle("closed before open" + (closeCode >= 0 ? " (" + closeCode + ")" : ""));
        }
        if (wasOpen) {
            if (closeCode < 0) {
                closeCode = 1006;
            }
            generator.ended(this);
        }
    }

    private void ping() {
        long now = System.nanoTime();
        if (lastPingNs != 0) {
            maxPingGapNs = Math.max(maxPingGapNs, now - lastPingNs);
        }
        lastPingNs = now;
        pings++;
    }

    private void count(long current) {
        long now = System.nanoTime();
        countUpdates++;
        generator.countUpdates++;
        if (firstCountNs == 0) {
            firstCountNs = now;
        }
        if (current != lastCurrent) {
            lastCurrent = (int) current;
            lastCountChangeNs = now;
        }
    }

    private void bid(String text) {
        long sentNs = Frames.longField(text, "t", Long.MIN_VALUE);
        bids++;
        generator.bid(this, sentNs, sentNs == Long.MIN_VALUE ? -1 : System.nanoTime() - sentNs);
    }

    private void event(String name, String text) {
        if (Frames.COUNT_EVENT.equals(name)) {
            count(Frames.longField(text, "current", -1));
        } else if (Frames.BID_EVENT.equals(name)) {
            bid(text);
        }
    }

    private void send(String text) {
        channel.writeAndFlush(new TextWebSocketFrame(text));
    }

    private void onText(String text) {
        generator.lastFrameNs = System.nanoTime();
        switch (transport) {
            case WS -> event(Frames.wsEventName(text), text);
            case SIO_WS, SIO_POLLING -> engineIoPacket(text, true);
            case SOCKJS -> sockJsFrame(text);
        }
    }

    /** One Engine.IO packet; over WebSocket the pings are answered on the same connection. */
    private void engineIoPacket(String packet, boolean webSocket) {
        if (packet.isEmpty()) {
            return;
        }
        switch (packet.charAt(0)) {
            case '0' -> {
                if (webSocket && transport == Transport.SIO_WS) {
                    send("40");
                }
            }
            case '2' -> {
                ping();
                if (webSocket) {
                    send("3");
                }
            }
            case '3' -> {
                if (packet.equals("3probe") && transport == Transport.SIO_POLLING) {
                    send("5");
                    opened();
                }
            }
            case '4' -> socketIoPacket(packet);
            case '1' -> {
                closeCode = 1000;
                closeReason = "engine.io close";
            }
            default -> { }
        }
    }

    private void socketIoPacket(String packet) {
        if (packet.length() < 2) {
            return;
        }
        switch (packet.charAt(1)) {
            case '0' -> {
                if (transport == Transport.SIO_WS) {
                    opened();
                } else {
                    sioConnected = true;
                }
            }
            case '2' -> event(Frames.socketIoEventName(packet, 2), packet);
            case '4' -> fail("connect_error " + packet.substring(2));
            case '1' -> {
                closeCode = 1000;
                closeReason = "socket.io disconnect";
            }
            default -> { }
        }
    }

    private boolean sioConnected;

    private void sockJsFrame(String text) {
        if (text.isEmpty()) {
            return;
        }
        switch (text.charAt(0)) {
            case 'o' -> opened();
            case 'h' -> ping();
            case 'a' -> {
                try {
                    for (JsonNode message : JSON.readTree(text.substring(1))) {
                        String inner = message.asText();
                        event(Frames.wsEventName(inner), inner);
                    }
                } catch (Exception e) {
                    generator.frameErrors++;
                }
            }
            case 'c' -> {
                try {
                    JsonNode close = JSON.readTree(text.substring(1));
                    closeCode = close.get(0).asInt();
                    closeReason = close.get(1).asText();
                } catch (Exception e) {
                    closeReason = text;
                }
            }
            default -> { }
        }
    }

    /** A WebSocket client as browsers are: it answers pings and close frames, and records what it is sent. */
    final class WebSocketHandler extends SimpleChannelInboundHandler<Object> {

        private final WebSocketClientHandshaker handshaker;
        private MessageInflater inflater;

        WebSocketHandler(URI uri) {
            HttpHeaders headers = new DefaultHttpHeaders();
            if (generator.deflate) {
                headers.set(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS, "permessage-deflate; client_max_window_bits");
            }
            if (cookie != null) {
                headers.set(HttpHeaderNames.COOKIE, cookie);
            }
            this.handshaker = WebSocketClientHandshakerFactory.newHandshaker(uri, WebSocketVersion.V13, null, true,
                    headers, 1 << 20, true, false, 10_000, false, false);
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            handshaker.handshake(ctx.channel());
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (inflater != null) {
                inflater.end();
            }
            ended();
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (!handshaker.isHandshakeComplete()) {
                FullHttpResponse response = (FullHttpResponse) msg;
                String extensions = response.headers().get(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS);
                deflateAccepted = extensions != null && extensions.contains("permessage-deflate");
                if (deflateAccepted) {
                    inflater = new MessageInflater(extensions.contains("server_no_context_takeover"));
                }
                try {
                    handshaker.finishHandshake(ctx.channel(), response);
                } catch (Exception e) {
                    fail("handshake " + response.status().code());
                    return;
                }
                switch (transport) {
                    case WS -> opened();
                    case SIO_POLLING -> send("2probe");
                    default -> { }
                }
                return;
            }
            if (msg instanceof TextWebSocketFrame text) {
                if ((text.rsv() & MessageInflater.RSV1) != 0) {
                    if (inflater == null) {
                        fail("compressed frame without permessage-deflate");
                        return;
                    }
                    onText(inflater.inflate(text.content()));
                } else {
                    onText(text.text());
                }
            } else if (msg instanceof PingWebSocketFrame ping) {
                ping();
                ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
            } else if (msg instanceof CloseWebSocketFrame close) {
                closeCode = close.statusCode();
                closeReason = close.reasonText();
                if (!closedByUs) {
                    ctx.writeAndFlush(new CloseWebSocketFrame(close.statusCode(), "")).addListener(ChannelFutureListener.CLOSE);
                } else {
                    ctx.close();
                }
            } else if (msg instanceof WebSocketFrame) {
                generator.frameErrors++;
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(cause.getClass().getSimpleName());
        }
    }

    /**
     * Socket.IO's default start over HTTP: the handshake GET, the CONNECT POST, one GET for what the node queued,
     * then the WebSocket upgrade on a new connection (the probe exchange happens there).
     */
    final class PollingHandler extends SimpleChannelInboundHandler<FullHttpResponse> {

        private int step;
        private int polls;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            request(ctx, HttpMethod.GET, null);
        }

        private void request(ChannelHandlerContext ctx, HttpMethod method, String body) {
            String uri = "/auction/?EIO=4&transport=polling&" + query() + (sid == null ? "" : "&sid=" + sid)
                    + "&t=" + Long.toString(System.nanoTime(), 36);
            FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri,
                    body == null ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            request.headers().set(HttpHeaderNames.HOST, remote.getHostString() + ":" + remote.getPort());
            request.headers().set(HttpHeaderNames.CONTENT_LENGTH, request.content().readableBytes());
            if (body != null) {
                request.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain;charset=UTF-8");
            }
            if (cookie != null) {
                request.headers().set(HttpHeaderNames.COOKIE, cookie);
            }
            ctx.writeAndFlush(request);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
            if (response.status().code() != 200) {
                fail("polling " + response.status().code());
                return;
            }
            String body = response.content().toString(StandardCharsets.UTF_8);
            switch (step++) {
                case 0 -> {
                    sid = Frames.stringField(body, "sid");
                    List<String> cookies = new ArrayList<>();
                    for (String setCookie : response.headers().getAll(HttpHeaderNames.SET_COOKIE)) {
                        cookies.add(setCookie.split(";", 2)[0]);
                    }
                    cookie = cookies.isEmpty() ? null : String.join("; ", cookies);
                    if (sid == null) {
                        fail("polling handshake without sid");
                        return;
                    }
                    request(ctx, HttpMethod.POST, "40");
                }
                case 1 -> request(ctx, HttpMethod.GET, null);
                default -> {
                    generator.lastFrameNs = System.nanoTime();
                    for (String packet : body.split(String.valueOf(RECORD_SEPARATOR))) {
                        engineIoPacket(packet, false);
                    }
                    if (!sioConnected && ++polls < 3) {
                        request(ctx, HttpMethod.GET, null);
                        return;
                    }
                    if (!sioConnected) {
                        fail("no CONNECT answer over polling");
                        return;
                    }
                    ctx.channel().close();
                    generator.connectWebSocket(Viewer.this, new WebSocketHandler(webSocketUri()));
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!settled && step < 3) {
                fail("polling connection closed at step " + step);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(cause.getClass().getSimpleName());
        }
    }
}
