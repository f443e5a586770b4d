package dev.gavel.server;

import com.sun.management.UnixOperatingSystemMXBean;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A node's configuration, read once from the environment (see the contract's "Running a node").
 *
 * @param redisUrl            null for the in-memory engine
 * @param adminTokenGenerated true when no {@code ADMIN_TOKEN} was given and {@code adminToken} was made up
 * @param historyIntervalMillis  {@code HISTORY_INTERVAL_MS}: one audience history sample per auction per this interval
 * @param historyRetentionMillis {@code HISTORY_RETENTION_MS}: how long history samples and unique viewer tallies are kept
 * @param wsCompression       {@code WS_COMPRESSION}: accept permessage-deflate (bounded: no context takeover, fast level)
 * @param eventLoops          {@code EVENT_LOOPS}: event-loop threads, each serving its own share of viewers and HTTP
 * @param maxViewers          {@code MAX_VIEWERS}: viewers this replica takes before refusing new ones with 503
 * @param trustedProxies      {@code TRUSTED_PROXIES}: addresses and CIDR blocks whose {@code X-Forwarded-For} names the client
 * @param maxConnectionsPerAddress      {@code MAX_CONNECTIONS_PER_ADDRESS}: viewer connections one client address holds
 * @param maxNewConnectionsPerAddressPerSecond {@code MAX_NEW_CONNECTIONS_PER_ADDRESS_PER_SECOND}: new viewer
 *                            connections one client address opens per second (and at once)
 * @param maxApiRequestsPerAddressPerSecond {@code MAX_API_REQUESTS_PER_ADDRESS_PER_SECOND}: HTTP API requests one
 *                            client address makes per second (and at once), admin token or not
 */
