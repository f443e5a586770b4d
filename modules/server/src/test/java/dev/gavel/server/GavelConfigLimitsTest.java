package dev.gavel.server;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GavelConfigLimitsTest {

    @Test
    void defaultsTrustNoProxyAndLeaveRoomForAnOfficeBehindOneAddress() {
        GavelConfig config = GavelConfig.fromEnv(Map.of());
        assertEquals(List.of(), config.trustedProxies());
        assertEquals(2000, config.maxConnectionsPerAddress());
        assertEquals(100, config.maxNewConnectionsPerAddressPerSecond());
        assertEquals(1000, config.maxApiRequestsPerAddressPerSecond());
        assertEquals(4000, config.maxSocketsPerAddress(), "a viewer's socket and as many again for HTTP");
        assertEquals(15_000, config.httpHeaderTimeoutMillis());
        assertEquals(60_000, config.httpIdleTimeoutMillis());
    }

    @Test
    void theSocketLimitFollowsTheViewerLimitUnlessSetAndTheTimeoutsAreRead() {
        assertEquals(10, GavelConfig.fromEnv(Map.of("MAX_CONNECTIONS_PER_ADDRESS", "5")).maxSocketsPerAddress());
        assertEquals(Integer.MAX_VALUE, GavelConfig.fromEnv(Map.of("MAX_CONNECTIONS_PER_ADDRESS",
                String.valueOf(Integer.MAX_VALUE))).maxSocketsPerAddress());
        GavelConfig config = GavelConfig.fromEnv(Map.of("MAX_SOCKETS_PER_ADDRESS", "3", "HTTP_HEADER_TIMEOUT_MS", "500",
                "HTTP_IDLE_TIMEOUT_MS", "700"));
        assertEquals(3, config.maxSocketsPerAddress());
        assertEquals(500, config.httpHeaderTimeoutMillis());
        assertEquals(700, config.httpIdleTimeoutMillis());
        assertTrue(config.toString().contains("maxSocketsPerAddress=3, httpHeaderTimeoutMillis=500, httpIdleTimeoutMillis=700"),
                config.toString());
    }

    @Test
    void readsTheLimits() {
        GavelConfig config = GavelConfig.fromEnv(Map.of(
                "TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,::1",
                "MAX_CONNECTIONS_PER_ADDRESS", "5",
                "MAX_NEW_CONNECTIONS_PER_ADDRESS_PER_SECOND", "2",
                "MAX_API_REQUESTS_PER_ADDRESS_PER_SECOND", "7"));
        assertEquals(List.of("10.0.0.0/8", "127.0.0.1", "::1"), config.trustedProxies());
        assertEquals(5, config.maxConnectionsPerAddress());
        assertEquals(2, config.maxNewConnectionsPerAddressPerSecond());
        assertEquals(7, config.maxApiRequestsPerAddressPerSecond());
    }

    @Test
    void aBadValueNamesItsVariable() {
        for (Map<String, String> env : List.of(
                Map.of("TRUSTED_PROXIES", "proxy.internal"),
                Map.of("TRUSTED_PROXIES", "10.0.0.0/33"),
                Map.of("MAX_CONNECTIONS_PER_ADDRESS", "0"),
                Map.of("MAX_NEW_CONNECTIONS_PER_ADDRESS_PER_SECOND", "many"),
                Map.of("MAX_API_REQUESTS_PER_ADDRESS_PER_SECOND", "-1"),
                Map.of("MAX_SOCKETS_PER_ADDRESS", "0"),
                Map.of("HTTP_HEADER_TIMEOUT_MS", "99"),
                Map.of("HTTP_HEADER_TIMEOUT_MS", "soon"),
                Map.of("HTTP_IDLE_TIMEOUT_MS", "3600001"))) {
            ConfigException e = assertThrows(ConfigException.class, () -> GavelConfig.fromEnv(env));
            String variable = env.keySet().iterator().next();
            assertTrue(e.getMessage().contains(variable), e.getMessage());
        }
    }
}
