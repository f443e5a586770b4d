package dev.gavel.bench;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * N viewers joining one auction as fast as they can: how long after the last one is in until every viewer's
 * latest count is N, and how many count messages each viewer had to take meanwhile.
 */
final class JoinstormScenario implements Scenario {

    static final String AUCTION = "storm";

    @Override
    public String name() {
        return "joinstorm";
    }

    @Override
    public String description() {
        return "N viewers into one auction at once: time until every viewer's count is N, count messages per viewer per second";
    }

    @Override
    public List<Options.Spec> options() {
        return List.of(
                new Options.Spec("viewers", "5000", "viewers joining the auction"),
                new Options.Spec("concurrency", "500", "connections being opened at once"),
                new Options.Spec("converge-timeout-s", "180", "give up waiting for every viewer's count after this long"));
    }

    @Override
    public Result run(Context context, Target target) throws Exception {
        Options o = context.options;
        context.checkTransport(target);
        int viewers = o.integer("viewers");
        Result result = new Result(name(), target.label());
        try (Deployment deployment = Deployment.start(context, target, 1, target.env());
             Workers workers = context.workers(viewers, deployment)) {
            ServerProcess.sleep(1000);
            CpuWindow window = CpuWindow.start(deployment, workers);
            long cpu0 = deployment.cpuMillis();
            Workers.Opened opened = workers.open(viewers, AUCTION, o.integer("concurrency"), 300_000);
            long timeoutMs = o.number("converge-timeout-s") * 1000;
            List<JsonNode> counts = workers.all("await-count " + AUCTION + " " + opened.opened() + " " + timeoutMs, timeoutMs);
            long cpu = deployment.cpuMillis() - cpu0;
            window.finish(result);
            boolean converged = counts.stream().allMatch(c -> c.get("reached").asBoolean());
            long reachedNs = Workers.max(counts, "reachedNs");
            long endNs = converged ? reachedNs : System.nanoTime();
            Workers.Stats stats = workers.stats();
            double stormSeconds = (endNs - opened.firstStartNs()) / 1e9;
            result.put("viewers", viewers).put("opened", opened.opened()).put("failedToOpen", opened.failed())
                    .put("deflateAccepted", opened.deflateAccepted())
                    .put("openSeconds", (opened.lastOpenNs() - opened.firstStartNs()) / 1e9)
                    .put("converged", converged)
                    .put("viewersWithFinalCount", Workers.sum(counts, "matching"))
                    .put("convergeAfterLastOpenMs", converged ? (reachedNs - opened.lastOpenNs()) / 1e6 : -1.0)
                    .put("countMessages", stats.countUpdates())
                    .put("countMessagesPerViewer", opened.opened() == 0 ? 0 : (double) stats.countUpdates() / opened.opened())
                    .put("countMessagesPerViewerPerSecond", opened.opened() == 0 || stormSeconds <= 0 ? 0
                            : stats.countUpdates() / (double) opened.opened() / stormSeconds)
                    .put("serverCpuMs", cpu).put("disconnects", stats.disconnects())
                    .put("generatorCpuMs", window.generatorCpuMs());
            if (!converged) {
                result.note("not every viewer saw current=" + opened.opened() + " within " + o.number("converge-timeout-s") + " s");
            }
        }
        return result;
    }
}
