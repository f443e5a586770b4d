package dev.gavel.server;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code GEOIP_DB} and {@code COUNTRY_HEADER}: a database that opens, a header read only from trusted proxies. */
class GavelConfigWhereTest {

    /** The redistributable database the build puts beside the jar (modules/server/pom.xml, country-database). */
    private static final Path DATABASE = Path.of("target", "geoip", "geo-whois-asn-country.mmdb");

    @Test
    void unsetOrEmptyMeansNoLookups() {
        GavelConfig config = GavelConfig.fromEnv(Map.of());
        assertNull(config.geoipDatabase());
        assertNull(config.countryHeader());
        assertNull(GavelConfig.fromEnv(Map.of("GEOIP_DB", "", "COUNTRY_HEADER", "")).geoipDatabase());
        assertTrue(config.toString().contains("geoipDatabase=none, countryHeader=none"), config.toString());
    }

    @Test
    void readsADatabaseThatOpensAndAHeaderBehindTrustedProxies() {
        GavelConfig config = GavelConfig.fromEnv(Map.of("GEOIP_DB", DATABASE.toString(), "COUNTRY_HEADER", "CF-IPCountry",
                "TRUSTED_PROXIES", "10.0.0.0/8"));
        assertEquals(DATABASE, config.geoipDatabase());
        assertEquals("CF-IPCountry", config.countryHeader());
    }

    @Test
    void aFileThatIsMissingOrNotADatabaseStopsTheNodeNamingTheVariable() throws IOException {
        Path text = Files.createTempFile("countries", ".mmdb");
        Files.writeString(text, "IN,GB,BR\n");
        Path directory = Files.createTempDirectory("geoip");
        try {
            for (String bad : List.of("/no/such/file.mmdb", text.toString(), directory.toString())) {
                ConfigException e = assertThrows(ConfigException.class, () -> GavelConfig.fromEnv(Map.of("GEOIP_DB", bad)), bad);
                assertTrue(e.getMessage().startsWith("GEOIP_DB: "), e.getMessage());
                assertTrue(e.getMessage().contains(bad), e.getMessage());
                assertEquals(1, e.getMessage().lines().count(), "one line: " + e.getMessage());
            }
        } finally {
            Files.delete(text);
            Files.delete(directory);
        }
    }

    @Test
    void aHeaderThatIsNotANameOrThatNoTrustedProxyCouldSetIsRefused() {
        for (Map<String, String> env : List.of(
                Map.of("COUNTRY_HEADER", "CF IPCountry", "TRUSTED_PROXIES", "10.0.0.1"),
                Map.of("COUNTRY_HEADER", "X-Country:", "TRUSTED_PROXIES", "10.0.0.1"),
                Map.of("COUNTRY_HEADER", "CF-IPCountry"))) {
            ConfigException e = assertThrows(ConfigException.class, () -> GavelConfig.fromEnv(env), env.toString());
            assertTrue(e.getMessage().startsWith("COUNTRY_HEADER: "), e.getMessage());
        }
    }
}
