package dev.gavel.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;

/**
 * A Sentinel deployment on loopback: one master, one replica and three sentinels ({@code redis-server --sentinel},
 * quorum 2), each a process on a free port, all killed by PID on {@link #close()}, also after a failed start. The
 * sentinels take a master for down after {@value #DOWN_AFTER_MILLIS} ms without an answer.
 *
 * <p>{@link #startSecure} runs all five over TLS only (certificates from {@link TlsRedisFixture.Certificates}) with
 * the default user off everywhere: on the data nodes, the user {@code gavel} with the rules given, a replication
 * user and the sentinels' user; on the sentinels, {@code gavel} with the rules given for sentinels, and the
 * sentinels' own user, with which they talk to each other.
 */
public final class SentinelFixture implements AutoCloseable {

    public static final String MASTER_NAME = "gavel-master";
    static final long DOWN_AFTER_MILLIS = 1000;
    private static final Duration SETTLE = Duration.ofSeconds(30);

    private final Path dir;
    private final Secure secure;
    private final List<RedisProcess> dataNodes = new ArrayList<>();
    private final List<RedisProcess> sentinels = new ArrayList<>();

    /** TLS and ACL users: the passwords, and how the fixture itself reaches every process. */
    private record Secure(String gavelPassword, String adminPassword, RedisProcess.Access access) {
    }

    private SentinelFixture(Path dir, Secure secure) {
        this.dir = dir;
        this.secure = secure;
    }

