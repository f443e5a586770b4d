package dev.gavel.server;

import dev.gavel.core.Json;
import dev.gavel.server.logging.RefusalLog;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/**
 * A request refused before anything was counted: a status and a message for the client. Every refusal sent is
 * logged by class ({@link RefusalLog}): the message up to its first colon, and the status. So a message names its
 * class first and puts anything taken from the request after a colon: {@code "origin not allowed: " + origin}.
 */
public final class Refusal extends RuntimeException {

    private final int status;

    public Refusal(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    public int status() {
        return status;
    }

    /** Answers {@code {"error": message}} with the status. */
    public void send(HttpServerResponse response) {
        sendError(response, status, getMessage());
    }

    public static void sendError(HttpServerResponse response, int status, String message) {
        int colon = message.indexOf(':');
        RefusalLog.refused((colon < 0 ? message : message.substring(0, colon)) + " (" + status + ")");
        response.setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end("{\"error\":" + Json.quote(message) + "}");
    }
}
