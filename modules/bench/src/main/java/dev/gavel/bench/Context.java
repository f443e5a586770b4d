package dev.gavel.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** What every scenario shares: the common options, where things are, and how to start servers and viewers. */
final class Context {

    static final List<Options.Spec> COMMON = List.of(
            new Options.Spec("target", "gavel", "gavel | peer | both (both: Gavel, then the peer, and their ratios)"),
            new Options.Spec("transport", "sio-ws", "ws | sio-ws | sio-polling | sockjs (the peer speaks Socket.IO only)"),
            new Options.Spec("no-deflate", null, "do not offer permessage-deflate (offered by default, as browsers do)"),
            new Options.Spec("sources", "8", "spread viewers over source addresses 127.0.0.1 .. 127.0.0.N"),
            new Options.Spec("per-worker", "16000", "viewers per generator JVM (one process may hold 20,000 files)"),
            new Options.Spec("repo", "", "the Gavel repository (default: found upward from the working directory)"),
            new Options.Spec("jar", "", "Gavel's jar (default: <repo>/modules/server/target/gavel.jar)"),
            new Options.Spec("peer-src", "", "the peer's sources (default: <repo>/../shared/peers/seed-socketio)"),
            new Options.Spec("results", "", "where JSON results go (default: <repo>/modules/bench/target/results)"),
            new Options.Spec("redis-url", "", "use this Redis for several replicas instead of starting redis-server"),
            new Options.Spec("server-env", "", "extra environment for Gavel nodes: K=V[,K=V...]"),
            new Options.Spec("jvm-options-file", "", "the JVM options Gavel ships with, passed as java @FILE before --server-jvm-opts"
                    + " (default: <repo>/deploy/jvm.options, what the README, the image and cluster.sh run; none: plain java)"),
            new Options.Spec("server-jvm-opts", "", "more JVM options for Gavel nodes, space-separated, after the shipped ones"));

    /** The JVM options every way of starting a node uses (README, Dockerfile, cluster.sh); the bench too. */
    static final String SHIPPED_JVM_OPTIONS = "deploy/jvm.options";

    final String scenario;
    final Options options;
    final Path repo;
    final Path results;

    Context(String scenario, Options options) {
        this.scenario = scenario;
        this.options = options;
        this.repo = options.string("repo").isEmpty() ? findRepo() : Path.of(options.string("repo")).toAbsolutePath();
        this.results = options.string("results").isEmpty() ? repo.resolve("modules/bench/target/results")
                : Path.of(options.string("results")).toAbsolutePath();
    }

    private static Path findRepo() {
        String property = System.getProperty("gavel.repo");
        if (property != null && !property.isBlank()) {
            return Path.of(property).toAbsolutePath();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.exists(dir.resolve("modules/server/pom.xml"))) {
                return dir;
            }
        }
        throw new Options.UsageException("cannot find the Gavel repository above " + Path.of("").toAbsolutePath() + ": pass --repo");
    }

    Transport transport() {
        return Transport.of(options.string("transport"));
    }

    Path gavelJar() {
        Path jar = options.string("jar").isEmpty() ? repo.resolve("modules/server/target/gavel.jar") : Path.of(options.string("jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no Gavel jar at " + jar + ": build it with mvn -B -q package -DskipTests");
        }
        return jar;
    }

    String redisUrl() {
        return options.string("redis-url").isEmpty() ? null : options.string("redis-url");
    }

    Map<String, String> serverEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        for (String pair : options.string("server-env").split(",")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                env.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
            }
        }
        return env;
    }

    /** The shipped options file ({@code java @file}), then {@code --server-jvm-opts}: a later option wins. */
    List<String> serverJvmOptions() {
        List<String> jvm = new ArrayList<>();
        String file = options.string("jvm-options-file").trim();
        if (!file.equals("none")) {
            Path path = file.isEmpty() ? repo.resolve(SHIPPED_JVM_OPTIONS) : Path.of(file).toAbsolutePath();
            if (!Files.isRegularFile(path)) {
                throw new IllegalStateException("no JVM options file at " + path + " (--jvm-options-file none runs plain java)");
            }
            jvm.add("@" + path);
        }
        String raw = options.string("server-jvm-opts").trim();
        if (!raw.isEmpty()) {
            jvm.addAll(Arrays.asList(raw.split("\\s+")));
        }
        return jvm;
    }

    Path logDir(Target target) {
        return results.resolve("logs").resolve(scenario + "-" + target.label());
    }

    /**
     * A writable copy of the peer with its dependencies installed ({@code npm ci} from its lock file): the shared
     * directory is read-only.
     */
    Path peerDir() {
        Path source = options.string("peer-src").isEmpty() ? repo.resolve("../shared/peers/seed-socketio").normalize()
                : Path.of(options.string("peer-src"));
        return preparePeer(source, repo.resolve("modules/bench/target/peer"));
    }

    static synchronized Path preparePeer(Path source, Path dir) {
        if (!Files.isRegularFile(source.resolve("server.js"))) {
            throw new IllegalStateException("no peer at " + source + " (server.js missing)");
        }
        try {
            Files.createDirectories(dir);
            boolean changed = false;
            for (String file : List.of("server.js", "package.json", "package-lock.json")) {
                Path from = source.resolve(file);
                Path to = dir.resolve(file);
                if (!Files.exists(to) || Files.mismatch(from, to) != -1) {
                    Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
                    to.toFile().setWritable(true);
                    changed = true;
                }
            }
            if (changed || !Files.isDirectory(dir.resolve("node_modules"))) {
                Process npm = Processes.track(new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
                        .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(dir.resolve("npm-ci.log").toFile()).start());
                if (!npm.waitFor(300, TimeUnit.SECONDS)) {
                    Processes.stop(npm, 1000);
                    throw new IllegalStateException("npm ci for the peer took over 300 s");
                }
                Processes.stop(npm, 1000);
                if (npm.exitValue() != 0) {
                    throw new IllegalStateException("npm ci for the peer failed (" + npm.exitValue() + "): "
                            + Files.readString(dir.resolve("npm-ci.log"), StandardCharsets.UTF_8));
                }
            }
            return dir;
        } catch (IOException e) {
            throw new IllegalStateException("could not prepare the peer in " + dir + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    Workers workers(int viewers, Deployment deployment) {
        return Workers.start(viewers, options.integer("per-worker"), transport(), !options.flag("no-deflate"),
                deployment.ports(), options.integer("sources"), logDir(deployment.target));
    }

    void checkTransport(Target target) {
        if (!target.gavel() && !transport().socketIo()) {
            throw new Options.UsageException("the peer speaks Socket.IO only: use --transport sio-ws or sio-polling");
        }
    }

    /** Facts about this machine for the report. */
    static Map<String, Object> machine() {
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("nproc", Runtime.getRuntime().availableProcessors());
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    machine.put("memTotalKb", Long.parseLong(line.replaceAll("[^0-9]", "")));
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux: leave it out
        }
        machine.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        machine.put("node", output(List.of("node", "--version")));
        return machine;
    }

    String gavelCommit() {
        return output(List.of("git", "-C", repo.toString(), "rev-parse", "--short", "HEAD"));
    }

    static String output(List<String> command) {
        try {
            Process process = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            process.waitFor(10, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }
}
