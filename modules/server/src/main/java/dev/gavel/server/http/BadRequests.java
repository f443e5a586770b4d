package dev.gavel.server.http;

import dev.gavel.server.ops.GavelMetrics;
import dev.gavel.server.ops.logging.RefusalLog;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpMessage;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.impl.HttpServerConnection;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;

/**
 * Refuses, before any route sees them, the requests that no route should: a request URI with a malformed
 * percent-encoding (400: Vert.x and vertx-web would throw on it wherever they decode the path or the query), a request
 * without {@code Host} (400, as HTTP/1.1 requires; vertx-web's router would throw on it and log an error with a stack
 * for each), a request with both {@code Content-Length} and {@code Transfer-Encoding} (400, and the connection closed:
 * the two disagree on where the body ends, which is how requests are smuggled past a proxy that reads the other one),
 * and a request the decoder could not read at all (a bad request line, a head over Vert.x's limits: Vert.x's status).
 * Each refusal is counted ({@code malformed_http}) and logged by class ({@link dev.gavel.server.ops.logging.RefusalLog}),
 * never one line per request.
 */
public final class BadRequests implements Handler<HttpServerRequest> {

    static final String MALFORMED_URI = "malformed percent-encoding in the request URI";
    static final String BOTH_LENGTHS = "both Content-Length and Transfer-Encoding";
    static final String NO_HOST = "no Host header";
    static final String REASON = "malformed_http";
    private static final String DECODER = "httpDecoder";
    private static final String HEX = "0123456789abcdefABCDEF";

    private final Handler<HttpServerRequest> routes;
    private final GavelMetrics metrics;

    public BadRequests(Handler<HttpServerRequest> routes, GavelMetrics metrics) {
        this.routes = routes;
        this.metrics = metrics;
    }

    @Override
    public void handle(HttpServerRequest request) {
        if (!wellEncoded(request.uri())) {
            refuse(request, MALFORMED_URI);
        } else if (request.version() != HttpVersion.HTTP_2 && !request.headers().contains(HttpHeaders.HOST)) {
            refuse(request, NO_HOST);
        } else {
            routes.handle(request);
        }
    }

    private void refuse(HttpServerRequest request, String why) {
        metrics.refused(REASON);
        Refusal.sendError(request.response(), 400, why);
    }

    /**
     * For {@link io.vertx.core.http.HttpServer#invalidRequestHandler}: answers a request that {@link #strictFraming}
     * failed, and any other that the decoder could not read the way Vert.x does. Vert.x closes the connection after
     * the answer, and the decoder has dropped whatever followed the request.
     */
    public void invalid(HttpServerRequest request) {
        metrics.refused(REASON);
        if (request.decoderResult().cause() instanceof BothLengths) {
            request.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
            Refusal.sendError(request.response(), 400, BOTH_LENGTHS);
        } else {
            HttpServerRequest.DEFAULT_INVALID_REQUEST_HANDLER.handle(request);
            RefusalLog.refused("unreadable request (" + request.response().getStatusCode() + ")");
        }
    }

    /**
     * For {@link io.vertx.core.http.HttpServer#connectionHandler}: gives the connection a decoder that fails a request
     * with both headers (see {@link #invalid}). Netty's own, given {@code Transfer-Encoding: chunked} with a
     * {@code Content-Length}, drops the length and reads chunks, so no request handler could see both; and with any
     * other transfer coding it reads by the length, after a refusal Vert.x would still serve the requests that were
     * pipelined behind. Vert.x calls the connection handler before the connection's first byte is read only when it
     * does not look for HTTP/2 over clear text first: the server's options turn that off.
     */
    public static Handler<HttpConnection> strictFraming(HttpServerOptions options) {
        return connection -> {
            if (connection instanceof HttpServerConnection server) {
                ChannelPipeline pipeline = server.channelHandlerContext().pipeline();
                if (pipeline.get(DECODER) instanceof VertxHttpRequestDecoder) {
                    pipeline.replace(DECODER, DECODER, new StrictDecoder(options));
                }
            }
        };
    }

    /** True when every {@code %} is followed by two hex digits: what every decoder of the path and query needs. */
    static boolean wellEncoded(String uri) {
        for (int i = uri.indexOf('%'); i >= 0; i = uri.indexOf('%', i + 1)) {
            if (i + 2 >= uri.length() || HEX.indexOf(uri.charAt(i + 1)) < 0 || HEX.indexOf(uri.charAt(i + 2)) < 0) {
                return false;
            }
        }
        return true;
    }

    private static final class StrictDecoder extends VertxHttpRequestDecoder {

        StrictDecoder(HttpServerOptions options) {
            super(options);
        }

        /**
         * The one hook Netty calls with a request's headers complete and before it picks how to read the body; what
         * it throws fails the request and drops the rest of the connection's input.
         */
        @Override
        protected boolean isContentAlwaysEmpty(HttpMessage message) {
            if (message.headers().contains(HttpHeaders.TRANSFER_ENCODING) && message.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
                throw new BothLengths();
            }
            return super.isContentAlwaysEmpty(message);
        }
    }

    private static final class BothLengths extends IllegalArgumentException {
        BothLengths() {
            super(BOTH_LENGTHS, null);
        }
    }
}
