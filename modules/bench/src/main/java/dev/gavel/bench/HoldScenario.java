package dev.gavel.bench;

import java.nio.file.Path;
import java.util.List;

/**
 * N idle viewers on one replica for M minutes: memory per viewer (live heap after GC for Gavel, RSS for both,
 * against a baseline taken before connecting), CPU at rest, disconnects and the largest gap between server pings.
 */
final class HoldScenario implements Scenario {

    @Override
    public String name() {
        return "hold";
    }

    @Override
    public String description() {
        return "N idle viewers on one replica for M minutes: heap and RSS per viewer, CPU at rest, disconnects, ping gaps";
    }

    @Override
    public List<Options.Spec> options() {
        return List.of(
                new Options.Spec("viewers", "19000", "viewers to hold"),
                new Options.Spec("minutes", "5", "how long to hold them (decimal)"),
                new Options.Spec("auctions", "1000", "viewers are spread round-robin over this many auctions"),
                new Options.Spec("concurrency", "200", "connections being opened at once"),
                new Options.Spec("jfr", null, "record a JFR profile of Gavel over the hold, and a jmap -histo:live"));
    }

    @Override
    public Result run(Context context, Target target) throws Exception {
        Options o = context.options;
        context.checkTransport(target);
        int viewers = o.integer("viewers");
        long holdMs = (long) (o.decimal("minutes") * 60_000);
        Result result = new Result(name(), target.label());
        try (Deployment deployment = Deployment.start(context, target, 1, target.env())) {
            ServerProcess.sleep(3000);
            long heapBaseline = deployment.liveHeapKb();
            long rssBaseline = deployment.rssKb();
            try (Workers workers = context.workers(viewers, deployment)) {
                Workers.Opened opened = workers.open(viewers, "hold-*" + o.integer("auctions"), o.integer("concurrency"), 600_000);
                workers.all("await-quiet 3000 120000", 120_000);
                long heap = deployment.liveHeapKb();
                long rss = deployment.rssKb();
                Path jfr = context.results.resolve("hold-" + target.label() + ".jfr");
                if (o.flag("jfr") && target.gavel()) {
                    deployment.servers.get(0).startRecording(jfr);
                }
                CpuWindow window = CpuWindow.start(deployment, workers);
                long cpu0 = deployment.cpuMillis();
                long t0 = System.nanoTime();
                long deadline = t0 + holdMs * 1_000_000;
                while (System.nanoTime() < deadline) {
                    ServerProcess.sleep(Math.min(1000, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
                }
                long restCpu = deployment.cpuMillis() - cpu0;
                window.finish(result);
                double seconds = (System.nanoTime() - t0) / 1e9;
                long rssEnd = deployment.rssKb();
                if (o.flag("jfr") && target.gavel()) {
                    deployment.servers.get(0).stopRecording();
                    deployment.servers.get(0).writeClassHistogram(context.results.resolve("hold-" + target.label() + "-histo.txt"), 30);
                    result.note("JFR: " + jfr + "; class histogram: hold-" + target.label() + "-histo.txt");
                }
                Workers.Stats stats = workers.stats();
                result.put("viewers", viewers).put("opened", opened.opened()).put("failedToOpen", opened.failed())
                        .put("deflateAccepted", opened.deflateAccepted())
                        .put("heldSeconds", seconds);
                if (target.gavel()) {
                    result.put("heapBaselineKb", heapBaseline).put("heapKb", heap)
                            .put("heapPerViewerBytes", perViewer(heap - heapBaseline, opened.opened()));
                }
                result.put("rssBaselineKb", rssBaseline).put("rssKb", rss).put("rssEndKb", rssEnd)
                        .put("rssPerViewerBytes", perViewer(rss - rssBaseline, opened.opened()))
                        .put("restCpuMs", restCpu).put("restCpuPercent", restCpu / 10.0 / seconds)
                        .put("stillOpen", stats.open()).put("disconnects", stats.disconnects())
                        .put("pings", stats.pings()).put("maxPingGapMs", stats.maxPingGapMs())
                        .put("generatorRssKb", stats.generatorRssKb()).put("generatorCpuMs", window.generatorCpuMs());
                if (!stats.closeCodes().isEmpty()) {
                    result.note("close codes seen: " + stats.closeCodes());
                }
                if (!stats.failures().isEmpty()) {
                    result.note("failures: " + stats.failures());
                }
                if (stats.pings() == 0) {
                    result.note("no server pings seen over the hold (" + context.transport().cliName + ")");
                }
            }
        }
        return result;
    }

    static double perViewer(long kb, long viewers) {
        return viewers == 0 ? 0 : kb * 1024.0 / viewers;
    }
}
