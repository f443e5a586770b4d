package dev.gavel.server.http;

import dev.gavel.core.Json;
import dev.gavel.server.ops.logging.RefusalLog;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/**
 * A request refused before anything was counted: a status and a message for the client, and for refusals that a
 * client may simply retry, how many seconds to wait ({@code Retry-After}). Every refusal sent is logged by class
 * ({@link RefusalLog}): the message up to its first colon, and the status. So a message names its class first and
 * puts anything taken from the request after a colon: {@code "origin not allowed: " + origin}.
 */
public final class Refusal extends RuntimeException {

    private final int status;
    private final String reason;
    private final long retryAfterSeconds;

    public Refusal(int status, String message) {
        this(status, null, message, 0);
    }

    /**
     * @param reason            a short name of the refusal's class (e.g. {@code address_rate}), the same for every
     *                          refusal of that class, or null
     * @param retryAfterSeconds sent as {@code Retry-After} when positive
     */
    public Refusal(int status, String reason, String message, long retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.reason = reason;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public int status() {
        return status;
    }

    /** Seconds the client should wait before it tries again ({@code Retry-After}), or 0. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** The refusal's class, or null when it has none. */
    public String reason() {
        return reason;
    }

    /**
     * Answers {@code {"error": message}} with the status. A refusal of a limit also closes the connection: a client
     * that is over its limit must not keep a socket (an open file) by keep-alive either.
     */
    public void send(HttpServerResponse response) {
        if (retryAfterSeconds > 0) {
            response.putHeader(HttpHeaders.RETRY_AFTER, Long.toString(retryAfterSeconds));
        }
        if (status == 429 || status == 503) {
            response.putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
        }
        sendError(response, status, getMessage());
    }

    /**
     * Answers {@code {"error": message}} with the status, and logs it by class ({@link RefusalLog}).
     *
     * @return true when this answer was the one of its class that was logged
     */
    public static boolean sendError(HttpServerResponse response, int status, String message) {
        int colon = message.indexOf(':');
        return sendError(response, status, message, colon < 0 ? message : message.substring(0, colon));
    }

    /**
     * Logs a refusal that is not an HTTP answer (a Socket.IO CONNECT_ERROR) by class, as the answers are.
     *
     * @param logClass a constant of the code, ending with how it was answered: {@code "invalid token (Socket.IO
     *                 CONNECT error)"}; never a client's input
     * @return true when this refusal was the one of its class that was logged
     */
    public static boolean log(String logClass) {
        return RefusalLog.refused(logClass);
    }

    /**
     * Answers {@code {"error": message}} with the status, logged under {@code logClass} (a constant of the code, for
     * messages written by a library, whose text up to a colon names no class).
     *
     * @return true when this answer was the one of its class that was logged
     */
    public static boolean sendError(HttpServerResponse response, int status, String message, String logClass) {
        boolean logged = RefusalLog.refused(logClass + " (" + status + ")");
        response.setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end("{\"error\":" + Json.quote(message) + "}");
        return logged;
    }
}
