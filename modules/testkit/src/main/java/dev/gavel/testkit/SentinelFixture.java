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
 */
public final class SentinelFixture implements AutoCloseable {

    public static final String MASTER_NAME = "gavel-master";
    static final long DOWN_AFTER_MILLIS = 1000;
    private static final Duration SETTLE = Duration.ofSeconds(30);

    private final Path dir;
    private final List<RedisProcess> dataNodes = new ArrayList<>();
    private final List<RedisProcess> sentinels = new ArrayList<>();

    private SentinelFixture(Path dir) {
        this.dir = dir;
    }

    /** Starts the five processes and waits until every sentinel knows the replica and the two other sentinels. */
    public static SentinelFixture start() {
        SentinelFixture fixture;
        try {
            fixture = new SentinelFixture(Files.createTempDirectory("gavel-sentinel"));
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
        RedisProcess master = dataNode("master", List.of());
        dataNodes.add(master);
        dataNodes.add(dataNode("replica", List.of("--replicaof", "127.0.0.1", String.valueOf(master.port()))));
        for (int i = 0; i < 3; i++) {
            int port = RedisProcess.freePort();
            String name = "sentinel-" + i;
            Path config = dir.resolve(name + ".conf");
            try {
                Files.writeString(config, "port " + port + "\nbind 127.0.0.1\n"
                        + "sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + master.port() + " 2\n"
                        + "sentinel down-after-milliseconds " + MASTER_NAME + " " + DOWN_AFTER_MILLIS + "\n"
                        + "sentinel failover-timeout " + MASTER_NAME + " 10000\n"
                        + "sentinel parallel-syncs " + MASTER_NAME + " 1\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            sentinels.add(RedisProcess.start(name, port, dir, RedisProcess.Access.PLAIN,
                    List.of(config.toString(), "--sentinel", "--dir", dir.toString())));
        }
        await().atMost(SETTLE).pollInterval(Duration.ofMillis(200)).until(() -> sentinels.stream().allMatch(sentinel ->
                ((List<?>) sentinel.command("SENTINEL", "REPLICAS", MASTER_NAME)).size() == 1
                        && ((List<?>) sentinel.command("SENTINEL", "SENTINELS", MASTER_NAME)).size() == 2));
    }

    private RedisProcess dataNode(String name, List<String> more) {
        int port = RedisProcess.freePort();
        List<String> args = new ArrayList<>(List.of("--port", String.valueOf(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--protected-mode", "no", "--dir", dir.toString(), "--enable-debug-command", "local"));
        args.addAll(more);
        return RedisProcess.start(name, port, dir, RedisProcess.Access.PLAIN, args);
    }

    /** The sentinels, {@code 127.0.0.1:port,...}, as {@code REDIS_SENTINELS} takes them. */
    public String sentinelAddresses() {
        return sentinels.stream().map(s -> "127.0.0.1:" + s.port()).collect(Collectors.joining(","));
    }

    /** The sentinels as the engine's endpoint URLs. */
    public List<String> sentinelUrls() {
        return sentinels.stream().map(s -> "redis://127.0.0.1:" + s.port()).toList();
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