    /** Starts the five processes and waits until every sentinel knows the replica and the two other sentinels. */
    public static SentinelFixture start() {
        try {
            return start(new SentinelFixture(Files.createTempDirectory("gavel-sentinel"), null), null, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * As {@link #start()}, over TLS and with ACL users.
     *
     * @param gavelRules         the rules of the user {@code gavel} on the data nodes, after its password
     * @param gavelSentinelRules its rules on the sentinels
     */
    public static SentinelFixture startSecure(String gavelRules, String gavelSentinelRules) {
        try {
            Path dir = Files.createTempDirectory("gavel-sentinel-tls");
            TlsRedisFixture.Certificates.make(dir);
            String admin = TlsRedisFixture.randomHex();
            Secure secure = new Secure(TlsRedisFixture.randomHex(), admin,
                    new RedisProcess.Access(TlsRedisFixture.Certificates.trusting(dir.resolve("ca.pem")), "admin", admin));
            return start(new SentinelFixture(dir, secure), gavelRules, gavelSentinelRules);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static SentinelFixture start(SentinelFixture fixture, String gavelRules, String gavelSentinelRules) {
        try {
            fixture.startAll(gavelRules, gavelSentinelRules);
        } catch (IOException e) {
            fixture.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            fixture.close();
            throw e;
        }
        return fixture;
    }

    private void startAll(String gavelRules, String gavelSentinelRules) throws IOException {
        String sentinelPassword = secure == null ? null : TlsRedisFixture.randomHex();
        if (secure != null) {
            String replicationPassword = TlsRedisFixture.randomHex();
            Files.writeString(dir.resolve("data.acl"), "user default off\n"
                    + "user admin on >" + secure.adminPassword + " ~* &* +@all\n"
                    + "user gavel on >" + secure.gavelPassword + " " + gavelRules + "\n"
                    + "user replication on >" + replicationPassword + " +psync +replconf +ping\n"
                    // what Redis's Sentinel documentation lists for the sentinels' user on the data nodes
                    + "user sentinel on >" + sentinelPassword + " allchannels +multi +slaveof +ping +exec +subscribe"
                    + " +config|rewrite +role +publish +info +client|setname +client|kill +script|kill\n");
            Files.writeString(dir.resolve("data.conf"), TLS_CONFIG + "aclfile " + dir.resolve("data.acl") + "\n"
                    + "masteruser replication\nmasterauth " + replicationPassword + "\n");
        }
        RedisProcess master = dataNode("master", List.of());
        dataNodes.add(master);
        dataNodes.add(dataNode("replica", List.of("--replicaof", "127.0.0.1", String.valueOf(master.port()))));
        for (int i = 0; i < 3; i++) {
            int port = Ports.free();
            String name = "sentinel-" + i;
            Path config = dir.resolve(name + ".conf");
            String monitor = "sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + master.port() + " 2\n"
                    + "sentinel down-after-milliseconds " + MASTER_NAME + " " + DOWN_AFTER_MILLIS + "\n"
                    + "sentinel failover-timeout " + MASTER_NAME + " 10000\n"
                    + "sentinel parallel-syncs " + MASTER_NAME + " 1\n";
            if (secure == null) {
                Files.writeString(config, "port " + port + "\nbind 127.0.0.1\n" + monitor);
            } else {
                Files.writeString(config, "port 0\ntls-port " + port + "\nbind 127.0.0.1\n" + TLS_CONFIG + monitor
                        + "sentinel auth-user " + MASTER_NAME + " sentinel\n"
                        + "sentinel auth-pass " + MASTER_NAME + " " + sentinelPassword + "\n"
                        + "sentinel sentinel-user admin\nsentinel sentinel-pass " + secure.adminPassword + "\n"
                        + "user default off\n"
                        + "user admin on >" + secure.adminPassword + " ~* &* +@all\n"
                        + "user gavel on >" + secure.gavelPassword + " " + gavelSentinelRules + "\n");
            }
            sentinels.add(RedisProcess.start(name, port, dir, access(),
                    List.of(config.toString(), "--sentinel", "--dir", dir.toString())));
        }
        await().atMost(SETTLE).pollInterval(Duration.ofMillis(200)).until(() -> sentinels.stream().allMatch(sentinel ->
                ((List<?>) sentinel.command("SENTINEL", "REPLICAS", MASTER_NAME)).size() == 1
                        && ((List<?>) sentinel.command("SENTINEL", "SENTINELS", MASTER_NAME)).size() == 2));
    }

    /** TLS only, for clients, replication and the sentinels' connections alike. */
    private static final String TLS_CONFIG = "tls-cert-file server.pem\ntls-key-file server.key\ntls-ca-cert-file ca.pem\n"
            + "tls-auth-clients no\ntls-replication yes\n";

    private RedisProcess.Access access() {
        return secure == null ? RedisProcess.Access.PLAIN : secure.access;
    }

    private RedisProcess dataNode(String name, List<String> more) {
        int port = Ports.free();
        List<String> args = new ArrayList<>();
        if (secure == null) {
            args.addAll(List.of("--port", String.valueOf(port)));
        } else {
            args.addAll(List.of(dir.resolve("data.conf").toString(), "--port", "0", "--tls-port", String.valueOf(port)));
        }
        args.addAll(List.of("--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no",
                "--dir", dir.toString(), "--enable-debug-command", "local"));
        args.addAll(more);
        return RedisProcess.start(name, port, dir, access(), args);
    }

    /**
     * The sentinels as {@code REDIS_SENTINELS} takes them: {@code 127.0.0.1:port,...}, after
     * {@code rediss://gavel:<password>@} when secure.
     */
    public String sentinelAddresses() {
        return (secure == null ? "" : "rediss://gavel:" + secure.gavelPassword + "@")
                + sentinels.stream().map(s -> "127.0.0.1:" + s.port()).collect(Collectors.joining(","));
    }

    /** The sentinels as the backend's endpoint URLs. */
    public List<String> sentinelUrls() {
        String prefix = secure == null ? "redis://" : "rediss://gavel:" + secure.gavelPassword + "@";
        return sentinels.stream().map(s -> prefix + "127.0.0.1:" + s.port()).toList();
    }

    /** The CA file to trust when secure. */
    public Path caFile() {
        return dir.resolve("ca.pem");
    }

    /** The port of the master as the first sentinel names it now. */
    public int masterPort() {
        List<?> address = (List<?>) sentinels.get(0).command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME);
        return Integer.parseInt((String) address.get(1));
    }

    /** The data node that the sentinels name master now. */
    public RedisProcess master() {
        int port = masterPort();
        return dataNodes.stream().filter(node -> node.port() == port).findFirst()
                .orElseThrow(() -> new IllegalStateException("no data node on the master's port " + port));
    }

    /** Sends one command to the current master. */
    public Object commandOnMaster(String... args) {
        return master().command(args);
    }

    /** {@code kill -9} of the current master; returns its port. */
    public int killMaster() {
        RedisProcess master = master();
        master.kill();
        return master.port();
    }

    /** Waits until every sentinel names a master other than the one on {@code oldPort}, and it answers as master. */
    public void awaitFailoverFrom(int oldPort, Duration atMost) {
        await().atMost(atMost).pollInterval(Duration.ofMillis(100)).until(() -> sentinels.stream().allMatch(sentinel -> {
            List<?> address = (List<?>) sentinel.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME);
            return Integer.parseInt((String) address.get(1)) != oldPort;
        }) && String.valueOf(master().command("ROLE").toString()).startsWith("[master"));
    }

    @Override
    public void close() {
        for (RedisProcess process : sentinels) {
            process.close();
        }
        for (RedisProcess process : dataNodes) {
            process.close();
        }
    }
}
