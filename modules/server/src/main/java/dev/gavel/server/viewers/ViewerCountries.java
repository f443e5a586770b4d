package dev.gavel.server.viewers;

import dev.gavel.server.http.ClientAddresses;

import com.maxmind.db.Reader;
import io.vertx.core.MultiMap;
import io.vertx.core.net.SocketAddress;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A viewer's country (ISO 3166-1 alpha-2), found once when it connects: {@code COUNTRY_HEADER} when the request came
 * through a trusted proxy, else a lookup of its client address in {@code GEOIP_DB}, else unknown (null). The address is
 * used for the lookup and not kept: only the two letters are.
 *
 * <p>Reads MaxMind's country record ({@code country.iso_code}: GeoLite2, GeoIP2, DB-IP) and the flat one of
 * ip-location-db ({@code country_code}). Immutable once open; the reader is safe on every event loop.
 */
public final class ViewerCountries implements AutoCloseable {

    /** Every assigned alpha-2 code, and XK (Kosovo), which country databases and CDNs use though ISO has not assigned it. */
    private static final Set<String> CODES = codes();

    private final ClientAddresses addresses;
    private final String header;
    private final Reader database;

    private ViewerCountries(ClientAddresses addresses, String header, Reader database) {
        this.addresses = addresses;
        this.header = header;
        this.database = database;
    }

    /** Neither a header nor a database: every country is unknown. */
    public static ViewerCountries none(ClientAddresses addresses) {
        return new ViewerCountries(addresses, null, null);
    }

    /**
     * @param header   {@code COUNTRY_HEADER}, or null
     * @param database {@code GEOIP_DB}, or null
     * @throws IOException when the database cannot be opened as a MaxMind DB file
     */
    public static ViewerCountries open(ClientAddresses addresses, String header, Path database) throws IOException {
        return new ViewerCountries(addresses, header, database == null ? null : openDatabase(database));
    }

    /**
     * Opens a {@code .mmdb} file (memory-mapped) and checks that it answers a lookup.
     *
     * @throws IOException saying what is wrong with it
     */
    public static Reader openDatabase(Path file) throws IOException {
        Reader reader = new Reader(file.toFile());
        try {
            reader.get(InetAddress.getByAddress(new byte[] {8, 8, 8, 8}), Map.class);
        } catch (IOException | RuntimeException e) {
            reader.close();
            throw new IOException("not a readable MaxMind DB: " + e.getMessage(), e);
        }
        return reader;
    }

    /** The viewer's country, or null when nothing says it. Never blocks on I/O (the database is memory-mapped). */
    String of(SocketAddress peer, MultiMap headers) {
        if (header != null && addresses.isTrustedProxy(peer)) {
            String told = code(headers.get(header));
            if (told != null) {
                return told;
            }
        }
        if (database == null) {
            return null;
        }
        InetAddress client = addresses.client(peer, headers);
        if (client == null) {
            return null;
        }
        try {
            Map<?, ?> record = database.get(client, Map.class);
            return record == null ? null : code(isoCode(record));
        } catch (IOException | RuntimeException e) {
            // a damaged record: this viewer's country is unknown, the others' are not
            return null;
        }
    }

    private static String isoCode(Map<?, ?> record) {
        if (record.get("country") instanceof Map<?, ?> country && country.get("iso_code") instanceof String code) {
            return code;
        }
        if (record.get("country_code") instanceof String code) {
            return code;
        }
        return null;
    }

    /** An assigned alpha-2 code in upper case, or null for anything else (Cloudflare's XX and T1, garbage). */
    static String code(String raw) {
        if (raw == null || raw.length() != 2) {
            return null;
        }
        String code = raw.toUpperCase(Locale.ROOT);
        return CODES.contains(code) ? code : null;
    }

    private static Set<String> codes() {
        Set<String> codes = new HashSet<>(Locale.getISOCountries(Locale.IsoCountryCode.PART1_ALPHA2));
        codes.add("XK");
        return Set.copyOf(codes);
    }

    @Override
    public void close() throws IOException {
        if (database != null) {
            database.close();
        }
    }
}
