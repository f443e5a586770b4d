package dev.gavel.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A network namespace of the test's own, joined to the host by a veth pair with private addresses
 * ({@code 10.250.0.0/16}, one {@code /30} per namespace): a client run in it ({@code ip netns exec}) reaches the host at
 * {@link #hostAddress()}, and {@link #cut()} takes its end of the link down, so that its connections die without a
 * FIN or RST, as when a phone loses its network. Names carry the test JVM's pid and a counter, so parallel runs do
 * not clash; {@link #close()} deletes only what this made.
 */
final class NetworkNamespace implements AutoCloseable {

    private static final AtomicInteger COUNT = new AtomicInteger();

    private final String name;
    private final String hostEnd;
    private final String peerEnd;
    private final String hostAddress;
    private final String peerAddress;
    private boolean namespaceMade;
    private boolean linkMade;

    private NetworkNamespace(long pid, int count) {
        name = "gavel-" + pid + "-" + count;
        // interface names have at most 15 characters
        hostEnd = "gvh" + (pid % 1_000_000) + "x" + count;
        peerEnd = "gvp" + (pid % 1_000_000) + "x" + count;
        int subnet = (int) ((pid * 8 + count) % 16384);
        String prefix = "10.250." + (subnet / 64) + ".";
        hostAddress = prefix + (subnet % 64 * 4 + 1);
        peerAddress = prefix + (subnet % 64 * 4 + 2);
    }

    /**
     * Makes the namespace and its link, up; skips the test (an assumption, with the reason) where this process may
     * not make namespaces (not root). CI runs as root, where it must work.
     */
    static NetworkNamespace create() {
        assumeTrue(isRoot(), "skipped: making a network namespace (`ip netns add`) needs root; CI runs as root");
        NetworkNamespace ns = new NetworkNamespace(ProcessHandle.current().pid(), COUNT.incrementAndGet());
        try {
            run("ip", "netns", "add", ns.name);
            ns.namespaceMade = true;
            run("ip", "link", "add", ns.hostEnd, "type", "veth", "peer", "name", ns.peerEnd);
            ns.linkMade = true;
            run("ip", "link", "set", ns.peerEnd, "netns", ns.name);
            run("ip", "addr", "add", ns.hostAddress + "/30", "dev", ns.hostEnd);
            run("ip", "link", "set", ns.hostEnd, "up");
            ns.inside("ip", "addr", "add", ns.peerAddress + "/30", "dev", ns.peerEnd);
            ns.inside("ip", "link", "set", ns.peerEnd, "up");
            ns.inside("ip", "link", "set", "lo", "up");
            return ns;
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
    }

    /** True when the effective user id is 0 ({@code /proc/self/status}, as the kernel sees it). */
    private static boolean isRoot() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(line -> line.startsWith("Uid:"))
                    .anyMatch(line -> "0".equals(line.split("\\s+")[2]));
        } catch (IOException e) {
            return false;
        }
    }

    String name() {
        return name;
    }

    /** The host's end of the link, where a client in the namespace reaches a node listening on every address. */
    String hostAddress() {
        return hostAddress;
    }

    /** Takes the namespace's end of the link down: nothing gets through either way, and no one is told. */
    void cut() {
        inside("ip", "link", "set", peerEnd, "down");
    }

    private void inside(String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        run(full.toArray(String[]::new));
    }

    /** Deletes the namespace (its end of the link goes with it) and the host's end, whichever were made. */
    @Override
    public void close() {
        if (linkMade) {
            // gone already when the namespace held the other end and was deleted first: do not mind
            quietly("ip", "link", "del", hostEnd);
        }
        if (namespaceMade) {
            quietly("ip", "netns", "del", name);
        }
    }

    private static void quietly(String... command) {
        try {
            run(command);
        } catch (RuntimeException e) {
            // cleaning up; the next step may still succeed
        }
    }

    private static void run(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish");
            }
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed (" + process.exitValue() + "): " + output);
            }
        } catch (IOException e) {
            throw new IllegalStateException("could not run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + String.join(" ", command), e);
        }
    }
}