public record GavelConfig(
        int port,
        String redisUrl,
        List<String> allowedOrigins,
        String adminToken,
        boolean adminTokenGenerated,
        String nodeId,
        long nodeTtlMillis,
        long socketIoPingIntervalMillis,
        long socketIoPingTimeoutMillis,
        long historyIntervalMillis,
        long historyRetentionMillis,
        boolean wsCompression,
        int eventLoops,
        int maxViewers,
        List<String> trustedProxies,
        int maxConnectionsPerAddress,
        int maxNewConnectionsPerAddressPerSecond,
        int maxApiRequestsPerAddressPerSecond) {

    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9_.:-]{1,128}");
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Reads the configuration, throwing {@link ConfigException} naming the first bad variable. */
    public static GavelConfig fromEnv(Map<String, String> env) {
        int port = (int) number(env, "PORT", 8080, 0, 65535);
        String redisUrl = redisUrl(blankToNull(env.get("REDIS_URL")));
        List<String> origins = origins(env.getOrDefault("ALLOWED_ORIGIN", "http://localhost:3000"));
        String token = blankToNull(env.get("ADMIN_TOKEN"));
        boolean generated = token == null;
        if (generated) {
            token = randomHex(24);
        }
        String nodeId = blankToNull(env.get("NODE_ID"));
        if (nodeId == null) {
            nodeId = hostName() + "-" + randomHex(3);
        } else if (!NODE_ID.matcher(nodeId).matches()) {
            throw new ConfigException("NODE_ID", "must be 1 to 128 characters of [A-Za-z0-9_.:-], got '" + nodeId + "'");
        }
        long ttl = number(env, "NODE_TTL_MS", 10_000, 500, 3_600_000);
        long pingInterval = number(env, "SOCKETIO_PING_INTERVAL_MS", 25_000, 1, 3_600_000);
        long pingTimeout = number(env, "SOCKETIO_PING_TIMEOUT_MS", 20_000, 1, 3_600_000);
        long historyInterval = number(env, "HISTORY_INTERVAL_MS", 10_000, 100, 3_600_000);
        long historyRetention = number(env, "HISTORY_RETENTION_MS", 86_400_000, 1000, 31L * 86_400_000);
        if (historyRetention < historyInterval) {
            throw new ConfigException("HISTORY_RETENTION_MS", "must be at least HISTORY_INTERVAL_MS (" + historyInterval
                    + "), got " + historyRetention);
        }
        boolean compression = onOff(env, "WS_COMPRESSION", false);
        int eventLoops = (int) number(env, "EVENT_LOOPS", Runtime.getRuntime().availableProcessors(), 1, 1024);
        int maxViewers = (int) number(env, "MAX_VIEWERS", defaultMaxViewers(), 1, Integer.MAX_VALUE);
        List<String> trustedProxies;
        try {
            trustedProxies = ClientAddresses.parse(env.get("TRUSTED_PROXIES"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("TRUSTED_PROXIES", e.getMessage());
        }
        int perAddress = (int) number(env, "MAX_CONNECTIONS_PER_ADDRESS", 2000, 1, Integer.MAX_VALUE);
        int newPerAddress = (int) number(env, "MAX_NEW_CONNECTIONS_PER_ADDRESS_PER_SECOND", 100, 1, Integer.MAX_VALUE);
        int apiPerAddress = (int) number(env, "MAX_API_REQUESTS_PER_ADDRESS_PER_SECOND", 1000, 1, Integer.MAX_VALUE);
        return new GavelConfig(port, redisUrl, origins, token, generated, nodeId, ttl, pingInterval, pingTimeout,
                historyInterval, historyRetention, compression, eventLoops, maxViewers, trustedProxies, perAddress,
                newPerAddress, apiPerAddress);
    }

    /** Everything but the secrets: the admin token and a password in the Redis URL are not shown. */
    @Override
    public String toString() {
        return "GavelConfig[port=" + port + ", redisUrl=" + (redisUrl == null ? "none" : redisUrl.replaceAll("//[^@/]*@", "//***@"))
                + ", allowedOrigins=" + allowedOrigins + ", adminToken=***, nodeId=" + nodeId
                + ", nodeTtlMillis=" + nodeTtlMillis + ", socketIoPingIntervalMillis=" + socketIoPingIntervalMillis
                + ", socketIoPingTimeoutMillis=" + socketIoPingTimeoutMillis + ", historyIntervalMillis="
                + historyIntervalMillis + ", historyRetentionMillis=" + historyRetentionMillis
                + ", wsCompression=" + wsCompression + ", eventLoops=" + eventLoops + ", maxViewers=" + maxViewers + ", trustedProxies=" + trustedProxies
                + ", maxConnectionsPerAddress=" + maxConnectionsPerAddress + ", maxNewConnectionsPerAddressPerSecond="
                + maxNewConnectionsPerAddressPerSecond + ", maxApiRequestsPerAddressPerSecond="
                + maxApiRequestsPerAddressPerSecond + "]";
    }

    private static boolean onOff(Map<String, String> env, String name, boolean defaultValue) {
        String raw = blankToNull(env.get(name));
        if (raw == null) {
            return defaultValue;
        }
        return switch (raw.trim().toLowerCase(Locale.ROOT)) {
            case "on" -> true;
            case "off" -> false;
            default -> throw new ConfigException(name, "must be 'on' or 'off', got '" + raw + "'");
        };
    }

    /**
     * Every viewer holds an open file (its socket): the process's open-file limit less a reserve for Redis, HTTP
     * calls and the JVM's own files, so a full replica refuses viewers instead of failing to accept anything.
     */
    private static int defaultMaxViewers() {
        long limit = 1_000_000;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix) {
            limit = unix.getMaxFileDescriptorCount();
        }
        long reserve = Math.max(256, limit / 20);
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, limit - reserve));
    }

    private static long number(Map<String, String> env, String name, long defaultValue, long min, long max) {
        String raw = blankToNull(env.get(name));
        if (raw == null) {
            return defaultValue;
        }
        long value;
        try {
            value = Long.parseLong(raw.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(name, "not a number: '" + raw + "'");
        }
        if (value < min || value > max) {
            throw new ConfigException(name, "must be between " + min + " and " + max + ", got " + value);
        }
        return value;
    }

    private static String redisUrl(String raw) {
        if (raw == null) {
            return null;
        }
        URI uri;
        try {
            uri = new URI(raw);
        } catch (URISyntaxException e) {
            throw new ConfigException("REDIS_URL", "does not parse: " + e.getMessage());
        }
        if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme())) {
            throw new ConfigException("REDIS_URL", "must start with redis:// or rediss://, got '" + raw + "'");
        }
        if (uri.getHost() == null) {
            throw new ConfigException("REDIS_URL", "has no host: '" + raw + "'");
        }
        String path = uri.getPath();
        if (path != null && !path.isEmpty() && !path.equals("/") && !path.matches("/\\d+")) {
            throw new ConfigException("REDIS_URL", "the path must be a database number, got '" + path + "'");
        }
        return raw;
    }

    private static List<String> origins(String raw) {
        List<String> origins = Arrays.stream(raw.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        for (String origin : origins) {
            try {
                URI uri = new URI(origin);
                if (uri.getScheme() == null || uri.getHost() == null || (uri.getPath() != null && !uri.getPath().isEmpty())) {
                    throw new ConfigException("ALLOWED_ORIGIN", "not an origin (scheme://host[:port]): '" + origin + "'");
                }
            } catch (URISyntaxException e) {
                throw new ConfigException("ALLOWED_ORIGIN", "not an origin (scheme://host[:port]): '" + origin + "'");
            }
        }
        return origins;
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    private static String hostName() {
        try {
            String name = InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9_.:-]", "");
            return name.isEmpty() ? "gavel" : name;
        } catch (UnknownHostException e) {
            return "gavel";
        }
    }

    private static String randomHex(int bytes) {
        byte[] random = new byte[bytes];
        RANDOM.nextBytes(random);
        return HexFormat.of().formatHex(random);
    }
}
