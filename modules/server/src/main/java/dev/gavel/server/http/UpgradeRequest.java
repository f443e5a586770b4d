package dev.gavel.server.http;

import dev.gavel.core.Json;
import dev.gavel.server.ops.logging.RefusalLog;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.vertx.core.MultiMap;
import io.vertx.core.net.SocketAddress;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * A viewer's WebSocket upgrade taken by {@link HttpConnectionGuard} before Vert.x saw it: no Vert.x request, response,
 * routing context or WebSocket is made for it. Whoever takes it ({@link UpgradeTaker}) answers it once, either with a
 * refusal ({@link #refuse}, {@link #answer}) or with the handshake ({@link #accept}), after which the channel's frames
 * go to the handler that replaced Vert.x's. Confined to the connection's event loop.
 */
public final class UpgradeRequest {

    /** The name of Vert.x's handler, the last of the pipeline, which the viewer's handler replaces. */
    private static final String VERTX_HANDLER = "handler";

    private final Channel channel;
    private final HttpRequest request;
    private final QueryStringDecoder query;
    private final Runnable answered;
    private Map<String, List<String>> params;
    private boolean done;

    UpgradeRequest(Channel channel, HttpRequest request, Runnable answered) {
        this.channel = channel;
        this.request = request;
        this.query = new QueryStringDecoder(request.uri());
        this.answered = answered;
    }

    public String path() {
        return query.path();
    }

    /** The first value of a query parameter, or null. */
    public String param(String name) {
        if (params == null) {
            params = query.parameters();
        }
        List<String> values = params.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    public String header(CharSequence name) {
        return request.headers().get(name);
    }

    /** The request's headers as Vert.x reads them (for the client address behind a trusted proxy). */
    public MultiMap headers() {
        if (request.headers() instanceof MultiMap multiMap) {
            // Vert.x's decoder reads headers into its own map, which is one
            return multiMap;
        }
        MultiMap copy = MultiMap.caseInsensitiveMultiMap();
        request.headers().forEach(header -> copy.add(header.getKey(), header.getValue()));
        return copy;
    }

    public SocketAddress remoteAddress() {
        return channel.remoteAddress() instanceof InetSocketAddress inet ? SocketAddress.inetSocketAddress(inet) : null;
    }

    /** True while the client is still there. */
    public boolean isOpen() {
        return channel.isActive();
    }

    /** Runs {@code action} when the connection closes (at once if it is closed). */
    public void onClose(Runnable action) {
        channel.closeFuture().addListener(f -> action.run());
    }

    /** Answers the refusal as {@link Refusal#send} does: {@code {"error": ...}}, the connection closed for 429 and 503. */
    public void refuse(Refusal refusal) {
        String message = refusal.getMessage();
        int colon = message.indexOf(':');
        RefusalLog.refused((colon < 0 ? message : message.substring(0, colon)) + " (" + refusal.status() + ")");
        FullHttpResponse response = response(refusal.status(), "application/json", "{\"error\":" + Json.quote(message) + "}");
        if (refusal.retryAfterSeconds() > 0) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, refusal.retryAfterSeconds());
        }
        send(response, refusal.status() == 429 || refusal.status() == 503);
    }

    /** Answers with a status and a body of the given type (a transport's own errors, such as Engine.IO's). */
    public void answer(int status, String contentType, String body) {
        send(response(status, contentType, body), false);
    }

    private static FullHttpResponse response(int status, String contentType, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                Unpooled.wrappedBuffer(bytes));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType).set(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        return response;
    }

    private void send(FullHttpResponse response, boolean close) {
        if (finish()) {
            response.release();
            return;
        }
        if (close) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            channel.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.writeAndFlush(response, channel.voidPromise());
        }
    }

    /** Marks the request answered; true when it was already, or the client is gone. */
    private boolean finish() {
        if (done || !channel.isActive()) {
            done = true;
            return true;
        }
        done = true;
        answered.run();
        return false;
    }

    /**
     * Answers with the handshake (RFC 6455, with permessage-deflate when the node accepts it and the client offered
     * it). {@code handler} takes Vert.x's place at the end of the pipeline first, so it gets every frame that follows;
     * {@code frames} are the limits of the WebSocket decoder.
     *
     * @return false when the client is gone or the request is not a WebSocket handshake Netty can answer (it was
     *         answered 400 or 426 and closed then)
     */
    public boolean accept(ChannelHandler handler, WebSocketDecoderConfig frames) {
        if (done || !channel.isActive()) {
            done = true;
            return false;
        }
        if (request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY) == null) {
            send(response(400, "application/json", "{\"error\":\"not a WebSocket handshake: no Sec-WebSocket-Key\"}"), true);
            return false;
        }
        WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory(location(), null, frames).newHandshaker(request);
        if (handshaker == null) {
            FullHttpResponse response = response(426, "text/plain", "unsupported WebSocket version");
            response.headers().set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "13");
            send(response, true);
            return false;
        }
        ChannelPipeline pipeline = channel.pipeline();
        pipeline.replace(pipeline.lastContext().name(), VERTX_HANDLER, handler);
        done = true;
        answered.run();
        DefaultFullHttpRequest full = new DefaultFullHttpRequest(request.protocolVersion(), request.method(), request.uri(),
                Unpooled.EMPTY_BUFFER, request.headers(), EmptyHttpHeaders.INSTANCE);
        try {
            handshaker.handshake(channel, full).addListener(f -> {
                if (!f.isSuccess()) {
                    channel.close();
                }
            });
        } catch (RuntimeException unanswerable) {
            // Netty's own checks of the handshake's headers; nothing was written yet
            channel.close();
            return false;
        }
        return true;
    }

    private String location() {
        return "ws://" + (header(HttpHeaderNames.HOST) == null ? "localhost" : header(HttpHeaderNames.HOST)) + request.uri();
    }
}
