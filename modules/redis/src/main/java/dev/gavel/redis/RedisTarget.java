package dev.gavel.redis;

import io.vertx.core.net.PemTrustOptions;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisRole;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Where the Redis backend finds Redis: one server, the master of a Sentinel-managed set, or the masters of a Redis
 * Cluster.
 *
 * @param mode       how the endpoints are used
 * @param endpoints  {@code redis[s]://[user:pass@]host:port[/db]} URLs: the server, the sentinels, or seed nodes of the
 *                   cluster. All share one scheme and one user: the client reaches the master with the scheme and
 *                   credentials of the sentinel that named it, and every node of a cluster with those of the seeds.
 * @param masterName the name of the master set in Sentinel mode, else null
 * @param tlsCa      a PEM file of the CA certificates trusted for TLS, or null for the JVM's default trust; the
 *                   server's certificate must also name the host it is reached at (as the sentinels announce
 *                   it: often an IP address)
 */
public record RedisTarget(Mode mode, List<String> endpoints, String masterName, Path tlsCa) {

    public enum Mode { STANDALONE, SENTINEL, CLUSTER }

    public RedisTarget {
        Objects.requireNonNull(mode, "mode");
        endpoints = List.copyOf(endpoints);
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("no Redis endpoint");
        }
        if (mode == Mode.STANDALONE && endpoints.size() != 1) {
            throw new IllegalArgumentException("a standalone Redis has one endpoint, got " + endpoints.size());
        }
        if ((mode == Mode.SENTINEL) != (masterName != null)) {
            throw new IllegalArgumentException("a master name goes with Sentinel mode, and only with it");
        }
        boolean tls = isTls(endpoints.get(0));
        if (endpoints.stream().anyMatch(endpoint -> isTls(endpoint) != tls)) {
            throw new IllegalArgumentException("every endpoint must use TLS, or none");
        }
        if (tlsCa != null && !tls) {
            throw new IllegalArgumentException("a TLS CA file without rediss:// endpoints");
        }
    }

    /** One Redis server at {@code url}. */
    public static RedisTarget standalone(String url) {
        return new RedisTarget(Mode.STANDALONE, List.of(url), null, null);
    }

    /** The master named {@code masterName}, found through the sentinels at {@code urls}. */
    public static RedisTarget sentinel(List<String> urls, String masterName) {
        return new RedisTarget(Mode.SENTINEL, urls, masterName, null);
    }

    /** The Redis Cluster whose nodes include those at {@code urls}. */
    public static RedisTarget cluster(List<String> urls) {
        return new RedisTarget(Mode.CLUSTER, urls, null, null);
    }

    /** The same target, trusting the CA certificates of this PEM file for TLS. */
    public RedisTarget withTlsCa(Path ca) {
        return new RedisTarget(mode, endpoints, masterName, ca);
    }

    public boolean tls() {
        return isTls(endpoints.get(0));
    }

    /**
     * The client options of one of the backend's connections (each its own pool of one connection); in Cluster mode, see
     * {@link #options(String)}.
     */
    RedisOptions options() {
        if (mode == Mode.CLUSTER) {
            throw new IllegalStateException("a cluster is reached one node at a time");
        }
        return options(mode == Mode.SENTINEL ? RedisClientType.SENTINEL : RedisClientType.STANDALONE, endpoints);
    }

    /** The client options of a connection to one node at {@code endpoint}, with this target's TLS trust. */
    RedisOptions options(String endpoint) {
        return options(RedisClientType.STANDALONE, List.of(endpoint));
    }

    private RedisOptions options(RedisClientType type, List<String> urls) {
        RedisOptions options = new RedisOptions()
                .setType(type)
                .setMaxPoolSize(1)
                .setMaxPoolWaiting(1024)
                .setMaxWaitingHandlers(16384);
        urls.forEach(options::addConnectionString);
        if (type == RedisClientType.SENTINEL) {
            // No automatic failover: vertx-redis-client would swap the connection under the subscriber without
            // resubscribing. A lost master drops the connections, and the backend reconnects to whichever master
            // the sentinels name then.
            // The sentinels are asked again on every connect (the default caches their answer for a second):
            // replicas that retry at the same moment after a failover then all find the new master, instead of
            // one going on a stale answer and coming back a backoff step after the others.
            options.setMasterName(masterName).setRole(RedisRole.MASTER).setAutoFailover(false).setTopologyCacheTTL(100);
        }
        if (tls()) {
            // TLS from the first byte, the server's name checked against its certificate: never "trust all".
            options.getNetClientOptions().setSsl(true).setHostnameVerificationAlgorithm("HTTPS");
            if (tlsCa != null) {
                options.getNetClientOptions().setTrustOptions(new PemTrustOptions().addCertPath(tlsCa.toString()));
            }
        }
        return options;
    }

    /** The URL with its user and password replaced: a Redis URL is never shown with its credentials. */
    public static String redacted(String url) {
        // Up to the last '@': a password may hold an unencoded '@' or '/' in a URL that does not parse.
        return url.replaceAll("(?<=//).*@", "***@");
    }

    private static boolean isTls(String url) {
        return url.startsWith("rediss://");
    }

    /** Without credentials. */
    @Override
    public String toString() {
        return mode.name().toLowerCase() + " " + endpoints.stream().map(RedisTarget::redacted).toList()
                + (masterName == null ? "" : " master " + masterName) + (tlsCa == null ? "" : " CA " + tlsCa);
    }
}
