package dev.gavel.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs {@code deploy/local/cluster.sh} as an operator would, bounded in time. */
final class ClusterScript {

    private ClusterScript() {
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
