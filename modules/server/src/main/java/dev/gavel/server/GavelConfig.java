package dev.gavel.server;

import com.nimbusds.jose.jwk.Curve;
import com.sun.management.UnixOperatingSystemMXBean;
import dev.gavel.core.CountBy;
import dev.gavel.core.EventLogSettings;
import dev.gavel.redis.RedisTarget;
import dev.gavel.server.http.ClientAddresses;
import dev.gavel.server.http.NodeLimits;
import dev.gavel.server.ops.logging.LogFormat;
import dev.gavel.server.viewers.ViewerCountries;
import dev.gavel.server.viewers.ViewerTokens;
import dev.gavel.server.viewers.WebSocketPings;

import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A node's configuration, read once from the environment (see the contract's "Running a node").
 *
 * @param redis               {@code REDIS_URL}, {@code REDIS_SENTINELS} with {@code REDIS_MASTER_NAME}, or {@code REDIS_CLUSTER},
 *                            with {@code REDIS_TLS_CA}; null for the in-memory backend
 * @param adminToken          {@code ADMIN_TOKEN}, or a generated one
 * @param adminTokenGenerated true when no {@code ADMIN_TOKEN} was given and {@code adminToken} was made up
 * @param moreAdminTokens     {@code ADMIN_TOKENS}: further accepted tokens, for rotation without downtime
 * @param historyIntervalMillis  {@code HISTORY_INTERVAL_MS}: one audience history sample per auction per this interval
 * @param historyRetentionMillis {@code HISTORY_RETENTION_MS}: how long history samples and unique viewer tallies are kept
 * @param wsCompression       {@code WS_COMPRESSION}: accept permessage-deflate (bounded: no context takeover, fast level)
 * @param eventLoops          {@code EVENT_LOOPS}: event-loop threads, each serving its own share of viewers and HTTP
 * @param maxViewers          {@code MAX_VIEWERS}: viewers this replica takes before refusing new ones with 503
 * @param drainMillis         {@code DRAIN_MS}: on stop, the window over which viewers are closed in batches
 * @param wsPingIntervalMillis {@code WS_PING_INTERVAL_MS}: the server's WebSocket ping on {@code /ws} and SockJS, and
 *                            SockJS's heartbeat; a viewer that does not answer within it is closed (see
 *                            {@link WebSocketPings})
 * @param logFormat           {@code LOG_FORMAT}: {@code text} (the default) or {@code json}, one object per line
 * @param registeredAuctions  {@code AUCTIONS=registered}: viewers only of auctions an admin opened; else any valid id
 * @param trustedProxies      {@code TRUSTED_PROXIES}: addresses and CIDR blocks whose {@code X-Forwarded-For} names the client
 * @param maxConnectionsPerAddress      {@code MAX_CONNECTIONS_PER_ADDRESS}: viewer connections one client address holds
 * @param maxNewConnectionsPerAddressPerSecond {@code MAX_NEW_CONNECTIONS_PER_ADDRESS_PER_SECOND}: new viewer
 *                            connections one client address opens per second (and at once)
 * @param maxApiRequestsPerAddressPerSecond {@code MAX_API_REQUESTS_PER_ADDRESS_PER_SECOND}: HTTP API requests one
 *                            client address makes per second (and at once), admin token or not
 * @param maxSocketsPerAddress {@code MAX_SOCKETS_PER_ADDRESS}: TCP connections of any kind (viewers, HTTP requests,
 *                            connections that have sent nothing yet) one client address holds open at once; a
 *                            trusted proxy's connections are not counted
 * @param httpHeaderTimeoutMillis {@code HTTP_HEADER_TIMEOUT_MS}: a new connection's first request head, and any
 *                            request head once its first byte arrived, must be complete within this; else the
 *                            connection is closed (slowloris, and connections that never send a byte)
 * @param httpIdleTimeoutMillis {@code HTTP_IDLE_TIMEOUT_MS}: an HTTP connection that is not a viewer and has no
 *                            request in progress is closed after this long without a new request
 * @param eventLog            {@code EVENT_LOG_SIZE} and {@code RECOVERY_WINDOW_MS}: the events kept per auction for
 *                            viewers that come back, and how long after the auction's last event
 * @param managementPort      {@code MANAGEMENT_PORT}: the port that serves {@code /metrics} and the probes, off the
 *                            public one; {@link #NO_MANAGEMENT_PORT} when unset ({@code /metrics} is then served on
 *                            {@code PORT}); 0 asks for a free port
 * @param viewerTokens        {@code VIEWER_TOKENS} with the keys of {@code VIEWER_TOKEN_SECRET} or
 *                            {@code VIEWER_TOKEN_PUBLIC_KEY}: how viewers sign in (see {@link ViewerTokens})
 * @param countBy             {@code COUNT_BY}: what {@code current} and {@code peak} count, connections (the default)
 *                            or persons
 * @param geoipDatabase       {@code GEOIP_DB}: a MaxMind-format country database that viewers' countries are looked up
 *                            in once, when they connect; null for none
 * @param countryHeader       {@code COUNTRY_HEADER}: a header that a trusted proxy sets to the viewer's country, taken
 *                            before the database; null for none
 */
