package dev.gavel.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A server the bench started (a Gavel node, a peer process or a Redis), known by its PID and port. */
final class ServerProcess {

    static final String ADMIN_TOKEN = "gavel-bench-admin-token-0123456789";
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    /** One line per generation (Serial, Parallel) or one for the whole heap (G1): their used KiB add up. */
    private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");

    final String name;
    final Process process;
    final int port;
    final Path log;

    private ServerProcess(String name, Process process, int port, Path log) {
        this.name = name;
        this.process = process;
        this.port = port;
        this.log = log;
    }

    long pid() {
        return process.pid();
    }

    /**
     * Starts {@code java -jar gavel.jar} with the given environment on a free port, and waits until it is ready. The
     * JVM exits on running out of memory, as every way of starting a node says.
     */
    static ServerProcess gavel(Path jar, String nodeId, Map<String, String> env, List<String> jvmOptions, Path logDir) {
        int port = freePort();
        List<String> command = new ArrayList<>();
        command.add(javaBin("java"));
        command.add("-XX:+ExitOnOutOfMemoryError");
        command.addAll(jvmOptions);
        command.add("-jar");
        command.add(jar.toString());
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("PORT", String.valueOf(port));
        builder.environment().put("ADMIN_TOKEN", ADMIN_TOKEN);
        builder.environment().put("NODE_ID", nodeId);
        // the generator is a few loopback addresses opening thousands of viewers a second: a flood by the node's
        // per-address limits, which are not what the bench measures
        builder.environment().put("MAX_CONNECTIONS_PER_ADDRESS", "10000000");
        builder.environment().put("MAX_NEW_CONNECTIONS_PER_ADDRESS_PER_SECOND", "10000000");
        builder.environment().put("MAX_API_REQUESTS_PER_ADDRESS_PER_SECOND", "10000000");
        builder.environment().putAll(env);
        ServerProcess server = start(nodeId, builder, port, logDir);
        server.awaitStatus("/health/ready", 60);
        return server;
    }

    /** Starts {@code node server.js} from {@code dir} on a free port, and waits until it answers. */
    static ServerProcess peer(Path dir, String name, Map<String, String> env, Path logDir) {
        int port = freePort();
        ProcessBuilder builder = new ProcessBuilder("node", "server.js").directory(dir.toFile());
        builder.environment().put("PORT", String.valueOf(port));
        builder.environment().putAll(env);
        ServerProcess server = start(name, builder, port, logDir);
        server.awaitStatus("/api/v1/auctions/ready/viewer-count", 30);
        return server;
    }

