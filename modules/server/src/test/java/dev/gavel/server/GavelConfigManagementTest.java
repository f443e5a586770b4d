package dev.gavel.server;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code MANAGEMENT_PORT}: unset serves /metrics on PORT; set, a port of its own, never PORT itself. */
class GavelConfigManagementTest {

    @Test
    void unsetMeansOnePortForEverything() {
        GavelConfig config = GavelConfig.fromEnv(Map.of());
        assertFalse(config.hasManagementPort());
        assertEquals(GavelConfig.NO_MANAGEMENT_PORT, config.managementPort());
        assertTrue(config.toString().contains("managementPort=none"), config.toString());
    }

    @Test
    void readsThePortAndZeroAsksForAFreeOne() {
        GavelConfig config = GavelConfig.fromEnv(Map.of("MANAGEMENT_PORT", "9090"));
        assertTrue(config.hasManagementPort());
        assertEquals(9090, config.managementPort());
        assertTrue(GavelConfig.fromEnv(Map.of("MANAGEMENT_PORT", "0", "PORT", "0")).hasManagementPort());
    }

    @Test
    void aBadValueOrThePublicPortNamesTheVariable() {
        for (Map<String, String> env : List.of(Map.of("MANAGEMENT_PORT", "metrics"), Map.of("MANAGEMENT_PORT", "70000"),
                Map.of("MANAGEMENT_PORT", "-1"), Map.of("MANAGEMENT_PORT", "8080"),
                Map.of("MANAGEMENT_PORT", "9000", "PORT", "9000"))) {
            ConfigException e = assertThrows(ConfigException.class, () -> GavelConfig.fromEnv(env), env.toString());
            assertTrue(e.getMessage().contains("MANAGEMENT_PORT"), e.getMessage());
        }
    }
}
