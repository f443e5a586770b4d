package dev.gavel.server;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HISTORY_INTERVAL_MS and HISTORY_RETENTION_MS. */
class GavelConfigHistoryTest {

    @Test
    void defaultsAreTenSecondsAndADay() {
        GavelConfig config = GavelConfig.fromEnv(Map.of());
        assertEquals(10_000, config.historyIntervalMillis());
        assertEquals(86_400_000, config.historyRetentionMillis());
    }

    @Test
    void bothCanBeSet() {
        GavelConfig config = GavelConfig.fromEnv(Map.of("HISTORY_INTERVAL_MS", "500", "HISTORY_RETENTION_MS", "3600000"));
        assertEquals(500, config.historyIntervalMillis());
        assertEquals(3_600_000, config.historyRetentionMillis());
    }

    @Test
    void badValuesNameTheVariable() {
        assertNamed("HISTORY_INTERVAL_MS", Map.of("HISTORY_INTERVAL_MS", "ten"));
        assertNamed("HISTORY_INTERVAL_MS", Map.of("HISTORY_INTERVAL_MS", "0"));
        assertNamed("HISTORY_RETENTION_MS", Map.of("HISTORY_RETENTION_MS", "-1"));
        assertNamed("HISTORY_RETENTION_MS", Map.of("HISTORY_INTERVAL_MS", "60000", "HISTORY_RETENTION_MS", "30000"));
    }

    private static void assertNamed(String variable, Map<String, String> env) {
        ConfigException e = assertThrows(ConfigException.class, () -> GavelConfig.fromEnv(env));
        assertTrue(e.getMessage().startsWith(variable + ":"), e.getMessage());
    }
}
