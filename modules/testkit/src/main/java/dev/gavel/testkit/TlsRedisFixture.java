package dev.gavel.testkit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code redis-server} that speaks only TLS ({@code --tls-port}, no plain port), with a CA and a server
 * certificate for {@code 127.0.0.1} and {@code localhost} made for the test by {@code openssl} (it also listens on
 * {@code 127.0.0.2}, which the certificate does not name), and the default user
 * switched off: a client logs in as the ACL user {@code gavel}, allowed what the test says, or the fixture's own
 * {@code admin}.
 */
public final class TlsRedisFixture implements AutoCloseable {

    private final Path dir;
    private final String gavelPassword;
    private final RedisProcess redis;

    private TlsRedisFixture(Path dir, String gavelPassword, RedisProcess redis) {
        this.dir = dir;
        this.gavelPassword = gavelPassword;
        this.redis = redis;
    }

    /**
     * @param gavelRules the ACL rules of the user {@code gavel} after {@code on} and its password, e.g.
     *                   {@code resetchannels ~gavel:* &gavel:* -@all +ping}
     */
    public static TlsRedisFixture start(String gavelRules) {
        try {
            Path dir = Files.createTempDirectory("gavel-redis-tls");
            Certificates.make(dir);
            String adminPassword = randomHex();
            String gavelPassword = randomHex();
            Files.writeString(dir.resolve("users.acl"), "user default off\n"
                    + "user admin on >" + adminPassword + " ~* &* +@all\n"
                    + "user gavel on >" + gavelPassword + " " + gavelRules + "\n");
            int port = Ports.free();
            RedisProcess.Access admin = new RedisProcess.Access(Certificates.trusting(dir.resolve("ca.pem")), "admin", adminPassword);
            RedisProcess redis = RedisProcess.start("redis-tls", port, dir, admin, List.of("--port", "0",
                    "--tls-port", String.valueOf(port), "--bind", "127.0.0.1", "127.0.0.2", "--tls-cert-file", "server.pem",
                    "--tls-key-file", "server.key", "--tls-ca-cert-file", "ca.pem", "--tls-auth-clients", "no",
                    "--aclfile", "users.acl", "--save", "", "--appendonly", "no", "--dir", dir.toString()));
            return new TlsRedisFixture(dir, gavelPassword, redis);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code rediss://gavel:<password>@127.0.0.1:<port>}. */
    public String url() {
        return urlAs("gavel", gavelPassword);
    }

    public String urlAs(String user, String password) {
        return "rediss://" + user + ":" + password + "@127.0.0.1:" + redis.port();
    }

    public int port() {
        return redis.port();
    }

    /** The PEM file of the CA that signed the server's certificate. */
    public Path caFile() {
        return dir.resolve("ca.pem");
    }

    /** Sends one command as {@code admin}; see {@link RedisProcess#command}. */
    public Object command(String... args) {
        return redis.command(args);
    }

    /** Sends one command as {@code gavel}: what the backend's user may and may not do. */
    public Object commandAsGavel(String... args) {
        try {
            return redis.commandAs(new RedisProcess.Access(Certificates.trusting(caFile()), "gavel", gavelPassword), args);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        redis.close();
    }

    static String randomHex() {
        byte[] bytes = new byte[12];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** Test certificates made with {@code openssl}: a CA, and a server certificate it signed. */
    static final class Certificates {

        private Certificates() {
        }

        /** Writes {@code ca.pem}, {@code ca.key}, {@code server.pem} and {@code server.key} into {@code dir}. */
        static void make(Path dir) throws IOException {
            Files.writeString(dir.resolve("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
            openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=gavel-test-ca");
            openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
            openssl(dir, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "server.pem", "-days", "2", "-extfile", "server.ext");
        }

        /** A TLS context that trusts the certificates of this PEM file, and only those. */
        static SSLContext trusting(Path caPem) throws IOException {
            try (InputStream in = Files.newInputStream(caPem)) {
                KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
                store.load(null, null);
                int i = 0;
                for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    store.setCertificateEntry("ca" + i++, certificate);
                }
                TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                trust.init(store);
                SSLContext context = SSLContext.getInstance("TLS");
                context.init(null, trust.getTrustManagers(), null);
                return context;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        private static void openssl(Path dir, String... args) throws IOException {
            List<String> command = new ArrayList<>();
            command.add("openssl");
            command.addAll(List.of(args));
            Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("openssl.log").toFile())).start();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
                    process.destroyForcibly();
                    throw new IllegalStateException("openssl " + args[0] + " failed: see " + dir.resolve("openssl.log"));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
