package dev.gavel.testkit;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A real Redis for tests: a Testcontainers {@code redis:7} where a Docker engine answers, otherwise a
 * {@code redis-server} process on a free loopback port. Tests do not care which they got.
 *
 * <p>{@link #takeDown()} and {@link #bringBack()} make Redis unreachable and bring it back on the same address: the
 * container is paused and unpaused; the process is killed and started again (losing its data, as a Redis
 * without persistence does). Faults beyond that go through {@link #command} ({@code CONFIG SET maxmemory},
 * {@code CLIENT KILL}, {@code CLIENT PAUSE}) and {@link #commandInBackground} ({@code DEBUG SLEEP}, which both
 * kinds allow).
 */
public final class RedisFixture implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

    private final GenericContainer<?> container;
    private final int port;
    private RedisProcess process;
    private boolean running;

    private RedisFixture(GenericContainer<?> container, int port) {
        this.container = container;
        this.port = port;
    }

    /** Starts a Redis; fails with a message saying what to install when neither kind can be had. */
    public static RedisFixture start() {
        if (dockerAnswers()) {
            GenericContainer<?> container = new GenericContainer<>("redis:7").withExposedPorts(6379)
                    .withCommand("redis-server", "--enable-debug-command", "yes");
            container.start();
            RedisFixture fixture = new RedisFixture(container, container.getMappedPort(6379));
            fixture.running = true;
            return fixture;
        }
        RedisFixture fixture = new RedisFixture(null, Ports.free());
        fixture.bringBack();
        return fixture;
    }

    private static boolean dockerAnswers() {
        if (System.getenv("DOCKER_HOST") == null && !new File("/var/run/docker.sock").exists()) {
            return false;
        }
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable e) {
            return false;
        }
    }

    public String url() {
        return "redis://" + host() + ":" + port;
    }

    public String host() {
        return container != null ? container.getHost() : "127.0.0.1";
    }

    public int port() {
        return port;
    }

    /** Makes Redis unreachable; {@link #bringBack()} brings it back on the same address. */
    public synchronized void takeDown() {
        if (!running) {
            return;
        }
        if (container != null) {
            container.getDockerClient().pauseContainerCmd(container.getContainerId()).exec();
        } else {
            process.kill();
        }
        running = false;
    }

    /** Brings a stopped Redis back; waits until it answers PING. */
    public synchronized void bringBack() {
        if (running) {
            return;
        }
        if (container != null) {
            container.getDockerClient().unpauseContainerCmd(container.getContainerId()).exec();
        } else {
            try {
                Path dir = Files.createTempDirectory("gavel-redis");
                process = RedisProcess.start("redis", port, dir, RedisProcess.Access.PLAIN, List.of("--port", String.valueOf(port),
                        "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no", "--dir", dir.toString(),
                        "--enable-debug-command", "local"));
            } catch (IOException e) {
                throw new IllegalStateException("could not start redis-server: " + e.getMessage(), e);
            }
        }
        awaitPong();
        running = true;
    }

    /**
     * Restarts Redis empty, as a Redis without persistence comes back: the process is killed and started again;
     * a container is emptied and its clients dropped (a restarted container might come back on another port).
     */
    public synchronized void restartEmpty() {
        if (container != null) {
            command("FLUSHALL");
            command("SCRIPT FLUSH");
            command("CLIENT KILL TYPE pubsub");
            command("CLIENT KILL TYPE normal");
        } else {
            takeDown();
            bringBack();
        }
    }

    /** Sends one command in Redis's inline form and returns the raw reply; for tests that inspect Redis. */
    public String command(String inline) {
        return command(inline, Duration.ofSeconds(2));
    }

    /**
     * Sends a command that takes a while (e.g. {@code DEBUG SLEEP 5}) from another thread; the future completes
     * with its raw reply. Returns once the command was sent.
     */
    public CompletableFuture<String> commandInBackground(String inline, Duration patience) {
        CompletableFuture<String> sent = new CompletableFuture<>();
        CompletableFuture<String> reply = CompletableFuture.supplyAsync(() -> command(inline, patience, sent));
        sent.join();
        return reply;
    }

    private String command(String inline, Duration patience) {
        return command(inline, patience, new CompletableFuture<>());
    }

    private String command(String inline, Duration patience, CompletableFuture<String> sent) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host(), port), 1000);
            socket.setSoTimeout((int) patience.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write((inline + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            sent.complete(inline);
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[65536];
            int read = in.read(buffer);
            return read <= 0 ? "" : new String(buffer, 0, read, StandardCharsets.UTF_8);
        } catch (IOException e) {
            sent.complete(inline);
            throw new IllegalStateException("Redis did not answer '" + inline + "': " + e.getMessage(), e);
        }
    }

    private void awaitPong() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (command("PING").startsWith("+PONG")) {
                    return;
                }
            } catch (IllegalStateException notYet) {
                // not listening yet
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("Redis did not answer PING within " + START_TIMEOUT);
    }

    @Override
    public synchronized void close() {
        if (container != null) {
            if (!running) {
                container.getDockerClient().unpauseContainerCmd(container.getContainerId()).exec();
            }
            container.stop();
        } else if (process != null) {
            process.close();
        }
        running = false;
    }
}
