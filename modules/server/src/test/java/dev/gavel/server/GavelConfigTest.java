package dev.gavel.server;

import dev.gavel.redis.RedisTarget;
import dev.gavel.server.ops.logging.LogFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GavelConfigTest {

    @Test
    void nothingSetGivesTheContractDefaults() {
        GavelConfig config = GavelConfig.fromEnv(Map.of());
        assertEquals(8080, config.port());
        assertNull(config.redis());
        assertEquals(List.of("http://localhost:3000"), config.allowedOrigins());
        assertTrue(config.adminTokenGenerated());
        assertEquals(48, config.adminToken().length());
        assertTrue(config.nodeId().matches(".+-[0-9a-f]{6}"), config.nodeId());
        assertEquals(10_000, config.nodeTtlMillis());
        assertEquals(25_000, config.socketIoPingIntervalMillis());
        assertEquals(20_000, config.socketIoPingTimeoutMillis());
        assertFalse(config.wsCompression());
        assertEquals(Runtime.getRuntime().availableProcessors(), config.eventLoops());
        assertTrue(config.maxViewers() > 0, "from the open-file limit: " + config.maxViewers());
        assertEquals(25_000, config.wsPingIntervalMillis());
        assertEquals(LogFormat.TEXT, config.logFormat());
        assertFalse(config.registeredAuctions());
        assertEquals(dev.gavel.core.CountBy.CONNECTION, config.countBy());
    }

    @Test
    void countByIsConnectionOrPerson() {
        assertEquals(dev.gavel.core.CountBy.PERSON, GavelConfig.fromEnv(Map.of("COUNT_BY", "person")).countBy());
        assertEquals(dev.gavel.core.CountBy.CONNECTION, GavelConfig.fromEnv(Map.of("COUNT_BY", "connection")).countBy());
        assertRefused("COUNT_BY", "tab");
        assertRefused("COUNT_BY", "PERSON");
    }

    @Test
    void readsEveryVariable() {
        GavelConfig config = GavelConfig.fromEnv(Map.ofEntries(
                Map.entry("PORT", "9000"),
                Map.entry("REDIS_URL", "redis://user:secret@redis.internal:6380/2"),
                Map.entry("ALLOWED_ORIGIN", "https://a.example, https://b.example:8443"),
                Map.entry("ADMIN_TOKEN", "s3cret-admin-token"),
                Map.entry("ADMIN_TOKENS", "the-next-admin-token, the-last-admin-token"),
                Map.entry("NODE_ID", "replica-1"),
                Map.entry("NODE_TTL_MS", "5000"),
                Map.entry("SOCKETIO_PING_INTERVAL_MS", "1000"),
                Map.entry("SOCKETIO_PING_TIMEOUT_MS", "2000"),
                Map.entry("WS_COMPRESSION", "on"),
                Map.entry("EVENT_LOOPS", "8"),
                Map.entry("MAX_VIEWERS", "1234"),
                Map.entry("WS_PING_INTERVAL_MS", "1000"),
                Map.entry("LOG_FORMAT", "JSON"),
                Map.entry("AUCTIONS", "registered")));
        assertEquals(9000, config.port());
        assertEquals(RedisTarget.standalone("redis://user:secret@redis.internal:6380/2"), config.redis());
        assertEquals(List.of("https://a.example", "https://b.example:8443"), config.allowedOrigins());
        assertEquals("s3cret-admin-token", config.adminToken());
        assertFalse(config.adminTokenGenerated());
        assertEquals(List.of("s3cret-admin-token", "the-next-admin-token", "the-last-admin-token"), config.adminTokens());
        assertEquals("replica-1", config.nodeId());
        assertEquals(5000, config.nodeTtlMillis());
        assertEquals(1000, config.socketIoPingIntervalMillis());
        assertEquals(2000, config.socketIoPingTimeoutMillis());
        assertTrue(config.wsCompression());
        assertEquals(8, config.eventLoops());
        assertEquals(1234, config.maxViewers());
        assertEquals(1000, config.wsPingIntervalMillis());
        assertEquals(LogFormat.JSON, config.logFormat());
        assertTrue(config.registeredAuctions());
        assertFalse(GavelConfig.fromEnv(Map.of("AUCTIONS", "open")).registeredAuctions());
    }

    @Test
    void aBadValueIsRefusedWithAMessageNamingTheVariable() {
        assertRefused("PORT", "abc");
        assertRefused("PORT", "70000");
        assertRefused("REDIS_URL", "localhost:6379");
        assertRefused("REDIS_URL", "redis://");
        assertRefused("REDIS_URL", "redis://host:6379/db");
        assertRefused("ALLOWED_ORIGIN", "not an origin");
        assertRefused("NODE_ID", "has spaces");
        assertRefused("NODE_TTL_MS", "0");
        assertRefused("NODE_TTL_MS", "-5");
        assertRefused("SOCKETIO_PING_INTERVAL_MS", "soon");
        assertRefused("SOCKETIO_PING_TIMEOUT_MS", "0");
        assertRefused("WS_COMPRESSION", "yes");
        assertRefused("EVENT_LOOPS", "0");
        assertRefused("MAX_VIEWERS", "none");
        assertRefused("ADMIN_TOKEN", "");
        assertRefused("ADMIN_TOKEN", "   ");
        assertRefused("ADMIN_TOKEN", "eight-ch");
        assertRefused("ADMIN_TOKEN", "fifteen-chars-x");
        assertRefused("ADMIN_TOKEN", "sixteen chars ok");
        assertRefused("ADMIN_TOKENS", "a-long-enough-token,");
        assertRefused("ADMIN_TOKENS", "a-long-enough-token,short");
        assertRefused("WS_PING_INTERVAL_MS", "0");
        assertRefused("WS_PING_INTERVAL_MS", "999");
        assertRefused("WS_PING_INTERVAL_MS", "3600001");
        assertRefused("WS_PING_INTERVAL_MS", "often");
        assertRefused("DRAIN_MS", "-1");
        assertRefused("LOG_FORMAT", "yaml");
        assertRefused("AUCTIONS", "closed");
    }

    @Test
    void aRefusedTokenIsNeverEchoed() {
        ConfigException e = assertThrows(ConfigException.class, () -> GavelConfig.fromEnv(Map.of("ADMIN_TOKEN", "hunter2-secret")));
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        assertTrue(e.getMessage().contains("at least 16 characters"), e.getMessage());
        assertEquals(16, GavelConfig.fromEnv(Map.of("ADMIN_TOKEN", "sixteen-chars-ok")).adminToken().length());
    }

    @Test
    void aRefusedRedisUrlIsNeverEchoedWithItsPassword() {
        for (String url : List.of("http://user:hunter2@redis:6379", "redis://user:hunter2@/0", "redis://user:hunter2@redis:6379/db",
                "redis://user:hun ter2@redis:6379", "redis://user:hun/ter2@redis:6379/x", "redis://:hunter2@re dis")) {
            ConfigException e = assertThrows(ConfigException.class, () -> GavelConfig.fromEnv(Map.of("REDIS_URL", url)), url);
            assertTrue(e.getMessage().startsWith("REDIS_URL: "), e.getMessage());
            assertFalse(e.getMessage().contains("hunter2") || e.getMessage().contains("ter2"), e.getMessage());
        }
    }

    @Test
    void readsSentinelAndClusterAddressesWithOneSchemeAndUserForAll() {
        GavelConfig sentinel = GavelConfig.fromEnv(Map.of("REDIS_SENTINELS", "s1:26379, s2:26380,[::1]:26381",
                "REDIS_MASTER_NAME", "gavel-master"));
        assertEquals(RedisTarget.sentinel(List.of("redis://s1:26379", "redis://s2:26380", "redis://[::1]:26381"), "gavel-master"),
                sentinel.redis());
        GavelConfig tls = GavelConfig.fromEnv(Map.of("REDIS_SENTINELS", "rediss://gavel:p%40ss@s1:26379,s2:26379",
                "REDIS_MASTER_NAME", "m"));
        assertEquals(List.of("rediss://gavel:p%40ss@s1:26379", "rediss://gavel:p%40ss@s2:26379"), tls.redis().endpoints());
        assertTrue(tls.redis().tls());
        GavelConfig cluster = GavelConfig.fromEnv(Map.of("REDIS_CLUSTER", "redis://:pw@c1:7000,c2:7001"));
        assertEquals(RedisTarget.cluster(List.of("redis://:pw@c1:7000", "redis://:pw@c2:7001")), cluster.redis());
    }

    @Test
    void exactlyOneRedisModeAndTheMasterNameOnlyWithSentinels() {
        assertRefusedNaming("REDIS_SENTINELS", Map.of("REDIS_URL", "redis://r:6379", "REDIS_SENTINELS", "s:26379",
                "REDIS_MASTER_NAME", "m"));
        assertRefusedNaming("REDIS_CLUSTER", Map.of("REDIS_URL", "redis://r:6379", "REDIS_CLUSTER", "c:7000"));
        assertRefusedNaming("REDIS_CLUSTER", Map.of("REDIS_SENTINELS", "s:26379", "REDIS_MASTER_NAME", "m", "REDIS_CLUSTER", "c:7000"));
        assertRefusedNaming("REDIS_MASTER_NAME", Map.of("REDIS_SENTINELS", "s:26379"));
        assertRefusedNaming("REDIS_MASTER_NAME", Map.of("REDIS_URL", "redis://r:6379", "REDIS_MASTER_NAME", "m"));
        assertRefusedNaming("REDIS_MASTER_NAME", Map.of("REDIS_SENTINELS", "s:26379", "REDIS_MASTER_NAME", "two words"));
        for (String bad : List.of("s1", "s1:", "s1:abc", "s1:26379,", "http://s1:26379", "s1:26379/0", "redis://s1:26379/0",
                "s1:99999", "u@s1:26379,s2:1")) {
            assertRefusedNaming("REDIS_SENTINELS", Map.of("REDIS_SENTINELS", bad, "REDIS_MASTER_NAME", "m"));
            assertRefused("REDIS_CLUSTER", bad);
        }
    }

    @Test
    void aRefusedAddressListIsNeverEchoedWithItsPassword() {
        for (String value : List.of("redis://user:hunter2@s1", "rediss://user:hun/ter2@s1:1", "redis://u:hun ter2@s1:1",
                "rediss://user:hunter2@s1:1,", "redis://user:hunter2@s1:1/0")) {
            for (Map<String, String> env : List.of(Map.of("REDIS_SENTINELS", value, "REDIS_MASTER_NAME", "m"), Map.of("REDIS_CLUSTER", value))) {
                ConfigException e = assertThrows(ConfigException.class, () -> GavelConfig.fromEnv(env), value);
                assertTrue(e.getMessage().startsWith("REDIS_"), e.getMessage());
                assertFalse(e.getMessage().contains("hunter2") || e.getMessage().contains("ter2"), e.getMessage());
            }
        }
    }

    @Test
    void aTlsCaFileMustHoldACertificateAndGoWithTls(@TempDir Path dir) throws IOException {
        Path ca = dir.resolve("ca.pem");
        Files.writeString(ca, TEST_CA);
        GavelConfig config = GavelConfig.fromEnv(Map.of("REDIS_URL", "rediss://gavel:pw@r:6380", "REDIS_TLS_CA", ca.toString()));
        assertEquals(ca, config.redis().tlsCa());
        assertEquals(ca, GavelConfig.fromEnv(Map.of("REDIS_SENTINELS", "rediss://s1:26379", "REDIS_MASTER_NAME", "m",
                "REDIS_TLS_CA", ca.toString())).redis().tlsCa());
        assertNull(GavelConfig.fromEnv(Map.of("REDIS_URL", "rediss://r:6380")).redis().tlsCa(), "the JVM's trust");
        assertRefusedNaming("REDIS_TLS_CA", Map.of("REDIS_URL", "redis://r:6379", "REDIS_TLS_CA", ca.toString()));
        assertRefusedNaming("REDIS_TLS_CA", Map.of("REDIS_TLS_CA", ca.toString()));
        assertRefusedNaming("REDIS_TLS_CA", Map.of("REDIS_URL", "rediss://r:6380", "REDIS_TLS_CA", dir.resolve("missing.pem").toString()));
        Path notPem = dir.resolve("not.pem");
        Files.writeString(notPem, "not a certificate");
        assertRefusedNaming("REDIS_TLS_CA", Map.of("REDIS_URL", "rediss://r:6380", "REDIS_TLS_CA", notPem.toString()));
    }

    /** A self-signed CA certificate (openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj /CN=test-ca). */
    private static final String TEST_CA = """
            -----BEGIN CERTIFICATE-----
            MIIBezCCASGgAwIBAgIUU7A57Mw71WH/Uf8mQi5zSlNW9w8wCgYIKoZIzj0EAwIw
            EjEQMA4GA1UEAwwHdGVzdC1jYTAgFw0yNjExMjYwNDIxMTdaGA8yMTI2MTEwMjA0
            MjExN1owEjEQMA4GA1UEAwwHdGVzdC1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH
            A0IABMAFSWHh2HMSu0AFPa61HR5Uq6Bjvgd3qbOR6AKvHotHZZIv2dItizmEov4n
            /cdF0SXnWmzc/d1QLvPRIK5+FI6jUzBRMB0GA1UdDgQWBBRH6mDmOz/TfbbNFhVv
            0zXSKM+gtzAfBgNVHSMEGDAWgBRH6mDmOz/TfbbNFhVv0zXSKM+gtzAPBgNVHRMB
            Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCQb12CeF4enqARcoztcJdgBME1
            10K3dgs5kblXTUngiAIgE/aMbA+X5QGa5WuxPZjqbo67kw2+7bXxULz3mnP8xDM=
            -----END CERTIFICATE-----
            """;

    private static void assertRefusedNaming(String variable, Map<String, String> env) {
        ConfigException e = assertThrows(ConfigException.class, () -> GavelConfig.fromEnv(env), env.toString());
        assertTrue(e.getMessage().startsWith(variable + ": "), e.getMessage());
    }

    private static void assertRefused(String variable, String value) {
        ConfigException e = assertThrows(ConfigException.class, () -> GavelConfig.fromEnv(Map.of(variable, value)),
                variable + "=" + value);
        assertTrue(e.getMessage().startsWith(variable + ": "), e.getMessage());
    }

    @Test
    void secretsStayOutOfItsText() {
        GavelConfig config = GavelConfig.fromEnv(Map.of("ADMIN_TOKEN", "top-secret-token",
                "REDIS_URL", "redis://user:hunter2@redis:6379"));
        assertFalse(config.toString().contains("top-secret-token"), config.toString());
        assertFalse(config.toString().contains("hunter2"), config.toString());
        assertTrue(config.toString().contains("redis:6379"), config.toString());
        GavelConfig sentinels = GavelConfig.fromEnv(Map.of("REDIS_SENTINELS", "rediss://gavel:hunter2@s1:26379,s2:26379",
                "REDIS_MASTER_NAME", "m"));
        assertFalse(sentinels.toString().contains("hunter2"), sentinels.toString());
        assertTrue(sentinels.toString().contains("s2:26379"), sentinels.toString());
    }
}
