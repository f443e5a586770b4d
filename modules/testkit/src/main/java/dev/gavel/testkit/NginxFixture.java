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
 * A real nginx in front of some nodes, configured as {@code docs/clients.md} tells operators to: WebSocket
 * proxying, unbuffered answers, and {@code ip_hash} so that a long-polling or SockJS session stays on one replica.
 * It runs in the foreground on a free loopback port, with everything in a temporary directory.
 */
public final class NginxFixture implements AutoCloseable {

    private final Process process;
    private final int port;
    private final Path dir;

    private NginxFixture(Process process, int port, Path dir) {
        this.process = process;
        this.port = port;
        this.dir = dir;
    }

    /** Starts nginx balancing over the nodes listening on {@code ports}. */
    public static NginxFixture balance(List<Integer> ports) {
        String nginx = nginx();
        int port = NodeProcess.freePort();
        try {
            Path dir = Files.createTempDirectory("gavel-nginx");
            String upstreams = ports.stream().map(p -> "        server 127.0.0.1:" + p + ";").collect(Collectors.joining("\n"));
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
                        upstream gavel {
                            ip_hash;
                    %2$s
                        }
                        map $http_upgrade $connection_upgrade { default upgrade; "" close; }
                        server {
                            listen 127.0.0.1:%3$d;
                            location ~ ^/(auction/|sockjs|ws|api/|health/) {
                                proxy_pass http://gavel;
                                proxy_http_version 1.1;
                                proxy_set_header Upgrade $http_upgrade;
                                proxy_set_header Connection $connection_upgrade;
                                proxy_set_header Host $http_host;
                                proxy_read_timeout 60s;
                                proxy_buffering off;
                            }
                        }
                    }
                    """.formatted(dir, upstreams, port));
            Process process = new ProcessBuilder(nginx, "-p", dir.toString(), "-c", dir.resolve("nginx.conf").toString())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("stdout.log").toFile())
                    .start();
            NginxFixture fixture = new NginxFixture(process, port, dir);
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("nginx exited: " + fixture.logs());
                }
                return accepts(port);
            });
            return fixture;
        } catch (IOException e) {
            throw new IllegalStateException("could not start nginx: " + e.getMessage(), e);
        }
    }

    public int port() {
        return port;
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
