package dev.gavel.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs {@code deploy/local/cluster.sh} as an operator would, bounded in time. */
final class ClusterScript {

    private ClusterScript() {
    }

    /**
     * The environment {@code cluster.sh} reads for {@code replicas} replicas of {@code jar}, each with {@code javaOpts},
     * keeping its state in {@code state}: free ports below the ephemeral range for the balancer, the replicas, their
     * management ports and Redis. Mutable: a test adds the nodes' own variables.
     */
    static Map<String, String> environment(Path state, int replicas, Path jar, String javaOpts) {
        Map<String, String> env = new HashMap<>();
        env.put("GAVEL_STATE_DIR", state.toString());
        env.put("GAVEL_LB_PORT", String.valueOf(Ports.free()));
        env.put("GAVEL_BASE_PORT", String.valueOf(Ports.freeRange(replicas)));
        env.put("GAVEL_MANAGEMENT_BASE_PORT", String.valueOf(Ports.freeRange(replicas)));
        env.put("GAVEL_REDIS_PORT", String.valueOf(Ports.free()));
        env.put("GAVEL_REPLICAS", String.valueOf(replicas));
        env.put("GAVEL_JAR", jar.toString());
        env.put("GAVEL_JAVA_OPTS", javaOpts);
        return env;
    }

    /**
     * Runs {@code bash <script> <command>} with {@code env}, waiting at most 120 s; fails with the script's output if it
     * did not finish or exited non-zero. Its output goes to a file in {@code state}: a process it started that kept a
     * pipe open would block a reader forever.
     */
    static void run(Path script, Path state, Map<String, String> env, String command) {
        try {
            Path output = state.resolve("cluster-" + command + ".out");
            ProcessBuilder builder = new ProcessBuilder("bash", script.toString(), command)
                    .redirectErrorStream(true).redirectOutput(output.toFile());
            builder.environment().putAll(env);
            Process process = builder.start();
            boolean finished = process.waitFor(120, TimeUnit.SECONDS);
            if (!finished) {
                process.destroyForcibly();
            }
            assertTrue(finished, "cluster.sh " + command + " did not finish in 120 s: " + Files.readString(output));
            assertEquals(0, process.exitValue(), "cluster.sh " + command + ": " + Files.readString(output));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
