package dev.gavel.bench;

import java.util.List;

/**
 * The machine's CPU over a measurement window, split into what the bench's own processes used (servers, Redis,
 * generators, this coordinator) and everything else: a benchmark on a shared machine says how shared it was.
 */
final class CpuWindow {

    private final Deployment deployment;
    private final List<Long> workerPids;
    private final long machine0;
    private final long ours0;
    private final long generators0;
    private final long start = System.nanoTime();
    private long generatorCpuMs;

    private CpuWindow(Deployment deployment, List<Long> workerPids) {
        this.deployment = deployment;
        this.workerPids = workerPids;
        this.machine0 = ProcStats.machineBusyMillis();
        this.ours0 = ours();
        this.generators0 = generators();
    }

    static CpuWindow start(Deployment deployment, Workers workers) {
        return new CpuWindow(deployment, workers.pids());
    }


    private long generators() {
        long sum = 0;
        for (long pid : workerPids) {
            sum += Math.max(0, ProcStats.cpuMillis(pid));
        }
        return sum;
    }

    private long ours() {
        return deployment.cpuMillis() + deployment.redisCpuMillis() + ProcStats.cpuMillis(ProcessHandle.current().pid())
                + generators();
    }

    /** The generators' CPU milliseconds over the window; known after {@link #finish}. */
    long generatorCpuMs() {
        return generatorCpuMs;
    }

    /** Adds the machine's busy share and the share of processes that are not the bench's (percent of one core). */
    void finish(Result result) {
        double seconds = (System.nanoTime() - start) / 1e9;
        long machine = ProcStats.machineBusyMillis() - machine0;
        long ours = ours() - ours0;
        long generators = generators() - generators0;
        generatorCpuMs = generators;
        result.put("machineBusyPercent", machine / 10.0 / seconds)
                .put("otherProcessesCpuPercent", Math.max(0, machine - ours) / 10.0 / seconds)
                .put("generatorCpuPercent", generators / 10.0 / seconds);
    }
}
