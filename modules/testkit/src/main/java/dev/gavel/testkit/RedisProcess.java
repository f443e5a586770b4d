package dev.gavel.testkit;

import javax.net.ssl.SSLContext;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One {@code redis-server} process (a data node or, with {@code --sentinel}, a sentinel) on a loopback port, for
 * the fixtures: started with the arguments they give, its output in {@code <dir>/<name>.log}, killed by its PID
 * ({@code SIGKILL}, as {@code kill -9}), and spoken to in RESP, over TLS and as an ACL user where the fixture says.
 */
final class RedisProcess implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

    /** How the fixture itself reaches the process: TLS (null for none) and an ACL user (null for the default one). */
    record Access(SSLContext tls, String user, String password) {
        static final Access PLAIN = new Access(null, null, null);
    }

    private final String name;
    private final int port;
    private final Access access;
    private final Process process;

    private RedisProcess(String name, int port, Access access, Process process) {
        this.name = name;
        this.port = port;
        this.access = access;
        this.process = process;
    }

    /**
     * Starts {@code redis-server <args>} (which must make it listen on {@code port}) and waits until it answers
     * PING; a process that does not is killed.
     */
    static RedisProcess start(String name, int port, Path dir, Access access, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(redisServer());
        command.addAll(args);
        Process process;
        try {
            process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve(name + ".log").toFile()).start();
        } catch (IOException e) {
            throw new IllegalStateException("could not start redis-server: " + e.getMessage(), e);
        }
        RedisProcess redis = new RedisProcess(name, port, access, process);
        try {
            redis.awaitPong();
        } catch (RuntimeException e) {
            redis.close();
            throw e;
        }
        return redis;
    }

    String name() {
        return name;
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** {@code kill -9}: Redis gets no chance to say goodbye to anyone. Waits until the process is gone. */
    void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        kill();
    }

    /**
     * Sends one command and returns its reply: a String for a simple or bulk string (null for a null), a Long
     * for an integer, a List for an array; an error reply throws.
     */
    Object command(String... args) {
        return command(Duration.ofSeconds(5), args);
    }

    /** Sends one command as another user, or over another TLS context, than the fixture's own. */
    Object commandAs(Access other, String... args) {
        return command(other, Duration.ofSeconds(5), args);
    }

    Object command(Duration patience, String... args) {
        return command(access, patience, args);
    }

    private Object command(Access access, Duration patience, String... args) {
        try (Socket socket = connect(access, patience)) {
            OutputStream out = socket.getOutputStream();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            if (access.user() != null) {
                out.write(encode(List.of("AUTH", access.user(), access.password())));
                read(in);
            }
            out.write(encode(List.of(args)));
            out.flush();
            return read(in);
        } catch (IOException e) {
            throw new IllegalStateException(name + " did not answer " + args[0] + ": " + e.getMessage(), e);
        }
    }

    private Socket connect(Access access, Duration patience) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
        socket.setSoTimeout((int) patience.toMillis());
        if (access.tls() == null) {
            return socket;
        }
        return access.tls().getSocketFactory().createSocket(socket, "127.0.0.1", port, true);
    }

    private static byte[] encode(List<String> args) {
        StringBuilder out = new StringBuilder("*").append(args.size()).append("\r\n");
        for (String arg : args) {
            out.append('$').append(arg.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(arg).append("\r\n");
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static Object read(InputStream in) throws IOException {
        int type = in.read();
        String line = line(in);
        switch (type) {
            case '+':
                return line;
            case '-':
                throw new IllegalStateException("Redis error: " + line);
            case ':':
                return Long.parseLong(line);
            case '$': {
                int length = Integer.parseInt(line);
                if (length < 0) {
                    return null;
                }
                byte[] data = in.readNBytes(length + 2);
                return new String(data, 0, length, StandardCharsets.UTF_8);
            }
            case '*': {
                int count = Integer.parseInt(line);
                if (count < 0) {
                    return null;
                }
                List<Object> items = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    items.add(read(in));
                }
                return items;
            }
            case -1:
                throw new EOFException("connection closed");
            default:
                throw new IOException("unexpected reply type " + (char) type);
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\r') {
            if (b == -1) {
                throw new EOFException("connection closed");
            }
            line.write(b);
        }
        in.read();
        return line.toString(StandardCharsets.UTF_8);
    }

    private void awaitPong() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if ("PONG".equals(command(Duration.ofSeconds(1), "PING"))) {
                    return;
                }
            } catch (IllegalStateException notYet) {
                // not listening yet
            }
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " (redis-server) exited at start with code " + process.exitValue());
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException(name + " did not answer PING within " + START_TIMEOUT);
    }

    static String redisServer() {
        return executable("redis-server");
    }

    /** A program of Debian's redis-server package (with redis-tools) on PATH. */
    static String executable(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            File candidate = new File(dir, name);
            if (candidate.canExecute()) {
                return candidate.getPath();
            }
        }
        throw new IllegalStateException("no Docker engine and no " + name + " on PATH: install Debian's redis-server "
                + "(bash .ci/run does) or start Docker");
    }
}
