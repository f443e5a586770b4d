package dev.gavel.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Every process the bench started (servers, Redis, generator workers), so that a shutdown hook ends them by their
 * own handle (PID) however the run ends: never by a name pattern.
 */
final class Processes {

    private static final List<Process> STARTED = new ArrayList<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(Processes::stopAll, "bench-cleanup"));
    }

    private Processes() {
    }

    static synchronized Process track(Process process) {
        STARTED.add(process);
        return process;
    }

    /** SIGTERM, up to {@code graceMs} to exit, then SIGKILL. */
    static void stop(Process process, long graceMs) {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(graceMs, TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        synchronized (Processes.class) {
            STARTED.remove(process);
        }
    }

    static void stopAll() {
        List<Process> left;
        synchronized (Processes.class) {
            left = new ArrayList<>(STARTED);
        }
        for (Process process : left) {
            process.destroy();
        }
        for (Process process : left) {
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
            }
        }
    }
}
