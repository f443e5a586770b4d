package dev.gavel.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;

/**
 * A Redis Cluster on loopback: three masters with one replica each, made by {@code redis-cli --cluster create}, each
 * node a {@code redis-server} process on a free port (whose cluster bus port, 10000 higher, is free too), all killed
 * by PID on {@link #close()}, also after a failed start. A master that answers nothing for
 * {@value #NODE_TIMEOUT_MILLIS} ms is failed over to its replica.
 */
public final class ClusterFixture implements AutoCloseable {

    static final long NODE_TIMEOUT_MILLIS = 1000;
    private static final Duration SETTLE = Duration.ofSeconds(30);

    private final Path dir;
    private final boolean tls;
    private final List<RedisProcess> nodes = new ArrayList<>();

    private ClusterFixture(Path dir, boolean tls) {
        this.dir = dir;
        this.tls = tls;
    }

    /** Starts six nodes, makes them a cluster and waits until every node sees every slot served and every replica. */
    public static ClusterFixture start() {
        return start(false);
    }

    /**
     * As {@link #start()}, over TLS only: clients, replication and the cluster bus, with certificates made for the test
     * ({@link TlsRedisFixture.Certificates}: they name 127.0.0.1, the address the nodes announce).
     */
    public static ClusterFixture startSecure() {
        return start(true);
    }

