package dev.gavel.bench;

import java.util.List;

/** How fast one replica admits viewers, and the server CPU each one costs. */
final class ConnectScenario implements Scenario {

    @Override
    public String name() {
        return "connect";
    }

    @Override
    public String description() {
        return "viewers per second one replica admits, and server CPU-ms per viewer";
    }

    @Override
    public List<Options.Spec> options() {
        return List.of(
                new Options.Spec("viewers", "10000", "viewers to connect"),
                new Options.Spec("auctions", "1000", "viewers are spread round-robin over this many auctions"),
                new Options.Spec("concurrency", "500", "connections being opened at once"),
                new Options.Spec("warmup-rounds", "4", "rounds of --viewers connected and closed before measuring, so that"
                        + " the node and the generator run compiled, as a replica in service does (0: both measured cold)"));
    }

    @Override
    public Result run(Context context, Target target) throws Exception {
        Options o = context.options;
        context.checkTransport(target);
        int viewers = o.integer("viewers");
        Result result = new Result(name(), target.label());
        try (Deployment deployment = Deployment.start(context, target, 1, target.env());
             Workers workers = context.workers(viewers, deployment)) {
            ServerProcess.sleep(2000);
            long warmed = 0;
            for (int round = 0; round < o.integer("warmup-rounds"); round++) {
                warmed += workers.open(viewers, "warmup-*" + o.integer("auctions"), o.integer("concurrency"), 300_000).opened();
                workers.all("close-some " + viewers + " 60000", 90_000);
            }
            if (warmed > 0) {
                result.put("warmupViewers", warmed);
                ServerProcess.sleep(3000);
            }
            CpuWindow window = CpuWindow.start(deployment, workers);
            long cpu0 = deployment.cpuMillis();
            long generatorCpu0 = workers.stats().generatorCpuMs();
            Workers.Opened opened = workers.open(viewers, "connect-*" + o.integer("auctions"), o.integer("concurrency"), 300_000);
            long cpu = deployment.cpuMillis() - cpu0;
            window.finish(result);
            Workers.Stats stats = workers.stats();
            double seconds = (opened.lastOpenNs() - opened.firstStartNs()) / 1e9;
            result.put("viewers", viewers).put("opened", opened.opened()).put("failedToOpen", opened.failed())
                    .put("deflateAccepted", opened.deflateAccepted())
                    .put("seconds", seconds).put("viewersPerSecond", seconds > 0 ? opened.opened() / seconds : 0)
                    .put("serverCpuMs", cpu).put("serverCpuMsPerViewer", opened.opened() == 0 ? 0 : (double) cpu / opened.opened())
                    .put("generatorCpuMsPerViewer", opened.opened() == 0 ? 0
                            : (double) (stats.generatorCpuMs() - generatorCpu0) / opened.opened())
                    .put("disconnects", stats.disconnects());
            if (!stats.failures().isEmpty()) {
                result.note("failures: " + stats.failures());
            }
        }
        return result;
    }
}
