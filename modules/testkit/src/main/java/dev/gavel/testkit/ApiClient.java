package dev.gavel.testkit;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A real HTTP client for tests of the API: every call is a request over loopback to one node, answered with its
 * status, headers and body.
 */
public final class ApiClient {

    /** The admin token that {@link Cluster} gives its nodes. */
    public static final String ADMIN_TOKEN = "test-admin-token";

    private static final Vertx VERTX = Vertx.vertx();
    private static final WebClient CLIENT = WebClient.create(VERTX);
    /** Clients bound to other loopback addresses (127.0.0.2, ...), for requests that come from another address. */
    private static final Map<String, WebClient> FROM = new ConcurrentHashMap<>();

    private ApiClient() {
    }

    /** What a node answered. */
    public record Answer(int status, MultiMap headers, String body) {

        public JsonObject json() {
            return new JsonObject(body);
        }

        public JsonArray jsonArray() {
            return new JsonArray(body);
        }

        /** The {@code error} of an error answer. */
        public String error() {
            return json().getString("error");
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    /** POSTs a JSON text as the admin. */
    public static Answer adminPost(int port, String path, String json) {
        return send(HttpMethod.POST, port, path, Map.of("Authorization", "Bearer " + ADMIN_TOKEN, "Content-Type", "application/json"), json);
    }

    /** GETs as the admin. */
    public static Answer adminGet(int port, String path) {
        return send(HttpMethod.GET, port, path, Map.of("Authorization", "Bearer " + ADMIN_TOKEN), null);
    }

    /** GETs with no credentials. */
    public static Answer get(int port, String path) {
        return send(HttpMethod.GET, port, path, Map.of(), null);
    }

    /** The replica's {@code /health/ready} body, with the answer's status added as {@code httpStatus}. */
    public static JsonObject readiness(int port) {
        Answer answer = get(port, "/health/ready");
        return answer.json().put("httpStatus", answer.status());
    }

    /**
     * True once the replica says its store (Redis) works. Readiness itself stays 200 through a Redis fault (it is about
     * the replica, not about Redis, which every replica shares): checked here too; the body says how the store is.
     */
    public static boolean storeUp(int port) {
        JsonObject ready = readiness(port);
        if (ready.getInteger("httpStatus") != 200) {
            throw new AssertionError("not ready: " + ready.encode());
        }
        return "UP".equals(ready.getString("store"));
    }

    /** Sends any request; {@code body} null sends none. */
    public static Answer send(HttpMethod method, int port, String path, Map<String, String> headers, String body) {
        return send(CLIENT, method, port, path, headers, body);
    }

    /** Sends any request from another local address, e.g. {@code 127.0.0.2}; {@code body} null sends none. */
    public static Answer sendFrom(String localAddress, HttpMethod method, int port, String path, Map<String, String> headers,
                                  String body) {
        WebClient client = FROM.computeIfAbsent(localAddress,
                address -> WebClient.create(VERTX, new WebClientOptions().setLocalAddress(address)));
        return send(client, method, port, path, headers, body);
    }

    private static Answer send(WebClient client, HttpMethod method, int port, String path, Map<String, String> headers,
                               String body) {
        HttpRequest<Buffer> request = client.request(method, port, "127.0.0.1", path);
        headers.forEach(request::putHeader);
        try {
            HttpResponse<Buffer> response = (body == null ? request.send() : request.sendBuffer(Buffer.buffer(body)))
                    .await(TestViewer.PATIENCE.toSeconds(), TimeUnit.SECONDS);
            return new Answer(response.statusCode(), response.headers(), response.bodyAsString() == null ? "" : response.bodyAsString());
        } catch (Exception e) {
            throw new IllegalStateException(method + " " + path + " failed: " + e, e);
        }
    }
}
