package dev.gavel.server;

import dev.gavel.core.Json;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/** A request refused before anything was counted: a status and a message for the client. */
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
        response.setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end("{\"error\":" + Json.quote(message) + "}");
    }
}
