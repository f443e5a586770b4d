package dev.gavel.testkit;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;

/**
 * A real nginx in front of some nodes, with the load balancer of docker-compose and {@code deploy/local/cluster.sh}:
 * {@code deploy/nginx/gavel.conf.template} (WebSocket proxying, unbuffered answers, Socket.IO long-polling by client
 * address and SockJS by session id when no {@code GAVEL_NODE} cookie routes a request). It runs in the foreground
 * on a free loopback port, with everything in a temporary directory; optionally with a front that serves Socket.IO's
 * default path for one auction ({@link #balanceWithSocketIoDefaultPath}).
 */
public final class NginxFixture implements AutoCloseable {

    /** The repository's nginx template; Maven runs tests from the module's directory. */
    static final Path TEMPLATE = Path.of(System.getProperty("gavel.nginx.template", "../../deploy/nginx/gavel.conf.template"))
            .toAbsolutePath().normalize();

    private final Process process;
    private final int port;
    private final int socketIoDefaultPathPort;
    private final Path dir;

    private NginxFixture(Process process, int port, int socketIoDefaultPathPort, Path dir) {
        this.process = process;
        this.port = port;
        this.socketIoDefaultPathPort = socketIoDefaultPathPort;
        this.dir = dir;
    }

    /** Starts nginx balancing over the nodes listening on {@code ports}. */
    public static NginxFixture balance(List<Integer> ports) {
        return start(ports, null);
    }

    /**
     * Starts nginx as {@link #balance} does, and in the same nginx a front server on
     * {@link #socketIoDefaultPathPort()} that serves Socket.IO's default path as one auction's: {@code /socket.io/?<query>}
     * goes to the balancer as {@code /auction/?slug=<slug>&<query>}, WebSocket upgrades included. For a client that can
     * be told neither Gavel's path nor the slug, such as the Socket.IO protocol suite.
     */
    public static NginxFixture balanceWithSocketIoDefaultPath(List<Integer> ports, String slug) {
        return start(ports, slug);
    }

    /** @param slug null for no Socket.IO front */
    private static NginxFixture start(List<Integer> ports, String slug) {
        String nginx = nginx();
        int port = Ports.free();
        int frontPort = slug == null ? -1 : Ports.free();
        try {
            Path dir = Files.createTempDirectory("gavel-nginx");
            String servers = ports.stream().map(p -> "server 127.0.0.1:" + p + " max_fails=0;")
                    .collect(Collectors.joining(" "));
            // the replicas' NODE_IDs are not known here: no cookie routes, every request goes by its fallback
            Files.writeString(dir.resolve("gavel.conf"), Files.readString(TEMPLATE)
                    .replace("${GAVEL_LISTEN}", "127.0.0.1:" + port)
                    .replace("${GAVEL_SERVERS}", servers)
                    .replace("${GAVEL_NODE_UPSTREAMS}", "")
                    .replace("${GAVEL_NODE_MAP}", ""));
            String front = slug == null ? "" : """
                    server {
                        listen 127.0.0.1:%1$d;
                        location = /socket.io/ {
                            # the query that follows the new one is the request's own
                            rewrite ^ /auction/?slug=%2$s break;
                            proxy_pass http://127.0.0.1:%3$d;
                            proxy_http_version 1.1;
                            proxy_set_header Upgrade $http_upgrade;
                            proxy_set_header Connection $gavel_connection;
                            proxy_set_header Host $http_host;
                            proxy_buffering off;
                            proxy_read_timeout 3600s;
                        }
                    }
                    """.formatted(frontPort, slug, port);
            Files.writeString(dir.resolve("nginx.conf"), """
                    daemon off;
                    master_process off;
                    worker_processes 1;
                    pid %1$s/nginx.pid;
                    error_log %1$s/error.log warn;
                    events { worker_connections 1024; }
                    http {
                        access_log off;
                        client_body_temp_path %1$s/body;
                        proxy_temp_path %1$s/proxy;
                        fastcgi_temp_path %1$s/fastcgi;
                        uwsgi_temp_path %1$s/uwsgi;
                        scgi_temp_path %1$s/scgi;
                        include %1$s/gavel.conf;
                    %2$s}
                    """.formatted(dir, front));
            Process process = new ProcessBuilder(nginx, "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("stdout.log").toFile())
                    .start();
            NginxFixture fixture = new NginxFixture(process, port, frontPort, dir);
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("nginx exited: " + fixture.logs());
                }
                return accepts(port) && (frontPort < 0 || accepts(frontPort));
            });
            return fixture;
        } catch (IOException e) {
            throw new IllegalStateException("could not start nginx: " + e.getMessage(), e);
        }
    }

    public int port() {
        return port;
    }

    /** The port of the front that serves {@code /socket.io/}; see {@link #balanceWithSocketIoDefaultPath}. */
    public int socketIoDefaultPathPort() {
        if (socketIoDefaultPathPort < 0) {
            throw new IllegalStateException("this nginx has no Socket.IO front: start it with balanceWithSocketIoDefaultPath");
        }
        return socketIoDefaultPathPort;
    }

    private String logs() {
        try {
            return Files.readString(dir.resolve("stdout.log")) + Files.readString(dir.resolve("error.log"));
        } catch (IOException e) {
            return "(no logs)";
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String nginx() {
        for (String dir : List.of("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin")) {
            File candidate = new File(dir, "nginx");
            if (candidate.canExecute()) {
                return candidate.getPath();
            }
        }
        throw new IllegalStateException("no nginx: install Debian's nginx (bash .ci/run does)");
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
