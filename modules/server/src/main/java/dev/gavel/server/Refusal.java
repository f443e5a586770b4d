package dev.gavel.server;

import dev.gavel.core.Json;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/**
 * A request refused before anything was counted: a status and a message for the client, and a short, stable reason
 * name for metrics and logs (e.g. {@code auction_not_open}).
 */
public final class Refusal extends RuntimeException {

    private final int status;
    private final String reason;

    /** A refusal whose reason is named by its status ({@code http_403}). */
    public Refusal(int status, String message) {
        this(status, "http_" + status, message);
    }

    public Refusal(int status, String reason, String message) {
        super(message, null, false, false);
        this.status = status;
        this.reason = reason;
    }

    public int status() {
        return status;
    }

    public String reason() {
        return reason;
    }

    /** Answers {@code {"error": message}} with the status. */
    public void send(HttpServerResponse response) {
        sendError(response, status, getMessage());
    }

    public static void sendError(HttpServerResponse response, int status, String message) {
        response.setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end("{\"error\":" + Json.quote(message) + "}");
    }
}