    private static ClusterFixture start(boolean tls) {
        ClusterFixture fixture;
        try {
            fixture = new ClusterFixture(Files.createTempDirectory(tls ? "gavel-cluster-tls" : "gavel-cluster"), tls);
            if (tls) {
                TlsRedisFixture.Certificates.make(fixture.dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            fixture.startAll();
        } catch (RuntimeException e) {
            fixture.close();
            throw e;
        }
        return fixture;
    }

    private void startAll() {
        for (int i = 0; i < 6; i++) {
            int port = Ports.freeWithClusterBus();
            Path nodeDir = dir.resolve("node-" + i);
            try {
                Files.createDirectories(nodeDir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            List<String> listen = tls
                    ? List.of("--port", "0", "--tls-port", String.valueOf(port), "--tls-cert-file", dir.resolve("server.pem").toString(),
                    "--tls-key-file", dir.resolve("server.key").toString(), "--tls-ca-cert-file", dir.resolve("ca.pem").toString(),
                    "--tls-auth-clients", "no", "--tls-replication", "yes", "--tls-cluster", "yes")
                    : List.of("--port", String.valueOf(port));
            List<String> args = new ArrayList<>(listen);
            args.addAll(List.of(
                    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--protected-mode", "no", "--dir", nodeDir.toString(), "--enable-debug-command", "local",
                    "--cluster-enabled", "yes", "--cluster-config-file", nodeDir.resolve("nodes.conf").toString(),
                    "--cluster-node-timeout", String.valueOf(NODE_TIMEOUT_MILLIS),
                    // a replica may always take over, however long since it last heard its master
                    "--cluster-replica-validity-factor", "0",
                    // the other shards keep serving while one fails over, as docs/redis.md says to run it
                    "--cluster-require-full-coverage", "no"));
            nodes.add(RedisProcess.start("node-" + i, port, nodeDir, access(), args));
        }
        List<String> create = new ArrayList<>(List.of(RedisProcess.executable("redis-cli")));
        if (tls) {
            create.addAll(List.of("--tls", "--cacert", dir.resolve("ca.pem").toString()));
        }
        create.addAll(List.of("--cluster", "create"));
        nodes.forEach(node -> create.add("127.0.0.1:" + node.port()));
        create.addAll(List.of("--cluster-replicas", "1", "--cluster-yes"));
        runRedisCli(create);
        await().atMost(SETTLE).pollInterval(Duration.ofMillis(200)).until(this::settled);
    }

    /** Every node says the cluster is ok, and knows three masters each with one replica. */
    private boolean settled() {
        for (RedisProcess node : nodes) {
            String info = String.valueOf(node.command("CLUSTER", "INFO"));
            if (!info.contains("cluster_state:ok")) {
                return false;
            }
            List<?> slots = (List<?>) node.command("CLUSTER", "SLOTS");
            if (slots.size() != 3 || slots.stream().anyMatch(range -> ((List<?>) range).size() != 4)) {
                return false;
            }
        }
        return true;
    }

    private RedisProcess.Access access() {
        if (!tls) {
            return RedisProcess.Access.PLAIN;
        }
        try {
            return new RedisProcess.Access(TlsRedisFixture.Certificates.trusting(dir.resolve("ca.pem")), null, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The CA file to trust when over TLS. */
    public Path caFile() {
        return dir.resolve("ca.pem");
    }

    private void runRedisCli(List<String> command) {
        try {
            Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("redis-cli.log").toFile()).start();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("redis-cli --cluster create did not finish in 60 s");
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException("redis-cli --cluster create failed: " + Files.readString(dir.resolve("redis-cli.log")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The seed nodes as {@code REDIS_CLUSTER} takes them: {@code 127.0.0.1:port,...} (the three first masters). */
    public String seedAddresses() {
        return nodes.subList(0, 3).stream().map(node -> "127.0.0.1:" + node.port()).collect(Collectors.joining(","));
    }

    /** The seed nodes as the backend's endpoint URLs. */
    public List<String> seedUrls() {
        return nodes.subList(0, 3).stream().map(node -> "redis://127.0.0.1:" + node.port()).toList();
    }

    /**
     * Adds the ACL user {@code gavel} with {@code rules} (after its password) on every node, as {@code ACL SETUSER}
     * takes them; returns its password. The default user stays, for the fixture's own commands.
     */
    public String addGavelUser(String rules) {
        String password = TlsRedisFixture.randomHex();
        List<String> args = new ArrayList<>(List.of("ACL", "SETUSER", "gavel", "on", ">" + password));
        args.addAll(List.of(rules.trim().split("\\s+")));
        nodes.forEach(node -> node.command(args.toArray(String[]::new)));
        return password;
    }

    /** The seed nodes as the backend's endpoint URLs, logging in as the user {@code gavel} ({@code rediss://} over TLS). */
    public List<String> seedUrls(String password) {
        return nodes.subList(0, 3).stream()
                .map(node -> (tls ? "rediss" : "redis") + "://gavel:" + password + "@127.0.0.1:" + node.port()).toList();
    }

    /** The nodes that serve slots now, as a live node says, each with the ranges it serves. */
    public Map<RedisProcess, List<int[]>> masters() {
        RedisProcess asked = nodes.stream().filter(RedisProcess::isAlive).findFirst().orElseThrow();
        Map<RedisProcess, List<int[]>> masters = new LinkedHashMap<>();
        for (Object range : (List<?>) asked.command("CLUSTER", "SLOTS")) {
            List<?> fields = (List<?>) range;
            int port = ((Long) ((List<?>) fields.get(2)).get(1)).intValue();
            masters.computeIfAbsent(node(port), n -> new ArrayList<>())
                    .add(new int[] {((Long) fields.get(0)).intValue(), ((Long) fields.get(1)).intValue()});
        }
        return masters;
    }

    /** The master that serves {@code key}'s slot now. */
    public RedisProcess masterOf(String key) {
        RedisProcess asked = nodes.stream().filter(RedisProcess::isAlive).findFirst().orElseThrow();
        long slot = (Long) asked.command("CLUSTER", "KEYSLOT", key);
        return masters().entrySet().stream()
                .filter(master -> master.getValue().stream().anyMatch(range -> range[0] <= slot && slot <= range[1]))
                .map(Map.Entry::getKey).findFirst()
                .orElseThrow(() -> new IllegalStateException("no master serves slot " + slot));
    }

    /**
     * Moves the slot of {@code key} to another master, as {@code redis-cli --cluster reshard} does: the slot marked
     * importing and migrating, its keys moved with {@code MIGRATE}, then given to the new master on every master.
     * Returns the new master.
     */
    public RedisProcess moveSlotOf(String key) {
        return moveSlotOf(key, () -> { });
    }

    /**
     * As {@link #moveSlotOf(String)}, running {@code midway} once the keys have moved and before the slot is given to
     * the new master: meanwhile the old master answers {@code ASK} for the slot's keys.
     */
    public RedisProcess moveSlotOf(String key, Runnable midway) {
        RedisProcess from = masterOf(key);
        RedisProcess to = masters().keySet().stream().filter(master -> master != from).findFirst().orElseThrow();
        String slot = String.valueOf(from.command("CLUSTER", "KEYSLOT", key));
        String fromId = String.valueOf(from.command("CLUSTER", "MYID"));
        String toId = String.valueOf(to.command("CLUSTER", "MYID"));
        to.command("CLUSTER", "SETSLOT", slot, "IMPORTING", fromId);
        from.command("CLUSTER", "SETSLOT", slot, "MIGRATING", toId);
        while (true) {
            List<?> keys = (List<?>) from.command("CLUSTER", "GETKEYSINSLOT", slot, "100");
            if (keys.isEmpty()) {
                break;
            }
            List<String> migrate = new ArrayList<>(List.of("MIGRATE", "127.0.0.1", String.valueOf(to.port()), "", "0", "5000", "KEYS"));
            keys.forEach(k -> migrate.add(String.valueOf(k)));
            from.command(migrate.toArray(String[]::new));
        }
        midway.run();
        to.command("CLUSTER", "SETSLOT", slot, "NODE", toId);
        from.command("CLUSTER", "SETSLOT", slot, "NODE", toId);
        masters().keySet().forEach(master -> master.command("CLUSTER", "SETSLOT", slot, "NODE", toId));
        return to;
    }

    /** Sends one command to a node. */
    public Object command(RedisProcess node, String... args) {
        return node.command(args);
    }

    /** {@code kill -9} of a node. */
    public void kill(RedisProcess node) {
        node.kill();
    }

    /** Waits until every live node sees the slots of the master on {@code oldPort} served by another, and the cluster ok. */
    public void awaitFailoverFrom(int oldPort, Duration atMost) {
        await().atMost(atMost).pollInterval(Duration.ofMillis(100)).until(() -> nodes.stream().filter(RedisProcess::isAlive)
                .allMatch(node -> String.valueOf(node.command("CLUSTER", "INFO")).contains("cluster_state:ok")
                        && ((List<?>) node.command("CLUSTER", "SLOTS")).stream()
                        .noneMatch(range -> ((Long) ((List<?>) ((List<?>) range).get(2)).get(1)).intValue() == oldPort)));
    }

    private RedisProcess node(int port) {
        return nodes.stream().filter(node -> node.port() == port).findFirst()
                .orElseThrow(() -> new IllegalStateException("no node on port " + port));
    }

    @Override
    public void close() {
        nodes.forEach(RedisProcess::close);
    }
}