public record GavelConfig(
        int port,
        RedisTarget redis,
        List<String> allowedOrigins,
        String adminToken,
        boolean adminTokenGenerated,
        List<String> moreAdminTokens,
        String nodeId,
        long nodeTtlMillis,
        long socketIoPingIntervalMillis,
        long socketIoPingTimeoutMillis,
        long historyIntervalMillis,
        long historyRetentionMillis,
        boolean wsCompression,
        int eventLoops,
        int maxViewers,
        long drainMillis,
        long wsPingIntervalMillis,
        LogFormat logFormat,
        boolean registeredAuctions,
        List<String> trustedProxies,
        int maxConnectionsPerAddress,
        int maxNewConnectionsPerAddressPerSecond,
        int maxApiRequestsPerAddressPerSecond,
        int maxSocketsPerAddress,
        long httpHeaderTimeoutMillis,
        long httpIdleTimeoutMillis,
        EventLogSettings eventLog,
        int managementPort,
        ViewerTokens.Settings viewerTokens,
        CountBy countBy,
        Path geoipDatabase,
        String countryHeader) {

    /** {@code MANAGEMENT_PORT} unset: one port serves everything, {@code /metrics} included. */
    public static final int NO_MANAGEMENT_PORT = -1;

    private static final Pattern MASTER_NAME = Pattern.compile("[\\x21-\\x7E]{1,128}");
    /** Scheme, credentials (up to the last '@': a password may hold one) and the addresses. */
    private static final Pattern ADDRESSES = Pattern.compile("(?:(rediss?)://(?:(.*)@)?)?([^/@]*)");
    private static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9-]{1,64}");
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9_.:-]{1,128}");
    /** A token travels in an {@code Authorization} header and in a comma-separated list: visible ASCII, no comma. */
    private static final Pattern TOKEN = Pattern.compile("[\\x21-\\x2B\\x2D-\\x7E]+");
    static final int MIN_TOKEN_LENGTH = 16;
    static final int MIN_VIEWER_TOKEN_SECRET_BYTES = 32;
    static final int MAX_VIEWER_TOKEN_KEYS = 4;
    static final int MIN_RSA_BITS = 2048;
    private static final Pattern PEM_PUBLIC_KEY = Pattern.compile(
            "-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\\s]+)-----END PUBLIC KEY-----");
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Reads the configuration, throwing {@link ConfigException} naming the first bad variable. */
    public static GavelConfig fromEnv(Map<String, String> env) {
        int port = (int) number(env, "PORT", 8080, 0, 65535);
        RedisTarget redis = redisTarget(env);
        List<String> origins = origins(env.getOrDefault("ALLOWED_ORIGIN", "http://localhost:3000"));
        String token = env.get("ADMIN_TOKEN");
        boolean generated = token == null;
        if (generated) {
            token = randomHex(24);
        } else {
            checkToken("ADMIN_TOKEN", token);
        }
        List<String> moreTokens = adminTokens(blankToNull(env.get("ADMIN_TOKENS")));
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
        long drainMillis = number(env, "DRAIN_MS", 5000, 0, 600_000);
        // no "off": a viewer whose link died would be counted until TCP gives up; below a second is only chatter
        long wsPingInterval = number(env, "WS_PING_INTERVAL_MS", 25_000, 1000, 3_600_000);
        LogFormat logFormat = logFormat(env);
        boolean registered = auctionMode(env);
        List<String> trustedProxies;
        try {
            trustedProxies = ClientAddresses.parse(env.get("TRUSTED_PROXIES"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("TRUSTED_PROXIES", e.getMessage());
        }
        int perAddress = (int) number(env, "MAX_CONNECTIONS_PER_ADDRESS", 2000, 1, Integer.MAX_VALUE);
        int newPerAddress = (int) number(env, "MAX_NEW_CONNECTIONS_PER_ADDRESS_PER_SECOND", 100, 1, Integer.MAX_VALUE);
        int apiPerAddress = (int) number(env, "MAX_API_REQUESTS_PER_ADDRESS_PER_SECOND", 1000, 1, Integer.MAX_VALUE);
        // a viewer's socket and as many again for its page's HTTP requests (SockJS and Socket.IO polling take two)
        int socketsPerAddress = (int) number(env, "MAX_SOCKETS_PER_ADDRESS", Math.min(Integer.MAX_VALUE, 2L * perAddress),
                1, Integer.MAX_VALUE);
        // a browser sends a request head in one or two packets; a preconnected socket is used within seconds
        long headerTimeout = number(env, "HTTP_HEADER_TIMEOUT_MS", 15_000, 100, 600_000);
        long idleTimeout = number(env, "HTTP_IDLE_TIMEOUT_MS", 60_000, 100, 3_600_000);
        EventLogSettings eventLog = new EventLogSettings(
                (int) number(env, "EVENT_LOG_SIZE", EventLogSettings.DEFAULT.size(), 1, 100_000),
                number(env, "RECOVERY_WINDOW_MS", EventLogSettings.DEFAULT.windowMillis(), 1000, 86_400_000));
        int managementPort = (int) number(env, "MANAGEMENT_PORT", NO_MANAGEMENT_PORT, 0, 65535);
        if (managementPort > 0 && managementPort == port) {
            throw new ConfigException("MANAGEMENT_PORT", "must differ from PORT (" + port + "); leave it unset to serve "
                    + "/metrics on PORT");
        }
        CountBy countBy = countBy(env);
        return new GavelConfig(port, redis, origins, token, generated, moreTokens, nodeId, ttl, pingInterval, pingTimeout,
                historyInterval, historyRetention, compression, eventLoops, maxViewers, drainMillis, wsPingInterval,
                logFormat, registered, trustedProxies, perAddress, newPerAddress, apiPerAddress, socketsPerAddress,
                headerTimeout, idleTimeout, eventLog, managementPort, viewerTokens(env), countBy,
                geoipDatabase(env), countryHeader(env, trustedProxies));
    }

    /** {@code GEOIP_DB}: a file that opens as a MaxMind DB and answers a lookup; unset or empty for none. */
    private static Path geoipDatabase(Map<String, String> env) {
        String raw = blankToNull(env.get("GEOIP_DB"));
        if (raw == null) {
            return null;
        }
        Path file = Path.of(raw);
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigException("GEOIP_DB", "no readable file at '" + raw + "'");
        }
        try {
            ViewerCountries.openDatabase(file).close();
        } catch (IOException e) {
            throw new ConfigException("GEOIP_DB", "'" + raw + "' is " + e.getMessage());
        }
        return file;
    }

    /** {@code COUNTRY_HEADER}: a header name, which only a trusted proxy's requests are read for. */
    private static String countryHeader(Map<String, String> env, List<String> trustedProxies) {
        String raw = blankToNull(env.get("COUNTRY_HEADER"));
        if (raw == null) {
            return null;
        }
        if (!HEADER_NAME.matcher(raw).matches()) {
            throw new ConfigException("COUNTRY_HEADER", "must be a header name (letters, digits, '-', at most 64), got '" + raw + "'");
        }
        if (trustedProxies.isEmpty()) {
            throw new ConfigException("COUNTRY_HEADER", "is set but TRUSTED_PROXIES is not: it is read only from requests "
                    + "that came through a trusted proxy, so it would never be");
        }
        return raw;
    }

    /** True when {@code /metrics} and the probes have a port of their own ({@code MANAGEMENT_PORT}). */
    public boolean hasManagementPort() {
        return managementPort != NO_MANAGEMENT_PORT;
    }

    /** Every admin token the API accepts: {@code ADMIN_TOKEN} first, then {@code ADMIN_TOKENS}. */
    public List<String> adminTokens() {
        List<String> tokens = new ArrayList<>(1 + moreAdminTokens.size());
        tokens.add(adminToken);
        tokens.addAll(moreAdminTokens);
        return tokens;
    }

    /** Everything but the secrets: the admin tokens and a password in the Redis URL are not shown. */
    @Override
    public String toString() {
        return "GavelConfig[port=" + port + ", redis=" + (redis == null ? "none" : redis)
                + ", allowedOrigins=" + allowedOrigins + ", adminToken=***, moreAdminTokens=" + moreAdminTokens.size()
                + ", nodeId=" + nodeId
                + ", nodeTtlMillis=" + nodeTtlMillis + ", socketIoPingIntervalMillis=" + socketIoPingIntervalMillis
                + ", socketIoPingTimeoutMillis=" + socketIoPingTimeoutMillis + ", historyIntervalMillis="
                + historyIntervalMillis + ", historyRetentionMillis=" + historyRetentionMillis
                + ", wsCompression=" + wsCompression + ", eventLoops=" + eventLoops + ", maxViewers=" + maxViewers
                + ", drainMillis=" + drainMillis + ", wsPingIntervalMillis=" + wsPingIntervalMillis
                + ", logFormat=" + logFormat + ", auctions=" + (registeredAuctions ? "registered" : "open")
                + ", trustedProxies=" + trustedProxies + ", maxConnectionsPerAddress=" + maxConnectionsPerAddress
                + ", maxNewConnectionsPerAddressPerSecond=" + maxNewConnectionsPerAddressPerSecond
                + ", maxApiRequestsPerAddressPerSecond=" + maxApiRequestsPerAddressPerSecond
                + ", maxSocketsPerAddress=" + maxSocketsPerAddress + ", httpHeaderTimeoutMillis=" + httpHeaderTimeoutMillis
                + ", httpIdleTimeoutMillis=" + httpIdleTimeoutMillis
                               + ", eventLogSize=" + eventLog.size() + ", recoveryWindowMillis=" + eventLog.windowMillis()
                + ", managementPort=" + (hasManagementPort() ? managementPort : "none")
                + ", viewerTokens=" + viewerTokens
                + ", countBy=" + countBy.name().toLowerCase(java.util.Locale.ROOT)
                + ", geoipDatabase=" + (geoipDatabase == null ? "none" : geoipDatabase)
                + ", countryHeader=" + (countryHeader == null ? "none" : countryHeader) + "]";
    }

    private static CountBy countBy(Map<String, String> env) {
        String raw = blankToNull(env.get("COUNT_BY"));
        if (raw == null) {
            return CountBy.CONNECTION;
        }
        CountBy countBy = CountBy.parse(raw);
        if (countBy == null) {
            throw new ConfigException("COUNT_BY", "must be connection or person, got '" + raw + "'");
        }
        return countBy;
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

    private static LogFormat logFormat(Map<String, String> env) {
        String raw = blankToNull(env.get("LOG_FORMAT"));
        if (raw == null) {
            return LogFormat.TEXT;
        }
        return switch (raw.trim().toLowerCase(Locale.ROOT)) {
            case "text" -> LogFormat.TEXT;
            case "json" -> LogFormat.JSON;
            default -> throw new ConfigException("LOG_FORMAT", "must be 'text' or 'json', got '" + raw + "'");
        };
    }

    private static boolean auctionMode(Map<String, String> env) {
        String raw = blankToNull(env.get("AUCTIONS"));
        if (raw == null) {
            return false;
        }
        return switch (raw.trim().toLowerCase(Locale.ROOT)) {
            case "open" -> false;
            case "registered" -> true;
            default -> throw new ConfigException("AUCTIONS", "must be 'open' or 'registered', got '" + raw + "'");
        };
    }

    /**
     * {@code VIEWER_TOKENS} and its keys: {@code VIEWER_TOKEN_SECRET} (HMAC secrets) or {@code VIEWER_TOKEN_PUBLIC_KEY}
     * (PEM public key files), each a comma-separated list of up to {@value #MAX_VIEWER_TOKEN_KEYS}, so that a new key
     * can be added before the old one is retired. Secrets are never echoed.
     */
    private static ViewerTokens.Settings viewerTokens(Map<String, String> env) {
        String secrets = blankToNull(env.get("VIEWER_TOKEN_SECRET"));
        String publicKeys = blankToNull(env.get("VIEWER_TOKEN_PUBLIC_KEY"));
        if (secrets != null && publicKeys != null) {
            throw new ConfigException("VIEWER_TOKEN_PUBLIC_KEY", "set only one of VIEWER_TOKEN_SECRET and "
                    + "VIEWER_TOKEN_PUBLIC_KEY: the kind of key decides the algorithm (HS256, or RS256/ES256)");
        }
        List<Key> keys = secrets != null ? tokenSecrets(secrets) : publicKeys != null ? publicKeyFiles(publicKeys) : List.of();
        String raw = blankToNull(env.get("VIEWER_TOKENS"));
        ViewerTokens.Mode mode;
        if (raw == null) {
            mode = keys.isEmpty() ? ViewerTokens.Mode.OFF : ViewerTokens.Mode.OPTIONAL;
        } else {
            mode = switch (raw.trim().toLowerCase(Locale.ROOT)) {
                case "off" -> ViewerTokens.Mode.OFF;
                case "optional" -> ViewerTokens.Mode.OPTIONAL;
                case "required" -> ViewerTokens.Mode.REQUIRED;
                default -> throw new ConfigException("VIEWER_TOKENS", "must be 'off', 'optional' or 'required', got '" + raw + "'");
            };
        }
        if (mode != ViewerTokens.Mode.OFF && keys.isEmpty()) {
            throw new ConfigException("VIEWER_TOKENS", "'" + raw.trim() + "' needs the key that tokens are verified with: "
                    + "VIEWER_TOKEN_SECRET or VIEWER_TOKEN_PUBLIC_KEY");
        }
        return new ViewerTokens.Settings(mode, keys);
    }

    private static List<String> keyList(String name, String raw) {
        List<String> items = Arrays.stream(raw.split(",", -1)).map(String::trim).toList();
        if (items.contains("")) {
            throw new ConfigException(name, "an empty item in the comma-separated list");
        }
        if (items.size() > MAX_VIEWER_TOKEN_KEYS) {
            throw new ConfigException(name, "at most " + MAX_VIEWER_TOKEN_KEYS + " keys (for rotation), got " + items.size());
        }
        return items;
    }

    /** HS256 secrets: their UTF-8 bytes, at least 32 (RFC 7518: a key as long as the hash). */
    private static List<Key> tokenSecrets(String raw) {
        List<Key> keys = new ArrayList<>();
        for (String secret : keyList("VIEWER_TOKEN_SECRET", raw)) {
            byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
            if (bytes.length < MIN_VIEWER_TOKEN_SECRET_BYTES) {
                throw new ConfigException("VIEWER_TOKEN_SECRET", "an HS256 secret must be at least "
                        + MIN_VIEWER_TOKEN_SECRET_BYTES + " bytes, got " + bytes.length
                        + (keys.isEmpty() ? "" : " (secret " + (keys.size() + 1) + " of the list)"));
            }
            keys.add(new SecretKeySpec(bytes, "HmacSHA256"));
        }
        return keys;
    }

    /** PEM {@code PUBLIC KEY} files: RSA of at least 2048 bits (RS256) or EC on P-256 (ES256). */
    private static List<Key> publicKeyFiles(String raw) {
        List<Key> keys = new ArrayList<>();
        for (String file : keyList("VIEWER_TOKEN_PUBLIC_KEY", raw)) {
            keys.add(publicKey(Path.of(file)));
        }
        return keys;
    }

    private static PublicKey publicKey(Path path) {
        String pem;
        try {
            pem = Files.readString(path, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new ConfigException("VIEWER_TOKEN_PUBLIC_KEY", "cannot read '" + path + "': " + e);
        }
        Matcher matcher = PEM_PUBLIC_KEY.matcher(pem);
        if (!matcher.find()) {
            throw new ConfigException("VIEWER_TOKEN_PUBLIC_KEY", "no '-----BEGIN PUBLIC KEY-----' block in '" + path
                    + "' (a PEM public key, e.g. from openssl pkey -pubout)");
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(matcher.group(1));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("VIEWER_TOKEN_PUBLIC_KEY", "not valid base64 in '" + path + "'");
        }
        for (String algorithm : List.of("RSA", "EC")) {
            PublicKey key;
            try {
                key = KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                continue;
            }
            if (key instanceof RSAPublicKey rsa && rsa.getModulus().bitLength() < MIN_RSA_BITS) {
                throw new ConfigException("VIEWER_TOKEN_PUBLIC_KEY", "an RSA key must be at least " + MIN_RSA_BITS
                        + " bits, got " + rsa.getModulus().bitLength() + " in '" + path + "'");
            }
            if (key instanceof ECPublicKey ec && Curve.forECParameterSpec(ec.getParams()) != Curve.P_256) {
                throw new ConfigException("VIEWER_TOKEN_PUBLIC_KEY", "an EC key must be on P-256 (ES256), got "
                        + Curve.forECParameterSpec(ec.getParams()) + " in '" + path + "'");
            }
            return key;
        }
        throw new ConfigException("VIEWER_TOKEN_PUBLIC_KEY", "neither an RSA nor an EC public key in '" + path + "'");
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

    /**
     * Refuses an empty or short token (a set but empty {@code ADMIN_TOKEN} is a mistake, not a request for a
     * generated one), never echoing it.
     */
    private static void checkToken(String name, String token) {
        if (token.length() < MIN_TOKEN_LENGTH) {
            throw new ConfigException(name, "a token must be at least " + MIN_TOKEN_LENGTH + " characters, got "
                    + token.length() + (token.isEmpty() ? " (set but empty)" : ""));
        }
        if (!TOKEN.matcher(token).matches()) {
            throw new ConfigException(name, "a token must be visible ASCII characters without spaces or commas");
        }
    }

    private static List<String> adminTokens(String raw) {
        if (raw == null) {
            return List.of();
        }
        List<String> tokens = Arrays.stream(raw.split(",", -1)).map(String::trim).toList();
        tokens.forEach(token -> checkToken("ADMIN_TOKENS", token));
        return tokens;
    }

    private static RedisTarget redisTarget(Map<String, String> env) {
        String url = blankToNull(env.get("REDIS_URL"));
        String sentinels = blankToNull(env.get("REDIS_SENTINELS"));
        String masterName = blankToNull(env.get("REDIS_MASTER_NAME"));
        String cluster = blankToNull(env.get("REDIS_CLUSTER"));
        String ca = blankToNull(env.get("REDIS_TLS_CA"));
        List<String> modes = new ArrayList<>();
        if (url != null) {
            modes.add("REDIS_URL");
        }
        if (sentinels != null) {
            modes.add("REDIS_SENTINELS");
        }
        if (cluster != null) {
            modes.add("REDIS_CLUSTER");
        }
        if (modes.size() > 1) {
            throw new ConfigException(modes.get(1), "only one of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER may be set, got "
                    + String.join(" and ", modes));
        }
        if (masterName != null && sentinels == null) {
            throw new ConfigException("REDIS_MASTER_NAME", "goes with REDIS_SENTINELS, which is not set");
        }
        RedisTarget target;
        if (url != null) {
            target = RedisTarget.standalone(redisUrl(url));
        } else if (sentinels != null) {
            if (masterName == null) {
                throw new ConfigException("REDIS_MASTER_NAME", "is required with REDIS_SENTINELS: the name of the master set");
            }
            if (!MASTER_NAME.matcher(masterName).matches()) {
                throw new ConfigException("REDIS_MASTER_NAME", "must be 1 to 128 visible ASCII characters, got '" + masterName + "'");
            }
            target = RedisTarget.sentinel(addresses("REDIS_SENTINELS", sentinels), masterName);
        } else if (cluster != null) {
            target = RedisTarget.cluster(addresses("REDIS_CLUSTER", cluster));
        } else {
            if (ca != null) {
                throw new ConfigException("REDIS_TLS_CA", "is set but no Redis is (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER)");
            }
            return null;
        }
        if (ca == null) {
            return target;
        }
        if (!target.tls()) {
            throw new ConfigException("REDIS_TLS_CA", "is set but Redis is not reached over TLS (rediss://)");
        }
        return target.withTlsCa(caFile(ca));
    }

    private static String redisUrl(String raw) {
        URI uri;
        try {
            uri = new URI(raw);
        } catch (URISyntaxException e) {
            // The exception's message quotes the whole input, credentials included.
            throw new ConfigException("REDIS_URL", "does not parse (" + e.getReason() + " at index " + e.getIndex()
                    + "): '" + RedisTarget.redacted(raw) + "'");
        }
        if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme())) {
            throw new ConfigException("REDIS_URL", "must start with redis:// or rediss://, got '" + RedisTarget.redacted(raw) + "'");
        }
        if (uri.getHost() == null) {
            throw new ConfigException("REDIS_URL", "has no host: '" + RedisTarget.redacted(raw) + "'");
        }
        String path = uri.getPath();
        if (path != null && !path.isEmpty() && !path.equals("/") && !path.matches("/\\d+")) {
            throw new ConfigException("REDIS_URL", "the path must be a database number, got '" + path + "'");
        }
        return raw;
    }

    /**
     * {@code [redis[s]://[user:password@]]host:port,host:port,...}: the scheme and credentials, when given, apply to
     * every address. Returns one URL per address.
     */
    private static List<String> addresses(String name, String raw) {
        Matcher matcher = ADDRESSES.matcher(raw.trim());
        if (!matcher.matches()) {
            throw new ConfigException(name, "must be host:port,... optionally after redis:// or rediss:// and user:password@, got '"
                    + RedisTarget.redacted(raw) + "'");
        }
        String prefix = (matcher.group(1) == null ? "redis" : matcher.group(1)) + "://"
                + (matcher.group(2) == null ? "" : matcher.group(2) + "@");
        URI check;
        try {
            check = new URI(prefix + "host:1");
        } catch (URISyntaxException e) {
            check = null;
        }
        if (check == null || !"host".equals(check.getHost())
                || (matcher.group(2) != null && !matcher.group(2).equals(check.getRawUserInfo()))) {
            // never echoed: they hold the password
            throw new ConfigException(name, "the user and password do not parse (percent-encode reserved characters such as / : %)");
        }
        List<String> urls = new ArrayList<>();
        for (String address : matcher.group(3).split(",", -1)) {
            String item = address.trim();
            URI uri;
            try {
                uri = new URI("redis://" + item);
            } catch (URISyntaxException e) {
                throw new ConfigException(name, "not host:port: '" + item + "'");
            }
            if (uri.getHost() == null || uri.getPort() < 1 || uri.getPort() > 65535 || uri.getRawUserInfo() != null
                    || !(uri.getRawPath() == null || uri.getRawPath().isEmpty()) || uri.getRawQuery() != null) {
                throw new ConfigException(name, "not host:port: '" + item + "'");
            }
            urls.add(prefix + item);
        }
        return urls;
    }

    /** A readable PEM file with at least one certificate; checked now so that a typo stops the node at start. */
    private static Path caFile(String raw) {
        Path path = Path.of(raw.trim());
        try (InputStream in = Files.newInputStream(path)) {
            if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
                throw new ConfigException("REDIS_TLS_CA", "no certificate in '" + path + "'");
            }
        } catch (IOException e) {
            throw new ConfigException("REDIS_TLS_CA", "cannot read '" + path + "': " + e);
        } catch (CertificateException e) {
            throw new ConfigException("REDIS_TLS_CA", "not PEM certificates: '" + path + "' (" + e.getMessage() + ")");
        }
        return path;
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

    /** The limits per client address that this configuration sets, shared by a node's event loops. */
    public NodeLimits limits() {
        return NodeLimits.of(trustedProxies(), maxConnectionsPerAddress(), maxNewConnectionsPerAddressPerSecond(),
                maxApiRequestsPerAddressPerSecond(), maxSocketsPerAddress());
    }
}
