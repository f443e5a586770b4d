package dev.gavel.server.viewers;

import dev.gavel.server.http.ClientAddresses;

import io.vertx.core.MultiMap;
import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Countries from the redistributable database the build ships ({@code target/geoip}) and from a trusted proxy's
 * header. The addresses are ones whose registration is stable: MaxMind's own test address in the UK, NIC.br's in
 * Brazil, the RIPE NCC's k.root in the Netherlands.
 */
class ViewerCountriesTest {

    /** Where the build puts the database (modules/server/pom.xml, country-database). */
    static final Path DATABASE = Path.of("target", "geoip", "geo-whois-asn-country.mmdb");
    private static final SocketAddress PROXY = SocketAddress.inetSocketAddress(40000, "10.0.0.1");

    private static ViewerCountries countries;

    @BeforeAll
    static void open() throws IOException {
        countries = ViewerCountries.open(ClientAddresses.trusting(List.of("10.0.0.0/8")), "X-Country", DATABASE);
    }

    @AfterAll
    static void close() throws IOException {
        countries.close();
    }

    private static MultiMap headers(String... namesAndValues) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            headers.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return headers;
    }

    @Test
    void theDatabaseTellsTheCountryOfTheClientAddress() {
        assertEquals("GB", countries.of(SocketAddress.inetSocketAddress(1, "81.2.69.142"), headers()));
        assertEquals("BR", countries.of(SocketAddress.inetSocketAddress(1, "200.160.0.8"), headers()));
        // through the trusted proxy: the client is the address it forwarded for
        assertEquals("NL", countries.of(PROXY, headers("X-Forwarded-For", "193.0.14.129")));
        // IPv6 (its /64 is what the limits key it by; the lookup takes the whole address)
        assertEquals("US", countries.of(SocketAddress.inetSocketAddress(1, "2001:4860:4860::8888"), headers()));
        // an address no registry places
        assertNull(countries.of(SocketAddress.inetSocketAddress(1, "127.0.0.1"), headers()));
    }

    @Test
    void aTrustedProxysHeaderComesFirstAndNobodyElsesCounts() {
        assertEquals("IN", countries.of(PROXY, headers("X-Country", "in", "X-Forwarded-For", "193.0.14.129")));
        // anyone else could write any country into it: their address decides
        assertEquals("BR", countries.of(SocketAddress.inetSocketAddress(1, "200.160.0.8"), headers("X-Country", "IN")));
        assertEquals("GB", countries.of(SocketAddress.inetSocketAddress(1, "81.2.69.142"), headers("X-Country", "IN")));
        // Cloudflare's unknown (XX) and Tor (T1), and garbage, say nothing: the address does
        assertEquals("NL", countries.of(PROXY, headers("X-Country", "XX", "X-Forwarded-For", "193.0.14.129")));
        assertEquals("NL", countries.of(PROXY, headers("X-Country", "T1", "X-Forwarded-For", "193.0.14.129")));
        assertNull(countries.of(PROXY, headers("X-Country", "<script>")));
    }

    @Test
    void onlyAssignedCodesAreTaken() {
        assertEquals("DE", ViewerCountries.code("de"));
        assertEquals("XK", ViewerCountries.code("XK"));
        assertNull(ViewerCountries.code("ZZ"));
        assertNull(ViewerCountries.code("DEU"));
        assertNull(ViewerCountries.code(""));
        assertNull(ViewerCountries.code(null));
    }

    @Test
    void withNeitherEveryCountryIsUnknown() {
        ViewerCountries none = ViewerCountries.none(ClientAddresses.trusting(List.of()));
        assertNull(none.of(SocketAddress.inetSocketAddress(1, "81.2.69.142"), headers("X-Country", "IN")));
    }

    @Test
    void aFileThatIsNotAMaxMindDatabaseIsRefused() throws IOException {
        Path notOne = Files.createTempFile("not-a", ".mmdb");
        Files.writeString(notOne, "country,code\n");
        try {
            IOException refused = assertThrows(IOException.class, () -> ViewerCountries.openDatabase(notOne));
            assertTrue(refused.getMessage() != null && !refused.getMessage().isEmpty(), String.valueOf(refused));
        } finally {
            Files.delete(notOne);
        }
    }
}
