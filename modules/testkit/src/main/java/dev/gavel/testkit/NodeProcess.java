package dev.gavel.testkit;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A Gavel node in a process of its own, started the way an operator starts one ({@code dev.gavel.server.Main}
 * with configuration in the environment), so that tests can send it real signals.
 */
public final class NodeProcess implements AutoCloseable {

    private final Process process;
    private final int port;
    private final Path log;

    private NodeProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Starts a node on a free port and waits until it is ready. */
    public static NodeProcess start(Map<String, String> env) {
        int port = Ports.free();
        NodeProcess node = launch(env, port);
        node.awaitReady();
        return node;
    }

    /**
     * Starts a node on a free port with these JVM options before the others (e.g. {@code -Xmx64m}: a node with little
     * memory, as a small container gives it), and waits until it is ready.
     */
    public static NodeProcess startWithJvmOptions(Map<String, String> env, List<String> jvmOptions) {
        int port = Ports.free();
        NodeProcess node = launch(env, port, List.of(), jvmOptions);
        node.awaitReady();
        return node;
    }

    private void awaitReady() {
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("node exited with " + process.exitValue() + ": " + output());
            }
            return readiness() == 200;
        });
    }

    /**
     * Starts a node on a free port under an open-file limit of its own ({@code prlimit --nofile}), and waits until it
     * is ready.
     */
    public static NodeProcess startWithOpenFileLimit(Map<String, String> env, int openFiles) {
        int port = Ports.free();
        NodeProcess node = launch(env, port, List.of("prlimit", "--nofile=" + openFiles + ":" + openFiles, "--"), List.of());
        node.awaitReady();
        return node;
    }

    /** Starts a node and does not wait: for a node that is expected to refuse to start. */
    public static NodeProcess launch(Map<String, String> env, int port) {
        return launch(env, port, List.of(), List.of());
    }

    private static NodeProcess launch(Map<String, String> env, int port, List<String> prefix, List<String> jvmOptions) {
        try {
            Path log = Files.createTempFile("gavel-node", ".log");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> command = new ArrayList<>(prefix);
            command.add(java);
            command.addAll(jvmOptions);
            command.addAll(List.of("-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"),
                    "dev.gavel.server.Main"));
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            builder.environment().put("PORT", String.valueOf(port));
            builder.environment().putAll(Cluster.LOOPBACK_CROWD);
            builder.environment().putAll(env);
            return new NodeProcess(builder.start(), port, log);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public int port() {
        return port;
    }

    /** Sends SIGTERM. */
    public void terminate() {
        process.destroy();
    }

    /** Sends SIGKILL: the process gets no chance to clean up. */
    public void kill() {
        process.destroyForcibly();
    }

    /** Waits for the process to end; returns its exit code, or null if it is still running after the wait. */
    public Integer awaitExit(Duration wait) {
        try {
            return process.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** What the process printed so far. */
    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    public int readiness() {
        return status("/health/ready");
    }

    /** The status of a GET of {@code path}, or -1 when the node does not answer. */
    public int status(String path) {
        try {
            return HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // a temp file
        }
    }
}
