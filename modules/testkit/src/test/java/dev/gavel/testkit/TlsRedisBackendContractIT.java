package dev.gavel.testkit;

import dev.gavel.core.Backend;
import dev.gavel.core.BackendMetrics;
import dev.gavel.core.ViewerStats;
import dev.gavel.redis.RedisBackend;
import dev.gavel.redis.RedisTarget;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backend contract over TLS, as the ACL user of docs/redis.md (its rules read from that file), on a Redis that
 * speaks only TLS and has no default user; and what that setup refuses: a server whose CA is not trusted, and any
 * command or key beyond the documented list.
 */
class TlsRedisBackendContractIT extends BackendContract {

    private static TlsRedisFixture redis;

    @BeforeAll
    static void startRedis() throws IOException {
        redis = TlsRedisFixture.start(documentedRules());
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    /** The rules of the documented {@code ACL SETUSER gavel on >PASSWORD ...} line for the data nodes. */
    static String documentedRules() throws IOException {
        return documentedRules("~gavel:*");
    }

    /** The rules, after the password, of the documented {@code ACL SETUSER gavel on >PASSWORD ...} line holding {@code mark}. */
    static String documentedRules(String mark) throws IOException {
        String prefix = "ACL SETUSER gavel on >PASSWORD ";
        return Files.readAllLines(MonitoringFiles.REPOSITORY.resolve("docs/redis.md")).stream()
                .filter(line -> line.startsWith(prefix) && line.contains(mark))
                .map(line -> line.substring(prefix.length()))
                .findFirst().orElseThrow(() -> new AssertionError("docs/redis.md has no '" + prefix + "...' line with " + mark));
    }

    private static RedisTarget target() {
        return RedisTarget.standalone(redis.url()).withTlsCa(redis.caFile());
    }

    @Override
    protected Backend createBackend(Vertx vertx, Clock clock, long leaseMillis, dev.gavel.core.CountBy countBy) {
        return RedisExtension.connectedEngine(target(), vertx, clock, leaseMillis, ViewerStats.DEFAULT_INTERVAL_MILLIS,
                ViewerStats.DEFAULT_RETENTION_MILLIS, countBy);
    }

    @Test
    void theEngineUserMayDoNothingBeyondTheDocumentedCommandsAndKeys() {
        assertEquals("PONG", redis.commandAsGavel("PING"));
        assertNoPermission("FLUSHALL");
        assertNoPermission("CONFIG", "GET", "*");
        assertNoPermission("KEYS", "*");
        assertNoPermission("GET", "someone-else:key");
        assertNoPermission("PUBLISH", "someone-else:channel", "x");
    }

    private static void assertNoPermission(String... command) {
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> redis.commandAsGavel(command),
                String.join(" ", command));
        assertTrue(refused.getMessage().contains("NOPERM"), refused.getMessage());
    }

    @Test
    void aServerSignedByAnUntrustedCaIsNeverConnected() throws Exception {
        // no REDIS_TLS_CA: the JVM's trust store, which does not hold the test's CA
        assertRefused(RedisTarget.standalone(redis.url()), "PKIX path building failed");
    }

    @Test
    void aServerWhoseCertificateNamesAnotherHostIsNeverConnected() throws Exception {
        // the same server, trusted CA, but reached at an address its certificate does not name
        assertRefused(RedisTarget.standalone(redis.url().replace("@127.0.0.1:", "@127.0.0.2:")).withTlsCa(redis.caFile()),
                "No subject alternative names matching IP address 127.0.0.2");
    }

    private static void assertRefused(RedisTarget target, String why) throws Exception {
        Vertx vertx = Vertx.vertx();
        RedisBackend backend = RedisBackend.create(vertx, target, Clock.systemUTC(), 3000,
                ViewerStats.DEFAULT_INTERVAL_MILLIS, ViewerStats.DEFAULT_RETENTION_MILLIS, dev.gavel.core.EventLogSettings.DEFAULT, BackendMetrics.NONE,
                dev.gavel.core.CountBy.CONNECTION);
        try {
            Exception refused = assertThrows(Exception.class, () -> backend.connect().await(10, TimeUnit.SECONDS));
            assertFalse(backend.isReady(), "connected despite " + refused);
            StringBuilder causes = new StringBuilder();
            for (Throwable cause = refused; cause != null; cause = cause.getCause()) {
                causes.append(cause).append(" / ");
            }
            assertTrue(causes.toString().contains(why), causes.toString());
        } finally {
            backend.close().await(10, TimeUnit.SECONDS);
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aNodeConfiguredWithRedissAndTheCaFileIsReady() {
        try (Cluster cluster = Cluster.start(null, 1, Map.of("REDIS_URL", redis.url(), "REDIS_TLS_CA", redis.caFile().toString()))) {
            ApiClient.Answer ready = ApiClient.get(cluster.port(0), "/health/ready");
            assertEquals(200, ready.status(), ready.toString());
            // readiness is the replica's own; whether it reached Redis over TLS is the body's "store"
            assertEquals("UP", ready.json().getString("store"), ready.toString());
            assertTrue(cluster.node(0).config().redis().tls());
        }
    }
}
