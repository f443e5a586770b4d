package dev.gavel.server;

import dev.gavel.server.logging.LogFormat;
import org.junit.jupiter.api.Test;

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
        assertNull(config.redisUrl());
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
        assertEquals("redis://user:secret@redis.internal:6380/2", config.redisUrl());
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
    }
}
