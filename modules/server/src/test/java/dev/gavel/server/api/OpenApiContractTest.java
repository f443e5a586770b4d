package dev.gavel.server.api;

import dev.gavel.server.GavelConfig;
import dev.gavel.server.GavelNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OpenAPI document says what the server does: the served document is the one in the repository, every
 * operation in it is routed and answers with a status the document lists, its admin operations want the token
 * and its public ones do not, and every {@code /api/v1} route of the server is in it. Runs one in-memory node.
 */
class OpenApiContractTest {

    private static final String TOKEN = "contract-test-token";

    private static GavelNode node;
    private static Vertx client;
    private static HttpClient http;
    private static OpenAPIContract served;

    @BeforeAll
    static void start() throws Exception {
        node = GavelNode.start(GavelConfig.fromEnv(Map.of("PORT", "0", "ADMIN_TOKEN", TOKEN, "NODE_ID", "contract")))
                .await(30, TimeUnit.SECONDS);
        client = Vertx.vertx();
        // A connection per call: with pooled keep-alive connections this test's client now and then waited
        // forever for an answer that curl, on one kept-alive connection, always got.
        http = client.createHttpClient(new HttpClientOptions().setKeepAlive(false));
        Path document = Files.createTempFile("served-openapi", ".yaml");
        Files.write(document, call(HttpMethod.GET, "/api/v1/openapi.yaml", null, null).body.getBytes());
        served = OpenAPIContract.from(client, document.toString()).await(30, TimeUnit.SECONDS);
        Files.delete(document);
    }

    @AfterAll
    static void stop() throws Exception {
        node.stop().await(10, TimeUnit.SECONDS);
        client.close().await(10, TimeUnit.SECONDS);
    }

    private record Answer(int status, String body) {
    }

    private static Answer call(HttpMethod method, String path, String token, String json) throws Exception {
        RequestOptions options = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(node.port()).setURI(path);
        if (token != null) {
            options.putHeader("Authorization", "Bearer " + token);
        }
        if (json != null) {
            options.putHeader("Content-Type", "application/json");
        }
        return http.request(options)
                .compose(request -> json == null ? request.send() : request.send(Buffer.buffer(json)))
                .compose(response -> response.body().map(body -> new Answer(response.statusCode(), body.toString())))
                .await(30, TimeUnit.SECONDS);
    }

    /** A request for the operation that the document accepts. */
    private static Answer probe(Operation operation, String token) throws Exception {
        String path = operation.getOpenAPIPath().replace("{id}", "probe-1");
        String body = operation.getHttpMethod() == HttpMethod.POST ? "{\"message\": \"probe\"}" : null;
        return call(operation.getHttpMethod(), path, token, body);
    }

    @Test
    void theServedDocumentIsTheOneInTheRepository() throws Exception {
        byte[] repository;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(ApiRoutes.DOCUMENT_RESOURCE)) {
            assertNotNull(in);
            repository = in.readAllBytes();
        }
        assertArrayEquals(repository, call(HttpMethod.GET, "/api/v1/openapi.yaml", null, null).body.getBytes());
    }

    @Test
    void everyOperationOfTheDocumentIsRoutedAndAnswersAStatusItLists() throws Exception {
        assertEquals(11, served.operations().size());
        for (Operation operation : served.operations()) {
            Answer answer = probe(operation, TOKEN);
            String what = operation.getHttpMethod() + " " + operation.getOpenAPIPath() + " -> " + answer;
            assertNotEquals(404, answer.status(), what);
            assertNotEquals(405, answer.status(), what);
            assertTrue(answer.status() < 400, what);
            assertNotNull(operation.getResponse(answer.status()), "status not in the document: " + what);
        }
    }

    @Test
    void adminOperationsWantTheTokenAndPublicOnesDoNot() throws Exception {
        for (Operation operation : served.operations()) {
            boolean admin = !operation.getSecurityRequirements().isEmpty();
            Answer answer = probe(operation, null);
            String what = operation.getHttpMethod() + " " + operation.getOpenAPIPath() + " -> " + answer;
            if (admin) {
                assertEquals(401, answer.status(), what);
                assertNotNull(operation.getResponse(401), "401 not in the document: " + what);
            } else {
                assertTrue(answer.status() < 400, what);
            }
        }
    }

    @Test
    void everyApiRouteOfTheServerIsInTheDocument() {
        List<String> routed = new ArrayList<>();
        collect(node.router(), routed);
        TreeSet<String> documented = new TreeSet<>();
        served.operations().forEach(op -> documented.add(op.getHttpMethod() + " " + op.getOpenAPIPath()));
        assertTrue(routed.size() >= documented.size(), "routes: " + routed);
        for (String route : routed) {
            assertTrue(documented.contains(route), route + " is routed but not in the document " + documented);
        }
        assertEquals(documented, new TreeSet<>(routed));
    }

    /** Adds "METHOD /path/{param}" for every route under /api/v1 that answers requests, sub-routers included. */
    private static void collect(Router router, List<String> into) {
        for (Route route : router.getRoutes()) {
            if (route.getSubRouter() != null) {
                collect(route.getSubRouter(), into);
                continue;
            }
            String path = route.getPath();
            if (path == null || !path.startsWith("/api/v1") || !route.isExactPath()) {
                continue;
            }
            String openApiPath = path.replaceAll(":([A-Za-z0-9_]+)", "{$1}");
            if (route.methods() == null || route.methods().isEmpty()) {
                into.add("ANY " + openApiPath);
            } else {
                route.methods().forEach(method -> into.add(method + " " + openApiPath));
            }
        }
    }
}