    /** Starts {@code redis-server} without persistence on a free loopback port, and waits until it answers PING. */
    static ServerProcess redis(Path logDir) {
        int port = freePort();
        ProcessBuilder builder = new ProcessBuilder("redis-server", "--port", String.valueOf(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--protected-mode", "no", "--dir", logDir.toString());
        ServerProcess redis = start("redis", builder, port, logDir);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
                socket.setSoTimeout(1000);
                OutputStream out = socket.getOutputStream();
                out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = socket.getInputStream();
                byte[] reply = new byte[7];
                if (in.read(reply) > 0 && new String(reply, StandardCharsets.US_ASCII).startsWith("+PONG")) {
                    return redis;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            sleep(50);
        }
        redis.stop();
        throw new IllegalStateException("redis-server did not answer PING within 20 s; see " + redis.log);
    }

    /**
     * Starts a {@code redis-server} with cluster mode on, on a free port below 55536 whose cluster bus port (10000
     * higher) is free too, and waits until it answers PING. Not a cluster yet: see {@link Deployment}.
     */
    static ServerProcess redisClusterNode(Path logDir, String name) {
        int port = freeClusterPort();
        Path dir = logDir.resolve(name);
        try {
            Files.createDirectories(dir);
            // a node that remembers an earlier run's cluster cannot join a new one
            Files.deleteIfExists(dir.resolve("nodes.conf"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        ProcessBuilder builder = new ProcessBuilder("redis-server", "--port", String.valueOf(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--protected-mode", "no", "--dir", dir.toString(),
                "--cluster-enabled", "yes", "--cluster-config-file", dir.resolve("nodes.conf").toString());
        ServerProcess redis = start(name, builder, port, logDir);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try {
                if ("PONG".equals(redisCommand(port, "PING"))) {
                    return redis;
                }
            } catch (IllegalStateException notYet) {
                // not listening yet
            }
            sleep(50);
        }
        redis.stop();
        throw new IllegalStateException(name + " did not answer PING within 20 s; see " + redis.log);
    }

    /** One command to the Redis on {@code port}: a simple or bulk string reply, or an integer as text. */
    static String redisCommand(int port, String... args) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            socket.setSoTimeout(5000);
            StringBuilder request = new StringBuilder("*").append(args.length).append("\r\n");
            for (String arg : args) {
                request.append('$').append(arg.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(arg).append("\r\n");
            }
            OutputStream out = socket.getOutputStream();
            out.write(request.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = new java.io.BufferedInputStream(socket.getInputStream());
            String header = line(in);
            switch (header.charAt(0)) {
                case '+', ':' -> {
                    return header.substring(1);
                }
                case '$' -> {
                    int length = Integer.parseInt(header.substring(1));
                    if (length < 0) {
                        return null;
                    }
                    byte[] body = in.readNBytes(length);
                    return new String(body, StandardCharsets.UTF_8);
                }
                default -> throw new IllegalStateException("Redis on " + port + " answered " + header);
            }
        } catch (IOException e) {
            throw new IllegalStateException("Redis on " + port + " did not answer " + args[0] + ": " + e.getMessage(), e);
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                line.append((char) c);
            }
        }
        if (line.isEmpty()) {
            throw new IOException("connection closed");
        }
        return line.toString();
    }

    /** The field {@code name} of {@code INFO <section>} of the Redis on {@code port}, as a number. */
    static long redisInfo(int port, String section, String name) {
        for (String line : redisCommand(port, "INFO", section).split("\r?\n")) {
            if (line.startsWith(name + ":")) {
                return Long.parseLong(line.substring(name.length() + 1).trim());
            }
        }
        throw new IllegalStateException("INFO " + section + " of Redis on " + port + " has no " + name);
    }

    private static int freeClusterPort() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = java.util.concurrent.ThreadLocalRandom.current().nextInt(20000, 30000);
            try (ServerSocket client = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress());
                 ServerSocket bus = new ServerSocket(port + 10000, 1, java.net.InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IllegalStateException("no free port pair (port, port + 10000) found");
    }

    private static ServerProcess start(String name, ProcessBuilder builder, int port, Path logDir) {
        try {
            Files.createDirectories(logDir);
            Path log = logDir.resolve(name + ".log");
            builder.redirectErrorStream(true).redirectOutput(log.toFile());
            Process process = Processes.track(builder.start());
            return new ServerProcess(name, process, port, log);
        } catch (IOException e) {
            throw new IllegalStateException("could not start " + name + " (" + builder.command() + "): " + e.getMessage(), e);
        }
    }

    private void awaitStatus(String path, int seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + "; see " + log + ":\n" + tail());
            }
            if (status(path) == 200) {
                return;
            }
            sleep(100);
        }
        stop();
        throw new IllegalStateException(name + " was not ready within " + seconds + " s; see " + log);
    }

    int status(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    long rssKb() {
        return ProcStats.rssKb(pid());
    }

    long cpuMillis() {
        return ProcStats.cpuMillis(pid());
    }

    /** The live heap: a full GC ({@code jcmd GC.run}), then the heap's used KiB from {@code GC.heap_info}. */
    long liveHeapKb() {
        jcmd("GC.run");
        Matcher used = HEAP_USED.matcher(jcmd("GC.heap_info"));
        long kb = -1;
        while (used.find()) {
            kb = Math.max(kb, 0) + Long.parseLong(used.group(1));
        }
        return kb;
    }

    /** Starts a JFR recording with the profiling settings; {@link #stopRecording()} writes it to {@code file}. */
    void startRecording(Path file) {
        jcmd("JFR.start", "name=bench", "settings=profile", "filename=" + file.toAbsolutePath());
    }

    void stopRecording() {
        jcmd("JFR.stop", "name=bench");
    }

    /** The top of {@code jmap -histo:live}, written to {@code file}. */
    void writeClassHistogram(Path file, int lines) {
        String histogram = run(List.of(javaBin("jmap"), "-histo:live", String.valueOf(pid())), 120);
        String[] all = histogram.split("\n");
        StringBuilder top = new StringBuilder();
        for (int i = 0; i < Math.min(lines, all.length); i++) {
            top.append(all[i]).append('\n');
        }
        top.append(all[all.length - 1]).append('\n');
        try {
            Files.writeString(file, top);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private String jcmd(String... args) {
        List<String> command = new ArrayList<>(List.of(javaBin("jcmd"), String.valueOf(pid())));
        command.addAll(List.of(args));
        return run(command, 120);
    }

    private static String run(List<String> command, int seconds) {
        try {
            Process tool = Processes.track(new ProcessBuilder(command).redirectErrorStream(true).start());
            byte[] output = tool.getInputStream().readAllBytes();
            if (!tool.waitFor(seconds, TimeUnit.SECONDS)) {
                Processes.stop(tool, 1000);
            }
            Processes.stop(tool, 1000);
            return new String(output, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    void stop() {
        Processes.stop(process, 15_000);
    }

    static String javaBin(String tool) {
        return Path.of(System.getProperty("java.home"), "bin", tool).toString();
    }

    /**
     * A free port below Linux's ephemeral range (32768 and up), never handed out twice by this process: a port from
     * {@code bind(0)} is an ephemeral one, and the generator's thousands of outgoing connections take their source
     * ports from that range, so one of them could take it between the check and the node's bind (seen in CI:
     * "Address already in use").
     */
    static int freePort() {
        for (int attempt = 0; attempt < 500; attempt++) {
            int port = java.util.concurrent.ThreadLocalRandom.current().nextInt(10000, 32768);
            if (HANDED_OUT.contains(port)) {
                continue;
            }
            try (ServerSocket probe = new ServerSocket(port)) {
                if (HANDED_OUT.add(port)) {
                    return port;
                }
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IllegalStateException("no free port between 10000 and 32767");
    }

    private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
